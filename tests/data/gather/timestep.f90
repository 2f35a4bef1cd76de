!> Two-buffer time steps (ad/handoff.py): the adjoint of the second loop of each step leaves
!! the zeroing of ab (a2b in 2-D) to the adjoint of the first, which sets those elements.
!! The third step's loops run over different ranges: its zeroing stays.
module timestep
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, nt, a, b, a2, b2, w, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(inout) :: a(n), b(n), a2(n, n), b2(n, n)
    real(dp), intent(in) :: w(n)
    real(dp), intent(out) :: cost
    integer :: t, i, j
    do t = 1, nt
      do i = 2, n - 1
        b(i) = 0.25_dp*a(i - 1) + 0.5_dp*a(i) + 0.3_dp*a(i + 1)
      end do
      do i = 2, n - 1
        a(i) = w(i)*(b(i - 1) - b(i + 1)) + 0.5_dp*b(i)
      end do
      do j = 2, n - 1
        do i = 2, n - 1
          b2(i, j) = 0.2_dp*(a2(i, j) + a2(i - 1, j) + a2(i + 1, j) + a2(i, j - 1) + a2(i, j + 1))
        end do
      end do
      do j = 2, n - 1
        do i = 2, n - 1
          a2(i, j) = 0.3_dp*(b2(i, j + 1) - b2(i, j - 1)) + 0.1_dp*(b2(i + 1, j) + b2(i - 1, j)) &
                     + 0.4_dp*b2(i, j)
        end do
      end do
      do i = 2, n - 1
        b(i) = 0.5_dp*(a(i - 1) + a(i + 1))
      end do
      do i = 3, n - 1
        a(i) = b(i - 1)*b(i)
      end do
    end do
    cost = sum(a*a) + sum(b) + sum(a2*a2) + sum(b2)
  end subroutine head
end module timestep
