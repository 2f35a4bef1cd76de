!> Driver for the radiation sample: 20 layers, one day of hourly steps.
program rad_driver
  use rad_params, only: dp
  use rad_column, only: radiation_run
  implicit none

  integer, parameter :: nz = 20, nt = 24
  real(dp), parameter :: dt = 3600.0_dp, lat_deg = 45.0_dp, hour_deg = 30.0_dp
  real(dp) :: t_surf, q_vap(nz), temp(nz), heating(nz), cost, sigma
  integer  :: k

  t_surf = 290.0_dp
  do k = 1, nz
    sigma = (k - 0.5_dp)/nz
    temp(k) = 215.0_dp + 70.0_dp*sigma + 2.0_dp*sin(0.8_dp*k)
    q_vap(k) = 1.0e-2_dp*sigma**3 + 2.0e-3_dp
  end do

  call radiation_run(nz, nt, dt, lat_deg, hour_deg, t_surf, q_vap, temp, heating, cost)

  write(*, '(a,es24.16)') 'cost        = ', cost
  write(*, '(a,es24.16)') 'temp(1)     = ', temp(1)
  write(*, '(a,es24.16)') 'temp(nz)    = ', temp(nz)
  write(*, '(a,es24.16)') 'heating(10) = ', heating(10)
end program rad_driver
