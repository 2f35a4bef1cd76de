!> Nested derived types with scalar, fixed-size and allocatable real components and passive
!> integer components; a derived-type function argument, intent(out) state, whole-object copy.
module nested_types
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type coef_t
    real(dp) :: c
    real(dp) :: w(3)
    integer :: id = 7
  end type coef_t
  type state_t
    real(dp), allocatable :: h(:)
    real(dp) :: e
    type(coef_t) :: p
    integer :: steps = 0
  end type state_t
end module nested_types

module nested
  use nested_types
  implicit none
contains
  subroutine init(s, n, x, c)
    type(state_t), intent(out) :: s
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), c
    allocate(s%h(n))
    s%h = x
    s%p%c = c
    s%p%w(1) = 0.5_dp*c
    s%p%w(2) = 0.25_dp*c
    s%p%w(3) = 0.125_dp
  end subroutine init

  subroutine step(s)
    type(state_t), intent(inout) :: s
    integer :: i
    do i = 2, size(s%h)
      s%h(i) = s%h(i) + s%p%w(1 + mod(i, 3))*s%h(i - 1)*s%p%c
    end do
    s%e = total(s)
    s%steps = s%steps + 1
  end subroutine step

  real(dp) function total(s)
    type(state_t), intent(in) :: s
    total = sum(s%h**2) + s%p%c
  end function total

  subroutine nested_run(n, nt, x, c, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(in) :: x(n), c
    real(dp), intent(out) :: cost
    type(state_t) :: s, first
    integer :: t
    call init(s, n, x, c)
    first = s
    do t = 1, nt
      call step(s)
    end do
    cost = s%e*first%p%w(2) + first%h(1)*s%h(n)
    deallocate(s%h)
  end subroutine nested_run
end module nested
