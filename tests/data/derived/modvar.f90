!> A module variable of derived type (allocatable component) as active state.
module mv_types
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type field_t
    real(dp), allocatable :: v(:)
    real(dp) :: scale
  end type field_t
end module mv_types
module mv
  use mv_types
  implicit none
  type(field_t) :: g
contains
  subroutine setup(n, x)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    if (.not. allocated(g%v)) allocate(g%v(n))
    g%v = x**2
    g%scale = x(1)
  end subroutine setup
  subroutine reduce(y)
    real(dp), intent(out) :: y
    integer :: i
    y = 0.0_dp
    do i = 1, size(g%v)
      y = y + g%scale*sin(g%v(i))
    end do
  end subroutine reduce
  subroutine mv_run(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    call setup(n, x)
    call reduce(y)
    deallocate(g%v)
  end subroutine mv_run
end module mv
