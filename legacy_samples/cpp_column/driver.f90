!> Driver for the preprocessed column (build it with the same -D options as column.F90).
program column_driver
  use column, only: wp, column_run
  implicit none
  integer, parameter :: n = 10, nt = 8
  real(wp) :: u(n), forcing(n), cost
  integer :: k
  do k = 1, n
    u(k) = 1.0_wp + 0.3_wp*sin(0.8_wp*k)
    forcing(k) = 0.2_wp*cos(0.5_wp*k)
  end do
  call column_run(n, nt, u, forcing, cost)
  write(*, '(a,es24.16)') 'cost = ', cost
end program column_driver
