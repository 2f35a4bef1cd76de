"""The statement-coverage invariant (frontend/coverage.py): every statement of the source is
lowered into the IR, kept verbatim, or an accounted delimiter; a lost one is a located error
naming its line. Checked here on IRs from which one statement was removed, and on the frontend
as it was before frontend/parts.py (it lost everything after a statement function followed by
a declaration, with exit status 0).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fortran_ad import driver
from fortran_ad.errors import FortranADError
from fortran_ad.frontend import lower
from fortran_ad.frontend.coverage import check_coverage, source_statements
from fortran_ad.frontend.preprocess import read_source
from fortran_ad.ir import nodes as ir

SOURCE = """\
module m
  implicit none
  type t
    real :: a; real :: b
  end type t
contains
  subroutine s(x, y)
    real, intent(in) :: x
    real, intent(out) :: y
    real :: w; integer :: i
    y = 0.0; w = x
    do i = 1, 3
      if (w > 1.0) w = w/2
      y = y + w &
        & * x  ! a comment; with a semicolon
    end do
    write(*, '(a)') 'done; !'
  end subroutine s
end module m
"""


def _lowered(tmp_path: Path) -> tuple:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE)
    source = read_source(str(src))
    return source, lower.lower_source(source)


def _routine(file: ir.SourceFile) -> ir.Routine:
    module = file.units[0]
    assert isinstance(module, ir.Module)
    return module.routines[0]


def _with_routine(file: ir.SourceFile, r: ir.Routine) -> ir.SourceFile:
    module = file.units[0]
    return replace(file, units=(replace(module, routines=(r,)),))


def test_statements_of_the_text() -> None:
    found = [(s.line, s.delimiter) for s in source_statements(SOURCE, False)]
    assert (4, False) in found and found.count((4, False)) == 2  # two statements after ;
    assert (11, False) in found and found.count((11, False)) == 2
    assert (15, False) not in found  # a continuation line
    assert (14, False) in found and (16, True) in found and (18, True) in found


@pytest.mark.parametrize("index", range(4))
def test_a_statement_removed_from_the_body_is_reported(tmp_path: Path, index: int) -> None:
    source, file = _lowered(tmp_path)
    r = _routine(file)
    statements = [s for s in r.body if not isinstance(s, ir.Comment)]
    lost = statements[index % len(statements)]
    body = tuple(s for s in r.body if s is not lost)
    check_coverage(source, file)  # the unmodified IR passes
    with pytest.raises(FortranADError, match="statement not lowered") as err:
        check_coverage(source, _with_routine(file, replace(r, body=body)))
    assert err.value.loc.line == lost.loc.line


def test_a_nested_statement_removed_is_reported(tmp_path: Path) -> None:
    source, file = _lowered(tmp_path)
    r = _routine(file)
    loop = next(s for s in r.body if isinstance(s, ir.Do))
    inner = tuple(s for s in loop.body if not isinstance(s, ir.Assign))
    body = tuple(replace(s, body=inner) if s is loop else s for s in r.body)
    with pytest.raises(FortranADError) as err:
        check_coverage(source, _with_routine(file, replace(r, body=body)))
    assert err.value.loc.line == 14


def test_a_declaration_removed_is_reported(tmp_path: Path) -> None:
    source, file = _lowered(tmp_path)
    r = _routine(file)
    lost = next(s for s in r.spec if isinstance(s, ir.TypeDecl) and s.loc.line == 10)
    spec = tuple(s for s in r.spec if s is not lost)  # one of the two declarations on line 10
    with pytest.raises(FortranADError) as err:
        check_coverage(source, _with_routine(file, replace(r, spec=spec)))
    assert err.value.loc.line == 10


def test_the_old_split_parts_bug_is_caught(tmp_path: Path, monkeypatch) -> None:
    """The lowering as it was: only the first specification and execution parts."""
    from fparser.two import Fortran2003 as F

    def first_parts(node, ctx):
        specs = [c for c in node.children if isinstance(c, F.Specification_Part)]
        execs = [c for c in node.children if isinstance(c, F.Execution_Part)]
        return (specs[0] if specs else None, execs[0] if execs else None)

    monkeypatch.setattr(lower, "unit_parts", first_parts)
    src = tmp_path / "f.f90"
    src.write_text(
        "subroutine f(x, y)\n  implicit none\n  real(8), intent(in) :: x\n"
        "  real(8), intent(out) :: y\n  real(8) :: sq, t\n  sq(t) = t*t\n"
        "  real(8) :: cube\n  cube(t) = t*sq(t)\n  y = cube(x) + sq(x)\nend subroutine\n"
    )
    with pytest.raises(FortranADError, match="statement not lowered") as err:
        driver.load([str(src)])
    assert err.value.loc.line == 7
