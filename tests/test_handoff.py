"""Zeroings handed from one gathered loop to the next (ad/rewrites/handoff.py) in two-buffer time
steps: structure of the adjoint, values against finite differences and the dot-product identity at a
size that takes the gather loops and one that takes the scatter loops, and mutations the check must
catch."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api, cli
from fortran_ad.ad.rewrites import gather, handoff

SRC = Path(__file__).parent / "data" / "gather" / "timestep.f90"
WRT = "a,b,a2,b2,w"
RANGES = {x: (-0.9, 0.9) for x in ("a", "b", "a2", "b2")} | {"w": (0.5, 1.5)}


def _check(n: int) -> api.CheckReport:
    return api.check(
        SRC, wrt=WRT, of="cost", head="head", sizes={"n": n, "nt": 2}, ranges=RANGES,
        modes=("reverse",),
    )  # fmt: skip


def test_zeroings_are_handed_over_where_the_ranges_agree(tmp_path: Path) -> None:
    assert (
        cli.main([str(SRC), "--head", "head", "--wrt", WRT, "--of", "cost", "-o", str(tmp_path)])
        == 0
    )
    text = (tmp_path / "timestep_b.f90").read_text()
    # 1-D and 2-D steps: the second loop's adjoint sets ab (a2b) inside the range
    assert text.count(f"! ab: {handoff.NOTE}") == 1
    assert text.count(f"! a2b: {handoff.NOTE}") == 1
    assert "ab(i) = 0.25_dp*bb(i + 1) + 0.5_dp*bb(i) + 0.3_dp*bb(i - 1)" in text
    assert "ab(i) = ab(i) + 0.25_dp*bb(i + 1)" in text  # element 1: outside, incremented
    # the first loop's gather no longer zeroes ab; the third step (other ranges) still does
    step = text.split("adjoint of timestep.f90:18\n", 1)[1].split(f"! ab: {handoff.NOTE}")[0]
    assert "ab(i - 1) = 0.0_dp" not in step.split("else")[0]
    third = text.split("adjoint of timestep.f90:35\n", 1)[1].split("adjoint of timestep.f90:26")[0]
    assert "ab(i) = 0.0_dp" in third and handoff.NOTE not in third


@pytest.mark.gfortran
@pytest.mark.parametrize("n", [9, 4])  # 9: gather loops; 4: too short, the scatter loops
def test_handed_over_adjoint_is_correct(n: int) -> None:
    report = _check(n)
    assert report.ok, report.table()


def _set_outside_too(monkeypatch: pytest.MonkeyPatch) -> None:
    segments = gather._segments
    monkeypatch.setattr(
        gather, "_segments", lambda lo, hi, off: [(*s[:3], True) for s in segments(lo, hi, off)]
    )


def _drop_without_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    pair = handoff._pair

    def careless(a, b, between):
        build = b.build
        b.build = lambda drop, assign: build(drop, None)
        try:
            return pair(a, b, between)
        finally:
            b.build = build

    monkeypatch.setattr(handoff, "_pair", careless)


@pytest.mark.gfortran
@pytest.mark.parametrize("mutate", [_set_outside_too, _drop_without_setting])
def test_mutated_handoffs_are_caught(monkeypatch: pytest.MonkeyPatch, mutate) -> None:
    """Mutations: elements outside the range set instead of incremented, or the zeroing
    dropped while the next loop still increments: the check must fail."""
    mutate(monkeypatch)
    assert not _check(9).ok
