!> Driver for the warm-rain sample: three columns of 20 levels, 12 steps.
program kessler_driver
  use kessler_params, only: dp
  use kessler_microphysics, only: kessler_run
  implicit none

  integer, parameter :: nz = 20, ncol = 3, nt = 12
  real(dp), parameter :: dt = 5.0_dp, dz = 200.0_dp
  real(dp), dimension(nz, ncol) :: t, qv, qc, qr
  real(dp) :: precip(ncol), cost
  integer  :: k, icol

  do icol = 1, ncol
    do k = 1, nz
      t(k, icol) = 288.0_dp - 0.006_dp*200.0_dp*(k - 0.5_dp) + 0.5_dp*icol
      qv(k, icol) = 2.5e-3_dp - 4.0e-5_dp*k
      qc(k, icol) = 3.0e-3_dp + 5.0e-4_dp*sin(0.3_dp*k + icol)
      qr(k, icol) = 3.0e-4_dp + 1.0e-4_dp*cos(0.2_dp*k*icol)
    end do
  end do

  call kessler_run(nz, ncol, nt, dt, dz, t, qv, qc, qr, precip, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
  write(*, '(a,es24.16)') 'precip(1) = ', precip(1)
  write(*, '(a,es24.16)') 'precip(3) = ', precip(3)
  write(*, '(a,es24.16)') 'qr(1,2)   = ', qr(1, 2)
  write(*, '(a,es24.16)') 't(10,1)   = ', t(10, 1)
end program kessler_driver
