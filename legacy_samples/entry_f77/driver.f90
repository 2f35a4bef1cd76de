!> Driver for the ENTRY sample: 12 points, 8 steps of 0.2.
program relax_driver
  implicit none
  external :: relax
  integer, parameter :: n = 12, nt = 8
  double precision, parameter :: dt = 0.2d0
  double precision :: q(n), alpha, cost
  integer :: k

  do k = 1, n
    q(k) = 0.5d0 + 0.3d0*sin(0.7d0*dble(k))
  end do
  alpha = 0.1d0
  call relax(n, nt, dt, alpha, q, cost)
  write(*, '(a,es24.16)') 'cost = ', cost
end program relax_driver
