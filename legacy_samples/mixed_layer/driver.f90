!> Driver for the mixed-layer sample: 30 levels, 48 hourly steps of a diurnal heat flux.
program ml_driver
  use mixed_layer, only: dp, ml_run
  implicit none
  integer, parameter :: nz = 30, nt = 48
  real(dp) :: t(nz), q_surf(nt), t_clim(nz), cost
  integer :: k
  do k = 1, nz
    t(k) = 20.0_dp - 0.3_dp*k
    t_clim(k) = 19.0_dp - 0.28_dp*k
  end do
  do k = 1, nt
    q_surf(k) = 200.0_dp*sin(6.2831853_dp*k/24.0_dp)
  end do
  call ml_run(nz, nt, 3600.0_dp, t, q_surf, 1.0e-4_dp, t_clim, cost)
  write(*, '(a,es24.16)') 'cost      = ', cost
  write(*, '(a,es24.16)') 't(1)      = ', t(1)
  write(*, '(a,es24.16)') 't(nz)     = ', t(nz)
end program ml_driver
