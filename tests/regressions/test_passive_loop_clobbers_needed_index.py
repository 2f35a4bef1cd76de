"""Regression (found by scripts/fuzz.py): a passive DO loop reusing an integer that the
backward sweep still needs.

``k = 2; y(k) = y(k)**2`` needs k in the backward sweep; the later passive loop ``do k = 1, n``
leaves k = n + 1. The loop is not reversed (nothing active in it), and a DO writes its index
without an assignment statement, so k is neither saved nor restored: the adjoint of
``y(k) = y(k)**2`` reads y(n + 1) (out of bounds with -fcheck=all, wrong gradient without).
The same happens with EXIT loops whose index is read after the loop and then reused.
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
  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    integer :: k
    real(dp) :: t
    k = 2
    y(k) = y(k)**2
    t = 0.0_dp
    do k = 1, n
      t = t + x(k)
    end do
    y(1) = y(1) + t
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_index_of_a_later_passive_loop_is_restored(tmp_path: Path) -> None:
    src = tmp_path / "clobber.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="y", of="y", head="head", sizes={"n": 5}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
