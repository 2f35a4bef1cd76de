!> Constants of the Kessler-type warm-rain scheme.
module kessler_params
  implicit none
  private

  integer, parameter, public :: dp = selected_real_kind(12, 200)

  real(dp), parameter, public :: pi = 3.14159265358979323846_dp

  ! thermodynamics
  real(dp), parameter, public :: grav = 9.80665_dp      !< [m s-2]
  real(dp), parameter, public :: r_dry = 287.04_dp      !< gas constant of dry air [J kg-1 K-1]
  real(dp), parameter, public :: cp_dry = 1004.5_dp     !< heat capacity of dry air [J kg-1 K-1]
  real(dp), parameter, public :: lat_vap = 2.501e6_dp   !< latent heat of vaporisation [J kg-1]
  real(dp), parameter, public :: t_melt = 273.15_dp     !< [K]
  real(dp), parameter, public :: p_surf = 1.0e5_dp      !< surface pressure [Pa]
  real(dp), parameter, public :: h_scale = 8.2e3_dp     !< pressure scale height [m]
  real(dp), parameter, public :: rho_surf = 1.2_dp      !< reference surface air density [kg m-3]

  ! rain drop size distribution (Marshall-Palmer) and water properties
  real(dp), parameter, public :: n0_rain = 8.0e6_dp     !< intercept parameter [m-4]
  real(dp), parameter, public :: rho_water = 1.0e3_dp   !< [kg m-3]
  real(dp), parameter, public :: nu_air = 1.5e-5_dp     !< kinematic viscosity of air [m2 s-1]
  real(dp), parameter, public :: k_air = 2.4e-2_dp      !< thermal conductivity of air [W m-1 K-1]
  real(dp), parameter, public :: d_vap = 2.3e-5_dp      !< diffusivity of water vapour [m2 s-1]
  real(dp), parameter, public :: r_vap = 461.5_dp       !< gas constant of water vapour [J kg-1 K-1]

  ! Kessler (1969) conversion rates
  real(dp), parameter, public :: qc_crit = 1.0e-3_dp    !< autoconversion threshold [kg kg-1]
  real(dp), parameter, public :: k_auto = 1.0e-3_dp     !< autoconversion rate [s-1]
  real(dp), parameter, public :: k_accr = 2.2_dp        !< accretion rate coefficient [s-1]
  real(dp), parameter, public :: qr_min = 1.0e-10_dp    !< rain below this is ignored [kg kg-1]
  real(dp), parameter, public :: vt_max = 10.0_dp       !< fall speed bound for the sub-step CFL [m s-1]

end module kessler_params
