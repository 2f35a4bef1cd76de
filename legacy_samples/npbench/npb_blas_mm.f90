!> NPBench dense linear-algebra kernels written the way NPBench's NumPy writes them (`@`),
!! i.e. as a Fortran programmer would with MATMUL: the same mathematics, arguments and
!! objective (cost = sum of the outputs) as the PolyBench loop nests of npb_blas.f90, which
!! stay the gradient-checked reference samples. fortran-ad keeps these MATMUL statements as
!! library calls (fortran_ad/ad/matmul.py): gfortran -fexternal-blas turns them into BLAS
!! calls, in the primal and in the derivative code. scripts/bench/run.py benchmarks these
!! heads (`<kernel>_mm`) against JAX by default (--form matmul); --form loops takes the
!! PolyBench loop nests. symm_mm and trmm_mm build the full matrix from the triangle the loop
!! nests read (as the JAX side does), then multiply.
module npb_blas_mm
  use npb_kinds, only: dp
  implicit none
  private

  public :: gemm_mm, atax_mm, bicg_mm, mvt_mm, gesummv_mm, gemver_mm, k2mm_mm, k3mm_mm
  public :: doitgen_mm, symm_mm, trmm_mm

contains

  !> C := alpha*A*B + beta*C
  subroutine gemm_mm(ni, nj, nk, alpha, beta, c, a, b, cost)
    integer,  intent(in)    :: ni, nj, nk
    real(dp), intent(in)    :: alpha, beta
    real(dp), intent(inout) :: c(ni, nj)
    real(dp), intent(in)    :: a(ni, nk), b(nk, nj)
    real(dp), intent(out)   :: cost

    c = alpha*matmul(a, b) + beta*c
    cost = sum(c)
  end subroutine gemm_mm

  !> y := A^T (A x)
  subroutine atax_mm(m, n, a, x, y, cost)
    integer,  intent(in)  :: m, n
    real(dp), intent(in)  :: a(m, n), x(n)
    real(dp), intent(out) :: y(n), cost
    real(dp) :: tmp(m)

    tmp = matmul(a, x)
    y = matmul(tmp, a)
    cost = sum(y)
  end subroutine atax_mm

  !> s := r^T A, q := A p  (A is n x m)
  subroutine bicg_mm(m, n, a, p, r, s, q, cost)
    integer,  intent(in)  :: m, n
    real(dp), intent(in)  :: a(n, m), p(m), r(n)
    real(dp), intent(out) :: s(m), q(n), cost

    s = matmul(r, a)
    q = matmul(a, p)
    cost = sum(s) + sum(q)
  end subroutine bicg_mm

  !> x1 := x1 + A y1, x2 := x2 + A^T y2
  subroutine mvt_mm(n, x1, x2, y1, y2, a, cost)
    integer,  intent(in)    :: n
    real(dp), intent(inout) :: x1(n), x2(n)
    real(dp), intent(in)    :: y1(n), y2(n), a(n, n)
    real(dp), intent(out)   :: cost

    x1 = x1 + matmul(a, y1)
    x2 = x2 + matmul(y2, a)
    cost = sum(x1) + sum(x2)
  end subroutine mvt_mm

  !> y := alpha*A x + beta*B x
  subroutine gesummv_mm(n, alpha, beta, a, b, x, y, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: alpha, beta, a(n, n), b(n, n), x(n)
    real(dp), intent(out) :: y(n), cost

    y = alpha*matmul(a, x) + beta*matmul(b, x)
    cost = sum(y)
  end subroutine gesummv_mm

  !> A += u1 v1^T + u2 v2^T; x += beta A^T y + z; w += alpha A x
  subroutine gemver_mm(n, alpha, beta, a, u1, v1, u2, v2, w, x, y, z, cost)
    integer,  intent(in)    :: n
    real(dp), intent(in)    :: alpha, beta, u1(n), v1(n), u2(n), v2(n), y(n), z(n)
    real(dp), intent(inout) :: a(n, n), w(n), x(n)
    real(dp), intent(out)   :: cost
    integer :: j

    do j = 1, n
      a(:, j) = a(:, j) + u1*v1(j) + u2*v2(j)
    end do
    x = x + beta*matmul(y, a)
    x = x + z
    w = w + alpha*matmul(a, x)
    cost = sum(a) + sum(w) + sum(x)
  end subroutine gemver_mm

  !> D := alpha*A*B*C + beta*D
  subroutine k2mm_mm(ni, nj, nk, nl, alpha, beta, a, b, c, d, cost)
    integer,  intent(in)    :: ni, nj, nk, nl
    real(dp), intent(in)    :: alpha, beta, a(ni, nk), b(nk, nj), c(nj, nl)
    real(dp), intent(inout) :: d(ni, nl)
    real(dp), intent(out)   :: cost
    real(dp) :: tmp(ni, nj)

    tmp = alpha*matmul(a, b)
    d = matmul(tmp, c) + beta*d
    cost = sum(d)
  end subroutine k2mm_mm

  !> G := (A*B)*(C*D)
  subroutine k3mm_mm(ni, nj, nk, nl, nm, a, b, c, d, g, cost)
    integer,  intent(in)  :: ni, nj, nk, nl, nm
    real(dp), intent(in)  :: a(ni, nk), b(nk, nj), c(nj, nm), d(nm, nl)
    real(dp), intent(out) :: g(ni, nl), cost
    real(dp) :: e(ni, nj), f(nj, nl)

    e = matmul(a, b)
    f = matmul(c, d)
    g = matmul(e, f)
    cost = sum(g)
  end subroutine k3mm_mm

  !> A(r, q, :) := A(r, q, :) C4 for every r, q: one product per q of the (strided) slab
  !! A(:, q, :), as NPBench multiplies the reshaped A by C4
  subroutine doitgen_mm(nr, nq, np, a, c4, cost)
    integer,  intent(in)    :: nr, nq, np
    real(dp), intent(inout) :: a(nr, nq, np)
    real(dp), intent(in)    :: c4(np, np)
    real(dp), intent(out)   :: cost
    real(dp) :: tmp(nr, np)
    integer :: q

    do q = 1, nq
      tmp = matmul(a(:, q, :), c4)
      a(:, q, :) = tmp
    end do
    cost = sum(a)
  end subroutine doitgen_mm

  !> C := beta*C + alpha*S B with S the symmetric matrix of A's lower triangle (A, S m x m,
  !! B, C m x n), as NPBench builds it: S = tril(A) + tril(A, -1)^T, then one product
  subroutine symm_mm(m, n, alpha, beta, c, a, b, cost)
    integer,  intent(in)    :: m, n
    real(dp), intent(in)    :: alpha, beta, a(m, m), b(m, n)
    real(dp), intent(inout) :: c(m, n)
    real(dp), intent(out)   :: cost
    real(dp) :: s(m, m)
    integer :: i, k

    do k = 1, m
      do i = 1, k - 1
        s(i, k) = a(k, i)
      end do
      do i = k, m
        s(i, k) = a(i, k)
      end do
    end do
    c = beta*c + alpha*matmul(s, b)
    cost = sum(c)
  end subroutine symm_mm

  !> B := alpha*(B + U B) with U = triu(A^T, 1), the strictly upper part of A^T (A unit lower
  !! triangular, m x m; B m x n), as the JAX side writes it: U built, then one product, scaled
  !! like BLAS's trmm (B := alpha*op(A)*B); its adjoint takes alpha's derivative from U's
  !! gradient, so the gradient needs no forward product
  subroutine trmm_mm(m, n, alpha, a, b, cost)
    integer,  intent(in)    :: m, n
    real(dp), intent(in)    :: alpha, a(m, m)
    real(dp), intent(inout) :: b(m, n)
    real(dp), intent(out)   :: cost
    real(dp) :: u(m, m), t(m, n)
    integer :: i, k

    do k = 1, m
      do i = 1, k - 1
        u(i, k) = a(k, i)
      end do
      do i = k, m
        u(i, k) = 0.0_dp
      end do
    end do
    t = alpha*matmul(u, b)
    b = alpha*b + t
    cost = sum(b)
  end subroutine trmm_mm
end module npb_blas_mm
