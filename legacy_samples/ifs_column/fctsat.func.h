!     Saturation functions of the column sample, as statement functions.
!     Each function is declared just before it is defined, so declarations
!     follow statement functions (as in the IFS's thermodynamic headers).
!     Arguments: PTARE temperature (K).

REAL(KIND=JPRB) :: FOEDELTA
REAL(KIND=JPRB) :: PTARE
FOEDELTA(PTARE) = MAX(0.0_JPRB, SIGN(1.0_JPRB, PTARE - RTT))

!     Mixed phase: FOEALFA = 1 water, 0 ice, in between a quadratic ramp
REAL(KIND=JPRB) :: FOEALFA
FOEALFA(PTARE) = MIN(1.0_JPRB, ((MAX(RTICE, MIN(RTWAT, PTARE)) - RTICE) &
  & *RTWAT_RTICE_R)**2)

!     Saturation vapour pressure (scaled) over the mixed phase
REAL(KIND=JPRB) :: FOEEWM, FOELHM
FOEEWM(PTARE) = R2ES*(FOEALFA(PTARE)*EXP(R3LES*(PTARE - RTT)/(PTARE - R4LES)) &
  & + (1.0_JPRB - FOEALFA(PTARE))*EXP(R3IES*(PTARE - RTT)/(PTARE - R4IES)))
FOELHM(PTARE) = FOEALFA(PTARE)*RLVTT + (1.0_JPRB - FOEALFA(PTARE))*RLSTT
