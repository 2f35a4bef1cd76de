"""Regression (found by scripts/fuzz.py): the adjoint of a DO loop with a step other than +-1
must run zero times when the primal loop does.

``do j = i + 1, n - 1, 2`` with i = n - 1 has no iteration. The reversed loop starts at
``start + ((stop - start)/step)*step``; Fortran's division truncates toward zero, so for
stop - start = -1 the start is ``start`` itself and the reversed loop runs once: it pops a value
that was never pushed (tape underflow), or reads out of bounds.
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
    integer :: i, j
    do i = 2, n - 1
      do j = i + 1, n - 1, 2
        y(j) = y(j)*x(i)
      end do
    end do
    do i = n, 2, -1
      do j = i - 1, 3, -2
        y(j) = y(j)*x(i)
      end do
    end do
    cost = sum(y)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_zero_trip_strided_loops_are_not_reversed_once(tmp_path: Path) -> None:
    src = tmp_path / "strided.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 6}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
