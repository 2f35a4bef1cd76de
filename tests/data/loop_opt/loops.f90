!> Innermost loops for ad/block_tape.py (slice push/pop) and ad/simd.py (simd reductions).
module loops
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, m, beta, x, w, cost)
    integer, intent(in) :: n, m
    real(dp), intent(in) :: beta, w(n)
    real(dp), intent(inout) :: x(n, m)
    real(dp), intent(out) :: cost
    real(dp) :: t, s(n), y(n)
    integer :: i, j, k
    cost = 0.0_dp
    do j = 1, m
      ! block: the loop touches only x(i, j); adjoint: simd with reductions into beta and w
      do i = 1, n
        x(i, j) = x(i, j)*beta + w(i)*x(i, j)**2
      end do
      ! not a slice: reads x(i - 1, j), another iteration's element (a buffer); scatter adjoint
      do i = 2, n
        x(i, j) = x(i, j) + 0.5_dp*x(i - 1, j)*x(i, j)
      end do
      ! no block: the adjoint of line 2 reads x(i, j) after the overwrite; stride 2: no buffer
      do i = 1, n, 2
        x(i, j) = sin(x(i, j))
        s(i) = x(i, j)**2
        cost = cost + s(i)
      end do
      ! no block: a conditional overwrite
      do i = n, 1, -1
        if (x(i, j) > 0.0_dp) x(i, j) = x(i, j)*x(i, j)
      end do
      ! block over a strided, reversed loop; simd reduction into an element of wb
      do i = n, 1, -2
        x(i, j) = x(i, j)*w(m) + beta
      end do
      ! not a slice (t reads x(i, j) before the push): t and x(i, j) go through buffers
      do i = n, 1, -1
        t = x(i, j)*w(i)
        x(i, j) = t*x(i, j) + beta*t
      end do
      ! an accumulation into x(n, j): recorded once, as k < n never selects it
      do k = 1, n - 1
        x(n, j) = x(n, j) - w(k)*x(k, j)
      end do
      ! not once: the adjoint reads x(1, j) itself (a buffer)
      do k = 2, n
        x(1, j) = x(1, j)*w(k)
      end do
    end do
    ! a stencil: its scatter adjoint is split into one loop per offset (ad/fission.py)
    do i = 2, n - 1
      y(i) = 0.25_dp*(x(i - 1, 1) + 2*x(i, 1) + x(i + 1, 1))*w(i)
    end do
    do i = 2, n - 1
      cost = cost + y(i)**2
    end do
    do j = 1, m
      do i = 1, n
        cost = cost + x(i, j)
      end do
    end do
  end subroutine head
end module loops
