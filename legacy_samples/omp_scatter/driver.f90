!> Driver for the indirect-addressing sample at its check size.
program omp_scatter_driver
  use omp_scatter, only: dp, edge_run
  implicit none
  integer, parameter :: ncell = 11, nedge = 17, nt = 3
  real(dp) :: w(nedge), x(ncell), cost
  integer :: e, c
  do e = 1, nedge
    w(e) = 0.2_dp + 0.8_dp*real(mod(5*e, 9), dp)/9
  end do
  do c = 1, ncell
    x(c) = 0.5_dp + real(mod(3*c, 7), dp)/7
  end do
  call edge_run(ncell, nedge, nt, 0.1_dp, w, x, cost)
  write(*, '(a,es24.16)') 'edge cost = ', cost
end program omp_scatter_driver
