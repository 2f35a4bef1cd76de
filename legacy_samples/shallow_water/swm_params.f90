!> Constants of the shallow-water model (SWM).
!!
!! The grid spacing and the physical constants are fixed at compile time, as in
!! most small research codes; the time step and grid size come from the caller.
module swm_params
  implicit none
  private

  integer, parameter, public :: dp = selected_real_kind(12, 200)

  real(dp), parameter, public :: grav = 9.81_dp       !< gravitational acceleration [m s-2]
  real(dp), parameter, public :: h_ref = 10.0_dp      !< resting layer depth [m]
  real(dp), parameter, public :: dx = 1.0e4_dp        !< zonal grid spacing [m]
  real(dp), parameter, public :: dy = 1.0e4_dp        !< meridional grid spacing [m]
  real(dp), parameter, public :: f0 = 1.0e-4_dp       !< Coriolis parameter at the channel centre [s-1]
  real(dp), parameter, public :: beta = 1.6e-11_dp    !< meridional gradient of f [m-1 s-1]
  real(dp), parameter, public :: nu_visc = 5.0e3_dp   !< Laplacian eddy viscosity [m2 s-1]
  real(dp), parameter, public :: r_drag = 1.0e-6_dp   !< linear bottom drag [s-1]

end module swm_params
