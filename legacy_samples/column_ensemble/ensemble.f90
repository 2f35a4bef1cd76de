!> Ensemble of single-column models, ``type(column_t) :: cols(ncol)``, stepped in a time loop:
!! vertical diffusion inside each column, relaxation to saturation on the levels a passive
!! mask component selects (WHERE/ELSEWHERE on components of one element), lateral mixing of
!! neighbouring columns (cols(i-1)%t(k)), surface fluxes from the mean surface pressure
!! (sum(cols(:)%ps)).
module ensemble
  use col_types
  implicit none
contains
  subroutine init_columns(ncol, nz, t0, q0, ps0, cols)
    integer, intent(in) :: ncol, nz
    real(wp), intent(in) :: t0(nz, ncol), q0(nz, ncol), ps0(ncol)
    type(column_t), intent(out) :: cols(ncol)
    integer :: i, k
    do i = 1, ncol
      allocate(cols(i)%t(nz), cols(i)%q(nz), cols(i)%wet(nz))
      cols(i)%wet = [(mod(k + i, 3) == 0, k = 1, nz)]
      cols(i)%t = t0(:, i)
      cols(i)%q = q0(:, i)
      cols(i)%ps = ps0(i)
      cols(i)%flux = 0.0_wp
      cols(i)%id = i
    end do
  end subroutine init_columns

  subroutine diffuse(col, kdiff, dt)
    type(column_t), intent(inout) :: col
    real(wp), intent(in) :: kdiff, dt
    real(wp) :: tn(size(col%t))
    integer :: k, nz
    nz = size(col%t)
    tn(1) = col%t(1) + dt*kdiff*(col%t(2) - col%t(1)) + dt*col%flux(1)
    do k = 2, nz - 1
      tn(k) = col%t(k) + dt*kdiff*(col%t(k + 1) - 2.0_wp*col%t(k) + col%t(k - 1))
    end do
    tn(nz) = col%t(nz) + dt*kdiff*(col%t(nz - 1) - col%t(nz))
    col%t = tn
  end subroutine diffuse

  subroutine condense(col, qsat0)
    type(column_t), intent(inout) :: col
    real(wp), intent(in) :: qsat0
    real(wp) :: qs(size(col%q))
    qs = qsat0*exp(0.05_wp*(col%t - 280.0_wp))
    where (col%wet)
      col%t = col%t + 0.25_wp*(col%q - qs)
      col%q = col%q - 0.1_wp*(col%q - qs)
    elsewhere
      col%q = col%q + 0.01_wp*(qs - col%q)
    end where
  end subroutine condense

  subroutine ensemble_step(cols, kdiff, mix, qsat0, dt)
    type(column_t), intent(inout) :: cols(:)
    real(wp), intent(in) :: kdiff, mix, qsat0, dt
    real(wp) :: pmean
    integer :: i, k
    pmean = sum(cols(:)%ps)/size(cols)
    do i = 1, size(cols)
      cols(i)%flux(1) = 1.0e-3_wp*(cols(i)%ps - pmean)
      cols(i)%flux(2) = 1.0e-5_wp*cols(i)%flux(1)
      call diffuse(cols(i), kdiff, dt)
      cols(i)%q(1) = cols(i)%q(1) + dt*cols(i)%flux(2)
      call condense(cols(i), qsat0)
    end do
    do i = 2, size(cols)
      do k = 1, size(cols(i)%t)
        cols(i)%t(k) = (1.0_wp - mix)*cols(i)%t(k) + mix*cols(i - 1)%t(k)
      end do
    end do
    cols(:)%ps = cols(:)%ps + dt*0.01_wp*(pmean - cols(:)%ps)
  end subroutine ensemble_step

  subroutine ensemble_run(ncol, nz, nt, t0, q0, ps0, kdiff, mix, qsat0, dt, cost)
    integer, intent(in) :: ncol, nz, nt
    real(wp), intent(in) :: t0(nz, ncol), q0(nz, ncol), ps0(ncol)
    real(wp), intent(in) :: kdiff, mix, qsat0, dt
    real(wp), intent(out) :: cost
    type(column_t) :: cols(ncol)
    integer :: i, step
    call init_columns(ncol, nz, t0, q0, ps0, cols)
    do step = 1, nt
      call ensemble_step(cols, kdiff, mix, qsat0, dt)
    end do
    cost = 0.0_wp
    do i = 1, ncol
      cost = cost + sum((cols(i)%t - 280.0_wp)**2)/nz + 1.0e3_wp*sum(cols(i)%q) &
        + 1.0e-2_wp*cols(i)%ps
    end do
  end subroutine ensemble_run
end module ensemble
