"""Regression: a dummy declared without INTENT that the routine never writes.

``kern(cfg, u)`` declares ``type(cfg_t) :: cfg`` without INTENT and only reads it; its caller
``step`` has ``cfg`` INTENT(IN). Joint calls recorded and restored ``cfg`` around each call
(``fad_pop`` of a derived-type object, which has no specific, and an ALLOCATE/DEALLOCATE of
the intent(in) dummy): gfortran rejected the adjoint. The intent is now inferred from what the
routine can write (analysis/intents.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

NO_INTENT = """\
module ni2
  implicit none
  type :: cfg_t
    real(8), allocatable :: c(:)
    integer :: n = 3
  end type
contains
  subroutine kern(cfg, u)
    type(cfg_t) :: cfg
    real(8), intent(inout) :: u(:)
    integer :: i
    do i = 1, size(u)
      u(i) = cfg%c(i)*sin(u(i))
    end do
  end subroutine
  subroutine step(cfg, u)
    type(cfg_t), intent(in) :: cfg
    real(8), intent(inout) :: u(:)
    integer :: k
    do k = 1, cfg%n
      call kern(cfg, u)
    end do
  end subroutine
  subroutine head(a, b)
    real(8), intent(in) :: a(4)
    real(8), intent(out) :: b(4)
    type(cfg_t) :: cfg
    allocate(cfg%c(4))
    cfg%c = 1.5d0
    b = a
    call step(cfg, b)
  end subroutine
end module
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("calls", ["joint", "auto"])
def test_dummy_without_intent_is_not_restored(tmp_path: Path, calls: str) -> None:
    (tmp_path / "ni.f90").write_text(NO_INTENT)
    report = api.check(tmp_path / "ni.f90", wrt="a", of="b", head="head",
                       modes=("reverse", "forward"), calls=calls)  # fmt: skip
    assert report.ok, report.table()
