C=======================================================================
C
C     NPZD.F -- NUTRIENT / PHYTOPLANKTON / ZOOPLANKTON / DETRITUS MODEL
C               IN A STACK OF NBOX WELL-MIXED BOXES OF EQUAL THICKNESS.
C
C     UNITS: CONCENTRATIONS IN MMOL N M-3, TIME IN DAYS, DEPTH IN M.
C
C     BOX 1 IS AT THE SURFACE. DETRITUS SINKS FROM BOX TO BOX AND IS
C     EXPORTED THROUGH THE BOTTOM OF BOX NBOX. ALL BOXES EXCHANGE
C     MATERIAL WITH THEIR NEIGHBOURS BY TURBULENT MIXING.
C
C     THE BIOLOGICAL CONSTANTS LIVE IN COMMON /NPZPAR/ AND ARE SET BY
C     NPZINI. THE MODEL STATE IS ALWAYS PASSED THROUGH THE ARGUMENTS.
C
C     ENTRY POINTS:
C        NPZINI  SET THE CONSTANTS
C        NPZRUN  INTEGRATE NSTEP HEUN STEPS AND RETURN THE COST
C        NPZRHS  TENDENCIES OF THE FOUR TRACERS
C        MIXCOL  DIFFUSIVE EXCHANGE BETWEEN NEIGHBOURING BOXES
C        GRAZE   ZOOPLANKTON GRAZING (FUNCTION)
C
C=======================================================================
      SUBROUTINE NPZINI
C-----------------------------------------------------------------------
C     SET THE MODEL CONSTANTS (FASHAM ET AL. 1990 FLAVOUR)
C-----------------------------------------------------------------------
      IMPLICIT DOUBLE PRECISION (A-H,O-Z)
      COMMON /NPZPAR/ VMAX, XKN, ALPHA, PARSUR, XKW, GMAX, XKP, PTHR,
     &                XMP, XMZ, ASSIM, REMIN, WSINK, XKMIX, DZ, CHLN,
     &                CHLOBS, TSURF, TDEEP, ZTHERM, WTHERM
C
C     PHYTOPLANKTON GROWTH
C        VMAX   MAXIMUM GROWTH RATE AT 0 DEG C          (D-1)
C        XKN    HALF SATURATION FOR NITRATE UPTAKE      (MMOL N M-3)
C        ALPHA  INITIAL SLOPE OF THE P-I CURVE          (D-1 (W M-2)-1)
C        PARSUR MEAN SURFACE PHOTOSYNTH. AVAIL. RADIATION (W M-2)
C        XKW    LIGHT ATTENUATION BY WATER              (M-1)
      VMAX   = 0.6D0
      XKN    = 0.7D0
      ALPHA  = 0.025D0
      PARSUR = 100.0D0
      XKW    = 0.04D0
C     ZOOPLANKTON
C        GMAX   MAXIMUM GRAZING RATE                    (D-1)
C        XKP    HALF SATURATION FOR GRAZING             (MMOL N M-3)
C        PTHR   FEEDING THRESHOLD                       (MMOL N M-3)
C        ASSIM  ASSIMILATION EFFICIENCY                 (-)
      GMAX   = 1.0D0
      XKP    = 1.0D0
      PTHR   = 0.05D0
      ASSIM  = 0.75D0
C     LOSSES AND TRANSPORT
C        XMP    LINEAR PHYTOPLANKTON MORTALITY          (D-1)
C        XMZ    QUADRATIC ZOOPLANKTON MORTALITY   (D-1 (MMOL N M-3)-1)
C        REMIN  DETRITUS REMINERALISATION RATE          (D-1)
C        WSINK  DETRITUS SINKING SPEED                  (M D-1)
C        XKMIX  VERTICAL DIFFUSIVITY                    (M2 D-1)
C        DZ     BOX THICKNESS                           (M)
      XMP    = 0.05D0
      XMZ    = 0.2D0
      REMIN  = 0.1D0
      WSINK  = 5.0D0
      XKMIX  = 10.0D0
      DZ     = 10.0D0
C     OBSERVATION OPERATOR: CHLOROPHYLL = CHLN * PHYTOPLANKTON NITROGEN
      CHLN   = 1.59D0
      CHLOBS = 1.2D0
C     PRESCRIBED THERMOCLINE FOR THE TEMPERATURE DEPENDENCE OF GROWTH
      TSURF  = 18.0D0
      TDEEP  = 8.0D0
      ZTHERM = 60.0D0
      WTHERM = 15.0D0
      RETURN
      END
C
C=======================================================================
      DOUBLE PRECISION FUNCTION GRAZE(P, Z)
