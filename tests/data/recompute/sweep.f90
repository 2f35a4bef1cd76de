!> A Thomas-like forward sweep: private scalars from an input the routine never writes (g, s,
!! lo: recomputed backwards), one from an element the loop rewrites (d: recorded), and
!! elements recorded twice per iteration (c(i, k) before its definition and its scaling).
module sweep
  implicit none
contains
  subroutine head(n, nk, w, u, c, cost)
    integer, intent(in) :: n, nk
    real(8), intent(in) :: w(n + 1, nk), u(n, nk)
    real(8), intent(out) :: c(n, nk), cost
    real(8) :: g, s, lo, d
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
      end do
    end do
    cost = sum(c)
  end subroutine head
end module sweep
