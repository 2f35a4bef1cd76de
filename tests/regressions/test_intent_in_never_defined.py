"""Regression: generated code must not define an INTENT(IN) dummy.

``mid`` passes its INTENT(IN) ``x`` to ``inner``, whose dummy has no INTENT and is written only
under a flag that is false here. The joint adjoint of ``mid`` pushed ``x`` before the call and
popped it back ("restoring" it), and the tangent declared ``inner_d``'s derivative dummy
INTENT(INOUT) and passed ``mid_d``'s INTENT(IN) ``xd`` to it: gfortran rejected both. Now a callee
is never taken to redefine an INTENT(IN) dummy of its caller, derivative dummies of intent-less
dummies have no intent either, and ad/invariants/intent_check.py refuses, at generation, any
generated statement defining an INTENT(IN) dummy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.ad.invariants import intent_check
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir

SOURCE = """\
module c4
  implicit none
contains
  subroutine inner(a, y, reset)
    real(8) :: a(:)
    real(8), intent(inout) :: y
    logical, intent(in) :: reset
    y = y*a(1) + sin(a(2))
    if (reset) a = 0
  end subroutine inner
  subroutine mid(x, y)
    real(8), intent(in) :: x(:)
    real(8), intent(inout) :: y
    call inner(x, y, .false.)
    y = y*x(1)*x(2)
  end subroutine mid
  subroutine head(x, y)
    real(8), intent(in) :: x(2)
    real(8), intent(out) :: y
    integer :: i
    y = 1
    do i = 1, 3
      call mid(x, y)
    end do
  end subroutine head
end module c4
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("calls", ["joint", "split"])
def test_intent_in_actual_of_intentless_dummy(tmp_path: Path, calls: str) -> None:
    src = tmp_path / "c4.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"), calls=calls)
    assert report.ok, report.table()


def test_definition_of_intent_in_dummy_is_refused() -> None:
    loc = ir.SourceLoc("m.f90", 7, 3)
    body = [ir.If(((ir.Name("flag"), (ir.CallStmt("fad_pop", (ir.Name("x"),)),)),))]
    with pytest.raises(FortranADError) as err:
        intent_check.check(body, {"x"}, "mid_b", loc)
    assert str(err.value).startswith("m.f90:7:3: error: internal error")
    assert "call fad_pop(x)" in str(err.value)
    intent_check.check(body, {"y"}, "mid_b", loc)  # x is not INTENT(IN) there: no error
