subroutine s(n, x, y)
  implicit none
  integer, intent(in) :: n
  real(8), intent(inout) :: x(n)
  real(8), intent(out) :: y
  integer :: k, t
  do t = 1, 2
    k = n - t
    where (x(1:k) > 0.9d0)
      x(1:k) = x(1:k)**2
    elsewhere (x(2:k+1) < 0.7d0)
      x(1:k) = -x(1:k)
    end where
  end do
  y = sum(x)
end subroutine s
