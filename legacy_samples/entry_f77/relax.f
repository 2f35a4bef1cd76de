C     Nonlinear relaxation of a 1-D field with two entry points into one
C     tendency routine (F77 style): TEND applies the cubic damping and
C     then falls through to the diffusion; DIFF starts at the diffusion.
      SUBROUTINE TEND(N, Q, DQ, ALPHA)
      INTEGER N, I
      DOUBLE PRECISION Q(N), DQ(N), ALPHA
      DO 10 I = 1, N
         Q(I) = Q(I) - ALPHA*Q(I)**3
   10 CONTINUE
      ENTRY DIFF(N, Q, DQ)
      DQ(1) = Q(2) - Q(1)
      DO 20 I = 2, N - 1
         DQ(I) = Q(I+1) - 2.0D0*Q(I) + Q(I-1)
   20 CONTINUE
      DQ(N) = Q(N-1) - Q(N)
      RETURN
      END

C     Time loop: odd steps damp and diffuse, even steps only diffuse.
C     COST is the sum of squares of the final field.
      SUBROUTINE RELAX(N, NT, DT, ALPHA, Q, COST)
      INTEGER N, NT, K, I
      DOUBLE PRECISION DT, ALPHA, Q(N), COST
      DOUBLE PRECISION DQ(N)
      DO 30 K = 1, NT
         IF (MOD(K, 2) .EQ. 1) THEN
            CALL TEND(N, Q, DQ, ALPHA)
         ELSE
            CALL DIFF(N, Q, DQ)
         END IF
         DO 25 I = 1, N
            Q(I) = Q(I) + DT*DQ(I)
   25    CONTINUE
   30 CONTINUE
      COST = 0.0D0
      DO 40 I = 1, N
         COST = COST + Q(I)**2
   40 CONTINUE
      END
