"""Regression: a statement function followed by a type declaration (gfortran accepts it;
ECMWF's ``fcttre.func.h`` declares each function just before defining it) made every later
statement disappear, exit status 0. fparser starts a new specification part after the
definition, and the frontend took only the first specification and execution parts
(frontend/parts.py merges them). ``roundtrip`` lost everything after ``sq`` and both
derivatives were those of a routine that never sets ``y``.

The statement-function definitions here come from an ``#include`` file, as in the IFS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api, driver
from fortran_ad.frontend.preprocess import Preprocessing

FUNCS = """\
real(8) :: sq, t
sq(t) = t*t
real(8) :: cube
cube(t) = t*sq(t) + exp(-t)
"""

SOURCE = """\
subroutine f(x, y)
  implicit none
  real(8), intent(in) :: x
  real(8), intent(out) :: y
#include "funcs.h"
  y = cube(x) + sq(x)
  y = y*x
end subroutine
"""

MAIN = """\
program p
  implicit none
  real(8) :: y
  call f(1.25d0, y)
  write(*, '(es26.16e3)') y
end program
"""


def _write(tmp_path: Path) -> Path:
    (tmp_path / "funcs.h").write_text(FUNCS)
    src = tmp_path / "f.F90"
    src.write_text(SOURCE)
    return src


@pytest.mark.gfortran
def test_derivatives_through_statement_functions_declared_in_between(tmp_path: Path) -> None:
    src = _write(tmp_path)
    report = api.check(
        [src], wrt="x", of="y", head="f", modes=("reverse", "forward"),
        include_dirs=[str(tmp_path)],
    )  # fmt: skip
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_roundtrip_keeps_the_statements_after_the_declaration(tmp_path: Path, fortran) -> None:
    src = _write(tmp_path)
    (tmp_path / "main.f90").write_text(MAIN)
    out = tmp_path / "rt"
    written = driver.roundtrip([str(src)], out, pp=Preprocessing((), (str(tmp_path),)))
    original = fortran.run(fortran.compile([src, tmp_path / "main.f90"], flags=["-cpp"]))
    again = fortran.run(fortran.compile([*written, tmp_path / "main.f90"], flags=[]))
    assert float(again) == float(original) != 0.0


def test_declaration_after_an_executable_statement_is_a_located_error(tmp_path: Path) -> None:
    src = tmp_path / "g.f90"
    src.write_text(SOURCE.replace('#include "funcs.h"\n', "  y = x\n  real(8) :: z\n"))
    from fortran_ad.errors import FortranADError

    with pytest.raises(FortranADError, match="specification statement after") as err:
        driver.load([str(src)])
    assert err.value.loc.line == 6
