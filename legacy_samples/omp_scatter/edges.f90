!> Fluxes on the edges of an unstructured 1-D mesh with indirect addressing: a parallel loop
!! over edges gathers its two cells (left(e), right(e)) and computes a nonlinear flux; a
!! second parallel loop scatters the fluxes back to the cells with !$omp atomic updates.
!! The adjoint of the gather is a scatter with indirect indices (no affine offsets, so it
!! must use atomics); the adjoint of the atomic scatter is a race-free gather.
module omp_scatter
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains

  subroutine edge_run(ncell, nedge, nt, dt, w, x, cost)
    integer, intent(in) :: ncell, nedge, nt
    real(dp), intent(in) :: dt
    real(dp), intent(in) :: w(nedge)
    real(dp), intent(inout) :: x(ncell)
    real(dp), intent(out) :: cost
    real(dp) :: flux(nedge), tend(ncell)
    integer :: left(nedge), right(nedge)
    integer :: e, c, step
    do e = 1, nedge
      left(e) = 1 + mod(7*e, ncell)
      right(e) = 1 + mod(3*e + 5, ncell)
    end do
    do step = 1, nt
      !$omp parallel do schedule(static)
      do e = 1, nedge
        flux(e) = w(e)*(x(right(e)) - x(left(e)))*(1.0_dp + 0.5_dp*x(left(e))**2)
      end do
      !$omp end parallel do
      tend = 0.0_dp
      !$omp parallel do schedule(static)
      do e = 1, nedge
        !$omp atomic
        tend(left(e)) = tend(left(e)) + flux(e)
        !$omp atomic
        tend(right(e)) = tend(right(e)) - flux(e)
      end do
      !$omp end parallel do
      !$omp parallel do
      do c = 1, ncell
        x(c) = x(c) + dt*tend(c)
      end do
      !$omp end parallel do
    end do
    cost = 0.0_dp
    do c = 1, ncell
      cost = cost + x(c)**3
    end do
  end subroutine edge_run
end module omp_scatter
