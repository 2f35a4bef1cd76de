!> Driver for the PolyBench sample: every kernel at its check size, inputs
!! initialised with PolyBench-like closed formulas.
program polybench_driver
  use polybench_kernels, only: dp, gemm, jacobi_2d, seidel_2d, heat_3d, cholesky, lu
  implicit none

  call run_gemm()
  call run_jacobi_2d()
  call run_seidel_2d()
  call run_heat_3d()
  call run_cholesky()
  call run_lu()

contains

  subroutine run_gemm()
    integer, parameter :: ni = 10, nj = 12, nk = 8
    real(dp) :: alpha, beta, c(ni, nj), a(ni, nk), b(nk, nj), cost
    integer  :: i, j

    alpha = 1.5_dp
    beta = 1.2_dp
    do j = 1, nj
      do i = 1, ni
        c(i, j) = real(mod(i*j + 1, ni), dp)/ni
      end do
    end do
    do j = 1, nk
      do i = 1, ni
        a(i, j) = real(mod(i*(j + 1), nk), dp)/nk
      end do
    end do
    do j = 1, nj
      do i = 1, nk
        b(i, j) = real(mod(i*(j + 2), nj), dp)/nj
      end do
    end do
    call gemm(ni, nj, nk, alpha, beta, c, a, b, cost)
    write(*, '(a,es24.16)') 'gemm      cost = ', cost
    write(*, '(a,es24.16)') 'gemm    c(3,4) = ', c(3, 4)
  end subroutine run_gemm

  subroutine run_jacobi_2d()
    integer, parameter :: tsteps = 5, n = 12
    real(dp) :: a(n, n), b(n, n), cost
    integer  :: i, j

    do j = 1, n
      do i = 1, n
        a(i, j) = (real(i, dp)*(j + 2) + 2.0_dp)/n
        b(i, j) = (real(i, dp)*(j + 3) + 3.0_dp)/n
      end do
    end do
    call jacobi_2d(tsteps, n, a, b, cost)
    write(*, '(a,es24.16)') 'jacobi_2d cost = ', cost
    write(*, '(a,es24.16)') 'jacobi  a(5,6) = ', a(5, 6)
  end subroutine run_jacobi_2d

  subroutine run_seidel_2d()
    integer, parameter :: tsteps = 4, n = 10
    real(dp) :: a(n, n), cost
    integer  :: i, j

    do j = 1, n
      do i = 1, n
        a(i, j) = (real(i, dp)*(j + 2) + 2.0_dp)/n
      end do
    end do
    call seidel_2d(tsteps, n, a, cost)
    write(*, '(a,es24.16)') 'seidel_2d cost = ', cost
    write(*, '(a,es24.16)') 'seidel  a(5,6) = ', a(5, 6)
  end subroutine run_seidel_2d

  subroutine run_heat_3d()
    integer, parameter :: tsteps = 4, n = 8
    real(dp) :: a(n, n, n), b(n, n, n), cost
    integer  :: i, j, k

    do k = 1, n
      do j = 1, n
        do i = 1, n
          a(i, j, k) = real(i + j + (n - k), dp)*10.0_dp/n
          b(i, j, k) = a(i, j, k)
        end do
      end do
    end do
    call heat_3d(tsteps, n, a, b, cost)
    write(*, '(a,es24.16)') 'heat_3d   cost = ', cost
    write(*, '(a,es24.16)') 'heat  a(4,4,4) = ', a(4, 4, 4)
  end subroutine run_heat_3d

  subroutine run_cholesky()
    integer, parameter :: n = 10
    real(dp) :: b(n, n), a(n, n), cost
    integer  :: i, j

    do j = 1, n
      do i = 1, n
        b(i, j) = real(mod(-j, n), dp)/n + 0.1_dp*sin(real(i + 2*j, dp))
      end do
    end do
    call cholesky(n, b, a, cost)
    write(*, '(a,es24.16)') 'cholesky  cost = ', cost
    write(*, '(a,es24.16)') 'chol    a(n,n) = ', a(n, n)
  end subroutine run_cholesky

  subroutine run_lu()
    integer, parameter :: n = 10
    real(dp) :: b(n, n), a(n, n), cost
    integer  :: i, j

    do j = 1, n
      do i = 1, n
        b(i, j) = real(mod(i + j, n), dp)/n - 0.5_dp + 0.05_dp*cos(real(i*j, dp))
      end do
    end do
    call lu(n, b, a, cost)
    write(*, '(a,es24.16)') 'lu        cost = ', cost
    write(*, '(a,es24.16)') 'lu      a(n,1) = ', a(n, 1)
  end subroutine run_lu

end program polybench_driver
