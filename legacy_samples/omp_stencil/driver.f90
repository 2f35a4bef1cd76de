!> Driver for the OpenMP stencil sample: both stencils at their check sizes.
program omp_stencil_driver
  use omp_stencil, only: dp, heat2d_run, heat3d_run
  implicit none
  call run2d()
  call run3d()
contains
  subroutine run2d()
    integer, parameter :: nx = 9, ny = 8, nt = 3
    real(dp) :: kappa(nx, ny), u(nx, ny), cost
    integer :: i, j
    do j = 1, ny
      do i = 1, nx
        kappa(i, j) = 0.2_dp + 0.4_dp*real(mod(i*j, 7), dp)/7
        u(i, j) = 0.2_dp + 0.8_dp*real(mod(3*i + j, 5), dp)/5
      end do
    end do
    call heat2d_run(nx, ny, nt, 0.05_dp, kappa, u, cost)
    write(*, '(a,es24.16)') 'heat2d cost = ', cost
  end subroutine run2d
  subroutine run3d()
    integer, parameter :: nx = 6, ny = 5, nz = 5, nt = 3
    real(dp) :: kappa(nx, ny, nz), u(nx, ny, nz), cost
    integer :: i, j, k
    do k = 1, nz
      do j = 1, ny
        do i = 1, nx
          kappa(i, j, k) = 0.2_dp + 0.4_dp*real(mod(i*j + k, 7), dp)/7
          u(i, j, k) = 0.2_dp + 0.8_dp*real(mod(3*i + j + 2*k, 5), dp)/5
        end do
      end do
    end do
    call heat3d_run(nx, ny, nz, nt, 0.02_dp, kappa, u, cost)
    write(*, '(a,es24.16)') 'heat3d cost = ', cost
  end subroutine run3d
end program omp_stencil_driver
