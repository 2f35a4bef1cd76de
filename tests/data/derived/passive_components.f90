!> Per-component activity: grid_t has a real geometry field (area, dx) filled from passive data,
!> an integer count and a real mask, next to the active field h. The derivative objects never
!> touch the passive components (checked in the generated text), and the derivatives are right.
module passive_components
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type grid_t
    real(dp), allocatable :: h(:)
    real(dp), allocatable :: area(:)
    real(dp) :: dx
    real(dp) :: mask(4)
    integer :: nsteps = 0
  end type grid_t
contains
  subroutine setup(g, n, x)
    type(grid_t), intent(out) :: g
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    integer :: i
    allocate(g%h(n), g%area(n))
    g%dx = 1.0_dp/n
    do i = 1, n
      g%area(i) = g%dx*(1.0_dp + 0.1_dp*i)
      g%h(i) = x(i)
    end do
    g%mask = [1.0_dp, 0.0_dp, 1.0_dp, 1.0_dp]
  end subroutine setup

  subroutine advance(g)
    type(grid_t), intent(inout) :: g
    integer :: i
    do i = 2, size(g%h)
      g%h(i) = g%h(i) + g%mask(1 + mod(i, 4))*g%area(i)*g%h(i - 1)**2
    end do
    g%nsteps = g%nsteps + 1
  end subroutine advance

  subroutine pc_run(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    type(grid_t) :: g, g0
    integer :: t
    call setup(g, n, x)
    g0 = g
    do t = 1, 2
      call advance(g)
    end do
    y = sum(g%h*g%area) + g0%h(1)*g%dx
  end subroutine pc_run
end module passive_components
