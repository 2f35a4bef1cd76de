!> 1-D nonlinear shallow water on a periodic grid, forward-backward time stepping, with the
!> model state held in a derived type with allocatable fields.
module sw1d
  use sw_types, only: wp, params_t, state_t, drag_basis
  implicit none
  private
  public :: sw_run, state_init, sw_step, diagnose

contains

  subroutine state_init(s, n, h0, u0, g, dt, dx, drag)
    type(state_t), intent(out) :: s
    integer, intent(in) :: n
    real(wp), intent(in) :: h0(n), u0(n), g, dt, dx, drag(2)
    allocate(s%h(n), s%u(n))
    s%h = h0
    s%u = u0
    s%p%n = n
    s%p%g = g
    s%p%dt = dt
    s%p%dx = dx
    s%p%drag = drag
  end subroutine state_init

  !> One forward-backward step: continuity first, then momentum with the new depth.
  subroutine sw_step(s)
    type(state_t), intent(inout) :: s
    real(wp) :: flux(s%p%n), work(s%p%n), k(2)
    integer :: i, ip, im, n
    real(wp) :: c
    n = s%p%n
    c = s%p%dt/(2.0_wp*s%p%dx)
    ! friction coefficients: the drag parameters in the model's (linear, quadratic) basis
    k = matmul(drag_basis, s%p%drag)
    flux = s%h*s%u
    do i = 1, n
      ip = modulo(i, n) + 1
      im = modulo(i - 2, n) + 1
      work(i) = s%h(i) - c*(flux(ip) - flux(im))
    end do
    s%h = work
    do i = 1, n
      ip = modulo(i, n) + 1
      im = modulo(i - 2, n) + 1
      work(i) = s%u(i) - c*(s%p%g*(s%h(ip) - s%h(im)) + s%u(i)*(s%u(ip) - s%u(im))) &
        - s%p%dt*k(1)*s%u(i)
    end do
    ! quadratic friction against the flow: |u| u, one branch per flow direction
    where (work > 0.0_wp)
      s%u = work - s%p%dt*k(2)*work**2
    elsewhere
      s%u = work + s%p%dt*k(2)*work**2
    end where
  end subroutine sw_step

  !> Mass and energy of the state (stored in its diagnostic components).
  subroutine diagnose(s)
    type(state_t), intent(inout) :: s
    integer :: i
    s%mass = 0.0_wp
    s%energy = 0.0_wp
    do i = 1, s%p%n
      s%mass = s%mass + s%h(i)*s%p%dx
      s%energy = s%energy + 0.5_wp*(s%h(i)*s%u(i)**2 + s%p%g*s%h(i)**2)*s%p%dx
    end do
  end subroutine diagnose

  subroutine sw_run(n, nt, h0, u0, g, dt, dx, drag, cost)
    integer, intent(in) :: n, nt
    real(wp), intent(in) :: h0(n), u0(n), g, dt, dx, drag(2)
    real(wp), intent(out) :: cost
    type(state_t) :: s, s0
    integer :: t
    call state_init(s, n, h0, u0, g, dt, dx, drag)
    call diagnose(s)
    s0 = s
    do t = 1, nt
      call sw_step(s)
    end do
    call diagnose(s)
    cost = s%energy/s0%energy + (s%mass - s0%mass)**2 + sum((s%h - s0%h)**2)
    deallocate(s%h, s%u)
  end subroutine sw_run
end module sw1d
