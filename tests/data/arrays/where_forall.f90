module m2
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine wh(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: z(n, 2)
    integer :: i
    where (y > 1.0_dp)
      y = y*x
      where (x > 1.0_dp) y = y + x**2
    elsewhere (y < 0.8_dp)
      y = -y*x
    elsewhere
      y = sqrt(y)
    end where
    where (y > 0.5_dp) y = 0.1_dp*y
    forall (i = 2:n, x(i) > 0.9_dp) y(i) = y(i-1)*x(i)
    forall (i = 1:n, y(i) > 1.2_dp) y(i) = 0.5_dp*y(i)
    z(:, 1) = [(x(i)*y(i), i = 1, n)]
    z(:, 2) = [y(1:n-1), 2.0_dp*x(n)]
    y(2:n) = y(1:n-1) + z(2:n, 1)
    y(1:n-1) = y(2:n) * z(1:n-1, 2)
    cost = sum(y**2) + product(x(1:3)) + maxval(y*x) - minval(y, mask=x > 1.0_dp)
  end subroutine wh
end module m2
