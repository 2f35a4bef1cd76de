!> MATMUL statement forms fortran-ad keeps as library calls (ad/matmul.py), and a few it
!! lowers to loops; tests/test_matmul_ad.py checks both modes of each routine.
module mm_forms
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains

  !> Matrix-matrix forms: scaled and accumulated, c on both sides, transposes, sections,
  !! a scalar factor over a parenthesized sum, operands overwritten after their product.
  subroutine mm2(n, k, alpha, beta, a, b, c, e, cost)
    integer, intent(in) :: n, k
    real(dp), intent(in) :: alpha, beta
    real(dp), intent(inout) :: a(n, k), b(k, n)
    real(dp), intent(inout) :: c(n, n)
    real(dp), intent(out) :: e(k, k), cost
    real(dp) :: t(n, n), s(k, n)
    c = alpha*matmul(a, b) + beta*c
    t = -matmul(transpose(b), transpose(a))/alpha
    c = c + matmul(t, c(:, :)**2)*0.5_dp
    s = 0.5_dp*(matmul(b, t) + matmul(transpose(a), transpose(t)))
    e(1:k, :) = matmul(s(:, 2:n), a(2:n, :))
    a = a**2
    b(1, :) = 0.0_dp
    c = c + matmul(a, b)
    cost = sum(c) + sum(e**2) + sum(s*t(1:k, :))
  end subroutine mm2

  !> Matrix-vector and vector-matrix forms, inside a loop over sections (doitgen-like).
  subroutine mv(n, m, nr, a, x, y, w, cost)
    integer, intent(in) :: n, m, nr
    real(dp), intent(in) :: a(n, m), x(m)
    real(dp), intent(inout) :: y(n), w(nr, m)
    real(dp), intent(out) :: cost
    real(dp) :: z(m), q(m, m), v(m), u(n - 1)
    integer :: r
    y = 2.0_dp*y - matmul(a, x)
    z = matmul(y, a)
    z = z + x*y(1)
    q = 0.1_dp*transpose(a(1:m, :)) + 0.1_dp
    do r = 1, nr
      v = matmul(transpose(q), w(r, :))*y(r)
      w(r, :) = v
      z = z + matmul(w(r, :), q)
    end do
    u = matmul(x, transpose(a(2:n, :)))*y(1)
    cost = sum(y*y) + sum(z**2) + sum(w) + sum(u**2)
  end subroutine mv

  !> Forms that stay loops: the target among the operands, a vector subscript, an array
  !! term that is no MATMUL, a coefficient that is an array element of the target.
  subroutine fallback(n, a, b, c, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n, n)
    real(dp), intent(inout) :: b(n, n), c(n, n)
    real(dp), intent(out) :: cost
    integer :: idx(n), i
    do i = 1, n
      idx(i) = n + 1 - i
    end do
    c = matmul(c, a)
    b = matmul(a(idx, :), b) + c
    c = c(1, 1)*matmul(a, b)
    cost = sum(c**2) + sum(b)
  end subroutine fallback
end module mm_forms
