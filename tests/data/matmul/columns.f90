!> One matrix in several matrix-vector products (ad/column_updates.py): the rank-1 updates
!! of ``ab`` merge into one column loop only where nothing between them gets in the way.
module columns
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  !> mvt's shape: the two updates of ab merge
  subroutine both(n, a, x, w, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n, n), x(n), w(n)
    real(dp), intent(out) :: cost
    real(dp) :: y(n), z(n)
    y = matmul(a, x)
    z = matmul(w, a)
    cost = sum(y*y) + sum(z**3)
  end subroutine both

  !> x changes between the products: the update with the new x cannot move up past the
  !! restore of the old one, nor the old one down past it
  subroutine blocked(n, a, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n, n)
    real(dp), intent(inout) :: x(n)
    real(dp), intent(out) :: cost
    real(dp) :: y(n), z(n)
    y = matmul(a, x)
    x = x*x
    z = matmul(a, x)
    cost = sum(y*z)
  end subroutine blocked
end module columns
