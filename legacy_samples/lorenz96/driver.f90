!> Driver for the Lorenz-96 sample: 40 sites, F = 8, 50 RK4 steps.
program l96_driver
  use lorenz96_model, only: dp, l96_run
  implicit none

  integer, parameter :: n = 40, nt = 50
  real(dp), parameter :: dt = 0.01_dp
  real(dp) :: x(n), forcing, cost
  integer  :: k

  forcing = 8.0_dp
  do k = 1, n
    x(k) = forcing + 0.5_dp*sin(2.0_dp*0.7_dp*k) + 0.01_dp*dble(mod(k, 3))
  end do

  call l96_run(n, nt, dt, forcing, x, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
  write(*, '(a,es24.16)') 'x(1)      = ', x(1)
  write(*, '(a,es24.16)') 'x(20)     = ', x(20)
  write(*, '(a,es24.16)') 'x(n)      = ', x(n)
end program l96_driver
