!> Arrays of derived types: a dummy of assumed shape and a local, scalar, fixed-size and
!> allocatable real components, passive integer components, element and section references
!> (cs(i)%h, cs(:)%h, cs(i)%q(k), cs(i)%q(:)), a whole element passed to a routine, whole
!> elements copied, an intent(out) explicit-shape dummy, an assumed-shape dummy stepped in a
!> time loop, a rank-2 local array of types, ASSOCIATE names for a component of an element
!> (qq => cs(2)%q) and a component across the array (hh => cs(:)%h).
module cells_types
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type cell_t
    real(dp) :: h
    real(dp) :: q(3)
    real(dp), allocatable :: w(:)
    integer :: id = 0
  end type cell_t
end module cells_types

module cells
  use cells_types
  implicit none
contains
  subroutine relax(c, a)
    type(cell_t), intent(inout) :: c
    real(dp), intent(in) :: a
    integer :: k
    do k = 1, 3
      c%q(k) = 0.5_dp*c%q(k) + 0.1_dp*a*c%h*c%q(k)
    end do
    c%w = 0.5_dp*c%w*tanh(c%h) + c%q(1)
  end subroutine relax

  subroutine init(n, x, cs)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    type(cell_t), intent(out) :: cs(n)
    integer :: i, k
    do i = 1, n
      cs(i)%h = x(i)
      cs(i)%id = i
      do k = 1, 3
        cs(i)%q(k) = x(i)*k
      end do
      allocate(cs(i)%w(2))
      cs(i)%w(:) = x(i)**2
    end do
  end subroutine init

  subroutine step(cs, a)
    type(cell_t), intent(inout) :: cs(:)
    real(dp), intent(in) :: a
    integer :: i
    cs(:)%h = 0.5_dp*cs(:)%h*a + 1.0_dp
    do i = 2, size(cs)
      cs(i)%h = cs(i)%h + 0.3_dp*sin(cs(i - 1)%h)*cs(i - 1)%q(2)
      call relax(cs(i), a)
    end do
  end subroutine step

  subroutine cells_run(n, x, a, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), a
    real(dp), intent(out) :: y
    type(cell_t) :: cs(n), g(2, 2)
    integer :: i, t
    call init(n, x, cs)
    do t = 1, 3
      call step(cs, a)
    end do
    g(1, 1) = cs(1)
    g(2, 1) = cs(n)
    g(:, 2) = g(:, 1)
    g(2, 2)%q(1) = g(2, 2)%q(1)*g(1, 2)%w(1)
    cs(1) = g(2, 2)
    associate (qq => cs(2)%q, hh => cs(:)%h)
      qq(1) = qq(1) + 0.5_dp*hh(n)*qq(3)
      hh(1) = hh(1)*qq(2)
    end associate
    y = sum(cs(:)%h**2)
    do i = 1, n
      y = y + cs(i)%q(3)*cs(i)%w(2) + sum(cs(i)%q(:))
    end do
  end subroutine cells_run
end module cells
