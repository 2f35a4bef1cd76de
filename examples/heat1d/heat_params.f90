!> Kinds and physical constants of the 1-D heat example.
module heat_params
  implicit none
  private

  integer, parameter, public :: dp = kind(1.0d0)

  !> Length of the rod; the grid spacing is rod_length/(n + 1).
  real(dp), parameter, public :: rod_length = 1.0_dp

end module heat_params
