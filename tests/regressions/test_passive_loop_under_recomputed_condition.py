"""Regression (found by scripts/fuzz.py, seed 300044): a passive DO loop inside an IF the
backward sweep re-evaluates, in a DO WHILE.

``sum(x(2:n - 1:2))`` becomes a loop over ``fad_i1``, an index the backward sweep needs
elsewhere, so the passive loop still pushes and pops it (ad/core/adjoint.py ``_do``). The needed
analysis (ad/core/needed.py ``_has_reverse``) did not count that as backward content, so the
IF's condition ``mod(m, 3) == 2`` was not needed, ``m = m + 1`` was not recorded, and the
backward loop re-evaluated the condition with the last ``m`` in every iteration: pops out of
order, 4 bytes left on the tape (with a caller's records under them, a silent wrong value).
The invariant ``_restored`` (ad/core/adjoint.py) now refuses any re-evaluated backward condition
reading a variable the sweep does not restore.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SRC = """\
module tw_mod
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    integer :: m
    cost = 0.0_dp
    m = 0
    do while (m < 4)
      m = m + 1
      CONSTRUCT
    end do
    y = y*x
  end subroutine head
end module tw_mod
"""
IF = """if (mod(m, 3) == 2) then
        cost = cost + 0.05_dp*sum(x(2:n - 1:2))
      end if"""
SELECT = """select case (mod(m, 3))
        case (2)
          cost = cost + 0.05_dp*sum(x(2:n - 1:2))
      end select"""


@pytest.mark.gfortran
@pytest.mark.parametrize("construct", [IF, SELECT], ids=["if", "select"])
def test_passive_loop_under_recomputed_condition(tmp_path: Path, construct: str) -> None:
    path = tmp_path / "tw.f90"
    path.write_text(SRC.replace("CONSTRUCT", construct))
    for rewrites in ("none", ""):
        report = api.check(
            [path], wrt="x,y", of="y", head="head", sizes={"n": 9},
            modes=("reverse", "vector-reverse"), rewrites=rewrites,
        )  # fmt: skip
        assert report.ok, report.table()
