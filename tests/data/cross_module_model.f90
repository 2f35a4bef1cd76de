module mmod
  use cmod
  implicit none
contains
  subroutine model(n, u, cost)
    integer, intent(in) :: n
    real(8), intent(inout) :: u(n)
    real(8), intent(out) :: cost
    u = sin(u)
    call misfit(n, u, cost)
  end subroutine
end module
