!> WHERE inside FORALL: a FORALL mask, WHERE/ELSEWHERE on a row, a WHERE mask that reads the
!> array the WHERE assigns (stored per row before the row's assignments), a nested WHERE.
subroutine wif(n, x, y, cost)
  integer, intent(in) :: n
  real(8), intent(in) :: x(n, 4)
  real(8), intent(inout) :: y(n, 4)
  real(8), intent(out) :: cost
  integer :: i
  forall (i = 1:n, x(i, 1) > 0.2d0)
    where (y(i, :) > 1.0d0)
      y(i, :) = y(i, :)*x(i, :) + 0.5d0
    elsewhere
      y(i, :) = sin(x(i, :)) + y(i, :)**2
      where (x(i, :) > 0.6d0) y(i, :) = y(i, :) + x(i, :)**3
    end where
  end forall
  cost = sum(y**2)
end subroutine wif
