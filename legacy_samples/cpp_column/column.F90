! A vertical column with physics chosen at compile time, as operational models do:
!   -DDRAG          adds quadratic drag (active code exists only with it)
!   -DNLEV=<n>      is not needed: the column size is a dummy argument
#include "column_config.h"

module column
  implicit none
  integer, parameter :: wp = kind(1.0d0)
contains

  subroutine column_run(n, nt, u, forcing, cost)
    integer, intent(in) :: n, nt
    real(wp), intent(inout) :: u(n)
    real(wp), intent(in) :: forcing(n)
    real(wp), intent(out) :: cost
    real(wp) :: flux(n + 1)
    integer :: k, t
    do t = 1, nt
      flux(1) = 0.0_wp
      flux(n + 1) = 0.0_wp
      do k = 2, n
        flux(k) = DIFFUSIVITY*(u(k) - u(k - 1))
      end do
      do k = 1, n
        u(k) = u(k) + TIMESTEP*(flux(k + 1) - flux(k) + forcing(k))
#ifdef DRAG
        u(k) = u(k) - TIMESTEP*DRAG_COEF*u(k)*abs(u(k))
#endif
#if defined(DAMPING) && DAMPING > 0
        u(k) = u(k)*(1.0_wp - TIMESTEP*SQUARE(0.1_wp))
#endif
      end do
    end do
    cost = 0.0_wp
    do k = 1, n
      cost = cost + 0.5_wp*u(k)**2
    end do
  end subroutine column_run

end module column
