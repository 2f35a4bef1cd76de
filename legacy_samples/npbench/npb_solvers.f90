!> NPBench / PolyBench 4.2 solver kernels in Fortran (PolyBench loop orders kept where the
!! result depends on them). cholesky, lu and ludcmp factor the symmetric positive definite
!! matrix A = B B^T + n I built from their input B (PolyBench also builds its inputs SPD), so
!! that every input gives a well-posed problem. Each kernel returns cost = sum of its outputs.
module npb_solvers
  use npb_kinds, only: dp
  implicit none
  private

  public :: trisolv, durbin, cholesky, lu, ludcmp, gramschmidt

contains

  !> Forward substitution L x = b (L lower triangular).
  subroutine trisolv(n, l, b, x, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: l(n, n), b(n)
    real(dp), intent(out) :: x(n), cost
    integer :: i, j

    do i = 1, n
      x(i) = b(i)
      do j = 1, i - 1
        x(i) = x(i) - l(i, j)*x(j)
      end do
      x(i) = x(i)/l(i, i)
    end do
    cost = sum(x)
  end subroutine trisolv

  !> Levinson-Durbin recursion for the Toeplitz system with first column (1, r).
  subroutine durbin(n, r, y, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: r(n)
    real(dp), intent(out) :: y(n), cost
    real(dp) :: z(n), alpha, beta, s
    integer :: i, k

    y(1) = -r(1)
    beta = 1.0_dp
    alpha = -r(1)
    do k = 2, n
      beta = (1.0_dp - alpha*alpha)*beta
      s = 0.0_dp
      do i = 1, k - 1
        s = s + r(k - i)*y(i)
      end do
      alpha = -(r(k) + s)/beta
      do i = 1, k - 1
        z(i) = y(i) + alpha*y(k - i)
      end do
      do i = 1, k - 1
        y(i) = z(i)
      end do
      y(k) = alpha
    end do
    cost = sum(y)
  end subroutine durbin

  !> a := b*transpose(b) + n*I, symmetric positive definite with eigenvalues >= n.
  subroutine spd_from_factor(n, b, a)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: b(n, n)
    real(dp), intent(out) :: a(n, n)
    integer :: i, j, k

    a = 0.0_dp
    do k = 1, n
      do j = 1, n
        do i = 1, n
          a(i, j) = a(i, j) + b(i, k)*b(j, k)
        end do
      end do
    end do
    do i = 1, n
      a(i, i) = a(i, i) + real(n, dp)
    end do
  end subroutine spd_from_factor

  !> Cholesky factorisation in place (lower triangle, PolyBench loop order).
  subroutine cholesky(n, b, a, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: b(n, n)
    real(dp), intent(out) :: a(n, n), cost
    integer :: i, j, k

    call spd_from_factor(n, b, a)
    do i = 1, n
      do j = 1, i - 1
        do k = 1, j - 1
          a(i, j) = a(i, j) - a(i, k)*a(j, k)
        end do
        a(i, j) = a(i, j)/a(j, j)
      end do
      do k = 1, i - 1
        a(i, i) = a(i, i) - a(i, k)*a(i, k)
      end do
      a(i, i) = sqrt(a(i, i))
    end do
    cost = sum(a)
  end subroutine cholesky

  !> Doolittle LU without pivoting, in place (PolyBench loop order).
  subroutine lu_in_place(n, a)
    integer,  intent(in)    :: n
    real(dp), intent(inout) :: a(n, n)
    integer :: i, j, k

    do i = 1, n
      do j = 1, i - 1
        do k = 1, j - 1
          a(i, j) = a(i, j) - a(i, k)*a(k, j)
        end do
        a(i, j) = a(i, j)/a(j, j)
      end do
      do j = i, n
        do k = 1, i - 1
          a(i, j) = a(i, j) - a(i, k)*a(k, j)
        end do
      end do
    end do
  end subroutine lu_in_place

  !> LU factorisation of the SPD matrix built from b.
  subroutine lu(n, b, a, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: b(n, n)
    real(dp), intent(out) :: a(n, n), cost

    call spd_from_factor(n, b, a)
    call lu_in_place(n, a)
    cost = sum(a)
  end subroutine lu

  !> LU factorisation, then L y = rhs and U x = y (PolyBench ludcmp).
  subroutine ludcmp(n, b, rhs, a, x, y, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: b(n, n), rhs(n)
    real(dp), intent(out) :: a(n, n), x(n), y(n), cost
    real(dp) :: w
    integer :: i, j

    call spd_from_factor(n, b, a)
    call lu_in_place(n, a)
    do i = 1, n
      w = rhs(i)
      do j = 1, i - 1
        w = w - a(i, j)*y(j)
      end do
      y(i) = w
    end do
    do i = n, 1, -1
      w = y(i)
      do j = i + 1, n
        w = w - a(i, j)*x(j)
      end do
      x(i) = w/a(i, i)
    end do
    cost = sum(x) + sum(y)
  end subroutine ludcmp

  !> Modified Gram-Schmidt QR of a (m x n, m >= n): a = q r; a is overwritten.
  subroutine gramschmidt(m, n, a, q, r, cost)
    integer,  intent(in)    :: m, n
    real(dp), intent(inout) :: a(m, n)
    real(dp), intent(out)   :: q(m, n), r(n, n), cost
    real(dp) :: nrm
    integer :: i, j, k

    r = 0.0_dp
    do k = 1, n
      nrm = 0.0_dp
      do i = 1, m
        nrm = nrm + a(i, k)*a(i, k)
      end do
      r(k, k) = sqrt(nrm)
      do i = 1, m
        q(i, k) = a(i, k)/r(k, k)
      end do
      do j = k + 1, n
        r(k, j) = 0.0_dp
        do i = 1, m
          r(k, j) = r(k, j) + q(i, k)*a(i, j)
        end do
        do i = 1, m
          a(i, j) = a(i, j) - q(i, k)*r(k, j)
        end do
      end do
    end do
    cost = sum(q) + sum(r)
  end subroutine gramschmidt

end module npb_solvers
