"""Loop-level optimisations of generated adjoints: slice push/pop of innermost loops
(ad/rewrites/block_tape.py), ``!$omp simd`` reductions in independent backward loops
(ad/rewrites/simd.py) and the split of scatter-form adjoint loops (ad/rewrites/fission.py).

tests/data/loop_opt/loops.f90 has one loop per case, each commented with what it must get;
the structure of the adjoint is asserted here and its values against finite differences and
the dot-product identity (``api.check``, which builds with -fopenmp when the adjoint has
directives, so the simd loops are vectorised with their reductions).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli

SRC = Path(__file__).parent / "data" / "loop_opt" / "loops.f90"
ARGS = ["--head", "head", "--wrt", "beta,x,w", "--of", "cost"]


@pytest.fixture(scope="module")
def adjoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("loop_opt")
    assert cli.main([str(SRC), *ARGS, "-o", str(out)]) == 0
    return (out / "loops_b.f90").read_text()


def test_slices_and_buffers_replace_element_records_only_where_legal(adjoint: str) -> None:
    pushes = re.findall(r"call fad_push\(([^()]*(?:\([^)]*\))?)\)", adjoint)
    pops = re.findall(r"call fad_pop\(([^()]*(?:\([^)]*\))?)\)", adjoint)
    # loops 1 and 5 (unit and reversed stride-2) as slices; loops 2 and 6 through buffers;
    # loops 3 (stride 2, line 2's adjoint reads x after the overwrite), 4 (conditional) per element;
    # loop 7 accumulates into x(n, j): pushed once before it, popped once after its adjoint;
    # loop 8 multiplies x(1, j), whose values its adjoint reads: a buffer
    assert pushes == [
        "x(1:n, j)",
        "fad_save1",
        "x(i, j)",
        "x(i, j)",
        "1",
        "0",
        "x(n:1:-2, j)",
        "fad_save2",
        "fad_save3",
        "x(n, j)",
        "fad_save4",
    ]
    assert sorted(pops) == sorted(["fad_branch1" if p in "01" else p for p in pushes if p != "0"])
    assert "fad_save2(i) = t" in adjoint and "t = fad_save2(i)" in adjoint
    # the buffers are allocated once and kept while later runs of the loop have the same range
    assert "if (.not. allocated(fad_save2)) allocate(fad_save2(1:n))" in adjoint
    assert "if (.not. allocated(fad_save3)) allocate(fad_save3(1:n))" in adjoint
    once = adjoint.split("call fad_push(x(n, j))", 1)[1].split("end do", 1)[0]
    assert "fad_push" not in once
    assert re.search(
        r"xb\(k, j\) = xb\(k, j\) - w\(k\)\*\w+\n\s*end do\n\s*call fad_pop\(x\(n, j\)\)", adjoint
    )
    # the slice is popped before its reversed loop (no element pop left inside it)
    after = adjoint.split("call fad_pop(x(1:n, j))", 1)[1].split("end do", 1)[0]
    assert "fad_pop" not in after


def test_simd_only_on_independent_backward_loops(adjoint: str) -> None:
    simd = re.findall(r"!\$omp simd .*", adjoint)
    assert simd == [
        "!$omp simd reduction(+: fad_acc2, fad_acc3) lastprivate(fad_tmpb5)",  # loop 5: wb(m)
        "!$omp simd reduction(+: fad_acc1) lastprivate(fad_tmpb1)",  # loop 1
    ]
    assert "wb(m) = wb(m) + fad_acc2" in adjoint and "betab = betab + fad_acc3" in adjoint
    # the scatter adjoint of loop 2 (xb(i - 1, j) += ...) stays a plain reversed loop
    scatter = adjoint.split("adjoint of loops.f90:20", 1)[1].split("end do", 1)[0]
    assert "do i = n, 2, -1" in scatter and "xb(i - 1, j)" in scatter


@pytest.mark.gfortran
def test_optimised_adjoint_is_correct() -> None:
    report = api.check(
        SRC,
        wrt="beta,x,w",
        of="cost",
        head="head",
        sizes={"n": 7, "m": 3},
        ranges={"beta": (0.5, 1.0), "x": (-0.9, 0.9), "w": (0.2, 0.6)},
        modes=("reverse",),
    )
    assert report.ok, report.table()


def test_scatter_adjoint_split_into_one_loop_per_offset(adjoint: str) -> None:
    stencil = adjoint.split("adjoint of loops.f90:52", 1)[1].split("adjoint of loops.f90:14")[0]
    loops = re.findall(r"do i = n - 1, 2, -1\n(.*?)end do", stencil, re.S)
    assert [re.findall(r"^\s*(\w+\([^=\n]*\)) =", body, re.M) for body in loops] == [
        ["xb(i - 1, 1)"],
        ["xb(i, 1)"],
        ["xb(i + 1, 1)", "wb(i)", "yb(i)"],
    ]
    # loop 2's scatter adjoint keeps its temporary, so it stays one loop
    assert "xb(i - 1, j) = xb(i - 1, j) + x(i, j)*0.5_dp*fad_tmpb2" in adjoint


def test_no_loop_rewrites_keeps_per_iteration_records(tmp_path: Path) -> None:
    """``--no-loop-rewrites`` (what the SDFG back end uses): element records inside the
    loops, no buffers, no slices, no simd directives."""
    assert cli.main([str(SRC), *ARGS, "--no-loop-rewrites", "-o", str(tmp_path)]) == 0
    text = (tmp_path / "loops_b.f90").read_text()
    pushes = re.findall(r"call fad_push\(([^()]*(?:\([^)]*\))?)\)", text)
    assert pushes.count("x(i, j)") == 6 and "t" in pushes
    assert not [p for p in pushes if ":" in p or p.startswith("fad_save")]
    assert "!$omp simd" not in text and "allocate(fad_save" not in text
