!> Programs where an overwritten value IS read by an earlier statement's adjoint (the
!! to-be-recorded analysis must keep the push) next to ones where it is not (it may drop it).
module tbr_cases
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains

  !> t carries from one iteration to the next and the adjoint of y(i) reads the old t
  subroutine scalar_carry(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y(n), cost
    real(dp) :: t
    integer :: i
    t = 0.5_dp
    do i = 1, n
      y(i) = t*x(i)
      t = sin(x(i)) + t*t
    end do
    cost = t
    do i = 1, n
      cost = cost + y(i)
    end do
  end subroutine scalar_carry

  !> a(i) reads its neighbour a(i-1): the array stays recorded
  subroutine neighbour(n, a, cost)
    integer, intent(in) :: n
    real(dp), intent(inout) :: a(n)
    real(dp), intent(out) :: cost
    integer :: i
    do i = 2, n
      a(i) = a(i-1)*a(i) + cos(a(i))
    end do
    cost = 0
    do i = 1, n
      cost = cost + a(i)*a(i)
    end do
  end subroutine neighbour

  !> z is read (as a coefficient) before it is squared in place, then read again
  subroutine reread(n, x, z, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: z(n)
    real(dp), intent(out) :: cost
    integer :: i
    cost = 0
    do i = 1, n
      cost = cost + x(i)*z(i)
    end do
    do i = 1, n
      z(i) = z(i)*z(i)
    end do
    do i = 1, n
      cost = cost + z(i)*x(i)
    end do
  end subroutine reread

  !> tmp is rebuilt in every phase after the previous phase's adjoint read it
  subroutine phases(n, a, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n, n)
    real(dp), intent(inout) :: x(n)
    real(dp), intent(out) :: cost
    real(dp) :: tmp(n)
    integer :: i, k, p
    cost = 0
    do p = 1, 3
      do i = 1, n
        tmp(i) = 0
        do k = 1, n
          tmp(i) = tmp(i) + a(i, k)*x(k)
        end do
      end do
      do i = 1, n
        x(i) = 0.5_dp*x(i) + 0.1_dp*tmp(i)*tmp(i)
        cost = cost + tmp(i)*x(i)
      end do
    end do
  end subroutine phases

  !> the branch is re-evaluated backwards from c, which a later statement changes
  subroutine branch(n, x, c, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: c
    real(dp), intent(out) :: cost
    integer :: i
    cost = 0
    do i = 1, n
      if (x(i) > c) then
        cost = cost + x(i)*x(i)
      else
        cost = cost + c*x(i)
      end if
      c = c + 0.05_dp*x(i)
    end do
  end subroutine branch

  !> the adjoint of c = c*beta reads only the element it overwrites; later updates add only
  subroutine own_element(n, beta, x, c, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: beta, x(n)
    real(dp), intent(inout) :: c(n)
    real(dp), intent(out) :: cost
    integer :: i, k
    do i = 1, n
      c(i) = c(i)*beta
      do k = 1, n
        c(i) = c(i) + x(k)*x(i)
      end do
      c(i) = c(i)*c(i)
    end do
    cost = 0
    do i = 1, n
      cost = cost + c(i)
    end do
  end subroutine own_element

  subroutine weigh(n, w, x, s)
    integer, intent(in) :: n
    real(dp), intent(in) :: w(n), x(n)
    real(dp), intent(inout) :: s
    integer :: i
    do i = 1, n
      s = s + w(i)*x(i)**2
    end do
  end subroutine weigh

  !> a callee's adjoint re-runs it backwards with w, which the next iteration overwrites
  subroutine call_reader(n, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: cost
    real(dp) :: w(n)
    integer :: i, it
    cost = 0
    do it = 1, 3
      do i = 1, n
        w(i) = x(i)*it + cost
      end do
      call weigh(n, w, x, cost)
    end do
  end subroutine call_reader
end module tbr_cases
