!> Types of the column-ensemble sample: one atmospheric column (allocatable temperature and
!! moisture profiles, a surface pressure, passive identifiers and level mask) and the ensemble parameters.
module col_types
  implicit none
  integer, parameter :: wp = kind(1.0d0)

  type column_t
    real(wp), allocatable :: t(:)   ! temperature profile [K]
    real(wp), allocatable :: q(:)   ! specific humidity profile [kg/kg]
    real(wp) :: ps                  ! surface pressure [hPa]
    real(wp) :: flux(2)             ! surface fluxes of heat and moisture
    logical, allocatable :: wet(:)  ! levels where condensation acts (passive)
    integer :: id = 0
  end type column_t
end module col_types
