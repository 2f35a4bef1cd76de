"""Regression: a variable of a module fortran-ad was not given (``use unknown_mod``: a
library's module, or one the user left out) has no type fortran-ad can see, so activity
analysis skipped it and gave it no derivative. When an input-dependent value flowed through it
into an output (``state = x; y = state*x``) the adjoint silently lost that path (it computed
``x`` instead of ``2*x``), exit status 0. It is now a located error
(analysis/unknown_names.py); passive uses of such names still go through, and with the
module's source given the derivative is right.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api, cli

LIB = """\
module unknown_mod
  implicit none
  real(8) :: state = 1.5d0, other = 0.0d0
end module unknown_mod
"""

TOP = """\
module top
  use unknown_mod
  implicit none
contains
  subroutine head(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
BODY
  end subroutine head
end module top
"""

THROUGH = "    state = x\n    y = state*x + 1.0d0"
PASSIVE = "    y = x*state + x*x\n    other = 2.0d0"


def _write(tmp_path: Path, body: str) -> tuple[Path, Path]:
    lib, top = tmp_path / "unknown_mod.f90", tmp_path / "top.f90"
    lib.write_text(LIB)
    top.write_text(TOP.replace("BODY", body))
    return lib, top


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_active_value_through_an_unseen_module_variable_is_refused(
    tmp_path: Path, mode: str, capsys
) -> None:
    _, top = _write(tmp_path, THROUGH)
    rc = cli.main([str(top), "--head", "head", "--wrt", "x", "--of", "y", "--mode", mode,
                   "-o", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2, err
    line = top.read_text().splitlines().index("    state = x") + 1
    assert f"{top}:{line}:5: error: 'state' carries derivatives" in err
    assert "'unknown_mod'" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.gfortran
def test_with_the_module_given_the_derivative_is_right(tmp_path: Path) -> None:
    lib, top = _write(tmp_path, THROUGH)
    report = api.check([lib, top], wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_passive_use_of_an_unseen_module_variable_goes_through(tmp_path: Path) -> None:
    lib, top = _write(tmp_path, PASSIVE)
    out = tmp_path / "out"
    rc = cli.main([str(top), "--head", "head", "--wrt", "x", "--of", "y", "-o", str(out)])
    assert rc == 0
    report = api.check([lib, top], wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()
