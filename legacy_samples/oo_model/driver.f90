!> Driver for the object-oriented sample: deterministic initial state, one run at the check
!! size, bit-exact printout.
program oo_model_driver
  use oo_grid, only: wp
  use oo_model, only: oo_run
  implicit none

  integer, parameter :: n = 24, nt = 20
  real(wp) :: h0(n), u0(n), cost
  integer :: i

  do i = 1, n
    h0(i) = 10.0_wp + 0.2_wp*sin(0.5_wp*i)
    u0(i) = 0.3_wp*cos(0.4_wp*i)
  end do

  call oo_run(n, nt, h0, u0, 9.81_wp, 0.02_wp, 1.0_wp, 0.01_wp, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
end program oo_model_driver
