!> NPBench weather stencils (COSMO dycore): horizontal diffusion with flux limiting (hdiff)
!! and implicit vertical advection with a Thomas solver per column (vadv), in Fortran.
!! Each returns cost = sum of its output field.
module npb_weather
  use npb_kinds, only: dp
  implicit none
  private

  public :: hdiff, vadv

contains

  !> out = in - coeff*(div of limited Laplacian fluxes); in_field has a halo of 2.
  subroutine hdiff(ni, nj, nk, in_field, out_field, coeff, cost)
    integer,  intent(in)  :: ni, nj, nk
    real(dp), intent(in)  :: in_field(ni + 4, nj + 4, nk), coeff(ni, nj, nk)
    real(dp), intent(out) :: out_field(ni, nj, nk), cost
    real(dp) :: lap(ni + 2, nj + 2), flx(ni + 1, nj), fly(ni, nj + 1), res
    integer :: i, j, k

    do k = 1, nk
      do j = 1, nj + 2
        do i = 1, ni + 2
          lap(i, j) = 4.0_dp*in_field(i + 1, j + 1, k) &
                    - (in_field(i + 2, j + 1, k) + in_field(i, j + 1, k) &
                       + in_field(i + 1, j + 2, k) + in_field(i + 1, j, k))
        end do
      end do
      do j = 1, nj
        do i = 1, ni + 1
          res = lap(i + 1, j + 1) - lap(i, j + 1)
          if (res*(in_field(i + 2, j + 2, k) - in_field(i + 1, j + 2, k)) > 0.0_dp) then
            flx(i, j) = 0.0_dp
          else
            flx(i, j) = res
          end if
        end do
      end do
      do j = 1, nj + 1
        do i = 1, ni
          res = lap(i + 1, j + 1) - lap(i + 1, j)
          if (res*(in_field(i + 2, j + 2, k) - in_field(i + 2, j + 1, k)) > 0.0_dp) then
            fly(i, j) = 0.0_dp
          else
            fly(i, j) = res
          end if
        end do
      end do
      do j = 1, nj
        do i = 1, ni
          out_field(i, j, k) = in_field(i + 2, j + 2, k) - coeff(i, j, k) &
                               *(flx(i + 1, j) - flx(i, j) + fly(i, j + 1) - fly(i, j))
        end do
      end do
    end do
    cost = sum(out_field)
  end subroutine hdiff

  !> Implicit vertical advection of u: tridiagonal forward sweep and back substitution
  !! per column; utens_stage is overwritten with the tendency.
  subroutine vadv(ni, nj, nk, dtr_stage, utens_stage, u_stage, wcon, u_pos, utens, cost)
    integer,  intent(in)    :: ni, nj, nk
    real(dp), intent(in)    :: dtr_stage
    real(dp), intent(inout) :: utens_stage(ni, nj, nk)
    real(dp), intent(in)    :: u_stage(ni, nj, nk), wcon(ni + 1, nj, nk)
    real(dp), intent(in)    :: u_pos(ni, nj, nk), utens(ni, nj, nk)
    real(dp), intent(out)   :: cost
    real(dp), parameter :: bet_m = 0.5_dp, bet_p = 0.5_dp
    real(dp) :: ccol(ni, nj, nk), dcol(ni, nj, nk), datacol(ni, nj)
    real(dp) :: gav, gcv, as, cs, acol, bcol, corr, divided
    integer :: i, j, k

    k = 1
    do j = 1, nj
      do i = 1, ni
        gcv = 0.25_dp*(wcon(i + 1, j, k + 1) + wcon(i, j, k + 1))
        cs = gcv*bet_m
        ccol(i, j, k) = gcv*bet_p
        bcol = dtr_stage - ccol(i, j, k)
        corr = -cs*(u_stage(i, j, k + 1) - u_stage(i, j, k))
        dcol(i, j, k) = dtr_stage*u_pos(i, j, k) + utens(i, j, k) + utens_stage(i, j, k) + corr
        divided = 1.0_dp/bcol
        ccol(i, j, k) = ccol(i, j, k)*divided
        dcol(i, j, k) = dcol(i, j, k)*divided
      end do
    end do
    do k = 2, nk - 1
      do j = 1, nj
        do i = 1, ni
          gav = -0.25_dp*(wcon(i + 1, j, k) + wcon(i, j, k))
          gcv = 0.25_dp*(wcon(i + 1, j, k + 1) + wcon(i, j, k + 1))
          as = gav*bet_m
          cs = gcv*bet_m
          acol = gav*bet_p
          ccol(i, j, k) = gcv*bet_p
          bcol = dtr_stage - acol - ccol(i, j, k)
          corr = -as*(u_stage(i, j, k - 1) - u_stage(i, j, k)) &
                 - cs*(u_stage(i, j, k + 1) - u_stage(i, j, k))
          dcol(i, j, k) = dtr_stage*u_pos(i, j, k) + utens(i, j, k) + utens_stage(i, j, k) + corr
          divided = 1.0_dp/(bcol - ccol(i, j, k - 1)*acol)
          ccol(i, j, k) = ccol(i, j, k)*divided
          dcol(i, j, k) = (dcol(i, j, k) - dcol(i, j, k - 1)*acol)*divided
        end do
      end do
    end do
    k = nk
    do j = 1, nj
      do i = 1, ni
        gav = -0.25_dp*(wcon(i + 1, j, k) + wcon(i, j, k))
        as = gav*bet_m
        acol = gav*bet_p
        bcol = dtr_stage - acol
        corr = -as*(u_stage(i, j, k - 1) - u_stage(i, j, k))
        dcol(i, j, k) = dtr_stage*u_pos(i, j, k) + utens(i, j, k) + utens_stage(i, j, k) + corr
        divided = 1.0_dp/(bcol - ccol(i, j, k - 1)*acol)
        dcol(i, j, k) = (dcol(i, j, k) - dcol(i, j, k - 1)*acol)*divided
      end do
    end do
    ! back substitution
    do j = 1, nj
      do i = 1, ni
        datacol(i, j) = dcol(i, j, nk)
        utens_stage(i, j, nk) = dtr_stage*(datacol(i, j) - u_pos(i, j, nk))
      end do
    end do
    do k = nk - 1, 1, -1
      do j = 1, nj
        do i = 1, ni
          datacol(i, j) = dcol(i, j, k) - ccol(i, j, k)*datacol(i, j)
          utens_stage(i, j, k) = dtr_stage*(datacol(i, j) - u_pos(i, j, k))
        end do
      end do
    end do
    cost = sum(utens_stage)
  end subroutine vadv

end module npb_weather
