"""Regression (found by scripts/fuzz.py, seed 7200967): a module variable a callee's primal
reads, which the caller overwrites after the call, must be restored before the callee's
adjoint runs, even when the callee's backward sweep itself never reads it.

``f`` computes ``acc = 0.5*a + gs`` and returns ``tanh(acc)``: its adjoint re-runs that
assignment (its forward sweep) to get ``acc`` for the derivative of ``tanh``. The head sets
``gs = 0.5`` (passive at the call), calls ``f`` and then overwrites ``gs``. Only globals some
backward sweep reads were saved, so ``gs`` was not: ``f_b`` recomputed ``acc`` from the final
``gs`` and the adjoint of ``x`` was silently wrong (relative error ~5e-5 in the fuzz program,
0.11 here), while the tangent was right.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: gs
contains
  function f(a) result(r)
    real(dp), intent(in) :: a
    real(dp) :: r, acc
    acc = 0.5_dp*a + gs
    r = tanh(acc)
  end function f

  subroutine g(a, r)
    real(dp), intent(in) :: a
    real(dp), intent(out) :: r
    real(dp) :: acc
    acc = 0.5_dp*a + 2.0_dp*gs
    r = tanh(acc)
  end subroutine g

  subroutine head(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    real(dp) :: r
    gs = 0.5_dp
    y = f(x)
    call g(x, r)
    gs = 0.25_dp*gs + 2.0_dp*x
    y = y + r + gs
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_global_read_by_a_callee_recomputation_is_restored(tmp_path: Path) -> None:
    src = tmp_path / "recompute.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()
