!> Types of the 1-D shallow-water model: a parameter type nested in the model state.
module sw_types
  implicit none
  integer, parameter :: wp = kind(1.0d0)

  !> Maps (linear, quadratic) drag parameters to the friction coefficients of a step.
  real(wp), parameter :: drag_basis(2, 2) = reshape([1.0_wp, 0.0_wp, 0.25_wp, 1.0_wp], [2, 2])

  !> Physical and numerical parameters (the integer size is a passive component).
  type params_t
    integer :: n = 0
    real(wp) :: g = 9.81_wp
    real(wp) :: dt = 0.0_wp
    real(wp) :: dx = 1.0_wp
    real(wp) :: drag(2) = 0.0_wp ! linear and quadratic friction
  end type params_t

  !> The model state: allocatable prognostic fields, diagnostics and the parameters.
  type state_t
    real(wp), allocatable :: h(:)
    real(wp), allocatable :: u(:)
    real(wp) :: mass = 0.0_wp
    real(wp) :: energy = 0.0_wp
    type(params_t) :: p
  end type state_t
end module sw_types
