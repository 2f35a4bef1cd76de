!> Driver for the advection-diffusion sample (van Leer limiter, check size).
program advdif_driver
  use advdif_params, only: dp, lim_vanleer
  use advdif_core, only: advdif_run
  implicit none

  integer, parameter :: n = 50, nt = 20
  real(dp), parameter :: dt = 0.004_dp, dx = 0.02_dp
  real(dp) :: dq(n), vel, kappa, cost
  integer  :: i

  vel = 1.05_dp
  kappa = 0.015_dp
  do i = 1, n
    dq(i) = 0.015_dp + 0.004_dp*sin(0.37_dp*i)
  end do

  call advdif_run(n, nt, lim_vanleer, dt, dx, vel, kappa, dq, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
  write(*, '(a,es24.16)') 'dq(1)     = ', dq(1)
  write(*, '(a,es24.16)') 'dq(n)     = ', dq(n)
end program advdif_driver
