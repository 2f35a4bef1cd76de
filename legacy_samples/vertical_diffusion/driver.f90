!> Driver for the vertical-diffusion sample: 20 levels of 50 m, 10 steps of 60 s,
!! bulk-drag lower boundary.
program vdiff_driver
  use vdiff_params, only: dp, bc_bulk_drag
  use vdiff_column, only: vdiff_run
  implicit none

  integer, parameter :: nz = 20, nt = 10
  real(dp), parameter :: dt = 60.0_dp, dz = 50.0_dp
  real(dp) :: u(nz), v(nz), theta(nz), cost, z
  integer  :: k

  do k = 1, nz
    z = (k - 0.5_dp)*dz
    u(k) = 8.0_dp*log(1.0_dp + z/10.0_dp)/log(101.0_dp) + 0.3_dp*sin(0.9_dp*k)
    v(k) = 2.0_dp + 1.5_dp*cos(0.5_dp*k)
    theta(k) = 299.5_dp + 0.8_dp*tanh((z - 500.0_dp)/200.0_dp) + 0.05_dp*sin(1.3_dp*k)
  end do

  call vdiff_run(nz, nt, bc_bulk_drag, dt, dz, u, v, theta, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
  write(*, '(a,es24.16)') 'u(1)      = ', u(1)
  write(*, '(a,es24.16)') 'v(nz)     = ', v(nz)
  write(*, '(a,es24.16)') 'theta(1)  = ', theta(1)
end program vdiff_driver
