!> Warm-rain microphysics for a block of independent columns (Kessler 1969,
!! Klemp and Wilhelmson 1978 style): autoconversion, accretion, evaporation of
!! rain in sub-saturated air and sedimentation of rain.
!!
!! Level 1 is the lowest model level; the rain flux out of level 1 is the
!! surface precipitation.
module kessler_microphysics
  use kessler_params, only: dp, pi, r_dry, cp_dry, lat_vap, t_melt, p_surf, h_scale, &
                            rho_surf, n0_rain, rho_water, nu_air, k_air, d_vap, r_vap, &
                            qc_crit, k_auto, k_accr, qr_min, vt_max
  implicit none
  private

  public :: kessler_run

contains

  !> Saturation mixing ratio over water (Bolton 1980).
  pure function sat_mixing_ratio(t, p) result(qvs)
    real(dp), intent(in) :: t   !< temperature [K]
    real(dp), intent(in) :: p   !< pressure [Pa]
    real(dp) :: qvs
    real(dp) :: es

    es = 611.2_dp*exp(17.67_dp*(t - t_melt)/(t - 29.65_dp))
    qvs = 0.622_dp*es/(p - es)
  end function sat_mixing_ratio

  !> Mass-weighted fall speed of rain (Kessler 1969) with density correction.
  pure function rain_fall_speed(rho, qr) result(vt)
    real(dp), intent(in) :: rho, qr
    real(dp) :: vt

    vt = 36.34_dp*(1.0e-3_dp*rho*qr)**0.1346_dp*sqrt(rho_surf/rho)
  end function rain_fall_speed

  !> Conversion processes in one column, updated in place over one time step.
  subroutine warm_rain_conversions(p, dt, t, qv, qc, qr)
    real(dp), intent(in)    :: p(:)              !< pressure [Pa]
    real(dp), intent(in)    :: dt
    real(dp), intent(inout) :: t(:), qv(:), qc(:), qr(:)

    real(dp) :: rho, auto, accr, dqc, qvs, es, subsat, lambda, d_mean, vt
    real(dp) :: vent, g_therm, evap
    integer  :: k

    do k = 1, size(t)
      rho = p(k)/(r_dry*t(k))

      ! autoconversion only above the cloud water threshold
      if (qc(k) > qc_crit) then
        auto = k_auto*(qc(k) - qc_crit)
      else
        auto = 0.0_dp
      end if

      ! collection of cloud droplets by rain
      accr = k_accr*qc(k)*qr(k)**0.875_dp

      dqc = min((auto + accr)*dt, qc(k))
      qc(k) = qc(k) - dqc
      qr(k) = qr(k) + dqc

      ! evaporation of rain in sub-saturated air
      if (qr(k) < qr_min) cycle
      qvs = sat_mixing_ratio(t(k), p(k))
      subsat = dim(1.0_dp, qv(k)/qvs)

      ! slope of the Marshall-Palmer distribution and ventilation factor
      lambda = (pi*rho_water*n0_rain/(rho*qr(k)))**0.25_dp
      d_mean = 1.0_dp/lambda
      vt = rain_fall_speed(rho, qr(k))
      vent = 0.78_dp + 0.31_dp*sqrt(vt*d_mean/nu_air)

      ! thermodynamic factor 1/(A + B) of the diffusional growth equation
      es = qvs*p(k)/(0.622_dp + qvs)
      g_therm = 1.0_dp/(lat_vap**2/(k_air*r_vap*t(k)**2) + r_vap*t(k)/(es*d_vap))

      evap = 2.0_dp*pi*n0_rain*subsat*g_therm*vent/(lambda**2*rho)
      evap = min(evap*dt, qr(k))

      qr(k) = qr(k) - evap
      qv(k) = qv(k) + evap
      t(k) = t(k) - lat_vap/cp_dry*evap
    end do
  end subroutine warm_rain_conversions

  !> First-order upwind sedimentation of rain, swept from the model top down.
  !! Adds the surface rain amount of this step to precip [kg m-2].
  subroutine rain_sedimentation(p, dz, dt, t, qr, precip)
    real(dp), intent(in)    :: p(:), dz, dt
    real(dp), intent(in)    :: t(:)
    real(dp), intent(inout) :: qr(:)
    real(dp), intent(inout) :: precip

    real(dp) :: rho, flux_above, flux_here
    integer  :: k

    flux_above = 0.0_dp
    do k = size(qr), 1, -1
      rho = p(k)/(r_dry*t(k))
      flux_here = rho*qr(k)*rain_fall_speed(rho, qr(k))
      qr(k) = qr(k) + dt*(flux_above - flux_here)/(rho*dz)
      flux_above = flux_here
    end do
    precip = precip + dt*flux_above
  end subroutine rain_sedimentation

  !> Run nt microphysics steps on ncol columns of nz levels.
  !! cost = surface precipitation plus rain water still aloft, summed over columns
  !! (the total rain mass per unit area produced by the scheme) [kg m-2].
  subroutine kessler_run(nz, ncol, nt, dt, dz, t, qv, qc, qr, precip, cost)
    integer,  intent(in)    :: nz, ncol, nt
    real(dp), intent(in)    :: dt               !< time step [s]
    real(dp), intent(in)    :: dz               !< layer thickness [m]
    real(dp), intent(inout) :: t(nz, ncol)      !< temperature [K]
    real(dp), intent(inout) :: qv(nz, ncol)     !< water vapour mixing ratio [kg kg-1]
    real(dp), intent(inout) :: qc(nz, ncol)     !< cloud water mixing ratio [kg kg-1]
    real(dp), intent(inout) :: qr(nz, ncol)     !< rain water mixing ratio [kg kg-1]
    real(dp), intent(out)   :: precip(ncol)     !< accumulated surface rain [kg m-2]
    real(dp), intent(out)   :: cost

    real(dp) :: p(nz), dt_sed
    integer  :: k, icol, step, isub, nsub

    ! hydrostatic pressure of an isothermal reference atmosphere
    do k = 1, nz
      p(k) = p_surf*exp(-(real(k, dp) - 0.5_dp)*dz/h_scale)
    end do

    ! sedimentation sub-steps keep the fall-speed Courant number below 1/2
    nsub = floor(2.0_dp*vt_max*dt/dz) + 1
    dt_sed = dt/real(nsub, dp)

    precip = 0.0_dp
    do step = 1, nt
      do icol = 1, ncol
        call warm_rain_conversions(p, dt, t(:, icol), qv(:, icol), qc(:, icol), qr(:, icol))
        do isub = 1, nsub
          call rain_sedimentation(p, dz, dt_sed, t(:, icol), qr(:, icol), precip(icol))
        end do
      end do
    end do

    cost = sum(precip)
    do icol = 1, ncol
      do k = 1, nz
        cost = cost + p(k)/(r_dry*t(k, icol))*qr(k, icol)*dz
      end do
    end do
  end subroutine kessler_run

end module kessler_microphysics
