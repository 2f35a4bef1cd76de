"""Regression: a passive module (or COMMON) variable that a callee changes and some backward
sweep reads must be restored around the call like an active one.

Only globals that can carry derivatives were tracked (``activity.globals``), so an integer
index ``idx`` that ``bump`` increments was never saved: the adjoint of ``y = a(idx)**2``
before the call accumulated into ``ab(3)``, and the joint adjoint of ``hm`` (which reads
``idx``) ran with the value after the call. ad/core/globals.py ``visible``/``call_writes`` now
cover passive globals too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module g
  implicit none
  integer :: idx = 1
  integer :: ic
  common /cidx/ ic
contains
  subroutine bump(p)
    real(8), intent(inout) :: p
    p = p*p
    idx = idx + 1
  end subroutine bump
  subroutine hm(p)
    real(8), intent(inout) :: p
    p = p*p*idx
    idx = idx + 1
  end subroutine hm
  subroutine hc(p)
    real(8), intent(inout) :: p
    p = p*ic + p*p
    ic = ic + 2
  end subroutine hc
  subroutine head(a, cost)
    real(8), intent(inout) :: a(8)
    real(8), intent(out) :: cost
    real(8) :: y, w
    idx = 2
    y = a(idx)**2
    call bump(a(5))
    call hm(a(1))
    call hm(a(2))
    ic = 1
    w = a(ic + 5)*a(4)
    call hc(a(7))
    call hc(a(8))
    cost = sum(a) + y + w
  end subroutine head
end module g
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("calls", ["joint", "split"])
def test_passive_global_the_callee_changes(tmp_path: Path, calls: str) -> None:
    src = tmp_path / "passive_global.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="a", of="cost", head="head", modes=("reverse", "forward"), calls=calls
    )
    assert report.ok, report.table()
