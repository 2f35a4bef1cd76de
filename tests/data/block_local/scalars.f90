!> Loop-private scalars and their adjoints (ad/block_local.py, ad/simd.py):
!! g and p are defined before every read, in the loop that reads them: their adjoints are
!! zero when a backward iteration starts, so the first increment becomes a definition and
!! the backward loops run forwards (loop 1 increments wb(i) and wb(i + 1), which commute).
!! q is read before its definition (the previous iteration's value) and r after its loop:
!! their adjoints carry values into the backward loops and stay increments.
module scalars
  implicit none
contains
  subroutine head(n, w, x, y, cost)
    integer, intent(in) :: n
    real(8), intent(in) :: w(n + 1), x(n)
    real(8), intent(out) :: y(n), cost
    real(8) :: g, p, q, r
    integer :: i
    do i = 1, n
      g = 0.5d0*(w(i + 1) + w(i))
      y(i) = g*g*x(i)
    end do
    q = 0.25d0
    do i = 1, n
      p = x(i)*w(i)
      y(i) = y(i) + sin(p) + q*x(i)
      q = p*x(i)
    end do
    do i = 1, n
      r = cos(x(i))*(w(i + 1) - w(i))
      y(i) = y(i)*r
    end do
    cost = sum(y**2) + q + r*r
  end subroutine head
end module scalars
