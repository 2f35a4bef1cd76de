"""The to-be-recorded analysis (ad/core/tbr.py): pushes it keeps are needed (the gradients stay
right where an overwritten value is read backwards), pushes it drops are not (the tape of the
matrix products holds only what their adjoints read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

DATA = Path(__file__).parent / "data"
NPB = Path(__file__).parent.parent / "legacy_samples" / "npbench"

CASES = {
    "scalar_carry": ["x"],
    "neighbour": ["a"],
    "reread": ["x", "z"],
    "phases": ["a", "x"],
    "branch": ["x", "c"],
    "own_element": ["beta", "x", "c"],
    "call_reader": ["x"],
}


@pytest.mark.gfortran
@pytest.mark.parametrize("head", sorted(CASES))
@pytest.mark.parametrize("policy", ["store-all", "ilp"])
def test_values_read_backwards_are_still_recorded(head: str, policy: str) -> None:
    report = api.check(
        [str(DATA / "tbr_cases.f90")],
        wrt=CASES[head],
        of=["cost"],
        head=head,
        sizes={"n": 6},
        modes=("reverse",),
        checkpoint=policy,
    )
    assert report.ok, report.table()


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("head", "recorded"),
    [
        # c(i, j)*beta saves c(i, j) once; the k updates read nothing of c
        ("gemm", lambda s: s["ni"] * s["nj"]),
        # tmp's k updates save nothing (nothing before them reads tmp backwards); d as gemm
        ("k2mm", lambda s: s["ni"] * s["nl"]),
    ],
)
def test_matrix_products_record_only_what_their_adjoints_read(head: str, recorded) -> None:
    report = api.check((), sample=NPB / "sample.toml", head=head, modes=("reverse",))
    assert report.ok, report.table()
    import tomllib

    cases = tomllib.loads((NPB / "sample.toml").read_text())["case"]
    sizes = next(c for c in cases if c["head"] == head)["check"]
    assert report.peak_tape == 8 * recorded(sizes)
