!> Increments v(e1) = v(e1) + f(v(e2)) for ad/distinct.py: where the loop bounds prove
!> e1 /= e2 the adjoint keeps vb(e1) (no fad_tmpb temporary); where they may meet, it must not.
module increments
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, a, x, w, cost)
    integer, intent(in) :: n
    real(dp), intent(inout) :: a(n, n), x(n)
    real(dp), intent(in) :: w(n)
    real(dp), intent(out) :: cost
    integer :: i, j, k
    do i = 1, n
      ! fires: k >= i + 1 (trmm); the invariant read xb(i) leaves the backward loop
      do k = i + 1, n
        x(i) = x(i) + w(k)*x(k)
      end do
      ! fires: k <= i - 1 with a negative step
      do k = i - 1, 1, -1
        x(i) = x(i) - 0.5_dp*w(k)*x(k)*x(k)
      end do
      ! must not fire: k = i happens
      do k = 1, n
        x(i) = x(i) + 0.1_dp*w(k)*x(k)
      end do
    end do
    ! fires only with the outer bounds: a(i, k) and a(k, j) differ from a(i, j) because
    ! k <= j - 1 and j <= i - 1 (lu); both writes of a share the index k
    do i = 1, n
      do j = 1, i - 1
        do k = 1, j - 1
          a(i, j) = a(i, j) - a(i, k)*a(k, j)
        end do
        a(i, j) = a(i, j)*w(j)
      end do
    end do
    ! must not fire: j - 1 + 1 = j, so a(j, k) with k = i names a(j, i) when i = j
    do j = 1, n
      do i = 1, j
        do k = j - 1 + 1, n
          a(j, i) = a(j, i) + 0.25_dp*w(i)*a(j, k)
        end do
      end do
    end do
    ! a simd reduction (into wb(j)) whose bounds use j: the descending backward j loop
    ! counts upwards (ad/simd.py count_up)
    do j = 1, n
      do i = j, n
        x(i) = x(i) + w(j)*a(i, j)
      end do
    end do
    ! both arms record x(i) first: one record before the IF (ad/block_tape.py common_record),
    ! which the loop then pushes as the slice x(1:n)
    do i = 1, n
      if (w(i) > 0.4_dp) then
        x(i) = x(i)**2
      else
        x(i) = sin(x(i))
      end if
    end do
    ! must not move: the arms record different elements
    do i = 1, n
      if (w(i) > 0.4_dp) then
        x(i) = x(i)**2
      else
        a(i, 1) = sin(a(i, 1))
      end if
    end do
    ! the two terms of xb(j)'s reduction share the sum of w(i)*ab(i, j) (ad/reduce.py)
    do j = 1, n
      do i = 1, n
        a(i, j) = a(i, j) + x(j)*w(i)*x(j)
      end do
    end do
    ! xb(i) and xb(j) are incremented over i and meet at i = j: increments commute, so the
    ! sum into xb(j) is added after the simd loop and xb(i) stays in it (ad/simd.py _mixed)
    do j = 1, n
      do i = j, n
        a(i, j) = a(i, j) + x(i)*x(j)
      end do
    end do
    ! must not: x(i) may be x(j), so the adjoint resets and reads xb(j) in the loop
    do j = 1, n
      do i = j, n
        x(j) = x(j) + 0.5_dp*x(i)
      end do
    end do
    ! both arms record x(i) first, the branch is taped (a(i, 2) changes after the IF): the
    ! record goes before the IF and below the branch record on the tape
    do i = 1, n
      if (a(i, 2) > 0.0_dp) then
        x(i) = x(i)**2
      else
        x(i) = sin(x(i))
      end if
      a(i, 2) = a(i, 2)*w(i) - 0.1_dp
    end do
    cost = sum(x) + sum(a)
  end subroutine head
end module increments
