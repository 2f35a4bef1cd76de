!> Column physics over a block of columns with DO CONCURRENT: per column, a saturation
!! adjustment (condensation of excess vapour with an exponential saturation curve) and an
!! implicit-in-time relaxation of temperature, done by a PURE column routine; then a
!! precipitation diagnostic per column.
module omp_column
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains

  pure subroutine column_step(nz, dt, t, q, rain)
    integer, intent(in) :: nz
    real(dp), intent(in) :: dt
    real(dp), intent(inout) :: t(nz), q(nz)
    real(dp), intent(inout) :: rain
    real(dp) :: qs, excess, cond
    integer :: k
    do k = 1, nz
      qs = 0.01_dp*exp(0.06_dp*(t(k) - 1.0_dp))
      excess = q(k) - qs
      if (excess > 0.0_dp) then
        cond = excess/(1.0_dp + 0.5_dp*qs)
        q(k) = q(k) - cond
        t(k) = t(k) + 2.5_dp*cond
        rain = rain + dt*cond
      end if
    end do
    do k = 2, nz
      t(k) = (t(k) + dt*0.3_dp*t(k - 1))/(1.0_dp + dt*0.3_dp)
    end do
  end subroutine column_step

  subroutine column_run(nz, ncol, nt, dt, t, q, cost)
    integer, intent(in) :: nz, ncol, nt
    real(dp), intent(in) :: dt
    real(dp), intent(inout) :: t(nz, ncol), q(nz, ncol)
    real(dp), intent(out) :: cost
    real(dp) :: rain(ncol), w
    integer :: ic, k, step
    rain = 0.0_dp
    do step = 1, nt
      do concurrent (ic = 1:ncol)
        call column_step(nz, dt, t(:, ic), q(:, ic), rain(ic))
      end do
    end do
    cost = 0.0_dp
    do ic = 1, ncol
      w = 1.0_dp + 0.01_dp*ic
      cost = cost + w*rain(ic)**2
      do k = 1, nz
        cost = cost + 0.001_dp*t(k, ic)**2
      end do
    end do
  end subroutine column_run
end module omp_column
