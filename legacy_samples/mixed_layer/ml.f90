!> Ocean mixed-layer column: a temperature profile on nz levels stepped in a time loop with
!> surface heat forcing, vertical mixing by a matrix (MATMUL), convective adjustment (WHERE),
!> upwelling (CSHIFT/EOSHIFT), SPREAD of the surface flux over a diagnostics array,
!> allocatable work arrays allocated and freed every step, a generic interface (scalar and
!> profile relaxation), ASSOCIATE and a statement function.
module mixed_layer
  implicit none
  integer, parameter :: dp = kind(1.0d0)

  interface relax
    module procedure relax_scalar, relax_profile
  end interface relax

contains

  subroutine relax_scalar(t, target, rate)
    real(dp), intent(inout) :: t
    real(dp), intent(in) :: target, rate
    t = t + rate*(target - t)
  end subroutine relax_scalar

  subroutine relax_profile(t, target, rate)
    real(dp), intent(inout) :: t(:)
    real(dp), intent(in) :: target(:)
    real(dp), intent(in) :: rate
    t = t + rate*(target - t)*(1.0_dp + 0.01_dp*tanh(t - target))
  end subroutine relax_profile

  subroutine ml_run(nz, nt, dt, t, q_surf, kmix, t_clim, cost)
    integer, intent(in) :: nz, nt
    real(dp), intent(in) :: dt
    real(dp), intent(inout) :: t(nz)
    real(dp), intent(in) :: q_surf(nt)
    real(dp), intent(in) :: kmix
    real(dp), intent(in) :: t_clim(nz)
    real(dp), intent(out) :: cost
    real(dp) :: mix(nz, nz), depth(nz), flux(nz, 2)
    real(dp), allocatable :: tnew(:), heat(:)
    real(dp) :: rho, tt
    integer :: k, step
    character(len=16) :: tag
    rho(tt) = 1025.0_dp*(1.0_dp - 2.0e-4_dp*(tt - 10.0_dp))

    tag = 'mixed layer'
    depth = [(10.0_dp*k, k = 1, nz)]
    mix = 0.0_dp
    forall (k = 2:nz - 1)
      mix(k, k - 1) = 1.0_dp
      mix(k, k + 1) = 1.0_dp
    end forall
    mix(1, 2) = 1.0_dp
    mix(nz, nz - 1) = 1.0_dp
    do step = 1, nt
      allocate(tnew(nz), heat(nz))
      heat = 0.0_dp
      heat(1) = q_surf(step)*dt/(rho(t(1))*4000.0_dp*10.0_dp)
      associate (upper => t(1:nz - 1), lower => t(2:nz))
        ! convective adjustment: a warmer level below an upper one mixes with it
        where (lower > upper + 0.5_dp)
          heat(2:nz) = heat(2:nz) + 0.1_dp*(upper - lower)
        end where
      end associate
      tnew = t + heat + kmix*dt*(matmul(mix, t) - sum(mix, dim=2)*t)
      ! weak upwelling: levels take a little of the one below (bottom keeps its value)
      tnew = tnew + 0.01_dp*(eoshift(tnew, 1, boundary=tnew(nz)) - tnew)
      tnew(1:nz) = tnew(1:nz) + 1.0e-3_dp*(cshift(tnew, -1) - tnew)
      call relax(tnew, t_clim, 0.02_dp)
      call relax(tnew(nz), t_clim(nz), 0.1_dp)
      where (depth > 50.0_dp) tnew = 0.5_dp*(tnew + t)
      t = tnew
      deallocate(tnew, heat)
    end do
    flux = spread([q_surf(nt), 0.5_dp*q_surf(nt)], 1, nz)
    if (cost < -1.0e30_dp) write(*, *) trim(tag), flux(1, 1)
    cost = sum((t - t_clim)**2, mask=depth <= 100.0_dp) + 1.0e-6_dp*sum(flux(:, 2)*t)
  end subroutine ml_run
end module mixed_layer
