"""Regression (found by scripts/fuzz.py, seed 5171; the differential check blamed
``recompute``): a loop with no adjoint statements whose private scalar the recompute rewrite
takes (``kk = mod(3*i + 1, n) + 1``) must still give the scalar back its value from before the
loop in the backward sweep.

The scalar's per-iteration record was dropped (it is recomputed), but a loop without a
backward body returned early, without the one push/pop that keeps the value from before the
loop: the adjoint of ``z = ... y(kk) ...`` before the loop read the last iteration's ``kk``
and updated the wrong element of ``yb`` (silently).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module passive_loop
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: z
    integer :: i, kk
    cost = 0.0_dp
    kk = 1
    z = sin(y(kk))*x(kk)
    do i = 3, n - 2, 3
      cost = cost + sign(0.75_dp, 10.0_dp*real(mod(i, 2), dp) - 4.55_dp)
      kk = mod(3*i + 1, n) + 1
    end do
    cost = cost + z*z + 0.1_dp*sum(y**2)
  end subroutine head
end module passive_loop
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("checkpoint", ["ilp", "store-all"])
def test_recomputed_scalar_restored_after_passive_loop(tmp_path: Path, checkpoint: str) -> None:
    src = tmp_path / "passive_loop.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 6}, modes=("reverse",),
        checkpoint=checkpoint,
    )  # fmt: skip
    assert report.ok, report.table()
