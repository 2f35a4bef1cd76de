"""Gather form of scatter-form stencil adjoints (ad/rewrites/gather.py).

tests/data/gather/stencils.f90 has three stencils the pass rewrites (a nonlinear one with uneven
offsets, a 2-D five-point one that ad/rewrites/gather_nest.py gathers over both indices, a centred
difference whose increments of opposite signs share one weight) and a recurrence it must leave
alone. The gather loops run
only when the loop is long enough (``n - lo >= max offset - min offset``), so the values are
checked at a size that takes the gather loops and at one that takes the scatter loops.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli
from fortran_ad.ad.rewrites import gather
from fortran_ad.ir import nodes as ir

SRC = Path(__file__).parent / "data" / "gather" / "stencils.f90"
WRT = "a,b,w"
RANGES = {"a": (-0.9, 0.9), "b": (-0.9, 0.9), "w": (0.5, 1.5)}


@pytest.fixture(scope="module")
def adjoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("gather")
    assert cli.main([str(SRC), "--head", "head", "--wrt", WRT, "--of", "cost", "-o", str(out)]) == 0
    return (out / "stencils_b.f90").read_text()


def _check(n: int) -> api.CheckReport:
    return api.check(
        SRC, wrt=WRT, of="cost", head="head", sizes={"n": n, "nt": 2}, ranges=RANGES,
        modes=("reverse",),
    )  # fmt: skip


def test_stencils_are_gathered_and_the_recurrence_is_not(adjoint: str) -> None:
    # the nonlinear stencil and the centred difference along i; the five-point one along i
    # (the fallback) and over j, i
    assert adjoint.count(f"! gather form: {gather.NOTE}") == 3
    assert adjoint.count(f"! gather form over j and i: {gather.NOTE}") == 1
    # the five-point stencil: one statement per interior element adds all five increments,
    # weighted once, and cb's row j - 1, read for the last time in row j, is zeroed there
    interior = re.search(r"do j = 3, n - 2\n(.*?)\n\s*end do\n\s*end do", adjoint, re.S)
    assert interior is not None
    lines = [x.strip() for x in interior.group(1).splitlines()]
    center = (
        "bb(i, j) = bb(i, j) + 0.2_dp*(cb(i, j) + cb(i - 1, j) + cb(i + 1, j) + cb(i, j + 1) + "
    )
    assert center + "cb(i, j - 1))" in lines
    # the centred difference: both offsets under one weight, the second with its sign
    assert "cb(i, j) = cb(i, j) + 0.5_dp*(db(i - 1, j) - db(i + 1, j))" in adjoint
    i_loops = re.findall(r"do i = (.*?)\n(.*?)end do", interior.group(1) + "end do", re.S)
    zeroed = [b for b, body in i_loops if "cb(i, j - 1) = 0.0_dp" in body]
    assert zeroed == ["2, 2", "3, n - 2", "n - 1, n - 1"]  # the elements 2..n-1 of row j - 1
    # offsets -2, 0, +1: the primal values are read at the shifted elements
    assert "ab(i, j) = ab(i, j) + a(i + 3, j)*w(i + 2)*bb(i + 2, j)" in adjoint
    assert "if (n - 4 >= 3) then" in adjoint and "if (n - 3 >= 2) then" in adjoint
    # the recurrence keeps its reversed scatter loop
    assert "rb(i - 1) = rb(i - 1) + 0.5_dp*fad_tmpb1" in adjoint


@pytest.mark.gfortran
@pytest.mark.parametrize("n", [9, 4])  # 9: gather loops; 4: too short, the scatter loops
def test_gathered_adjoint_is_correct(n: int) -> None:
    report = _check(n)
    assert report.ok, report.table()


def _drop_first_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    segments = gather._segments
    monkeypatch.setattr(gather, "_segments", lambda lo, hi, off: segments(lo, hi, off)[1:])


def _zero_too_early(monkeypatch: pytest.MonkeyPatch) -> None:
    shift = gather._shift
    monkeypatch.setattr(
        gather, "_shift", lambda e, v, c: e if isinstance(e, ir.Assign) else shift(e, v, c)
    )


def _zero_rows_too_early(monkeypatch: pytest.MonkeyPatch) -> None:
    shift = gather._shift
    monkeypatch.setattr(
        gather,
        "_shift",
        lambda e, v, c: e if isinstance(e, ir.Assign) and v == "j" else shift(e, v, c),
    )


def _weights_lose_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    by_coefficient = gather._by_coefficient
    monkeypatch.setattr(
        gather,
        "_by_coefficient",
        lambda terms, vars: [
            (c, [(group[0][0], e) for _, e in group]) for c, group in by_coefficient(terms, vars)
        ],
    )


@pytest.mark.gfortran
@pytest.mark.parametrize(
    "mutate",
    [_drop_first_segment, _zero_too_early, _zero_rows_too_early, _weights_lose_signs],
)
def test_mutated_gathers_are_caught(monkeypatch: pytest.MonkeyPatch, mutate) -> None:
    """Mutations: a boundary segment missing, the zeroing of an element (a row) before its
    last read (at the target's own index instead of one behind), or the terms under one
    weight all taking the first one's sign: the check must fail."""
    mutate(monkeypatch)
    assert not _check(9).ok
