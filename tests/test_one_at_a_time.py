"""Loops reversed one iteration at a time right after its re-run (period-1 segments, binomial
schedules; ad/checkpointing/loop_checkpoint.py: one_at_a_time): the to-be-recorded analysis
(ad/core/tbr.py) records there only what the iteration's own adjoint and the statements before the
loop read, and private scalars are recomputed from arrays nothing writes between a loop's forward
run and its reversal (ad/rewrites/recompute.py). Structure of the adjoint, and its values against
finite differences and the dot-product identity, under both policies, with three mutations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli
from fortran_ad.ir import nodes as ir

SRC = Path(__file__).parent / "data" / "recompute" / "segments.f90"
SIZES = {"n": 6, "nk": 4}


def _adjoint(out: Path, policy: str) -> str:
    args = ["--head", "head", "--wrt", "u,w", "--of", "cost", "--checkpoint", policy]
    assert cli.main([str(SRC), *args, "--size", "n=6,nk=4", "-o", str(out)]) == 0
    return (out / "segments_b.f90").read_text()


def _pushes(text: str) -> list[str]:
    return re.findall(r"call fad_push\(([^()]*(?:\([^)]*\))?)\)", text)


def test_period_one_records_only_what_the_iteration_reads(tmp_path: Path) -> None:
    text = _adjoint(tmp_path, "recompute-all")
    assert "checkpointed loop: state saved every 1 iterations" in text
    pushes = _pushes(text)
    # the fluxes' previous values: the previous iteration re-runs before its adjoint
    assert not any(p.startswith(("flx", "fly")) for p in pushes)
    # v: the adjoint of cost = sum(v*v*v), before the loop, reads it
    assert "v(1:n)" in pushes
    backward = text.split("backward sweep", 1)[1]
    # res re-run from lap, which the iteration leaves alone after the flux loop; r2 reads gap,
    # halved afterwards, and comes back from its record
    assert re.search(r"^\s*res = lap\(i \+ 1\) - lap\(i\)$", backward, re.M)
    assert re.search(r"^\s*r2 = fad_save\d+\(i\)$", backward, re.M)
    assert not re.search(r"^\s*res = fad_save", backward, re.M)


def test_stored_loop_records_the_fluxes(tmp_path: Path) -> None:
    text = _adjoint(tmp_path, "store-all")
    pushes = _pushes(text)
    assert "flx(1:n)" in pushes and "fly(1:n)" in pushes
    backward = text.split("backward sweep", 1)[1]
    assert re.search(r"^\s*res = fad_save\d+\(i\)$", backward, re.M)


def _check(policy: str) -> api.CheckReport:
    return api.check(
        SRC,
        wrt="u,w",
        of="cost",
        head="head",
        sizes=SIZES,
        ranges={"u": (-1.0, 1.0), "w": (0.5, 1.5)},
        modes=("reverse",),
        checkpoint=policy,
    )


@pytest.mark.parametrize("policy", ["recompute-all", "store-all", "ilp"])
def test_adjoint_is_correct(policy: str) -> None:
    report = _check(policy)
    assert report.ok, report.table()


def test_forgetting_what_earlier_statements_read_is_caught(monkeypatch) -> None:
    """Mutation: the period-1 loop starts its analysis with nothing required, so v's
    overwrites go unrecorded and the adjoint of cost = sum(v*v*v) reads v after the loop."""
    from fortran_ad.ad.checkpointing import loop_checkpoint as lc
    from fortran_ad.ad.core import tbr

    loop = tbr._Analysis.loop

    def forgetful(self, s, req, head):
        return loop(self, s, frozenset() if lc.one_at_a_time(self.t, s) else req, head)

    monkeypatch.setattr(tbr._Analysis, "loop", forgetful)
    assert not _check("recompute-all").ok


def test_every_loop_taken_for_one_at_a_time_is_caught(monkeypatch) -> None:
    """Mutation: the stored k loop taken for one reversed iteration by iteration: the fluxes
    of earlier iterations are overwritten unrecorded."""
    from fortran_ad.ad.checkpointing import loop_checkpoint as lc

    monkeypatch.setattr(lc, "one_at_a_time", lambda t, s: isinstance(s, ir.Do | ir.DoWhile))
    assert not _check("store-all").ok


def test_ignoring_later_writes_is_caught(monkeypatch) -> None:
    """Mutation: nothing counted as written between a loop's forward run and its reversal:
    r2 is recomputed from gap after the iteration halved it."""
    from fortran_ad.ad.rewrites import recompute

    monkeypatch.setattr(recompute, "_changed_meanwhile", lambda t, s: set())
    assert not _check("recompute-all").ok
