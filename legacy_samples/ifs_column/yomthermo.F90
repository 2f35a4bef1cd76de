!> Thermodynamic constants of the column sample (physical values; Tetens-type
!> saturation coefficients over water and ice).
MODULE YOMTHERMO
USE PARKIND_COL, ONLY : JPRB
IMPLICIT NONE
REAL(KIND=JPRB), PARAMETER :: RTT = 273.16_JPRB       ! triple point (K)
REAL(KIND=JPRB), PARAMETER :: RCPD = 1004.7_JPRB      ! cp of dry air
REAL(KIND=JPRB), PARAMETER :: RLVTT = 2.5008E6_JPRB   ! latent heat of vaporisation
REAL(KIND=JPRB), PARAMETER :: RLSTT = 2.8345E6_JPRB   ! latent heat of sublimation
REAL(KIND=JPRB), PARAMETER :: RETV = 0.6078_JPRB      ! Rv/Rd - 1
REAL(KIND=JPRB), PARAMETER :: RG = 9.80665_JPRB
REAL(KIND=JPRB), PARAMETER :: R2ES = 380.2_JPRB       ! 611.21 Pa * Rd/Rv
REAL(KIND=JPRB), PARAMETER :: R3LES = 17.502_JPRB, R3IES = 22.587_JPRB
REAL(KIND=JPRB), PARAMETER :: R4LES = 32.19_JPRB, R4IES = -0.7_JPRB
REAL(KIND=JPRB), PARAMETER :: RTICE = RTT - 23.0_JPRB ! all ice below
REAL(KIND=JPRB), PARAMETER :: RTWAT = RTT             ! all water above
REAL(KIND=JPRB), PARAMETER :: RTWAT_RTICE_R = 1.0_JPRB/(RTWAT - RTICE)
END MODULE YOMTHERMO
