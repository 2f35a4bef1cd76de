!> Implicit vertical diffusion of momentum and potential temperature in a single
!! column with a nonlinear, state-dependent eddy diffusivity.
!!
!! The diffusivity is evaluated from the state at the start of each step
!! (lagged coefficients) and the backward-Euler system is solved with the Thomas
!! algorithm. Level 1 is next to the ground, level nz at the top; K(k) lives on
!! the interface between levels k and k+1.
module vdiff_column
  use vdiff_params, only: dp, grav, theta_ref, f_cor, u_geo, v_geo, k_min, k_shear, &
                          s2_ref, n2_ref, c_drag, heat_flux_sfc, &
                          bc_no_slip, bc_free_slip, bc_bulk_drag
  implicit none
  private

  public :: vdiff_run

contains

  !> Shear- and stability-dependent eddy diffusivity on one interface.
  pure function eddy_diffusivity(du, dv, dtheta, dz) result(k_eddy)
    real(dp), intent(in) :: du, dv, dtheta   !< differences across the interface
    real(dp), intent(in) :: dz
    real(dp) :: k_eddy
    real(dp) :: shear2, n2

    shear2 = (du/dz)**2 + (dv/dz)**2
    n2 = grav/theta_ref*dtheta/dz
    k_eddy = (k_min + k_shear*tanh(shear2/s2_ref))*exp(-n2/n2_ref)
  end function eddy_diffusivity

  !> Step the column nt times; cost = 0.5*dz*sum(u**2 + v**2)
  !! + dz*sum((theta - theta_ref)**2) at the final time.
  subroutine vdiff_run(nz, nt, bc_type, dt, dz, u, v, theta, cost)
    integer,  intent(in)    :: nz, nt
    integer,  intent(in)    :: bc_type      !< lower boundary for momentum (bc_* constants)
    real(dp), intent(in)    :: dt           !< time step [s]
    real(dp), intent(in)    :: dz           !< layer thickness [m]
    real(dp), intent(inout) :: u(nz), v(nz) !< wind components [m s-1]
    real(dp), intent(inout) :: theta(nz)    !< potential temperature [K]
    real(dp), intent(out)   :: cost

    real(dp) :: k_eddy(nz - 1)                          ! interface diffusivity
    real(dp) :: sub(nz), diag(nz), sup(nz)              ! tridiagonal matrix
    real(dp) :: u_old, wind_sfc, r_dz2
    integer  :: k, step

    r_dz2 = dt/dz**2

    do step = 1, nt
      ! ---- diffusivity from the current state ----
      do k = 1, nz - 1
        k_eddy(k) = eddy_diffusivity(u(k + 1) - u(k), v(k + 1) - v(k), &
                                     theta(k + 1) - theta(k), dz)
      end do

      ! ---- Coriolis turning towards the geostrophic wind (explicit) ----
      do k = 1, nz
        u_old = u(k)
        u(k) = u(k) + dt*f_cor*(v(k) - v_geo)
        v(k) = v(k) - dt*f_cor*(u_old - u_geo)
      end do

      ! ---- backward-Euler matrix  -sub*x(k-1) + diag*x(k) - sup*x(k+1) ----
      sub(1) = 0.0_dp
      sup(nz) = 0.0_dp
      do k = 2, nz
        sub(k) = -r_dz2*k_eddy(k - 1)
      end do
      do k = 1, nz - 1
        sup(k) = -r_dz2*k_eddy(k)
      end do
      diag = 1.0_dp - sub - sup

      ! potential temperature: prescribed surface flux, no flux at the top
      theta(1) = theta(1) + dt*heat_flux_sfc/dz
      call solve_tridiagonal(sub, diag, sup, theta)

      ! momentum: the lower boundary condition modifies the first diagonal element
      select case (bc_type)
      case (bc_no_slip)
        ! zero wind half a layer below level 1, background diffusivity
        diag(1) = diag(1) + 2.0_dp*r_dz2*k_min
      case (bc_bulk_drag)
        ! quadratic drag, linearised with the lagged wind speed
        wind_sfc = sqrt(u(1)**2 + v(1)**2)
        diag(1) = diag(1) + dt*c_drag*wind_sfc/dz
      case default
        ! free slip: no momentum flux through the ground
        continue
      end select

      call solve_tridiagonal(sub, diag, sup, u)
      call solve_tridiagonal(sub, diag, sup, v)
    end do

    cost = 0.5_dp*dz*sum(u**2 + v**2) + dz*sum((theta - theta_ref)**2)

  contains

    !> Thomas algorithm; x holds the right-hand side on entry and the solution on
    !! exit. The column size nz comes from the host.
    subroutine solve_tridiagonal(a, b, c, x)
      real(dp), intent(in)    :: a(:), b(:), c(:)   !< sub-, main and super-diagonal
      real(dp), intent(inout) :: x(:)

      real(dp) :: gam(nz), pivot
      integer  :: kk

      pivot = b(1)
      x(1) = x(1)/pivot
      do kk = 2, nz
        gam(kk) = c(kk - 1)/pivot
        pivot = b(kk) - a(kk)*gam(kk)
        x(kk) = (x(kk) - a(kk)*x(kk - 1))/pivot
      end do
      do kk = nz - 1, 1, -1
        x(kk) = x(kk) - gam(kk + 1)*x(kk + 1)
      end do
    end subroutine solve_tridiagonal

  end subroutine vdiff_run

end module vdiff_column
