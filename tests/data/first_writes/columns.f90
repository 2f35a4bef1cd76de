! Element-level first writes (ad/first_writes.py): sweep's column arrays c and d are defined
! element by element, plane 1 before the k loop, the other planes inside it; their first
! writes need no record. The other routines overwrite elements an earlier adjoint reads.
module columns
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains

  ! forward elimination of one tridiagonal system per column i (vadv's shape)
  subroutine sweep(ni, nk, u, w, cost)
    integer, intent(in) :: ni, nk
    real(dp), intent(in) :: u(ni, nk), w(ni, nk)
    real(dp), intent(out) :: cost
    real(dp) :: c(ni, nk), d(ni, nk)
    real(dp) :: den
    integer :: i, k

    k = 1
    do i = 1, ni
      c(i, k) = 0.25_dp*w(i, k)
      d(i, k) = u(i, k)
      den = 1.0_dp/(2.0_dp + c(i, k))
      c(i, k) = c(i, k)*den
      d(i, k) = d(i, k)*den
    end do
    do k = 2, nk
      do i = 1, ni
        c(i, k) = 0.25_dp*w(i, k)
        d(i, k) = u(i, k) + w(i, k - 1)*u(i, k - 1)
        den = 1.0_dp/(2.0_dp + c(i, k) - c(i, k - 1)*w(i, k))
        c(i, k) = c(i, k)*den
        d(i, k) = (d(i, k) - d(i, k - 1)*w(i, k))*den
      end do
    end do
    cost = sum(d*d) + sum(c*c*u)
  end subroutine sweep

  ! a(k) is written again in every time step: each overwrite is recorded
  subroutine repeat(n, nt, u, w, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(in) :: u(n), w(nt)
    real(dp), intent(out) :: cost
    real(dp) :: a(n)
    integer :: k, it

    cost = 0.0_dp
    do it = 1, nt
      do k = 1, n
        a(k) = u(k)*w(it)
        cost = cost + a(k)**2*w(it)
      end do
    end do
  end subroutine repeat

  ! the second loop overwrites a(2:n), which the adjoint of the first sum reads
  subroutine overlap(n, u, w, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: u(n), w(n)
    real(dp), intent(out) :: cost
    real(dp) :: a(n)
    integer :: k

    do k = 1, n
      a(k) = u(k)**2
    end do
    cost = 0.0_dp
    do k = 1, n
      cost = cost + a(k)**3
    end do
    do k = 2, n
      a(k) = w(k)*u(k - 1)
    end do
    cost = cost + sum(a*a*w)
  end subroutine overlap

  ! plane k = 1 is defined before the loop over all planes redefines it
  subroutine plane(ni, nk, u, w, cost)
    integer, intent(in) :: ni, nk
    real(dp), intent(in) :: u(ni, nk), w(ni, nk)
    real(dp), intent(out) :: cost
    real(dp) :: a(ni, nk)
    integer :: i, k

    k = 1
    do i = 1, ni
      a(i, k) = u(i, k)*w(i, k)
    end do
    cost = sum(a(:, 1)**3)
    do k = 1, nk
      do i = 1, ni
        a(i, k) = w(i, k)*u(i, nk + 1 - k)
      end do
    end do
    cost = cost + sum(a*a*u)
  end subroutine plane

  ! a DO WHILE repeats the inner loop's writes
  subroutine again(n, nt, u, w, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(in) :: u(n), w(nt)
    real(dp), intent(out) :: cost
    real(dp) :: a(n)
    integer :: k, it

    cost = 0.0_dp
    it = 0
    do while (it < nt)
      it = it + 1
      do k = 1, n
        a(k) = u(k)*w(it)
        cost = cost + a(k)**2*w(it)
      end do
    end do
  end subroutine again
end module columns
