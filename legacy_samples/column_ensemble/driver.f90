!> Driver for the column-ensemble sample: deterministic initial columns, one run at the check
!! size, bit-exact printout.
program column_ensemble_driver
  use col_types, only: wp
  use ensemble, only: ensemble_run
  implicit none

  integer, parameter :: ncol = 6, nz = 10, nt = 8
  real(wp) :: t0(nz, ncol), q0(nz, ncol), ps0(ncol), cost
  integer :: i, k

  do i = 1, ncol
    do k = 1, nz
      t0(k, i) = 285.0_wp - 0.5_wp*k + sin(0.7_wp*i)
      q0(k, i) = 0.012_wp*exp(-0.2_wp*k) + 0.001_wp*cos(0.3_wp*i*k)
    end do
    ps0(i) = 1000.0_wp + 5.0_wp*sin(0.9_wp*i)
  end do

  call ensemble_run(ncol, nz, nt, t0, q0, ps0, 0.2_wp, 0.1_wp, 0.01_wp, 0.5_wp, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
end program column_ensemble_driver
