subroutine s(n, x, y)
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  integer, intent(in) :: n
  real(dp), intent(in) :: x(n)
  real(dp), intent(out) :: y(n)
  integer :: i
  y = x*[(real(i, dp)/3, i = 1, n)] + (/ (x(i)**2, i = n, 1, -1) /)
  associate (rev => y(n:1:-1), c => 2.0_dp*x(1))
    rev(1) = rev(1)*c
  end associate
end subroutine s
