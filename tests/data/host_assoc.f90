module hm
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine outer(n, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: cost
    real(dp) :: acc, w(n)
    integer :: i
    acc = 0
    w = x
    do i = 1, n
      call bump(i)
    end do
    cost = acc**2
  contains
    subroutine bump(k)
      integer, intent(in) :: k
      acc = acc + exp(0.1_dp*w(k))*w(k)
      w(k) = w(k)*acc
    end subroutine
  end subroutine
end module