C-----------------------------------------------------------------------
C     HOLLING TYPE III GRAZING OF PHYTOPLANKTON P BY ZOOPLANKTON Z,
C     ONLY THE PHYTOPLANKTON ABOVE THE FEEDING THRESHOLD IS AVAILABLE
C-----------------------------------------------------------------------
      IMPLICIT DOUBLE PRECISION (A-H,O-Z)
      COMMON /NPZPAR/ VMAX, XKN, ALPHA, PARSUR, XKW, GMAX, XKP, PTHR,
     &                XMP, XMZ, ASSIM, REMIN, WSINK, XKMIX, DZ, CHLN,
     &                CHLOBS, TSURF, TDEEP, ZTHERM, WTHERM
      PAVAIL = DIM(P, PTHR)
      GRAZE = GMAX*PAVAIL**2/(XKP**2 + PAVAIL**2)*Z
      RETURN
      END
C
C=======================================================================
      SUBROUTINE MIXCOL(NBOX, C, DC)
C-----------------------------------------------------------------------
C     ADD THE DIFFUSIVE EXCHANGE BETWEEN NEIGHBOURING BOXES TO DC.
C     NO FLUX THROUGH THE SURFACE OR THE BOTTOM OF THE STACK.
C-----------------------------------------------------------------------
      IMPLICIT DOUBLE PRECISION (A-H,O-Z)
      INTEGER NBOX
      DOUBLE PRECISION C(NBOX), DC(NBOX)
      COMMON /NPZPAR/ VMAX, XKN, ALPHA, PARSUR, XKW, GMAX, XKP, PTHR,
     &                XMP, XMZ, ASSIM, REMIN, WSINK, XKMIX, DZ, CHLN,
     &                CHLOBS, TSURF, TDEEP, ZTHERM, WTHERM
      DO 10 K = 1, NBOX - 1
         FLX = XKMIX*(C(K+1) - C(K))/DZ**2
         DC(K)   = DC(K)   + FLX
         DC(K+1) = DC(K+1) - FLX
   10 CONTINUE
      RETURN
      END
C
C=======================================================================
      SUBROUTINE NPZRHS(NBOX, TDAY, XN, PHY, ZOO, DET,
     &                  TN, TP, TZ, TD, FEXP)
C-----------------------------------------------------------------------
C     TENDENCIES TN, TP, TZ, TD (MMOL N M-3 D-1) OF THE FOUR TRACERS AT
C     TIME TDAY (DAY OF YEAR), AND THE EXPORT FLUX FEXP (MMOL N M-2 D-1)
C     THROUGH THE BOTTOM OF THE LOWEST BOX.
C-----------------------------------------------------------------------
      IMPLICIT DOUBLE PRECISION (A-H,O-Z)
      INTEGER NBOX
      DOUBLE PRECISION XN(NBOX), PHY(NBOX), ZOO(NBOX), DET(NBOX)
      DOUBLE PRECISION TN(NBOX), TP(NBOX), TZ(NBOX), TD(NBOX)
      DOUBLE PRECISION GRAZE
      EXTERNAL GRAZE
      COMMON /NPZPAR/ VMAX, XKN, ALPHA, PARSUR, XKW, GMAX, XKP, PTHR,
     &                XMP, XMZ, ASSIM, REMIN, WSINK, XKMIX, DZ, CHLN,
     &                CHLOBS, TSURF, TDEEP, ZTHERM, WTHERM
      PARAMETER (PI = 3.14159265358979324D0)
C
C     SEASONAL CYCLE OF THE SURFACE LIGHT, DAILY MEAN VALUES
      IDAY = INT(TDAY)
      PAR0 = PARSUR*(1.0D0 + 0.3D0*SIN(2.0D0*PI*DBLE(IDAY - 80)
     &                                 /365.0D0))
C
      DO 10 K = 1, NBOX
C        LIGHT AND TEMPERATURE AT THE CENTRE OF THE BOX
         ZMID = (DBLE(K) - 0.5D0)*DZ
         PAR  = PAR0*EXP(-XKW*ZMID)
         TEMP = TDEEP + (TSURF - TDEEP)*
     &          (0.5D0 - ATAN((ZMID - ZTHERM)/WTHERM)/PI)
C        EPPLEY (1972) TEMPERATURE DEPENDENCE OF THE MAXIMUM GROWTH
         VT   = VMAX*1.066D0**TEMP
C        SMITH P-I FUNCTION AND MICHAELIS-MENTEN NUTRIENT LIMITATION
         FLIGHT = ALPHA*PAR/SQRT(VT**2 + (ALPHA*PAR)**2)
         FNUT   = XN(K)/(XKN + XN(K))
         UPTAKE = VT*FLIGHT*FNUT*PHY(K)
C
         GRAZ  = GRAZE(PHY(K), ZOO(K))
         PMORT = XMP*PHY(K)
         ZMORT = XMZ*ZOO(K)**2
         REM   = REMIN*DET(K)
