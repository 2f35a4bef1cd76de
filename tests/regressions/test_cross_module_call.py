"""Regression (found by scripts/fuzz.py): a head in one module calling a routine of another
module must call that routine's derivative from the other module's derivative module.

The derivative module of ``top`` copies ``use lib, only: dp, sq`` but never uses ``lib_b`` /
``lib_d``, so ``sq_b`` / ``sq_d`` are implicit externals and linking fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

LIB = """\
module lib
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine sq(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    y = x*x
  end subroutine sq
end module lib
"""

TOP = """\
module top
  use lib, only: dp, sq
  implicit none
contains
  subroutine head(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    call sq(x, y)
    y = y*x
  end subroutine head
end module top
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("use", ["use lib, only: dp, sq", "use lib"])
def test_call_into_another_module(tmp_path: Path, use: str) -> None:
    (tmp_path / "lib.f90").write_text(LIB)
    (tmp_path / "top.f90").write_text(TOP.replace("use lib, only: dp, sq", use))
    report = api.check(
        [tmp_path / "lib.f90", tmp_path / "top.f90"], wrt="x", of="y", head="head",
        modes=("reverse", "forward"),
    )  # fmt: skip
    assert report.ok, report.table()
