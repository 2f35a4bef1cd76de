!> An IF whose arms all overwrite x(i) first (ad/block_tape.py common_record). Its condition
!> reads the passive s, which the arms change, so the branch taken is taped; x(i) is recorded
!> once before the IF and restored once before the backward arms.
module branches
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, w, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: w(n)
    real(dp), intent(inout) :: x(n)
    real(dp), intent(out) :: cost
    real(dp) :: s
    integer :: i
    cost = 0.0_dp
    s = 0.0_dp
    do i = 1, n
      if (s > 0.4_dp) then
        x(i) = x(i)*x(i)*w(i)
        s = s - 0.7_dp
      else if (s > 0.2_dp) then
        x(i) = exp(x(i))
        s = s + 0.1_dp
      else
        x(i) = sin(x(i))*w(i)
        s = s + 0.3_dp
      end if
      cost = cost + x(i)*x(i)
    end do
  end subroutine head
end module branches
