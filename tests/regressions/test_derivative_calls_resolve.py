"""Invariant: every generated call to a derivative routine resolves to an emitted routine.

A call to ``bar_b`` that nothing emits used to surface only at link time ("undefined reference to
bar_b"). ad/invariants/emitted_calls.py notes every routine the emitter writes and the calls of its
body, and refuses a call to a derivative routine that was not written with a located internal error.
A function differentiated only through its uses inside expressions (also ones only another
derivative reaches) is emitted and linked.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from fortran_ad import api
from fortran_ad.ad.invariants import emitted_calls
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir

SOURCE = """\
real(8) function baz(a)
  implicit none
  real(8), intent(in) :: a
  baz = a*a
end function baz

module fexpr
  implicit none
contains
  real(8) function bar(a)
    real(8), intent(in) :: a
    real(8), external :: baz
    bar = baz(a) + sin(a)
  end function bar
  subroutine head(x, y)
    real(8), intent(in) :: x(2)
    real(8), intent(out) :: y
    integer :: i
    y = 0
    do i = 1, 2
      if (bar(x(i)) > 0) y = y + bar(x(i))*x(3-i) + bar(bar(x(1)))
    end do
  end subroutine head
end module fexpr
"""


@pytest.mark.gfortran
def test_functions_called_only_in_expressions_link(tmp_path: Path) -> None:
    src = tmp_path / "fexpr.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()


def test_call_to_a_derivative_nobody_emitted_is_refused() -> None:
    loc = ir.SourceLoc("m.f90", 12, 3)
    plan = SimpleNamespace(mode="reverse", program=SimpleNamespace(routines={"head": 0, "bar": 0}))
    call = ir.CallStmt("bar_b", (ir.Name("x"), ir.Name("xb")))
    emitted_calls.note(plan, "head_b", [ir.If(((ir.Name("c"), (call,)),))], loc)
    with pytest.raises(FortranADError) as err:
        emitted_calls.verify(plan)
    text = str(err.value)
    assert text.startswith("m.f90:12:3: error: internal error") and "bar_b" in text
    emitted_calls.note(plan, "bar_b", [], loc)
    emitted_calls.verify(plan)  # now bar_b exists
