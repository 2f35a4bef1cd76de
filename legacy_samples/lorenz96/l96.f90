!> Lorenz (1996) model: x_k' = (x_{k+1} - x_{k-2}) x_{k-1} - x_k + F on a ring of
!! n sites, integrated with the classical fourth-order Runge-Kutta scheme.
module lorenz96_model
  implicit none
  private

  integer, parameter, public :: dp = selected_real_kind(12, 200)

  public :: l96_run

contains

  !> Right-hand side of the Lorenz-96 system for a cyclic state vector.
  subroutine l96_tendency(x, forcing, dxdt)
    real(dp), intent(in)  :: x(:)
    real(dp), intent(in)  :: forcing
    real(dp), intent(out) :: dxdt(:)

    integer :: k, n, km2, km1, kp1

    n = size(x)
    do k = 1, n
      km2 = mod(k - 3 + n, n) + 1
      km1 = mod(k - 2 + n, n) + 1
      kp1 = mod(k, n) + 1
      dxdt(k) = (x(kp1) - x(km2))*x(km1) - x(k) + forcing
    end do
  end subroutine l96_tendency

  !> One RK4 step of length dt, in place.
  subroutine l96_rk4_step(x, forcing, dt)
    real(dp), intent(inout) :: x(:)
    real(dp), intent(in)    :: forcing, dt

    real(dp), dimension(size(x)) :: k1, k2, k3, k4, xtmp

    call l96_tendency(x, forcing, k1)
    xtmp = x + 0.5_dp*dt*k1
    call l96_tendency(xtmp, forcing, k2)
    xtmp = x + 0.5_dp*dt*k2
    call l96_tendency(xtmp, forcing, k3)
    xtmp = x + dt*k3
    call l96_tendency(xtmp, forcing, k4)

    x = x + dt/6.0_dp*(k1 + 2.0_dp*k2 + 2.0_dp*k3 + k4)
  end subroutine l96_rk4_step

  !> Run nt RK4 steps from the initial state x; cost = sum of squares of the
  !! final state (twice the "energy" of the system).
  subroutine l96_run(n, nt, dt, forcing, x, cost)
    integer,  intent(in)    :: n, nt
    real(dp), intent(in)    :: dt          !< time step (model time units)
    real(dp), intent(in)    :: forcing     !< constant forcing F
    real(dp), intent(inout) :: x(n)        !< state, overwritten by the final state
    real(dp), intent(out)   :: cost

    integer :: step

    do step = 1, nt
      call l96_rk4_step(x, forcing, dt)
    end do

    cost = sum(x**2)
  end subroutine l96_run

end module lorenz96_model
