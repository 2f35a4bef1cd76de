!> Nonlinear diffusion on 2-D and 3-D grids, parallelised with OpenMP worksharing loops.
!! The conductivity depends on the field (k*(1 + u**2) at cell faces) and on a
!! spatially varying coefficient kappa; each time step writes unew from u in a parallel
!! loop, then copies it back into u in place (a second parallel loop).
module omp_stencil
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains

  subroutine heat2d_run(nx, ny, nt, dt, kappa, u, cost)
    integer, intent(in) :: nx, ny, nt
    real(dp), intent(in) :: dt
    real(dp), intent(in) :: kappa(nx, ny)
    real(dp), intent(inout) :: u(nx, ny)
    real(dp), intent(out) :: cost
    real(dp) :: unew(nx, ny)
    real(dp) :: uc, fe, fw, fn, fs
    integer :: i, j, t

    do t = 1, nt
      !$omp parallel do private(i, uc, fe, fw, fn, fs) schedule(static)
      do j = 2, ny - 1
        do i = 2, nx - 1
          uc = u(i, j)
          fe = 0.5_dp*(kappa(i, j) + kappa(i + 1, j))*(1.0_dp + (0.5_dp*(uc + u(i + 1, j)))**2)
          fw = 0.5_dp*(kappa(i, j) + kappa(i - 1, j))*(1.0_dp + (0.5_dp*(uc + u(i - 1, j)))**2)
          fn = 0.5_dp*(kappa(i, j) + kappa(i, j + 1))*(1.0_dp + (0.5_dp*(uc + u(i, j + 1)))**2)
          fs = 0.5_dp*(kappa(i, j) + kappa(i, j - 1))*(1.0_dp + (0.5_dp*(uc + u(i, j - 1)))**2)
          unew(i, j) = uc + dt*(fe*(u(i + 1, j) - uc) - fw*(uc - u(i - 1, j)) &
                       + fn*(u(i, j + 1) - uc) - fs*(uc - u(i, j - 1)))
        end do
      end do
      !$omp end parallel do
      !$omp parallel do private(i)
      do j = 2, ny - 1
        do i = 2, nx - 1
          u(i, j) = unew(i, j)
        end do
      end do
      !$omp end parallel do
    end do
    cost = 0.0_dp
    do j = 1, ny
      do i = 1, nx
        cost = cost + u(i, j)**2*(1.0_dp + 0.1_dp*i)
      end do
    end do
  end subroutine heat2d_run

  subroutine heat3d_run(nx, ny, nz, nt, dt, kappa, u, cost)
    integer, intent(in) :: nx, ny, nz, nt
    real(dp), intent(in) :: dt
    real(dp), intent(in) :: kappa(nx, ny, nz)
    real(dp), intent(inout) :: u(nx, ny, nz)
    real(dp), intent(out) :: cost
    real(dp) :: unew(nx, ny, nz)
    real(dp) :: uc, d
    integer :: i, j, k, t

    do t = 1, nt
      !$omp parallel do collapse(2) private(i, uc, d) schedule(static)
      do k = 2, nz - 1
        do j = 2, ny - 1
          do i = 2, nx - 1
            uc = u(i, j, k)
            d = kappa(i, j, k)*(1.0_dp + 0.5_dp*uc**2)
            unew(i, j, k) = uc + dt*d*(u(i + 1, j, k) + u(i - 1, j, k) + u(i, j + 1, k) &
                            + u(i, j - 1, k) + u(i, j, k + 1) + u(i, j, k - 1) - 6.0_dp*uc)
          end do
        end do
      end do
      !$omp end parallel do
      !$omp parallel do collapse(2) private(i)
      do k = 2, nz - 1
        do j = 2, ny - 1
          do i = 2, nx - 1
            u(i, j, k) = unew(i, j, k)
          end do
        end do
      end do
      !$omp end parallel do
    end do
    cost = 0.5_dp*sum(u**2)
  end subroutine heat3d_run
end module omp_stencil
