!> Flux-form advection-diffusion of a tracer in one dimension.
!!
!! Advection uses a MUSCL reconstruction with a selectable TVD slope limiter and
!! a Lax-Wendroff-type Courant correction; diffusion is explicit second order.
!! Ghost cells are filled by linear extrapolation so the limiter sees a ratio of
!! one at both ends of the domain.
module advdif_core
  use advdif_params, only: dp, lim_upwind, lim_minmod, lim_vanleer, lim_mc, &
                           q_outflow, q_floor
  implicit none
  private

  public :: advdif_run

contains

  !> Limited slope from the backward difference a and forward difference b.
  elemental function limited_slope(a, b, limiter) result(s)
    real(dp), intent(in) :: a, b
    integer,  intent(in) :: limiter
    real(dp) :: s

    real(dp) :: same_sign

    ! 1 when a and b have the same sign, 0 at an extremum
    same_sign = 0.5_dp*(sign(1.0_dp, a) + sign(1.0_dp, b))

    select case (limiter)
    case (lim_minmod)
      s = same_sign*min(abs(a), abs(b))
    case (lim_vanleer)
      s = 2.0_dp*same_sign*abs(a)*abs(b)/(abs(a) + abs(b) + 1.0e-30_dp)
    case (lim_mc)
      s = same_sign*min(2.0_dp*abs(a), 2.0_dp*abs(b), 0.5_dp*abs(a + b))
    case default
      s = 0.0_dp
    end select
  end function limited_slope

  !> Integrate nt steps of length dt and return the tracer "energy" sum(q**2)*dx.
  !!
  !! The initial tracer is built from strictly positive increments dq, so it
  !! decreases monotonically towards the outflow end: q(n) = q_outflow + dq(n),
  !! q(i) = q(i+1) + dq(i).
  subroutine advdif_run(n, nt, limiter, dt, dx, vel, kappa, dq, cost)
    integer,  intent(in)  :: n, nt
    integer,  intent(in)  :: limiter     !< one of lim_* from advdif_params
    real(dp), intent(in)  :: dt          !< time step [s]
    real(dp), intent(in)  :: dx          !< cell width [m]
    real(dp), intent(in)  :: vel         !< advecting velocity [m s-1]
    real(dp), intent(in)  :: kappa       !< diffusivity [m2 s-1]
    real(dp), intent(in)  :: dq(n)       !< initial tracer increments
    real(dp), intent(out) :: cost

    real(dp) :: q(-1:n + 2)      ! tracer with two ghost cells at each end
    real(dp) :: slope(0:n + 1)   ! limited slopes
    real(dp) :: qface(0:n)       ! reconstructed value on face i+1/2
    real(dp) :: flux(0:n)        ! total flux through face i+1/2
    real(dp) :: courant, time, t_end
    integer  :: i

    ! monotone initial profile, integrated from the outflow end
    q(n) = q_outflow + dq(n)
    do i = n - 1, 1, -1
      q(i) = q(i + 1) + dq(i)
    end do

    courant = vel*dt/dx
    t_end = real(nt, dp)*dt
    time = 0.0_dp

    do while (time < t_end - 0.5_dp*dt)
      ! ghost cells by linear extrapolation
      q(0) = 2.0_dp*q(1) - q(2)
      q(-1) = 2.0_dp*q(0) - q(1)
      q(n + 1) = 2.0_dp*q(n) - q(n - 1)
      q(n + 2) = 2.0_dp*q(n + 1) - q(n)

      slope(0:n + 1) = limited_slope(q(0:n + 1) - q(-1:n), q(1:n + 2) - q(0:n + 1), limiter)

      ! upwind reconstruction on each face
      if (vel >= 0.0_dp) then
        qface(0:n) = q(0:n) + 0.5_dp*(1.0_dp - courant)*slope(0:n)
      else
        qface(0:n) = q(1:n + 1) - 0.5_dp*(1.0_dp + courant)*slope(1:n + 1)
      end if

      do i = 0, n
        flux(i) = vel*qface(i) - kappa*(q(i + 1) - q(i))/dx
      end do

      q(1:n) = q(1:n) - dt/dx*(flux(1:n) - flux(0:n - 1))
      q(1:n) = max(q(1:n), q_floor)

      time = time + dt
    end do

    cost = sum(q(1:n)**2)*dx
  end subroutine advdif_run

end module advdif_core
