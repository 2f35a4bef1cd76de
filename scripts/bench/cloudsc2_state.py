"""The module state and the synthetic atmosphere of the CLOUDSC2 benchmark driver.

Two internal subroutines of the driver program (``cloudsc2_driver``), as Fortran text:

- ``set_constants``: the constants CLOUDSC2 and ECMWF's TL/AD read from ``yomcst`` and
  ``yoethf`` (IFS values; ECMWF's own driver loads them from its HDF5 input) and the
  configuration objects: ``YRECLDP`` (RCLCRIT, RKCONV, RLMIN, RPECONS), ``YREPHLI`` (LPHYLIN
  on, as in ECMWF's driver, so that the scheme uses the smooth liquid fraction its tangent
  linearises), ``YRPHNC`` (LEVAPLS2 from the command line), ``YRNCL`` (LREGCL off: ECMWF's
  regularisation would make its TL differ from the derivative on purpose);
- ``set_state``: per column, surface pressure 1000 hPa +- 25 hPa; half-level pressures
  ``1 + (ps - 1)*s**1.6``; standard-atmosphere temperature (lapse rate 6.5 K/km, tropopause at
  216.65 K, stratospheric warming) with column and level waves; humidity from a relative-
  humidity profile with a low and a high cloud layer; cloud liquid/ice above 85 %; convective
  mass fluxes, updraft water and detrainment in a third of the columns; small accumulated
  tendencies; PSUPSAT where the air is above 95 %. The perturbation is 1 % of each field's
  size plus 0.1 % of its maximum, varying from point to point. ``YRECLD%CETA`` is the first
  column's p/ps, as in ECMWF's driver.
"""

