!> Constants of the single-column boundary-layer diffusion sample.
module vdiff_params
  implicit none
  private

  integer, parameter, public :: dp = selected_real_kind(12, 200)

  real(dp), parameter, public :: grav = 9.81_dp          !< [m s-2]
  real(dp), parameter, public :: theta_ref = 300.0_dp    !< reference potential temperature [K]
  real(dp), parameter, public :: f_cor = 1.0e-4_dp       !< Coriolis parameter [s-1]
  real(dp), parameter, public :: u_geo = 10.0_dp         !< geostrophic wind, x component [m s-1]
  real(dp), parameter, public :: v_geo = 0.0_dp          !< geostrophic wind, y component [m s-1]

  ! eddy diffusivity K = (k_min + k_shear*tanh(S2/s2_ref)) * exp(-N2/n2_ref)
  real(dp), parameter, public :: k_min = 1.0_dp          !< background diffusivity [m2 s-1]
  real(dp), parameter, public :: k_shear = 10.0_dp       !< shear-driven diffusivity [m2 s-1]
  real(dp), parameter, public :: s2_ref = 1.0e-2_dp      !< reference squared shear [s-2]
  real(dp), parameter, public :: n2_ref = 1.0e-3_dp      !< reference squared buoyancy frequency [s-2]

  ! surface
  real(dp), parameter, public :: c_drag = 1.5e-3_dp      !< bulk drag coefficient
  real(dp), parameter, public :: heat_flux_sfc = 0.05_dp !< kinematic surface heat flux [K m s-1]

  ! lower boundary conditions for momentum
  integer, parameter, public :: bc_no_slip = 1
  integer, parameter, public :: bc_free_slip = 2
  integer, parameter, public :: bc_bulk_drag = 3

end module vdiff_params
