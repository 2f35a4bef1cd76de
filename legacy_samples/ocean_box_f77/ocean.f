C=======================================================================
C     OCEAN.F -- A COLUMN OF NB BOXES OF TEMPERATURE AND SALINITY.
C     THE STATE LIVES IN COMMON /OCNST/ (FROM OCEAN.INC), EACH STEP
C     IS AN IMPLICIT DIFFUSION SOLVED BY A GO TO JACOBI ITERATION,
C     CONVECTIVE ADJUSTMENT MIXES STATICALLY UNSTABLE PAIRS.
C=======================================================================
      SUBROUTINE OCNINI(N, T0, S0, KAP)
      INCLUDE 'ocean.inc'
      INTEGER N, K
      DOUBLE PRECISION T0(N), S0(N), KAP
      NB = N
      XKAP = KAP
      ALPHA = 2.0D-4
      BETA = 7.6D-4
      DO 10 K = 1, NB
         T(K) = T0(K)
         S(K) = S0(K)
   10 CONTINUE
      CALL OCNRHO
      RETURN
      END
C
      SUBROUTINE OCNRHO
C     LINEAR EQUATION OF STATE
      INCLUDE 'ocean.inc'
      INTEGER K
      DO 20 K = 1, NB
         RHO(K) = 1.0D0 - ALPHA*(T(K) - 10.0D0) + BETA*(S(K) - 35.0D0)
   20 CONTINUE
      END
C
      SUBROUTINE OCNDIF(DT, NIT)
C     IMPLICIT DIFFUSION (1 + DT*K*L) X = X_OLD BY NIT JACOBI SWEEPS,
C     WRITTEN WITH A BACKWARD GO TO AS THE ORIGINAL CODE HAD IT
      INCLUDE 'ocean.inc'
      INTEGER NIT, IT, K
      DOUBLE PRECISION DT, R, TOLD(MAXB), SOLD(MAXB), TN(MAXB), SN(MAXB)
      R = DT*XKAP
      DO 30 K = 1, NB
         TOLD(K) = T(K)
         SOLD(K) = S(K)
   30 CONTINUE
      IT = 0
  100 CONTINUE
      IT = IT + 1
      DO 40 K = 1, NB
         IF (K .EQ. 1) GO TO 35
         IF (K .EQ. NB) GO TO 36
         TN(K) = (TOLD(K) + R*(T(K-1) + T(K+1)))/(1.0D0 + 2.0D0*R)
         SN(K) = (SOLD(K) + R*(S(K-1) + S(K+1)))/(1.0D0 + 2.0D0*R)
         GO TO 40
   35    TN(K) = (TOLD(K) + R*T(K+1))/(1.0D0 + R)
         SN(K) = (SOLD(K) + R*S(K+1))/(1.0D0 + R)
         GO TO 40
   36    TN(K) = (TOLD(K) + R*T(K-1))/(1.0D0 + R)
         SN(K) = (SOLD(K) + R*S(K-1))/(1.0D0 + R)
   40 CONTINUE
      DO 50 K = 1, NB
         T(K) = TN(K)
         S(K) = SN(K)
   50 CONTINUE
      IF (IT .LT. NIT) GO TO 100
      CALL OCNRHO
      END
C
      SUBROUTINE OCNCNV
C     CONVECTIVE ADJUSTMENT: MIX A PAIR WHEN THE UPPER BOX IS DENSER
C     (ARITHMETIC IF ON THE DENSITY DIFFERENCE)
      INCLUDE 'ocean.inc'
      INTEGER K
      DOUBLE PRECISION TM, SM
      K = 1
  200 IF (K .GE. NB) GO TO 290
      IF (RHO(K) - RHO(K+1)) 250, 250, 210
  210 TM = 0.5D0*(T(K) + T(K+1))
      SM = 0.5D0*(S(K) + S(K+1))
      T(K) = TM
      T(K+1) = TM
      S(K) = SM
      S(K+1) = SM
  250 K = K + 1
      GO TO 200
  290 CALL OCNRHO
      END
C
      SUBROUTINE OCNRUN(N, NSTEP, DT, KAP, T0, S0, COST)
C     HEAD: INITIALISE, STEP, AND MEASURE THE STRATIFICATION
      INCLUDE 'ocean.inc'
      INTEGER N, NSTEP, ISTEP, K, MODE
      DOUBLE PRECISION DT, KAP, T0(N), S0(N), COST
      CALL OCNINI(N, T0, S0, KAP)
      ISTEP = 0
  300 ISTEP = ISTEP + 1
      CALL OCNDIF(DT, 3)
      MODE = MOD(ISTEP, 3) + 1
      GO TO (310, 320, 320) MODE
  310 CALL OCNCNV
  320 IF (ISTEP .LT. NSTEP) GO TO 300
      COST = 0.0D0
      DO 60 K = 1, NB - 1
         COST = COST + (RHO(K+1) - RHO(K))**2 + 1.0D-2*T(K)*S(K)
   60 CONTINUE
      END
