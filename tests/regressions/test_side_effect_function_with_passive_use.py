"""Regression: a function with side effects (it changes a module variable and an INOUT
argument) referenced twice, once where its result is active and once in an IF condition
where it is not.

The function's result is active (the first reference), so ``side_effects`` took the second
reference, whose target only feeds the condition, for an ordinary passive assignment: the
adjoint ran the primal function and dropped the adjoints of what it changes (``gs``,
``w(n + 1 - i)``) — silently wrong in both reverse modes (relative error 0.98); the tangent
stopped at the invariant that no tangent references such a function as primal. Now a
reference with a passive target calls the derivative routine for its side effects, with a
scratch result derivative (``Routine.effects_result``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module se
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: gs
contains
  real(dp) function pull(x, w)
    real(dp), intent(in) :: x
    real(dp), intent(inout) :: w
    pull = x*gs + w
    gs = 0.5_dp*gs + sin(x)
    w = w*x
  end function pull

  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    real(dp) :: w(n), t
    integer :: i
    gs = 0.3_dp
    w = 0.5_dp*x
    y = 0
    do i = 1, n
      t = 2.0_dp*pull(x(i), w(i)) + x(n + 1 - i)
      if (pull(t, w(n + 1 - i)) > 0.1_dp) y = y + t*gs
      y = y + w(i)
    end do
  end subroutine head
end module se
"""


@pytest.mark.gfortran
def test_side_effects_of_a_reference_whose_result_is_passive(tmp_path: Path) -> None:
    src = tmp_path / "se.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", sizes={"n": 7})
    assert report.ok, report.table()
    assert {"fd_adjoint", "fd_tangent", "vector_dot"} <= {r.test for r in report.rows}


ARRAY_RESULT = """\
module sa
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function pull(n, a, b) result(res)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp), intent(inout) :: b(n)
    real(dp) :: res(n)
    res = 0.5_dp*tanh(a) + 0.1_dp*b
    b(1) = 0.5_dp*b(1) + 0.25_dp*tanh(sum(a))
  end function pull

  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    real(dp) :: w(n)
    w = 0.5_dp*x
    y = sum(pull(n, x, w)*x)
    if (sum(pull(n, x, w)) > 0.0_dp) y = y + 0.25_dp
    y = y + sum(w**2)
  end subroutine head
end module sa
"""


@pytest.mark.gfortran
def test_side_effects_of_an_array_valued_reference_whose_result_is_passive(
    tmp_path: Path,
) -> None:
    """The scratch result derivative has the result's shape (a scalar one did not compile:
    rank mismatch, fuzz seed 7409139)."""
    src = tmp_path / "sa.f90"
    src.write_text(ARRAY_RESULT)
    report = api.check(
        src, wrt="x", of="y", head="head", sizes={"n": 6}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
