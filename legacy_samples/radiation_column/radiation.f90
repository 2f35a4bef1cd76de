!> Grey two-stream radiation in a single column, radiative relaxation of the
!! temperature over a few steps, and a two-channel infrared observation operator.
!!
!! Layer k (k = 1 at the top, nz at the bottom) lies between the interfaces
!! k-1 and k. Fluxes live on interfaces 0..nz and are positive in their own
!! direction.
module rad_column
  use rad_params, only: dp, pi, grav, cp_air, stefan, p_surf, p_top, p_strat, q_strat, &
                        seconds_per_day, diffusivity, k_lw_h2o, k_lw_dry, emis_sfc, &
                        solar_const, k_sw_h2o, albedo_sfc, declination_deg, &
                        n_channel, chan_wavenumber, chan_k_h2o, chan_tb_obs, &
                        planck_c1, planck_c2
  implicit none
  private

  public :: radiation_run

contains

  !> Planck radiance at wavenumber nu [cm-1] [W m-2 sr-1 (cm-1)-1].
  elemental function planck_radiance(temp, nu) result(b)
    real(dp), intent(in) :: temp, nu
    real(dp) :: b
    b = planck_c1*nu**3/(exp(planck_c2*nu/temp) - 1.0_dp)
  end function planck_radiance

  !> Inverse of planck_radiance: brightness temperature [K].
  elemental function brightness_temperature(radiance, nu) result(tb)
    real(dp), intent(in) :: radiance, nu
    real(dp) :: tb
    tb = planck_c2*nu/log(1.0_dp + planck_c1*nu**3/radiance)
  end function brightness_temperature

  !> Cosine of the solar zenith angle and the Kasten-Young relative air mass.
  subroutine solar_geometry(lat_deg, hour_deg, mu0, air_mass)
    real(dp), intent(in)  :: lat_deg, hour_deg
    real(dp), intent(out) :: mu0, air_mass
    real(dp) :: deg2rad, lat, dec, zen_deg

    deg2rad = pi/180.0_dp
    lat = lat_deg*deg2rad
    dec = declination_deg*deg2rad
    mu0 = sin(lat)*sin(dec) + cos(lat)*cos(dec)*cos(hour_deg*deg2rad)
    if (mu0 > 0.0_dp) then
      zen_deg = atan2(sqrt(1.0_dp - mu0**2), mu0)/deg2rad
      air_mass = 1.0_dp/(mu0 + 0.50572_dp*(96.07995_dp - zen_deg)**(-1.6364_dp))
    else
      air_mass = 0.0_dp
    end if
  end subroutine solar_geometry

  !> Nadir radiance of one channel from the surface and the layers [same units
  !! as planck_radiance]; the slant transmission is accumulated in place.
  function channel_radiance(t_surf, temp, wvp, nu, k_abs) result(radiance)
    real(dp), intent(in) :: t_surf, temp(:), wvp(:), nu, k_abs
    real(dp) :: radiance
    real(dp) :: trans_above, trans_layer
    integer  :: k

    radiance = 0.0_dp
    trans_above = 1.0_dp
    do k = 1, size(temp)
      trans_layer = exp(-k_abs*wvp(k))
      radiance = radiance + planck_radiance(temp(k), nu)*(1.0_dp - trans_layer)*trans_above
      trans_above = trans_above*trans_layer
    end do
    radiance = radiance + emis_sfc*planck_radiance(t_surf, nu)*trans_above
  end function channel_radiance

  !> Relax the temperature for nt radiation steps of length dt, return the last
  !! heating rate [K day-1] and the observation misfit
  !! cost = 0.5 * sum over channels of (Tb - Tb_obs)**2.
  subroutine radiation_run(nz, nt, dt, lat_deg, hour_deg, t_surf, q_vap, temp, heating, cost)
    integer,  intent(in)    :: nz, nt
    real(dp), intent(in)    :: dt              !< radiation time step [s]
    real(dp), intent(in)    :: lat_deg         !< latitude [degrees]
    real(dp), intent(in)    :: hour_deg        !< hour angle of the sun [degrees]
    real(dp), intent(in)    :: t_surf          !< surface temperature [K]
    real(dp), intent(in)    :: q_vap(nz)       !< water vapour mixing ratio [kg kg-1]
    real(dp), intent(inout) :: temp(nz)        !< layer temperature [K]
    real(dp), intent(out)   :: heating(nz)     !< radiative heating of the last step [K day-1]
    real(dp), intent(out)   :: cost

    real(dp), allocatable :: flux_up(:), flux_dn(:), sw_up(:), sw_dn(:)
    real(dp) :: p_half(0:nz), dp_layer(nz), q_eff(nz), wvp(nz)
    real(dp) :: trans_lw(nz), trans_sw(nz), trans_sw_diffuse(nz), planck(nz)
    real(dp) :: mu0, air_mass, p_full, dtau, net_top, net_bot, tb
    integer  :: k, k_trop, step, ich

    allocate(flux_up(0:nz), flux_dn(0:nz), sw_up(0:nz), sw_dn(0:nz))

    ! sigma-type pressure interfaces
    do k = 0, nz
      p_half(k) = p_top + (p_surf - p_top)*real(k, dp)/real(nz, dp)
    end do
    dp_layer = p_half(1:nz) - p_half(0:nz - 1)

    ! first tropospheric layer; vapour above it is replaced by a fixed value
    k_trop = nz
    do k = 1, nz
      if (0.5_dp*(p_half(k - 1) + p_half(k)) > p_strat) then
        k_trop = k
        exit
      end if
    end do
    q_eff(1:k_trop - 1) = q_strat
    q_eff(k_trop:nz) = q_vap(k_trop:nz)
    wvp = q_eff*dp_layer/grav

    call solar_geometry(lat_deg, hour_deg, mu0, air_mass)

    ! optical properties do not depend on temperature: compute them once
    do k = 1, nz
      p_full = 0.5_dp*(p_half(k - 1) + p_half(k))
      dtau = (k_lw_h2o*q_eff(k) + k_lw_dry)*dp_layer(k)/grav*(p_full/p_surf)
      trans_lw(k) = exp(-diffusivity*dtau)
      trans_sw(k) = exp(-k_sw_h2o*wvp(k)*air_mass)
      trans_sw_diffuse(k) = exp(-diffusivity*k_sw_h2o*wvp(k))
    end do

    ! shortwave: direct beam down, diffuse reflection back up
    sw_dn = 0.0_dp
    sw_up = 0.0_dp
    if (mu0 > 0.0_dp) then
      sw_dn(0) = solar_const*mu0
      do k = 1, nz
        sw_dn(k) = sw_dn(k - 1)*trans_sw(k)
      end do
      sw_up(nz) = albedo_sfc*sw_dn(nz)
      do k = nz, 1, -1
        sw_up(k - 1) = sw_up(k)*trans_sw_diffuse(k)
      end do
    end if

    do step = 1, nt
      planck = stefan*temp**4

      flux_dn(0) = 0.0_dp
      do k = 1, nz
        flux_dn(k) = flux_dn(k - 1)*trans_lw(k) + planck(k)*(1.0_dp - trans_lw(k))
      end do

      flux_up(nz) = emis_sfc*stefan*t_surf**4 + (1.0_dp - emis_sfc)*flux_dn(nz)
      do k = nz, 1, -1
        flux_up(k - 1) = flux_up(k)*trans_lw(k) + planck(k)*(1.0_dp - trans_lw(k))
      end do

      ! heating from the convergence of the net (upward minus downward) flux
      do k = 1, nz
        net_top = flux_up(k - 1) - flux_dn(k - 1) + sw_up(k - 1) - sw_dn(k - 1)
        net_bot = flux_up(k) - flux_dn(k) + sw_up(k) - sw_dn(k)
        heating(k) = grav/cp_air*(net_bot - net_top)/dp_layer(k)
      end do

      temp = temp + dt*heating
    end do
    heating = heating*seconds_per_day

    ! infrared sounder observation operator
    cost = 0.0_dp
    do ich = 1, n_channel
      tb = brightness_temperature( &
             channel_radiance(t_surf, temp, wvp, chan_wavenumber(ich), chan_k_h2o(ich)), &
             chan_wavenumber(ich))
      cost = cost + 0.5_dp*(tb - chan_tb_obs(ich))**2
    end do

    deallocate(flux_up, flux_dn, sw_up, sw_dn)
  end subroutine radiation_run

end module rad_column
