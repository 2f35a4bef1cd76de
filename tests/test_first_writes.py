"""Element-level first writes (ad/rewrites/first_writes.py): an assignment defining an element of a
local array that no earlier statement wrote needs no record. Structure of the adjoints of
tests/data/first_writes/columns.f90 (vadv's column sweep, and four routines that overwrite
elements an earlier adjoint reads), their values against finite differences and the
dot-product identity, and two mutations of the analysis the checks catch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli

SRC = Path(__file__).parent / "data" / "first_writes" / "columns.f90"
SIZES = {
    "sweep": {"ni": 3, "nk": 4},
    "repeat": {"n": 5, "nt": 3},
    "overlap": {"n": 5},
    "plane": {"ni": 3, "nk": 4},
    "again": {"n": 5, "nt": 3},
}
REWRITES = ("repeat", "overlap", "plane", "again")


def _adjoint(out: Path, head: str) -> str:
    size = ",".join(f"{k}={v}" for k, v in SIZES[head].items())
    args = ["--head", head, "--wrt", "u,w", "--of", "cost", "--checkpoint", "store-all"]
    assert cli.main([str(SRC), *args, "--size", size, "-o", str(out)]) == 0
    return (out / "columns_b.f90").read_text()


def _forward(text: str) -> str:
    return text.split("forward sweep", 1)[1].split("backward sweep", 1)[0]


def test_column_sweep_records_only_the_second_writes(tmp_path: Path) -> None:
    fwd = _forward(_adjoint(tmp_path, "sweep"))
    # c(i, k) and d(i, k) are scaled by den after their definition: recorded once per plane
    # (plane 1 before the loop, one record in the loop), never before their first write
    assert len(re.findall(r"fad_save\d+\(i\) = c\(i, k\)", fwd)) == 2
    assert len(re.findall(r"fad_save\d+\(i\) = d\(i, k\)", fwd)) == 2
    assert re.search(r"fad_save\d+\(i\) = c\(i, k\)\n\s*c\(i, k\) = c\(i, k\)\*den", fwd)
    assert not re.search(r"= [cd]\(i, k\)\n\s*[cd]\(i, k\) = (0\.25|u\()", fwd)


@pytest.mark.parametrize("head", REWRITES)
def test_rewritten_elements_are_recorded(tmp_path: Path, head: str) -> None:
    fwd = _forward(_adjoint(tmp_path, head))
    assert re.search(r"fad_save\d+\(k\) = a\(k\)|call fad_push\(a\(", fwd), fwd


def _check(head: str, policy: str = "store-all", parallel: bool = False) -> api.CheckReport:
    return api.check(
        SRC,
        wrt="u,w",
        of="cost",
        head=head,
        sizes=SIZES[head],
        ranges={"u": (-1.0, 1.0), "w": (0.5, 1.5)},
        modes=("reverse",),
        checkpoint=policy,
        parallelize_adjoint=parallel,
    )


@pytest.mark.parametrize(
    "head,policy,parallel",
    [
        ("sweep", "store-all", False),
        ("sweep", "recompute-all", False),
        ("sweep", "ilp", True),
        *((h, "store-all", False) for h in REWRITES),
    ],
)
def test_adjoint_is_correct(head: str, policy: str, parallel: bool) -> None:
    report = _check(head, policy, parallel)
    assert report.ok, report.table()


def test_ignoring_enclosing_loops_is_caught(monkeypatch) -> None:
    """Mutation: a(k) taken as one-to-one in the loops around it although the time loop
    does not appear in it: the overwrites of earlier time steps go unrecorded."""
    from fortran_ad.ad.rewrites import first_writes

    monkeypatch.setattr(first_writes._Nest, "one_to_one", lambda self, target, loops: True)
    assert not _check("repeat").ok


@pytest.mark.parametrize("head", ["overlap", "plane"])
def test_ignoring_earlier_writes_is_caught(monkeypatch, head: str) -> None:
    """Mutation: every region taken as disjoint from what earlier statements wrote."""
    from fortran_ad.ad.rewrites import first_writes

    monkeypatch.setattr(first_writes, "_disjoint", lambda a, b: True)
    assert not _check(head).ok
