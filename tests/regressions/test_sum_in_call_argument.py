"""Regression (found by scripts/fuzz.py): SUM inside an actual argument of a user routine.

``call scale(n, y, 0.5_dp*sum(x))`` is refused with "no derivative rule for 'sum' applied to
active data": the argument is moved into a temporary after SUM/array syntax were turned into
loops (normalize/__init__.py runs the Scalarizer on assignments before _Hoister creates new
ones), so the temporary's SUM is never scalarized.
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
  subroutine scale(n, b, c)
    integer, intent(in) :: n
    real(dp), intent(inout) :: b(n)
    real(dp), intent(in) :: c
    b = b*c
  end subroutine scale

  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    call scale(n, y, 0.5_dp*sum(x))
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_sum_in_an_actual_argument(tmp_path: Path) -> None:
    src = tmp_path / "sumarg.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y", head="head", sizes={"n": 5}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
