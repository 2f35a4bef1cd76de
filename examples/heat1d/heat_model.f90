!> The 1-D heat equation u_t = kappa u_xx on a rod with fixed zero temperature at both ends,
!! explicit Euler in time, second-order central differences in space.
module heat_model
  use heat_params, only: dp, rod_length
  implicit none
  private

  public :: heat_run

  external :: heat_misfit

contains

  !> One explicit Euler step: unew = u + dt kappa (u_{i-1} - 2 u_i + u_{i+1})/dx^2.
  subroutine heat_step(n, dt, dx, kappa, u, unew)
    integer, intent(in) :: n
    real(dp), intent(in) :: dt, dx, kappa
    real(dp), intent(in) :: u(0:n + 1)
    real(dp), intent(inout) :: unew(0:n + 1)

    integer :: i

    do i = 1, n
      unew(i) = u(i) + dt*kappa*(u(i - 1) - 2.0_dp*u(i) + u(i + 1))/dx**2
    end do
  end subroutine heat_step

  !> Run nt steps from the initial profile u0 and return the misfit of the final profile to
  !! target. Stable for dt*kappa/dx**2 <= 1/2.
  subroutine heat_run(n, nt, dt, kappa, u0, target, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(in) :: dt
    real(dp), intent(in) :: kappa          !< diffusivity
    real(dp), intent(in) :: u0(n)          !< initial temperature profile
    real(dp), intent(in) :: target(n)      !< target profile at the final time
    real(dp), intent(out) :: cost

    real(dp) :: u(0:n + 1), unew(0:n + 1), ufinal(n)
    real(dp) :: dx
    integer :: i, step

    dx = rod_length/real(n + 1, dp)
    u = 0.0_dp
    unew = 0.0_dp
    do i = 1, n
      u(i) = u0(i)
    end do
    do step = 1, nt
      call heat_step(n, dt, dx, kappa, u, unew)
      do i = 1, n
        u(i) = unew(i)
      end do
    end do
    do i = 1, n
      ufinal(i) = u(i)
    end do
    call heat_misfit(n, dx, ufinal, target, cost)
  end subroutine heat_run

end module heat_model
