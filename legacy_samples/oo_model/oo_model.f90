!> Object-oriented 1-D shallow water: a model type whose type-bound procedures advance a
!! state object passed to them on a grid object (passive: its PRIVATE components are read
!! through getters; an active object's PRIVATE components are refused, ad/private_access.py) (specific and generic bindings, a type-bound function), a
!! private helper named like one of oo_grid's, and a time loop over the objects.
module oo_model
  use oo_grid, only: wp, grid_t
  implicit none
  private
  public :: state_t, model_t, oo_run, oo_forecast

  type :: state_t
    real(wp), allocatable :: h(:), u(:)
  contains
    procedure :: energy
    procedure :: relax_all, relax_one
    generic :: relax => relax_all, relax_one
  end type state_t

  type :: model_t
    real(wp) :: g = 9.81_wp
    real(wp) :: dt = 0.01_wp
  contains
    procedure :: step
    procedure :: run => run_steps
  end type model_t

contains

  !> Same name as oo_grid's private helper: procedures are scoped by module.
  integer function checked(n)
    integer, intent(in) :: n
    checked = min(n, 1000000)
  end function checked

  real(wp) function energy(this, g)
    class(state_t), intent(in) :: this
    real(wp), intent(in) :: g
    energy = 0.5_wp*sum(this%h*this%u**2 + g*this%h**2)
  end function energy

  subroutine relax_all(this, rate)
    class(state_t), intent(inout) :: this
    real(wp), intent(in) :: rate
    this%u = (1.0_wp - rate)*this%u
  end subroutine relax_all

  subroutine relax_one(this, rate, i)
    class(state_t), intent(inout) :: this
    real(wp), intent(in) :: rate
    integer, intent(in) :: i
    this%h(i) = this%h(i) - rate*(this%h(i) - 10.0_wp)
  end subroutine relax_one

  subroutine step(this, grid, s)
    class(model_t), intent(in) :: this
    type(grid_t), intent(in) :: grid
    type(state_t), intent(inout) :: s
    real(wp) :: hn(size(s%h)), un(size(s%u)), c
    integer :: i, l, r
    c = this%dt/grid%get_dx()
    do i = 1, grid%get_n()
      l = grid%left(i)
      r = grid%right(i)
      hn(i) = s%h(i) - 0.5_wp*c*(s%h(r)*s%u(r) - s%h(l)*s%u(l))
      un(i) = s%u(i) - 0.5_wp*c*(0.5_wp*(s%u(r)**2 - s%u(l)**2) + this%g*(s%h(r) - s%h(l)))
    end do
    s%h = hn
    s%u = un
  end subroutine step

  subroutine run_steps(this, grid, s, nt, rate)
    class(model_t), intent(in) :: this
    type(grid_t), intent(in) :: grid
    type(state_t), intent(inout) :: s
    integer, intent(in) :: nt
    real(wp), intent(in) :: rate
    integer :: k
    do k = 1, nt
      call this%step(grid, s)
      call s%relax(rate)
      call s%relax(rate, 1 + mod(k, checked(size(s%h))))
    end do
  end subroutine run_steps

  !> The forecast on the state object itself (a climate code's entry point: the model state
  !! in, the model state out): --wrt s --of s differentiates every real component of it.
  subroutine oo_forecast(s, nt, g, dt, dx, rate)
    type(state_t), intent(inout) :: s
    integer, intent(in) :: nt
    real(wp), intent(in) :: g, dt, dx, rate
    type(model_t) :: model
    type(grid_t) :: grid
    grid = grid_t(size(s%h), dx)
    model%g = g
    model%dt = dt
    call model%run(grid, s, nt, rate)
  end subroutine oo_forecast

  subroutine oo_run(n, nt, h0, u0, g, dt, dx, rate, cost)
    integer, intent(in) :: n, nt
    real(wp), intent(in) :: h0(n), u0(n), g, dt, dx, rate
    real(wp), intent(out) :: cost
    type(state_t) :: s
    allocate(s%h(n), s%u(n))
    s%h = h0
    s%u = u0
    call oo_forecast(s, nt, g, dt, dx, rate)
    cost = s%energy(g)
  end subroutine oo_run
end module oo_model
