!> Constants of the grey radiation column.
module rad_params
  implicit none
  private

  integer, parameter, public :: dp = selected_real_kind(12, 200)

  real(dp), parameter, public :: pi = 3.14159265358979323846_dp
  real(dp), parameter, public :: grav = 9.80665_dp          !< [m s-2]
  real(dp), parameter, public :: cp_air = 1004.64_dp        !< [J kg-1 K-1]
  real(dp), parameter, public :: stefan = 5.670374e-8_dp    !< Stefan-Boltzmann [W m-2 K-4]
  real(dp), parameter, public :: p_surf = 1.0e5_dp          !< surface pressure [Pa]
  real(dp), parameter, public :: p_top = 1.0e3_dp           !< model top [Pa]
  real(dp), parameter, public :: p_strat = 1.0e4_dp         !< above this the vapour is fixed [Pa]
  real(dp), parameter, public :: q_strat = 3.0e-6_dp        !< stratospheric vapour [kg kg-1]
  real(dp), parameter, public :: seconds_per_day = 86400.0_dp

  ! broadband longwave
  real(dp), parameter, public :: diffusivity = 1.66_dp      !< diffusivity factor
  real(dp), parameter, public :: k_lw_h2o = 0.08_dp         !< vapour mass absorption [m2 kg-1]
  real(dp), parameter, public :: k_lw_dry = 2.0e-4_dp       !< well-mixed gases [m2 kg-1]
  real(dp), parameter, public :: emis_sfc = 0.98_dp         !< surface emissivity

  ! broadband shortwave
  real(dp), parameter, public :: solar_const = 1361.0_dp    !< [W m-2]
  real(dp), parameter, public :: k_sw_h2o = 0.01_dp         !< vapour absorption [m2 kg-1]
  real(dp), parameter, public :: albedo_sfc = 0.15_dp
  real(dp), parameter, public :: declination_deg = 10.0_dp

  ! infrared sounder channels used for the observation cost
  integer,  parameter, public :: n_channel = 2
  real(dp), parameter, public :: chan_wavenumber(n_channel) = [900.0_dp, 1450.0_dp]  !< [cm-1]
  real(dp), parameter, public :: chan_k_h2o(n_channel) = [0.02_dp, 0.4_dp]          !< [m2 kg-1]
  real(dp), parameter, public :: chan_tb_obs(n_channel) = [285.0_dp, 250.0_dp]      !< [K]
  real(dp), parameter, public :: planck_c1 = 1.191042e-8_dp  !< [W m-2 sr-1 (cm-1)-4]
  real(dp), parameter, public :: planck_c2 = 1.4387769_dp    !< [K cm]

end module rad_params
