!> A Thomas-like forward sweep: private scalars from an input the routine never writes (g, s,
!! lo: recomputed backwards); d from c(i, k), which the iteration defined before (its value
!! lo*u(i, k) is re-run), and c(i, k - 1), which the loop never writes (recomputed too); e
!! from an element an earlier iteration wrote (recorded); and elements recorded twice per
!! iteration (c(i, k) before its definition and its scaling).
module sweep
  implicit none
contains
  subroutine head(n, nk, w, u, c, cost)
    integer, intent(in) :: n, nk
    real(8), intent(in) :: w(n + 1, nk), u(n, nk)
    real(8), intent(out) :: c(n, nk), cost
    real(8) :: g, s, lo, d, e
    integer :: i, k
    do i = 1, n
      c(i, 1) = u(i, 1)
    end do
    do k = 2, nk
      do i = 1, n
        g = 0.25d0*(w(i + 1, k) + w(i, k))
        s = g*g
        lo = sin(g) + s
        c(i, k) = lo*u(i, k)
        d = 1.0d0/(2.0d0 + c(i, k)**2 + c(i, k - 1)*s)
        c(i, k) = c(i, k)*d + lo*c(i, k - 1)
        e = 0.5d0*c(max(i - 1, 1), k)
        c(i, k) = c(i, k) + e*e
      end do
    end do
    cost = sum(c)
  end subroutine head
end module sweep
