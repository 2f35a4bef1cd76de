"""A record every arm of an IF makes first is made once, before the IF (ad/rewrites/block_tape.py
``common_record``), also when the branch taken is taped rather than re-evaluated.

tests/data/common_record/branches.f90: each arm of a three-way IF overwrites ``x(i)`` first;
the condition reads the passive ``s``, which the arms change, so the backward sweep pops the
branch index. Asserted: the structure with and without the loop rewrites, and the gradient
against finite differences and the dot-product identity (``api.check``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import cli
from fortran_ad.checks.run import check_options
from fortran_ad.driver import Options

SRC = Path(__file__).parent / "data" / "common_record" / "branches.f90"
ARGS = ["--head", "head", "--wrt", "x,w", "--of", "cost"]


def _forward_loop(text: str) -> str:
    return text.split("forward sweep", 1)[1].split("end do", 1)[0]


def test_taped_branch_records_common_value_once_before_the_if(tmp_path: Path) -> None:
    assert cli.main([str(SRC), *ARGS, "--no-loop-rewrites", "-o", str(tmp_path)]) == 0
    text = (tmp_path / "branches_b.f90").read_text()
    loop = _forward_loop(text)
    before_if, arms = loop.split("if (s > 0.4_dp) then", 1)
    assert re.findall(r"call fad_push\(([^)]*\)?)\)", before_if) == ["x(i)"]
    assert re.findall(r"call fad_push\(([^)]*\)?)\)", arms) == ["1", "2", "0"]
    backward = text.split("backward sweep", 1)[1]
    # the branch index first, then x(i) once, then the backward arms (no pop inside them)
    assert re.search(
        r"call fad_pop\((fad_branch\d+)\)\n\s*call fad_pop\(x\(i\)\)\n\s*if \(\1 == 1\) then",
        backward,
    )
    arms_b = backward.split("if (fad_branch", 1)[1].split("end if", 1)[0]
    assert "fad_pop" not in arms_b


def test_common_record_moves_into_a_loop_buffer(tmp_path: Path) -> None:
    """With the loop rewrites the now unconditional record leaves the loop as a buffer."""
    assert cli.main([str(SRC), *ARGS, "-o", str(tmp_path)]) == 0
    loop = _forward_loop((tmp_path / "branches_b.f90").read_text())
    assert re.search(r"fad_save\d+\(i\) = x\(i\)\n\s*if \(s > 0.4_dp\) then", loop)
    assert "fad_push(x(i))" not in loop


@pytest.mark.parametrize("rewrites", [True, False], ids=["rewrites", "no-rewrites"])
def test_common_record_adjoint_is_correct(rewrites: bool) -> None:
    options = Options(
        sources=(str(SRC),),
        wrt=("x", "w"),
        of=("cost",),
        head="head",
        sizes={"n": 11},
        loop_rewrites=rewrites,
    )
    report = check_options(options, ranges={"x": (-0.9, 0.9), "w": (0.2, 0.6)}, modes="reverse")
    assert report.ok, report.table()
