! A time loop whose iterations each rebuild lap, gap and the fluxes from the state s (hdiff's
! pattern). With the k loop reversed one iteration at a time (period 1) the fluxes' old values
! serve no adjoint, and res is recomputed from lap, which nothing writes after the flux loop;
! r2 reads gap, which the iteration halves afterwards: it stays recorded. v, read by the
! adjoint of the statement before the loop, is still recorded where the loop overwrites it.
subroutine head(n, nk, u, w, cost)
  implicit none
  integer, intent(in) :: n, nk
  real(8), intent(in) :: u(n + 1, nk), w(n + 1)
  real(8), intent(out) :: cost
  real(8) :: s(n + 1), v(n + 1), lap(n + 1), gap(n + 1), flx(n), fly(n), res, r2
  integer :: i, k

  s = w
  v = w*w
  cost = sum(v*v*v)
  do k = 1, nk
    do i = 1, n + 1
      lap(i) = u(i, k)*s(i)
      gap(i) = lap(i)*s(i)
    end do
    do i = 1, n
      res = lap(i + 1) - lap(i)
      if (res*u(i, k) > 0.0d0) then
        flx(i) = 0.5d0*res
      else
        flx(i) = res*res
      end if
    end do
    do i = 1, n
      r2 = gap(i + 1) - gap(i)
      fly(i) = r2*r2*u(i + 1, k)
    end do
    do i = 1, n + 1
      gap(i) = 0.5d0*gap(i)
    end do
    do i = 1, n
      s(i) = s(i) + 0.1d0*(flx(i)*lap(i + 1) + fly(i)*gap(i + 1))
      v(i) = v(i) + flx(i)
    end do
  end do
  cost = cost + sum(s*s) + sum(v)
end subroutine head
