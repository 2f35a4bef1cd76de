module cmod
  implicit none
contains
  subroutine misfit(n, u, j)
    integer, intent(in) :: n
    real(8), intent(in) :: u(n)
    real(8), intent(out) :: j
    j = sum(u**2)
  end subroutine
end module
