module m3
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine intr(n, a, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n, n), x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: b(n, n), c(n, n), v(n), w(n), r(2, n)
    integer :: k, cnt
    logical :: anyneg
    integer :: loc(1)
    b = 0.1_dp*matmul(a, transpose(a)) + spread(x, 1, n)
    c = 0.1_dp*matmul(b, a)
    v = 0.1_dp*(matmul(c, x) + matmul(x, a))
    w = cshift(v, 1) + eoshift(y, -1) + eoshift(x, 2, boundary=1.0_dp)
    y = y + 0.1_dp*(sum(c, dim=1)*w + product(a, dim=2) + maxval(b, dim=2, mask=b > 1.5_dp))
    r = reshape(c(1:2, :), [2, n])
    cnt = count(y > 1.0_dp, dim=1)
    anyneg = any(y < 0.0_dp) .or. all(x > 0.0_dp)
    loc = maxloc(y)
    k = loc(1)
    y(k) = y(k)*0.1_dp*dot_product(x, y) + modulo(y(1), 0.7_dp) + sum(r)
    if (anyneg) y(1) = y(1) + cnt
    cost = sum(y**2) + sum(a, mask=a > 1.0_dp)
  end subroutine intr
end module m3
