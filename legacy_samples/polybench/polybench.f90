!> PolyBench/C 4.2 kernels (gemm, jacobi-2d, seidel-2d, heat-3d, cholesky, lu)
!! translated to Fortran with explicit-shape dummy arrays.
!!
!! Each kernel also returns cost = sum of its output array(s), computed inside
!! the routine, so that it can be differentiated as a scalar function. Indices
!! run from 1; the stencil kernels update the interior 2..n-1 as in PolyBench.
module polybench_kernels
  implicit none
  private

  integer, parameter, public :: dp = selected_real_kind(12, 200)

  public :: gemm, jacobi_2d, seidel_2d, heat_3d, cholesky, lu

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

  !> Two-array 5-point Jacobi iteration, tsteps double sweeps.
  subroutine jacobi_2d(tsteps, n, a, b, cost)
    integer,  intent(in)    :: tsteps, n
    real(dp), intent(inout) :: a(n, n), b(n, n)
    real(dp), intent(out)   :: cost

    integer :: t, i, j

    do t = 1, tsteps
      do j = 2, n - 1
        do i = 2, n - 1
          b(i, j) = 0.2_dp*(a(i, j) + a(i, j - 1) + a(i, j + 1) + a(i + 1, j) + a(i - 1, j))
        end do
      end do
      do j = 2, n - 1
        do i = 2, n - 1
          a(i, j) = 0.2_dp*(b(i, j) + b(i, j - 1) + b(i, j + 1) + b(i + 1, j) + b(i - 1, j))
        end do
      end do
    end do

    cost = sum(a) + sum(b)
  end subroutine jacobi_2d

  !> In-place 9-point Gauss-Seidel sweeps.
  subroutine seidel_2d(tsteps, n, a, cost)
    integer,  intent(in)    :: tsteps, n
    real(dp), intent(inout) :: a(n, n)
    real(dp), intent(out)   :: cost

    integer :: t, i, j

    do t = 1, tsteps
      do j = 2, n - 1
        do i = 2, n - 1
          a(i, j) = (a(i - 1, j - 1) + a(i - 1, j) + a(i - 1, j + 1) &
                   + a(i, j - 1) + a(i, j) + a(i, j + 1) &
                   + a(i + 1, j - 1) + a(i + 1, j) + a(i + 1, j + 1))/9.0_dp
        end do
      end do
    end do

    cost = sum(a)
  end subroutine seidel_2d

  !> Explicit 3-D heat equation, two arrays, tsteps double sweeps.
  subroutine heat_3d(tsteps, n, a, b, cost)
    integer,  intent(in)    :: tsteps, n
    real(dp), intent(inout) :: a(n, n, n), b(n, n, n)
    real(dp), intent(out)   :: cost

    integer :: t, i, j, k

    do t = 1, tsteps
      do k = 2, n - 1
        do j = 2, n - 1
          do i = 2, n - 1
            b(i, j, k) = 0.125_dp*(a(i + 1, j, k) - 2.0_dp*a(i, j, k) + a(i - 1, j, k)) &
                       + 0.125_dp*(a(i, j + 1, k) - 2.0_dp*a(i, j, k) + a(i, j - 1, k)) &
                       + 0.125_dp*(a(i, j, k + 1) - 2.0_dp*a(i, j, k) + a(i, j, k - 1)) &
                       + a(i, j, k)
          end do
        end do
      end do
      do k = 2, n - 1
        do j = 2, n - 1
          do i = 2, n - 1
            a(i, j, k) = 0.125_dp*(b(i + 1, j, k) - 2.0_dp*b(i, j, k) + b(i - 1, j, k)) &
                       + 0.125_dp*(b(i, j + 1, k) - 2.0_dp*b(i, j, k) + b(i, j - 1, k)) &
                       + 0.125_dp*(b(i, j, k + 1) - 2.0_dp*b(i, j, k) + b(i, j, k - 1)) &
                       + b(i, j, k)
          end do
        end do
      end do
    end do

    cost = sum(a) + sum(b)
  end subroutine heat_3d

  !> a := b*transpose(b) + n*I, a symmetric positive definite matrix whose
  !! eigenvalues are at least n (PolyBench builds its inputs the same way).
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

  !> Cholesky factorisation in place (lower triangle, PolyBench loop order)
  !! of the SPD matrix built from b.
  subroutine cholesky(n, b, a, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: b(n, n)
    real(dp), intent(out) :: a(n, n)
    real(dp), intent(out) :: cost

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

  !> LU factorisation without pivoting in place (Doolittle, PolyBench loop
  !! order) of the SPD matrix built from b.
  subroutine lu(n, b, a, cost)
    integer,  intent(in)  :: n
    real(dp), intent(in)  :: b(n, n)
    real(dp), intent(out) :: a(n, n)
    real(dp), intent(out) :: cost

    integer :: i, j, k

    call spd_from_factor(n, b, a)

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

    cost = sum(a)
  end subroutine lu

end module polybench_kernels
