"""Regression (found by scripts/fuzz.py, batch of seeds 7075-7079): an --of output that does
not depend on the --wrt inputs, written through a call.

``call inner(x, y)`` with ``inner`` setting ``y = 2.0_dp``: no derivative flows, the call is
passive and neither derivative routine touches the output's derivative. The tangent leaves
``yd`` undefined (garbage, |yd| ~ 1e25 in the check) instead of 0, and the adjoint leaves the
seed ``yb`` as it came instead of zeroing it (the adjoint argument convention).
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
  subroutine inner(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    y = 2.0_dp
  end subroutine inner

  subroutine head(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    call inner(x, y)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_derivative_of_an_output_that_ignores_the_inputs_is_zero(tmp_path: Path) -> None:
    src = tmp_path / "constant.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()
