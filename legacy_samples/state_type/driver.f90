!> Driver for the state-type sample: deterministic initial state, one run at the check size,
!! bit-exact printout.
program state_type_driver
  use sw_types, only: wp
  use sw1d, only: sw_run
  implicit none

  integer, parameter :: n = 24, nt = 20
  real(wp), parameter :: dt = 0.02_wp, dx = 1.0_wp
  real(wp) :: h0(n), u0(n), drag(2), g, cost
  integer :: i

  do i = 1, n
    h0(i) = 10.0_wp + 0.2_wp*sin(0.5_wp*i)
    u0(i) = 0.3_wp*cos(0.4_wp*i)
  end do
  g = 9.81_wp
  drag = [0.05_wp, 0.02_wp]

  call sw_run(n, nt, h0, u0, g, dt, dx, drag, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
end program state_type_driver
