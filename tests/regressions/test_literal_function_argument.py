"""Regression (found by scripts/fuzz.py): a real literal as an actual argument of a user
function, ``y = f(x, 1.5_dp)``.

fparser cannot tell ``f(x, 1.5_dp)`` from a structure constructor and returns a
Structure_Constructor; frontend/lower_expr.py has no handler for it, so the call becomes an
OpaqueExpr and the differentiation is refused ("cannot differentiate 'f(x, 1.5_dp)' (active
data in a construct fortran-ad does not model yet)"). ``f(x, 2.0_dp*x)`` or ``f(x, (1.5_dp))``
work.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function f(a, c) result(res)
    real(dp), intent(in) :: a
    real(dp), intent(in) :: c
    real(dp) :: res
    res = c*a*a
  end function f

  subroutine head(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    y = f(x, 1.5_dp) + f(2.0d0, x)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_literal_actual_argument_of_a_function(tmp_path: Path) -> None:
    src = tmp_path / "litarg.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()
