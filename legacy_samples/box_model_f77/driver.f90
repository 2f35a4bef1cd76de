!> Driver for the F77 NPZD box model: 8 boxes of 10 m, 20 steps of 0.1 day.
program npzd_driver
  implicit none
  external :: npzrun

  integer, parameter :: nbox = 8, nstep = 20
  double precision, parameter :: dt = 0.1d0
  double precision :: xn(nbox), phy(nbox), zoo(nbox), det(nbox), cost
  integer :: k

  do k = 1, nbox
    xn(k) = 3.0d0 + 0.35d0*dble(k)
    phy(k) = 0.5d0 - 0.03d0*dble(k) + 0.05d0*sin(0.7d0*dble(k))
    zoo(k) = 0.2d0 + 0.02d0*cos(1.1d0*dble(k))
    det(k) = 0.8d0 + 0.03d0*dble(k)
  end do

  call npzrun(nbox, nstep, dt, xn, phy, zoo, det, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
  write(*, '(a,es24.16)') 'xn(1)     = ', xn(1)
  write(*, '(a,es24.16)') 'phy(1)    = ', phy(1)
  write(*, '(a,es24.16)') 'zoo(nbox) = ', zoo(nbox)
  write(*, '(a,es24.16)') 'det(nbox) = ', det(nbox)
end program npzd_driver
