"""Regression (found while adding derived types): a function typed in its prefix with a kind,
``real(dp) function sq(x)``, had a passive result: the frontend kept the prefix as the text
``real(kind = dp)`` for the result's type, which is not "real", so activity dropped the result
and the derivative through the function was silently zero (frontend/lower.py _lower_routine).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module pref
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  real(dp) function sq(x)
    real(dp), intent(in) :: x
    sq = x**2
  end function sq
  subroutine pref_run(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    y = sq(x) + x
  end subroutine pref_run
end module pref
"""


@pytest.mark.gfortran
def test_prefix_typed_function_result_is_active(tmp_path: Path) -> None:
    src = tmp_path / "pref.f90"
    src.write_text(SOURCE)
    report = api.check([str(src)], wrt=["x"], of=["y"], modes=("reverse", "forward"))
    assert report.ok, report.table()
