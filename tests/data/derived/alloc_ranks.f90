!> Allocatable scalar and rank-2 allocatable components, saved and restored around calls.
module asc
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type b_t
    real(dp), allocatable :: a
    real(dp), allocatable :: v(:,:)
  end type b_t
contains
  subroutine upd(b)
    type(b_t), intent(inout) :: b
    b%a = b%a*sin(b%a) + sum(b%v)
    b%v = b%v*b%a
  end subroutine upd
  subroutine asc_run(x, y)
    real(dp), intent(in) :: x(4)
    real(dp), intent(out) :: y
    type(b_t) :: b
    allocate(b%a, b%v(2, 2))
    b%a = x(1)
    b%v(1, :) = x(1:2)
    b%v(2, :) = x(3:4)
    call upd(b)
    call upd(b)
    y = b%a + b%v(2, 1)**2
  end subroutine asc_run
end module asc
