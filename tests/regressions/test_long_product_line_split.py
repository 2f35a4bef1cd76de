"""Regression (found by scripts/fuzz.py): generated statements longer than 132 columns must be
continued even when they contain no space.

The adjoint of ``y = 0.8_dp*(y + 0.5_dp*sin(y*(0.75_dp/1.5_dp)**(0.1_dp/x)))`` has a
space-free product of about 135 characters; ir/writer.py split_long_line breaks only at
spaces, so the continuation line stays longer than 132 columns and gfortran stops with "Line
truncated" / "Syntax error in expression".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.ir.writer import MAX_COLUMNS, split_long_line

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(inout) :: y
    y = 0.8_dp*(y + 0.5_dp*sin(y*(0.75_dp/1.5_dp)**(0.1_dp/x)))
  end subroutine head
end module m
"""


def test_split_long_line_without_spaces() -> None:
    text = "    xb = xb - " + "*".join(["cos(y*(0.75_dp/1.5_dp)**(0.1_dp/x))"] * 8)
    lines = split_long_line(text)
    assert all(len(line) <= MAX_COLUMNS for line in lines), [len(line) for line in lines]


@pytest.mark.gfortran
def test_adjoint_with_a_long_product_compiles_and_checks(tmp_path: Path) -> None:
    src = tmp_path / "long.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x,y", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_a_literal_longer_than_a_line_is_continued_inside(tmp_path: Path) -> None:
    """A character literal that does not fit after the indentation is cut inside (a
    continued character context); gfortran reads back the same text."""
    message = "fortran-ad: " + "a long message " * 12
    text = " " * 12 + f"write(*, '(a)') '{message}'"
    lines = split_long_line(text)
    assert len(lines) > 1 and all(len(line) <= MAX_COLUMNS for line in lines), lines
    program = "program p\n" + "\n".join(lines) + "\nend program p\n"
    (tmp_path / "p.f90").write_text(program)
    import subprocess

    subprocess.run(["gfortran", "-Wall", "p.f90", "-o", "p"], cwd=tmp_path, check=True)
    out = subprocess.run(["./p"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.rstrip("\n") == message
