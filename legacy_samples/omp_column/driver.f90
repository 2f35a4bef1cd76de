!> Driver for the column-physics sample at its check size.
program omp_column_driver
  use omp_column, only: dp, column_run
  implicit none
  integer, parameter :: nz = 6, ncol = 5, nt = 3
  real(dp) :: t(nz, ncol), q(nz, ncol), cost
  integer :: k, ic
  do ic = 1, ncol
    do k = 1, nz
      t(k, ic) = 0.5_dp + real(mod(k*ic, 5), dp)/5
      q(k, ic) = 0.005_dp + 0.025_dp*real(mod(k + 2*ic, 7), dp)/7
    end do
  end do
  call column_run(nz, ncol, nt, 0.5_dp, t, q, cost)
  write(*, '(a,es24.16)') 'column cost = ', cost
  write(*, '(a,es24.16)') 'column t(3,2) = ', t(3, 2)
end program omp_column_driver