C
         TN(K) = -UPTAKE + REM
         TP(K) = UPTAKE - GRAZ - PMORT
         TZ(K) = ASSIM*GRAZ - ZMORT
         TD(K) = (1.0D0 - ASSIM)*GRAZ + PMORT + ZMORT - REM
   10 CONTINUE
C
C     SINKING OF DETRITUS, FIRST-ORDER UPWIND
      DO 20 K = 1, NBOX
         TD(K) = TD(K) - WSINK*DET(K)/DZ
   20 CONTINUE
      DO 30 K = 2, NBOX
         TD(K) = TD(K) + WSINK*DET(K-1)/DZ
   30 CONTINUE
      FEXP = WSINK*DET(NBOX)
C
C     TURBULENT EXCHANGE
      CALL MIXCOL(NBOX, XN,  TN)
      CALL MIXCOL(NBOX, PHY, TP)
      CALL MIXCOL(NBOX, ZOO, TZ)
      CALL MIXCOL(NBOX, DET, TD)
      RETURN
      END
C
C=======================================================================
      SUBROUTINE NPZRUN(NBOX, NSTEP, DT, XN, PHY, ZOO, DET, COST)
C-----------------------------------------------------------------------
C     INTEGRATE THE MODEL FOR NSTEP HEUN (RK2) STEPS OF DT DAYS,
C     STARTING ON DAY TSTART. THE STATE IS UPDATED IN PLACE.
C
C     COST = EXPORTED NITROGEN (MMOL N M-2)
C          + 0.5 * SUM OVER BOXES OF THE LOG10 CHLOROPHYLL MISFIT**2
C-----------------------------------------------------------------------
      IMPLICIT DOUBLE PRECISION (A-H,O-Z)
      INTEGER NBOX, NSTEP
      DOUBLE PRECISION DT, COST
      DOUBLE PRECISION XN(NBOX), PHY(NBOX), ZOO(NBOX), DET(NBOX)
      COMMON /NPZPAR/ VMAX, XKN, ALPHA, PARSUR, XKW, GMAX, XKP, PTHR,
     &                XMP, XMZ, ASSIM, REMIN, WSINK, XKMIX, DZ, CHLN,
     &                CHLOBS, TSURF, TDEEP, ZTHERM, WTHERM
      PARAMETER (MAXBOX = 200, TSTART = 120.0D0)
C     PREDICTOR STATE AND THE TENDENCIES OF THE TWO STAGES
      DOUBLE PRECISION XNS(MAXBOX), PHS(MAXBOX), ZOS(MAXBOX),
     &                 DES(MAXBOX)
      DOUBLE PRECISION TN1(MAXBOX), TP1(MAXBOX), TZ1(MAXBOX),
     &                 TD1(MAXBOX), TN2(MAXBOX), TP2(MAXBOX),
     &                 TZ2(MAXBOX), TD2(MAXBOX)
C
      COST = 0.0D0
      IF (NBOX .GT. MAXBOX) RETURN
      CALL NPZINI
C
      TDAY   = TSTART
      EXPORT = 0.0D0
      DO 100 ISTEP = 1, NSTEP
C        PREDICTOR (EULER)
         CALL NPZRHS(NBOX, TDAY, XN, PHY, ZOO, DET,
     &               TN1, TP1, TZ1, TD1, FEX1)
         DO 40 K = 1, NBOX
            XNS(K) = XN(K)  + DT*TN1(K)
            PHS(K) = PHY(K) + DT*TP1(K)
            ZOS(K) = ZOO(K) + DT*TZ1(K)
            DES(K) = DET(K) + DT*TD1(K)
   40    CONTINUE
C        CORRECTOR (TRAPEZOIDAL)
         CALL NPZRHS(NBOX, TDAY + DT, XNS, PHS, ZOS, DES,
     &               TN2, TP2, TZ2, TD2, FEX2)
         DO 50 K = 1, NBOX
            XN(K)  = XN(K)  + 0.5D0*DT*(TN1(K) + TN2(K))
            PHY(K) = PHY(K) + 0.5D0*DT*(TP1(K) + TP2(K))
            ZOO(K) = ZOO(K) + 0.5D0*DT*(TZ1(K) + TZ2(K))
            DET(K) = DET(K) + 0.5D0*DT*(TD1(K) + TD2(K))
   50    CONTINUE
         EXPORT = EXPORT + 0.5D0*DT*(FEX1 + FEX2)
         TDAY   = TDAY + DT
  100 CONTINUE
C
      COST = EXPORT
      DO 200 K = 1, NBOX
         COST = COST + 0.5D0*(LOG10(CHLN*PHY(K)) - LOG10(CHLOBS))**2
  200 CONTINUE
      RETURN
      END
