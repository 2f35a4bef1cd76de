!> Working precision of the NPBench kernels.
module npb_kinds
  implicit none
  private
  integer, parameter, public :: dp = selected_real_kind(12, 200)
end module npb_kinds
