"""Regression (found by scripts/fuzz.py, batch of seeds 20260101..20260105): a global that
other backward sweeps read is saved wherever it is overwritten, so an IF arm that only sets it
(``gs = sqrt(3.0)``) has reverse content (the pop), and the backward sweep evaluates the IF's
condition again. The needed set was closed (control of constructs with reverse content) before
such globals were added to it: the condition's ``kk`` and ``w1`` were not restored and the
re-evaluated-condition invariant stopped generation with an internal error. The needed set is
now closed again after every addition (ad/core/needed.py: ``close_needed``).

``head`` is a callee here: as the head of its own run ``gs`` is not needed in it.
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
  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: w1(n)
    integer :: kk
    cost = 0.0_dp
    w1 = 0.5_dp*x
    gs = 1.0_dp
    kk = 1
    if (gs/x(1) < 5.3_dp) then
      if (w1(kk)*w1(kk) < 5.3_dp) then
        cost = cost + x(kk)**2
      else
        gs = sqrt(3.0_dp)
      end if
    end if
    kk = 2
    y(1) = y(1)*x(kk)
    cost = cost + gs + 0.1_dp*sum(y**2)
  end subroutine head

  subroutine top(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    call head(n, x, y, cost)
  end subroutine top
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("of", ["y", "y,cost"])
def test_condition_of_an_arm_saving_a_global_is_restored(tmp_path: Path, of: str) -> None:
    src = tmp_path / "arm.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x,y", of=of, head="top", sizes={"n": 6})
    assert report.ok, report.table()
