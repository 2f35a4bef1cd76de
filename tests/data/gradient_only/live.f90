! Cases for the gradient-only adjoint (fortran_ad/ad/liveness.py): dead statements whose
! adjoints read their own target, later live writes of that target, loops, branches.
module live_cases
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: scale_m = 1.5_dp  ! a module variable: its writes stay
contains

  !> w = w*w is dead (w is overwritten before anyone reads it) but its adjoint reads w;
  !! the live w = y(1) that follows overwrites w: the record of the dead statement stays
  subroutine reuse(n, x, y, w, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), y(n)
    real(dp), intent(inout) :: w
    real(dp), intent(out) :: cost
    real(dp) :: c2
    w = w + x(1)
    w = w*w
    cost = w
    w = y(1)*x(2)
    c2 = w*x(n)
    cost = cost + c2
  end subroutine reuse

  !> a loop whose temporaries are dead at the end of each iteration, a final in-place
  !! update of an output nobody reads, a branch computing only dead values
  subroutine loopy(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(inout) :: x(n)
    real(dp), intent(in) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: t, s, z(n)
    integer :: i
    cost = 0.0_dp
    do i = 1, n
      t = x(i)*x(i)
      s = sin(t)
      cost = cost + s*y(i)
      t = exp(y(i))*t
    end do
    z = x*x
    if (cost > 0.0_dp) then
      x = sqrt(z) + x*scale_m
    else
      x = z - x
    end if
    cost = cost + sum(x*x)
    scale_m = scale_m + 0.0_dp
    x = 2.0_dp*x
  end subroutine loopy

  !> only the ELSE reads q: its statements count too
  subroutine branchy(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), y(n)
    real(dp), intent(out) :: cost
    real(dp) :: q(n), t
    q = exp(y)
    if (x(1) > 10.0_dp) then
      t = 1.0_dp
    else
      t = q(1)
    end if
    cost = t*x(n)
  end subroutine branchy

  !> y(q, :) is a slab of iteration q alone (its in-place update is dead), x(:, q) is read
  !! by iteration q + 1 as x(:, q - 1) (its update stays)
  subroutine slabs(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(inout) :: x(n, n), y(n, n)
    real(dp), intent(out) :: cost
    real(dp) :: t(n)
    integer :: q
    cost = 0.0_dp
    do q = 2, n
      t = sin(x(:, q - 1))
      x(:, q) = t*x(:, q)
      y(q, :) = y(q, :)*t
      y(q, 1) = y(q, 1) + x(1, q)
    end do
    cost = sum(x) + sum(y)
  end subroutine slabs
  !> independent steps (every step writes t, z(:, k) and d(k) before reading them): when the
  !! loop is checkpointed every iteration, its snapshots are empty and nothing it leaves is
  !! read afterwards (the adjoint of cost = sum(z) reads nothing), so only its re-runs run;
  !! d is a diagnostic nobody reads (gone from the re-runs as well)
  subroutine stepped(n, x, y, z, d, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n, n), y(n, n)
    real(dp), intent(out) :: z(n, n), d(n), cost
    real(dp) :: t(n)
    integer :: k
    do k = 1, n
      t = sin(x(:, k))*x(:, k)
      z(:, k) = y(:, k)*t + cos(t)
      d(k) = t(1)*t(n)
    end do
    cost = sum(z)
  end subroutine stepped

  !> the same steps, but the adjoint of cost = sum(z*z) reads z: the forward sweep stays
  subroutine stepped_live(n, x, y, z, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n, n), y(n, n)
    real(dp), intent(out) :: z(n, n), cost
    real(dp) :: t(n)
    integer :: k
    do k = 1, n
      t = sin(x(:, k))*x(:, k)
      z(:, k) = y(:, k)*t + cos(t)
    end do
    cost = sum(z*z)
  end subroutine stepped_live
end module live_cases
