!> Nonlinear shallow-water model on a doubly periodic Arakawa C grid.
!!
!! Staggering (cell (i,j) has its depth at the centre):
!!
!!        v(i,j+1)
!!     +-----^-----+
!!     |           |
!!   u(i,j) > h(i,j) > u(i+1,j)
!!     |           |
!!     +-----^-----+
!!        v(i,j)
!!
!! Time stepping is forward-backward: the velocities are stepped forward with the
!! old depth, the depth is then stepped with the new velocities.
module swm_core
  use swm_params, only: dp, grav, h_ref, dx, dy, f0, beta, nu_visc, r_drag
  implicit none
  private

  public :: swm_run

contains

  !> Periodic index: maps 0 -> n and n+1 -> 1.
  pure integer function wrap_index(i, n) result(iw)
    integer, intent(in) :: i, n
    iw = modulo(i - 1, n) + 1
  end function wrap_index

  !> Tendencies of u and v: pressure gradient, momentum advection, Coriolis,
  !! Laplacian viscosity and linear drag, all evaluated with the old state.
  subroutine swm_momentum_tendency(h, u, v, f_u, f_v, du, dv)
    real(dp), intent(in)  :: h(:, :), u(:, :), v(:, :)
    real(dp), intent(in)  :: f_u(:), f_v(:)     ! Coriolis parameter on u and v rows
    real(dp), intent(out) :: du(:, :), dv(:, :)

    integer  :: i, j, im, ip, jm, jp, nx, ny
    real(dp) :: ubar, vbar, adv, lap

    nx = size(h, 1)
    ny = size(h, 2)

    do j = 1, ny
      jm = wrap_index(j - 1, ny)
      jp = wrap_index(j + 1, ny)
      do i = 1, nx
        im = wrap_index(i - 1, nx)
        ip = wrap_index(i + 1, nx)

        ! --- u point (west face of cell i) ---
        vbar = 0.25_dp*(v(im, j) + v(i, j) + v(im, jp) + v(i, jp))
        adv = u(i, j)*(u(ip, j) - u(im, j))/(2.0_dp*dx) &
            + vbar*(u(i, jp) - u(i, jm))/(2.0_dp*dy)
        lap = (u(ip, j) - 2.0_dp*u(i, j) + u(im, j))/dx**2 &
            + (u(i, jp) - 2.0_dp*u(i, j) + u(i, jm))/dy**2
        du(i, j) = -grav*(h(i, j) - h(im, j))/dx - adv + f_u(j)*vbar &
                   + nu_visc*lap - r_drag*u(i, j)

        ! --- v point (south face of cell j) ---
        ubar = 0.25_dp*(u(i, jm) + u(ip, jm) + u(i, j) + u(ip, j))
        adv = ubar*(v(ip, j) - v(im, j))/(2.0_dp*dx) &
            + v(i, j)*(v(i, jp) - v(i, jm))/(2.0_dp*dy)
        lap = (v(ip, j) - 2.0_dp*v(i, j) + v(im, j))/dx**2 &
            + (v(i, jp) - 2.0_dp*v(i, j) + v(i, jm))/dy**2
        dv(i, j) = -grav*(h(i, j) - h(i, jm))/dy - adv - f_v(j)*ubar &
                   + nu_visc*lap - r_drag*v(i, j)
      end do
    end do
  end subroutine swm_momentum_tendency

  !> Integrate the model for nt steps of length dt and return the
  !! potential-energy-like cost 0.5 * sum (h - h_ref)**2 at the final time.
  subroutine swm_run(nx, ny, nt, dt, h, u, v, cost)
    integer,  intent(in)    :: nx, ny, nt
    real(dp), intent(in)    :: dt             !< time step [s]
    real(dp), intent(inout) :: h(nx, ny)      !< layer depth [m]
    real(dp), intent(inout) :: u(nx, ny)      !< zonal velocity [m s-1]
    real(dp), intent(inout) :: v(nx, ny)      !< meridional velocity [m s-1]
    real(dp), intent(out)   :: cost

    real(dp) :: du(nx, ny), dv(nx, ny)        ! momentum tendencies
    real(dp) :: f_u(ny), f_v(ny)              ! beta-plane Coriolis parameter
    real(dp) :: y_mid
    integer  :: j, step

    ! beta plane centred in the channel; v points sit half a cell south of u points
    y_mid = 0.5_dp*real(ny, dp)*dy
    do j = 1, ny
      f_u(j) = f0 + beta*((real(j, dp) - 0.5_dp)*dy - y_mid)
      f_v(j) = f0 + beta*(real(j - 1, dp)*dy - y_mid)
    end do

    do step = 1, nt
      call swm_momentum_tendency(h, u, v, f_u, f_v, du, dv)
      u = u + dt*du
      v = v + dt*dv
      call update_depth(h, u, v)
    end do

    cost = 0.5_dp*sum((h - h_ref)**2)

  contains

    !> Continuity equation with the freshly updated velocities (the "backward"
    !! half of forward-backward). Uses nx, ny and dt from the host.
    subroutine update_depth(hh, uu, vv)
      real(dp), intent(inout) :: hh(:, :)
      real(dp), intent(in)    :: uu(:, :), vv(:, :)

      real(dp) :: flux_x(nx, ny), flux_y(nx, ny)
      integer  :: i, jj, ip, jp

      ! volume fluxes on the faces, depth averaged to the face
      do jj = 1, ny
        do i = 1, nx
          flux_x(i, jj) = 0.5_dp*(hh(wrap_index(i - 1, nx), jj) + hh(i, jj))*uu(i, jj)
          flux_y(i, jj) = 0.5_dp*(hh(i, wrap_index(jj - 1, ny)) + hh(i, jj))*vv(i, jj)
        end do
      end do

      do jj = 1, ny
        jp = wrap_index(jj + 1, ny)
        do i = 1, nx
          ip = wrap_index(i + 1, nx)
          hh(i, jj) = hh(i, jj) - dt*((flux_x(ip, jj) - flux_x(i, jj))/dx &
                                    + (flux_y(i, jp) - flux_y(i, jj))/dy)
        end do
      end do
    end subroutine update_depth

  end subroutine swm_run

end module swm_core
