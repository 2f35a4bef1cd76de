"""Regression (found by scripts/fuzz.py): a private module function whose result is passive
although its argument is active.

``f`` gets a tangent routine (its dummy ``a`` is active), but its result does not depend on
``a``, so the tangent of ``y = x*f(x)`` calls the primal ``f``. ``f`` is private in ``m`` and
emit.py's _private_routines copies, in tangent mode, only callees without a derivative: ``f``
is not copied and gfortran stops with "Function 'f' has no IMPLICIT type" in m_d.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  private :: f
contains
  function f(a) result(r)
    real(dp), intent(in) :: a
    real(dp) :: r, t
    t = a*a
    r = 2.0_dp
  end function f

  subroutine head(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    y = x*f(x)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_private_function_called_as_primal_by_tangent_code(tmp_path: Path) -> None:
    src = tmp_path / "private.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()
