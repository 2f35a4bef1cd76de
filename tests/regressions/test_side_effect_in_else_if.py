"""Regression: a function with side effects referenced in an ELSE IF condition.

``else if (f(x(1), y) > 0)`` changes ``y`` only when the conditions before it are false.
Normalization hoisted such references out of the first condition of an IF construct only,
so a later one stayed inside the condition and the tangent referenced ``f`` as its primal,
losing the derivative of its side effect (stopped by the side-effect invariant with an
internal error). The construct now nests (``else; if (f(...)) ...``) and the reference is
hoisted in front of the inner IF, inside the ELSE, where it is evaluated exactly when the
original one is (normalize/__init__.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function f(a, b) result(res)
    real(dp), intent(in) :: a
    real(dp), intent(inout) :: b
    real(dp) :: res
    res = a - 0.3_dp
    b = b*a + 0.1_dp
  end function f

  subroutine head(x, y, cost)
    real(dp), intent(in) :: x(2)
    real(dp), intent(inout) :: y
    real(dp), intent(out) :: cost
    cost = 0.0_dp
    if (x(1) > LIMIT) then
      cost = x(2)
    else if (f(x(1), y) > 0.0_dp) then
      cost = cost + x(2)**2
    else if (f(x(2), y) > 0.0_dp) then
      cost = cost - x(1)*y
    end if
    cost = cost + y**2
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("limit", ["5.0_dp", "-5.0_dp"], ids=["else-if", "if"])
def test_side_effect_function_in_else_if(tmp_path: Path, limit: str) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE.replace("LIMIT", limit))
    report = api.check(src, wrt="x,y", of="y,cost", head="head")
    assert report.ok, report.table()
    assert {"fd_tangent", "fd_adjoint", "vector_dot"} <= {r.test for r in report.rows}
