module sections
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  elemental real(dp) function soft(a)
    real(dp), intent(in) :: a
    soft = a/(1.0_dp + a**2)
  end function soft

  subroutine axpy(m, a, b)
    integer, intent(in) :: m
    real(dp), intent(in) :: a(m)
    real(dp), intent(inout) :: b(m)
    b = b + 0.5_dp*a*b
  end subroutine axpy

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: z(n, 2)
    z(:, 2) = x*y
    z(:, 1) = z(:, 2)                   ! disjoint columns of one array
    y(2:n) = y(1:n-1) + z(2:n, 1)       ! overlapping: the loop runs backwards
    y(1:n-1) = y(2:n)*z(1:n-1, 2)       ! overlapping: forwards
    y(2:n-1) = y(1:n-2) + 0.5_dp*y(3:n) ! reads both ways: through a temporary
    y(1:n:2) = 2.0_dp*y(1:n:2) + soft(x(1:n:2))
    call axpy(n - 1, x(2:n), y(1:n-1))  ! sections as actual arguments
    y = soft(y) + x
    cost = sum(y**2)
  end subroutine head
end module sections
