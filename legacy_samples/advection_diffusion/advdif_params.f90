!> Kinds and switches for the 1-D advection-diffusion sample.
module advdif_params
  implicit none
  private

  integer, parameter, public :: dp = selected_real_kind(12, 200)

  ! slope limiters understood by limited_slope
  integer, parameter, public :: lim_upwind = 0   !< no reconstruction: first-order upwind
  integer, parameter, public :: lim_minmod = 1   !< minmod (most diffusive TVD limiter)
  integer, parameter, public :: lim_vanleer = 2  !< van Leer harmonic mean
  integer, parameter, public :: lim_mc = 3       !< monotonised central

  real(dp), parameter, public :: q_outflow = 1.0_dp   !< tracer level beyond the outflow end
  real(dp), parameter, public :: q_floor = 1.0e-12_dp !< positivity floor for the tracer

end module advdif_params
