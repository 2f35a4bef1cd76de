!> Stencils whose scatter adjoints ad/gather.py turns into gather loops, and one it must not.
module stencils
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, nt, a, b, w, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(inout) :: a(n, n), b(n, n)
    real(dp), intent(in) :: w(n)
    real(dp), intent(out) :: cost
    real(dp) :: r(n), c(n, n), d(n, n)
    integer :: t, i, j

    c = 0.0_dp
    d = 0.0_dp
    do t = 1, nt
      ! gather: a nonlinear 1-D stencil, offsets -2, 0, +1 (uneven boundary segments)
      do j = 2, n - 1
        do i = 3, n - 1
          b(i, j) = w(i)*a(i - 2, j)*a(i + 1, j) + sin(a(i, j))
        end do
      end do
      ! gather over j and i: a 2-D five-point stencil, rows j - 1, j, j + 1 of b
      do j = 2, n - 1
        do i = 2, n - 1
          c(i, j) = 0.2_dp*(b(i, j) + b(i, j - 1) + b(i, j + 1) + b(i + 1, j) + b(i - 1, j))
        end do
      end do
      ! gather with signs: a centred difference, one weight for both offsets
      do j = 2, n - 1
        do i = 2, n - 1
          d(i, j) = 0.5_dp*(c(i + 1, j) - c(i - 1, j))
        end do
      end do
      do j = 2, n - 1
        do i = 2, n - 1
          a(i, j) = c(i, j) + d(i, j)
        end do
      end do
    end do
    ! not gathered: a recurrence, its adjoint reads what it increments
    r(1) = a(1, 2)
    do i = 2, n
      r(i) = 0.5_dp*r(i - 1) + a(i, 2)
    end do
    cost = sum(a*a) + sum(b) + sum(c) + sum(d*d) + sum(r)
  end subroutine head
end module stencils
