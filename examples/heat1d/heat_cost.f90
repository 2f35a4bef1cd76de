!> Cost function of the 1-D heat example: a quadratic misfit to a target profile.
!! An external procedure (outside any module), as in many legacy models.
subroutine heat_misfit(n, dx, u, target, cost)
  use heat_params, only: dp
  implicit none
  integer, intent(in) :: n
  real(dp), intent(in) :: dx
  real(dp), intent(in) :: u(n), target(n)
  real(dp), intent(out) :: cost

  integer :: i

  ! cost = (1/2) dx sum_i (u_i - target_i)^2, a discrete L2 misfit
  cost = 0.0_dp
  do i = 1, n
    cost = cost + 0.5_dp*dx*(u(i) - target(i))**2
  end do
end subroutine heat_misfit
