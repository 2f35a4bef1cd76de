!> A pointer component aliasing a local array: fine in forward mode; the adjoint would have to
!> save the object across calls that write through the pointer: a located error.
module pc
  implicit none
  type v_t
    real(8), pointer :: p(:) => null()
    real(8) :: a
  end type v_t
contains
  subroutine bump(v)
    type(v_t), intent(inout) :: v
    v%p = v%p*v%a
    v%a = v%a**2
  end subroutine bump
  subroutine s(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    real(8), target :: w(3)
    type(v_t) :: v
    w = x
    v%p => w
    v%a = x
    call bump(v)
    call bump(v)
    y = sum(w) + v%a
  end subroutine s
end module pc
