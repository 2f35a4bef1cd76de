!> Driver for the F77 box ocean: 8 boxes, 6 steps of 0.5.
program ocean_driver
  implicit none
  external :: ocnrun
  integer, parameter :: n = 8, nstep = 6
  double precision, parameter :: dt = 0.5d0
  double precision :: t0(n), s0(n), kap, cost
  integer :: k

  do k = 1, n
    t0(k) = 20.0d0 - 1.5d0*dble(k) + 2.0d0*sin(0.9d0*dble(k))
    s0(k) = 35.0d0 + 0.1d0*cos(1.3d0*dble(k))
  end do
  kap = 1.0d0
  call ocnrun(n, nstep, dt, kap, t0, s0, cost)
  write(*, '(a,es24.16)') 'cost = ', cost
end program ocean_driver
