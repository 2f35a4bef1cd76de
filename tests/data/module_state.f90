module state
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  integer, parameter :: nmax = 8
  real(dp) :: h(nmax), energy
  real(dp) :: coef = 0.3_dp
end module
module physics
  use state, only: h, energy, coef, dp
  implicit none
contains
  subroutine step(n)
    integer, intent(in) :: n
    integer :: i
    do i = 2, n
      h(i) = h(i) + coef*sin(h(i-1))*h(i)
    end do
    energy = energy + sum(h(1:n)**2)
  end subroutine
  subroutine run(n, nt, h0, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(in) :: h0(n)
    real(dp), intent(out) :: cost
    integer :: t
    h(1:n) = h0
    energy = 0
    do t = 1, nt
      call step(n)
    end do
    cost = energy + h(n)**3
  end subroutine
end module
