"""Regression (found by scripts/fuzz.py): a named DO construct in a reversed routine.

``outer: do i = 1, n ... end do outer`` appears twice in the adjoint, in the forward sweep and
reversed in the backward sweep, both times named ``outer``: gfortran rejects the duplicate
construct label. The reversed copy needs no name, or a fresh one (with EXIT/CYCLE renamed).
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
  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    integer :: i
    cost = 0.0_dp
    outer: do i = 1, n
      if (i == n - 1) cycle outer
      y(i) = y(i)*sin(x(i))
      cost = cost + y(i)**2
    end do outer
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_named_do_loop_in_a_reversed_routine(tmp_path: Path) -> None:
    src = tmp_path / "named.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 6}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
