!> Grid of the object-oriented sample: a type with PRIVATE components behind type-bound
!! getters, a constructor behind the type's generic name, and a private helper whose name the
!! model module uses too.
module oo_grid
  implicit none
  private
  public :: wp, grid_t

  integer, parameter :: wp = kind(1.0d0)

  type :: grid_t
    private
    integer :: n = 0
    real(wp) :: dx = 1.0_wp
  contains
    procedure, public :: get_n, get_dx
    procedure, public :: left, right
  end type grid_t

  interface grid_t
    module procedure new_grid
  end interface grid_t

contains

  type(grid_t) function new_grid(n, dx)
    integer, intent(in) :: n
    real(wp), intent(in) :: dx
    new_grid%n = checked(n)
    new_grid%dx = dx
  end function new_grid

  integer function checked(n)
    integer, intent(in) :: n
    checked = max(n, 3)
  end function checked

  integer function get_n(this)
    class(grid_t), intent(in) :: this
    get_n = this%n
  end function get_n

  real(wp) function get_dx(this)
    class(grid_t), intent(in) :: this
    get_dx = this%dx
  end function get_dx

  !> Periodic neighbours.
  integer function left(this, i)
    class(grid_t), intent(in) :: this
    integer, intent(in) :: i
    left = modulo(i - 2, this%n) + 1
  end function left

  integer function right(this, i)
    class(grid_t), intent(in) :: this
    integer, intent(in) :: i
    right = modulo(i, this%n) + 1
  end function right
end module oo_grid
