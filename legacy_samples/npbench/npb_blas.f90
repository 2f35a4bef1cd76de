!> NPBench / PolyBench 4.2 dense linear-algebra kernels (BLAS-like), in Fortran.
!!
!! Arrays have the mathematical shapes of PolyBench (a(i, k) is A[i][k]); loops are ordered
!! for column-major storage wherever the result does not depend on the order. Every kernel
!! returns cost = sum of its output arrays, the scalar objective NPBench/DaCe AD uses.
module npb_blas
  use npb_kinds, only: dp
  implicit none
  private

  public :: gemm, atax, bicg, mvt, gesummv, gemver, k2mm, k3mm, doitgen, syrk, syr2k, symm, trmm

contains

  !> C := alpha*A*B + beta*C
  subroutine gemm(ni, nj, nk, alpha, beta, c, a, b, cost)
    integer,  intent(in)    :: ni, nj, nk
    real(dp), intent(in)    :: alpha, beta
    real(dp), intent(inout) :: c(ni, nj)
    real(dp), intent(in)    :: a(ni, nk), b(nk, nj)
    real(dp), intent(out)   :: cost
    integer :: i, j, k

    do j = 1, nj
      do i = 1, ni
        c(i, j) = c(i, j)*beta
      end do
      do k = 1, nk
        do i = 1, ni
          c(i, j) = c(i, j) + alpha*a(i, k)*b(k, j)
        end do
      end do
    end do
    cost = sum(c)
  end subroutine gemm

  !> y := A^T (A x)
  subroutine atax(m, n, a, x, y, cost)
    integer,  intent(in)  :: m, n
    real(dp), intent(in)  :: a(m, n), x(n)
    real(dp), intent(out) :: y(n), cost
    real(dp) :: tmp(m)
    integer :: i, j

    tmp = 0.0_dp
    do j = 1, n
      do i = 1, m
        tmp(i) = tmp(i) + a(i, j)*x(j)
      end do
    end do
    do j = 1, n
      y(j) = 0.0_dp
      do i = 1, m
        y(j) = y(j) + a(i, j)*tmp(i)
      end do
    end do
    cost = sum(y)
  end subroutine atax

  !> s := r^T A, q := A p  (A is n x m)
  subroutine bicg(m, n, a, p, r, s, q, cost)
    integer,  intent(in)  :: m, n
    real(dp), intent(in)  :: a(n, m), p(m), r(n)
    real(dp), intent(out) :: s(m), q(n), cost
    integer :: i, j

    q = 0.0_dp
    do j = 1, m
      s(j) = 0.0_dp
      do i = 1, n
        s(j) = s(j) + r(i)*a(i, j)
        q(i) = q(i) + a(i, j)*p(j)
      end do
    end do
    cost = sum(s) + sum(q)
  end subroutine bicg

  !> x1 := x1 + A y1, x2 := x2 + A^T y2
  subroutine mvt(n, x1, x2, y1, y2, a, cost)
    integer,  intent(in)    :: n
    real(dp), intent(inout) :: x1(n), x2(n)
    real(dp), intent(in)    :: y1(n), y2(n), a(n, n)
    real(dp), intent(out)   :: cost
    integer :: i, j

    do j = 1, n
      do i = 1, n
        x1(i) = x1(i) + a(i, j)*y1(j)
      end do
    end do
    do i = 1, n
      do j = 1, n
        x2(i) = x2(i) + a(j, i)*y2(j)
      end do
    end do
    cost = sum(x1) + sum(x2)
  end subroutine mvt

  !> y := alpha*A x + beta*B x
  subroutine gesummv(n, alpha, beta, a, b, x, y, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: alpha, beta, a(n, n), b(n, n), x(n)
    real(dp), intent(out) :: y(n), cost
    real(dp) :: tmp(n)
    integer :: i, j

    tmp = 0.0_dp
    y = 0.0_dp
    do j = 1, n
      do i = 1, n
        tmp(i) = tmp(i) + a(i, j)*x(j)
        y(i) = y(i) + b(i, j)*x(j)
      end do
    end do
    do i = 1, n
      y(i) = alpha*tmp(i) + beta*y(i)
    end do
    cost = sum(y)
  end subroutine gesummv

  !> A += u1 v1^T + u2 v2^T; x += beta A^T y + z; w += alpha A x
  subroutine gemver(n, alpha, beta, a, u1, v1, u2, v2, w, x, y, z, cost)
    integer,  intent(in)    :: n
    real(dp), intent(in)    :: alpha, beta, u1(n), v1(n), u2(n), v2(n), y(n), z(n)
    real(dp), intent(inout) :: a(n, n), w(n), x(n)
    real(dp), intent(out)   :: cost
    integer :: i, j

    do j = 1, n
      do i = 1, n
        a(i, j) = a(i, j) + u1(i)*v1(j) + u2(i)*v2(j)
      end do
    end do
    do i = 1, n
      do j = 1, n
        x(i) = x(i) + beta*a(j, i)*y(j)
      end do
    end do
    do i = 1, n
      x(i) = x(i) + z(i)
    end do
    do j = 1, n
      do i = 1, n
        w(i) = w(i) + alpha*a(i, j)*x(j)
      end do
    end do
    cost = sum(a) + sum(w) + sum(x)
  end subroutine gemver

  !> D := alpha*A*B*C + beta*D
  subroutine k2mm(ni, nj, nk, nl, alpha, beta, a, b, c, d, cost)
    integer,  intent(in)    :: ni, nj, nk, nl
    real(dp), intent(in)    :: alpha, beta, a(ni, nk), b(nk, nj), c(nj, nl)
    real(dp), intent(inout) :: d(ni, nl)
    real(dp), intent(out)   :: cost
    real(dp) :: tmp(ni, nj)
    integer :: i, j, k

    do j = 1, nj
      do i = 1, ni
        tmp(i, j) = 0.0_dp
      end do
      do k = 1, nk
        do i = 1, ni
          tmp(i, j) = tmp(i, j) + alpha*a(i, k)*b(k, j)
        end do
      end do
    end do
    do j = 1, nl
      do i = 1, ni
        d(i, j) = d(i, j)*beta
      end do
      do k = 1, nj
        do i = 1, ni
          d(i, j) = d(i, j) + tmp(i, k)*c(k, j)
        end do
      end do
    end do
    cost = sum(d)
  end subroutine k2mm

  !> G := (A*B)*(C*D)
  subroutine k3mm(ni, nj, nk, nl, nm, a, b, c, d, g, cost)
    integer,  intent(in)  :: ni, nj, nk, nl, nm
    real(dp), intent(in)  :: a(ni, nk), b(nk, nj), c(nj, nm), d(nm, nl)
    real(dp), intent(out) :: g(ni, nl), cost
    real(dp) :: e(ni, nj), f(nj, nl)
    integer :: i, j, k

    do j = 1, nj
      do i = 1, ni
        e(i, j) = 0.0_dp
      end do
      do k = 1, nk
        do i = 1, ni
          e(i, j) = e(i, j) + a(i, k)*b(k, j)
        end do
      end do
    end do
    do j = 1, nl
      do i = 1, nj
        f(i, j) = 0.0_dp
      end do
      do k = 1, nm
        do i = 1, nj
          f(i, j) = f(i, j) + c(i, k)*d(k, j)
        end do
      end do
    end do
    do j = 1, nl
      do i = 1, ni
        g(i, j) = 0.0_dp
      end do
      do k = 1, nj
        do i = 1, ni
          g(i, j) = g(i, j) + e(i, k)*f(k, j)
        end do
      end do
    end do
    cost = sum(g)
  end subroutine k3mm

  !> A(r, q, :) := A(r, q, :) C4 for every r, q
  subroutine doitgen(nr, nq, np, a, c4, cost)
    integer,  intent(in)    :: nr, nq, np
    real(dp), intent(inout) :: a(nr, nq, np)
    real(dp), intent(in)    :: c4(np, np)
    real(dp), intent(out)   :: cost
    real(dp) :: tmp(nr, np)
    integer :: r, q, p, s

    do q = 1, nq
      do p = 1, np
        do r = 1, nr
          tmp(r, p) = 0.0_dp
        end do
        do s = 1, np
          do r = 1, nr
            tmp(r, p) = tmp(r, p) + a(r, q, s)*c4(s, p)
          end do
        end do
      end do
      do p = 1, np
        do r = 1, nr
          a(r, q, p) = tmp(r, p)
        end do
      end do
    end do
    cost = sum(a)
  end subroutine doitgen

  !> Lower triangle of C := alpha*A*A^T + beta*C  (C is n x n, A is n x m)
  subroutine syrk(m, n, alpha, beta, c, a, cost)
    integer,  intent(in)    :: m, n
    real(dp), intent(in)    :: alpha, beta, a(n, m)
    real(dp), intent(inout) :: c(n, n)
    real(dp), intent(out)   :: cost
    integer :: i, j, k

    do j = 1, n
      do i = j, n
        c(i, j) = c(i, j)*beta
      end do
      do k = 1, m
        do i = j, n
          c(i, j) = c(i, j) + alpha*a(i, k)*a(j, k)
        end do
      end do
    end do
    cost = sum(c)
  end subroutine syrk

  !> Lower triangle of C := alpha*(A*B^T + B*A^T) + beta*C
  subroutine syr2k(m, n, alpha, beta, c, a, b, cost)
    integer,  intent(in)    :: m, n
    real(dp), intent(in)    :: alpha, beta, a(n, m), b(n, m)
    real(dp), intent(inout) :: c(n, n)
    real(dp), intent(out)   :: cost
    integer :: i, j, k

    do j = 1, n
      do i = j, n
        c(i, j) = c(i, j)*beta
      end do
      do k = 1, m
        do i = j, n
          c(i, j) = c(i, j) + a(j, k)*alpha*b(i, k) + b(j, k)*alpha*a(i, k)
        end do
      end do
    end do
    cost = sum(c)
  end subroutine syr2k

  !> C := alpha*A*B + beta*C with A symmetric, stored in its lower triangle (A is m x m)
  subroutine symm(m, n, alpha, beta, c, a, b, cost)
    integer,  intent(in)    :: m, n
    real(dp), intent(in)    :: alpha, beta, a(m, m), b(m, n)
    real(dp), intent(inout) :: c(m, n)
    real(dp), intent(out)   :: cost
    real(dp) :: temp2
    integer :: i, j, k

    do j = 1, n
      do i = 1, m
        temp2 = 0.0_dp
        do k = 1, i - 1
          c(k, j) = c(k, j) + alpha*b(i, j)*a(i, k)
          temp2 = temp2 + b(k, j)*a(i, k)
        end do
        c(i, j) = beta*c(i, j) + alpha*b(i, j)*a(i, i) + alpha*temp2
      end do
    end do
    cost = sum(c)
  end subroutine symm

  !> B := alpha*A^T B with A unit lower triangular (A is m x m, B is m x n)
  subroutine trmm(m, n, alpha, a, b, cost)
    integer,  intent(in)    :: m, n
    real(dp), intent(in)    :: alpha, a(m, m)
    real(dp), intent(inout) :: b(m, n)
    real(dp), intent(out)   :: cost
    integer :: i, j, k

    do j = 1, n
      do i = 1, m
        do k = i + 1, m
          b(i, j) = b(i, j) + a(k, i)*b(k, j)
        end do
        b(i, j) = alpha*b(i, j)
      end do
    end do
    cost = sum(b)
  end subroutine trmm

end module npb_blas
