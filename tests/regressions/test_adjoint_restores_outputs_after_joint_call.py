"""Regression: the adjoint routine must leave the primal outputs as the primal does, also when
a callee's adjoint re-runs the callee (joint mode) in the backward sweep.

``call sq(x, y); y = 2.0_dp*y``: y is not needed by the backward sweep (the adjoint of
``y = 2*y`` has the constant coefficient 2), so head_b does not save y's final value; then
``sq_b`` recomputes y = x*x and head_b returns y = x**2 instead of 2*x**2 (the check's
adjoint_primal rows fail; derivatives are right). Found by tests/regressions/
test_cross_module_call.py's first version.
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
  subroutine sq(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    y = x*x
  end subroutine sq

  subroutine head(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    call sq(x, y)
    y = 2.0_dp*y
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_outputs_written_by_a_call_then_updated_linearly(tmp_path: Path) -> None:
    src = tmp_path / "joint.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()
