!> Defined operators on a derived type: (+), (*) with two specifics, (.cross.); a structure
!> constructor with a keyword and a defaulted component.
module vec_ops
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type vec_t
    real(dp) :: x, y
    integer :: tag = 0
  end type vec_t
  interface operator(+)
    module procedure vec_add
  end interface
  interface operator(*)
    module procedure scale_vec, vec_dot
  end interface
  interface operator(.cross.)
    module procedure vec_cross
  end interface
  private :: vec_add
contains
  function vec_add(a, b) result(c)
    type(vec_t), intent(in) :: a, b
    type(vec_t) :: c
    c%x = a%x + b%x
    c%y = a%y + b%y
    c%tag = a%tag
  end function vec_add
  function scale_vec(s, a) result(c)
    real(dp), intent(in) :: s
    type(vec_t), intent(in) :: a
    type(vec_t) :: c
    c%x = s*a%x
    c%y = s*a%y
  end function scale_vec
  function vec_dot(a, b) result(d)
    type(vec_t), intent(in) :: a, b
    real(dp) :: d
    d = a%x*b%x + a%y*b%y
  end function vec_dot
  function vec_cross(a, b) result(d)
    type(vec_t), intent(in) :: a, b
    real(dp) :: d
    d = a%x*b%y - a%y*b%x
  end function vec_cross
  subroutine op_run(x, y, f)
    real(dp), intent(in) :: x(2), y(2)
    real(dp), intent(out) :: f
    type(vec_t) :: a, b, c
    integer :: k
    a%x = x(1)
    a%y = x(2)
    b = vec_t(y(1), y=y(2))
    c = a
    do k = 1, 3
      c = c + 0.5_dp*(a + b)
    end do
    f = c*c + sin(a .cross. c)
  end subroutine op_run
end module vec_ops
