"""Regression (found by scripts/fuzz.py's differential test, batch of seeds 7311460..7311464):
the recompute rewrite re-ran ``fad_tmp1 = 0.4*abs(w2(kk) + 3)`` at the top of each backward
iteration, reading ``w2`` and ``kk``, which nothing changes after the loop. In a joint adjoint
they still hold those values; in a split callee ``<name>_bwd`` is a routine of its own and only
the needed locals are handed over from ``<name>_fwd`` (``x`` is passive here, so ``kk`` and
``w2`` were not needed): ``kk`` was uninitialised there (an index out of bounds under
-fcheck=all, else a read of any element). What a re-run definition reads is now needed
(ad/rewrites/recompute.py ``_declare_reads``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function f(n, y, c) result(r)
    integer, intent(in) :: n
    real(dp), intent(in) :: y(n), c
    real(dp) :: r
    r = c*y(1)**2
  end function f

  subroutine callee(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: w2(n)
    integer :: i, kk
    w2 = 0.5_dp*x
    kk = 1
    do i = n - 1, 2, -1
      y(i - 1) = f(n, y, 0.4_dp*abs(w2(kk) + 3.0_dp))
    end do
    cost = sum(y*y) + sum(w2)
  end subroutine callee

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    call callee(n, x, y, cost)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_split_callee_recomputes_from_handed_over_locals(tmp_path: Path) -> None:
    src = tmp_path / "split.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="y", of="y,cost", head="head", sizes={"n": 7},
        modes=("reverse",), calls="split",
    )  # fmt: skip
    assert report.ok, report.table()
