!> Driver of the 1-D heat example: runs the model, its adjoint (seed costb = 1) and a
!! finite-difference check of the gradient along one direction. Exits non-zero when the
!! adjoint and the central difference disagree by more than 1e-6 (relative).
program heat1d
  use heat_params, only: dp
  use heat_model, only: heat_run
  use heat_model_b, only: heat_run_b
  implicit none

  integer, parameter :: n = 40, nt = 200
  real(dp), parameter :: pi = acos(-1.0_dp), tol = 1.0e-6_dp, h = 1.0e-5_dp
  real(dp) :: dt, kappa, cost, costb, kappab, cost_plus, cost_minus
  real(dp) :: u0(n), target(n), u0b(n), du0(n), dkappa
  real(dp) :: x, fd, ad, rel
  integer :: i

  dt = 1.0e-4_dp
  kappa = 1.0_dp
  do i = 1, n
    x = real(i, dp)/real(n + 1, dp)
    u0(i) = sin(pi*x) + 0.5_dp*sin(3.0_dp*pi*x)
    target(i) = 0.8_dp*sin(pi*x)
    du0(i) = cos(real(i, dp))                 ! a fixed direction for the check
  end do
  dkappa = 0.7_dp

  call heat_run(n, nt, dt, kappa, u0, target, cost)
  print '(a, es24.16)', 'cost            = ', cost

  ! adjoint: seed the cost with 1, start the gradients from zero
  u0b = 0.0_dp
  kappab = 0.0_dp
  costb = 1.0_dp
  call heat_run_b(n, nt, dt, kappa, kappab, u0, u0b, target, cost, costb)
  print '(a, es24.16)', 'norm(dcost/du0) = ', norm2(u0b)
  print '(a, es24.16)', 'dcost/dkappa    = ', kappab

  ! central finite difference along (du0, dkappa) against the adjoint's directional derivative
  call heat_run(n, nt, dt, kappa + h*dkappa, u0 + h*du0, target, cost_plus)
  call heat_run(n, nt, dt, kappa - h*dkappa, u0 - h*du0, target, cost_minus)
  fd = (cost_plus - cost_minus)/(2.0_dp*h)
  ad = dot_product(u0b, du0) + kappab*dkappa
  rel = abs(ad - fd)/max(abs(fd), tiny(1.0_dp))
  print '(a, es24.16)', 'adjoint  <g, d> = ', ad
  print '(a, es24.16)', 'central diff    = ', fd
  print '(a, es10.3)', 'relative error  = ', rel
  if (rel > tol) then
    print '(a)', 'gradient check FAILED'
    error stop 1
  end if
  print '(a)', 'gradient check passed'
end program heat1d
