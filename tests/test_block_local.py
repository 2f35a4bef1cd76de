"""Adjoints of block-local scalars (ad/rewrites/block_local.py): zero when a backward iteration
starts, so their first increment becomes a definition and the loop can run forwards
(ad/rewrites/simd.py); scalars whose adjoint carries a value into the loop keep their increments.
Structure of the adjoint, its values against finite differences and the dot-product identity, and a
mutation (every scalar taken for block-local) that the check must catch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli
from fortran_ad.ad.rewrites import block_local

SRC = Path(__file__).parent / "data" / "block_local" / "scalars.f90"
WRT = "w,x"


def _check() -> api.CheckReport:
    return api.check(
        SRC,
        wrt=WRT,
        of="cost",
        head="head",
        sizes={"n": 6},
        ranges={"w": (-1.0, 1.0), "x": (-1.0, 1.0)},
        modes=("reverse",),
    )


def _generate(out: Path) -> str:
    assert cli.main([str(SRC), "--head", "head", "--wrt", WRT, "--of", "cost", "-o", str(out)]) == 0
    return (out / "scalars_b.f90").read_text()


def _backward_loop(text: str, line: int) -> str:
    part = text.split("backward sweep", 1)[1].split(f"! adjoint of scalars.f90:{line}\n", 1)[1]
    loop = re.search(r"(do i = .*?)end do", part, re.S)
    assert loop is not None
    return loop.group(1)


def test_first_increment_of_a_block_local_adjoint_is_a_definition(tmp_path: Path) -> None:
    text = _generate(tmp_path)
    first = _backward_loop(text, 16)
    # g's adjoint starts each iteration at zero; wb(i) and wb(i + 1) commute: forwards
    assert first.startswith("do i = 1, n\n")
    assert re.search(r"^\s*gb = \(x\(i\)\*g\*yb\(i\)", first, re.M)
    assert "gb = gb" not in first
    # r is read after its loop: rb enters the backward loop non-zero and stays a sum there
    third = _backward_loop(text, 26)
    assert third.startswith("do i = n, 1, -1\n")
    assert "rb = rb + y(i)*fad_tmpb1" in third
    # q is read before its definition (the previous iteration's value): a sum too
    second = _backward_loop(text, 21)
    assert "qb = qb + x(i)*yb(i)" in second


def test_names_are_the_scalars_fed_in_their_own_block(tmp_path: Path) -> None:
    seen: list[frozenset[str]] = []
    original = block_local.names

    def spy(t):  # the analysis of the head routine, as the generator asks for it
        out = original(t)
        seen.append(out)
        return out

    block_local.names = spy
    try:
        _generate(tmp_path)
    finally:
        block_local.names = original
    assert seen and all(x == {"g", "p"} for x in seen)


@pytest.mark.gfortran
def test_adjoint_is_correct() -> None:
    report = _check()
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_taking_every_scalar_for_block_local_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation: with r (read after its loop) taken for block-local, rb's value from
    ``cost = ... + r*r`` is dropped at the first backward iteration."""
    from fortran_ad.ad.rewrites.recompute import _private_local

    def every(t):
        return frozenset(s.name for s in t.routine.symbols if _private_local(t, s.name))

    monkeypatch.setattr(block_local, "names", every)
    report = _check()
    assert not report.ok