STATE_ROUTINES = """\
  subroutine set_constants()
    real(jprb), parameter :: rkbol = 1.380658e-23_jprb, rnavo = 6.0221367e23_jprb
    rg = 9.80665_jprb
    rd = 1000.0_jprb * rkbol * rnavo / 28.9644_jprb
    rv = 1000.0_jprb * rkbol * rnavo / 18.0153_jprb
    rcpd = 3.5_jprb * rd
    retv = rv / rd - 1.0_jprb
    rtt = 273.16_jprb
    rlvtt = 2.5008e6_jprb
    rlstt = 2.8345e6_jprb
    rlmlt = rlstt - rlvtt
    r2es = 611.21_jprb * rd / rv
    r3les = 17.502_jprb
    r3ies = 22.587_jprb
    r4les = 32.19_jprb
    r4ies = -0.7_jprb
    r5les = r3les * (rtt - r4les)
    r5ies = r3ies * (rtt - r4ies)
    r5alvcp = r5les * rlvtt / rcpd
    r5alscp = r5ies * rlstt / rcpd
    ralvdcp = rlvtt / rcpd
    ralsdcp = rlstt / rcpd
    ralfdcp = rlmlt / rcpd
    rtwat = rtt
    rtice = rtt - 23.0_jprb
    rticecu = rtt - 23.0_jprb
    rtwat_rtice_r = 1.0_jprb / (rtwat - rtice)
    rtwat_rticecu_r = 1.0_jprb / (rtwat - rticecu)
    rkoop1 = 2.583_jprb
    rkoop2 = 0.48116e-2_jprb
    rvtmp2 = 0.0_jprb
    allocate(yrecldp)
    yrecldp%rclcrit = 0.3e-3_jprb
    yrecldp%rkconv = 1.0_jprb / 6000.0_jprb
    yrecldp%rlmin = 1.0e-8_jprb
    yrecldp%rpecons = 5.44e-4_jprb / rg
    allocate(yrephli)
    yrephli%lphylin = .true.
    yrephli%rlptrc = 266.425_jprb
    allocate(yrphnc)
    yrphnc%levapls2 = ievap /= 0
    allocate(yrncl)
    yrncl%lregcl = .false.
  end subroutine set_constants

  subroutine set_state()
    integer :: jl, jk, kk
    real(jprb) :: phi, ps, s, p, t, es, qs, rh, fl, conv, sb, w, scale
    x = 0
    do ib = 1, nblk
      do jl = 1, np
        phi = real(jl - 1 + (ib - 1) * np, jprb) / real(np * nblk, jprb)
        ps = 100000.0_jprb + 2500.0_jprb * sin(6.2831853_jprb * phi)
        conv = max(0.0_jprb, sin(12.566371_jprb * phi) - 0.2_jprb) / 0.8_jprb
        do jk = 1, nlev + 1
          s = real(jk - 1, jprb) / real(nlev, jprb)
          x(jl,jk,1,ib) = 1.0_jprb + (ps - 1.0_jprb) * s**1.6_jprb
        end do
        do jk = 1, nlev
          p = 0.5_jprb * (x(jl,jk,1,ib) + x(jl,jk+1,1,ib))
          s = p / ps
          t = max(216.65_jprb, 288.15_jprb * s**0.190263_jprb) &
            & + 8.0_jprb * max(0.0_jprb, log(5000.0_jprb / p)) &
            & + 6.0_jprb * sin(6.2831853_jprb * phi) &
            & + 0.8_jprb * sin(0.7_jprb * jk + 9.0_jprb * phi)
          if (t > rtt) then
            es = r2es * exp(r3les * (t - rtt) / (t - r4les))
          else
            es = r2es * exp(r3ies * (t - rtt) / (t - r4ies))
          end if
          qs = min(0.5_jprb, es / p)
          qs = qs / (1.0_jprb - retv * qs)
          w = 0.5_jprb + 0.5_jprb * sin(18.849556_jprb * phi + 0.5_jprb)
          rh = 0.45_jprb + 0.4_jprb * s**2 &
            & + w * (0.3_jprb * exp(-((s - 0.75_jprb) / 0.06_jprb)**2) &
            & + 0.25_jprb * exp(-((s - 0.35_jprb) / 0.05_jprb)**2))
          fl = min(1.0_jprb, max(0.0_jprb, (t - 250.0_jprb) / (rtt - 250.0_jprb)))
          sb = 0.0_jprb
          if (s > 0.3_jprb .and. s < 0.95_jprb) &
            & sb = sin(3.14159265_jprb * (s - 0.3_jprb) / 0.65_jprb)
          x(jl,jk,2,ib) = p
          x(jl,jk,3,ib) = max(2.5e-6_jprb, rh * qs)
          x(jl,jk,4,ib) = qs
          x(jl,jk,5,ib) = t
          x(jl,jk,6,ib) = 2.0e-4_jprb * max(0.0_jprb, rh - 0.85_jprb) / 0.2_jprb * fl
          x(jl,jk,7,ib) = 2.0e-4_jprb * max(0.0_jprb, rh - 0.85_jprb) / 0.2_jprb * (1.0_jprb - fl)
          x(jl,jk,8,ib) = 1.0e-5_jprb * conv * sb
          x(jl,jk,9,ib) = 5.0e-4_jprb * conv * sb
          x(jl,jk,10,ib) = 0.05_jprb * conv * sb
          if (s > 0.5_jprb) x(jl,jk,11,ib) = -0.02_jprb * conv * sb
          x(jl,jk,12,ib) = 2.0e-5_jprb * sin(0.3_jprb * jk + 5.0_jprb * phi)
          x(jl,jk,13,ib) = 1.0e-8_jprb * sin(0.2_jprb * jk + 7.0_jprb * phi) * s
          x(jl,jk,14,ib) = 1.0e-9_jprb * conv * sb
          x(jl,jk,15,ib) = 1.0e-9_jprb * conv * sb * (1.0_jprb - fl)
          x(jl,jk,16,ib) = 1.0e-7_jprb * max(0.0_jprb, rh - 0.95_jprb)
        end do
      end do
    end do
    allocate(yrecld)
    allocate(yrecld%ceta(nlev))
    do jk = 1, nlev
      yrecld%ceta(jk) = x(1,jk,2,1) / x(1,nlev+1,1,1)
    end do
    ! perturbation: 1% of each field's typical size, varying from point to point
    do kk = 1, nin
      scale = maxval(abs(x(:,1:lin(kk),kk,:)))
      do ib = 1, nblk
        do jk = 1, lin(kk)
          do jl = 1, np
            dx(jl,jk,kk,ib) = 0.01_jprb &
              & * sin(0.91_jprb * jl + 0.53_jprb * jk + 2.1_jprb * kk + 0.7_jprb * ib) &
              & * (abs(x(jl,jk,kk,ib)) + 0.1_jprb * scale + tiny(1.0_jprb))
          end do
        end do
      end do
    end do
  end subroutine set_state
"""
