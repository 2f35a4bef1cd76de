"""Loop-private scalars recomputed at the top of each backward iteration (ad/rewrites/recompute.py)
and elements recorded more than once per iteration going through one buffer per record
(ad/rewrites/block_tape.py): structure of the adjoint, and its values against finite differences and
the dot-product identity."""

from __future__ import annotations

import re
from pathlib import Path

from fortran_ad import api, cli

SRC = Path(__file__).parent / "data" / "recompute" / "sweep.f90"
ARGS = ["--head", "head", "--wrt", "w,u", "--of", "cost"]


def _adjoint(out: Path, *extra: str) -> str:
    assert cli.main([str(SRC), *ARGS, *extra, "-o", str(out)]) == 0
    return (out / "sweep_b.f90").read_text()


def test_private_scalars_recomputed_and_repeated_records_buffered(tmp_path: Path) -> None:
    text = _adjoint(tmp_path)
    backward = text.split("backward sweep", 1)[1]
    inner = re.search(r"do i = n, 1, -1\n(.*?)end do", backward, re.S)
    assert inner is not None
    body = inner.group(1)
    # g, s, lo and d re-run in body order before the iteration's adjoint: d with the value
    # the iteration gave c(i, k) before it, and c(i, k - 1), which the loop never writes
    lines = [x.strip() for x in body.splitlines()]
    assert lines[:4] == [
        "g = 0.25d0*(w(i + 1, k) + w(i, k))",
        "s = g*g",
        "lo = sin(g) + s",
        "d = 1.0d0/(2.0d0 + (lo*u(i, k))**2 + c(i, k - 1)*s)",
    ]
    # e reads c(i - 1, k), which the previous iteration wrote: restored from its record
    assert re.search(r"e = fad_save\d+\(i\)", body)
    assert not re.search(r"d = fad_save", body)
    # no per-element record left for the recomputed scalars: c(i, k) three times and e
    # through buffers, g, s, lo and d kept around the loop (one record per k, not per i)
    forward = text.split("backward sweep", 1)[0]
    pushes = re.findall(r"call fad_push\(([^()]*(?:\([^)]*\))?)\)", forward)
    assert "c(i, k)" not in pushes and {"g", "s", "lo", "d"} <= set(pushes)
    assert not re.search(r"fad_save\d+\(i\) = (g|s|lo|d)$", forward, re.M)
    assert len(re.findall(r"fad_save\d+\(i\) = c\(i, k\)", forward)) == 3
    assert len(re.findall(r"fad_save\d+\(i\) = e$", forward, re.M)) == 1


def test_no_loop_rewrites_records_the_scalars(tmp_path: Path) -> None:
    text = _adjoint(tmp_path, "--no-loop-rewrites")
    pushes = re.findall(r"call fad_push\(([^()]*(?:\([^)]*\))?)\)", text)
    assert pushes.count("c(i, k)") == 3 and "lo" in pushes and "d" in pushes


def _check() -> api.CheckReport:
    return api.check(
        SRC,
        wrt="w,u",
        of="cost",
        head="head",
        sizes={"n": 5, "nk": 4},
        ranges={"w": (-1.0, 1.0), "u": (-1.0, 1.0)},
        modes=("reverse",),
    )


def test_recomputed_adjoint_is_correct() -> None:
    report = _check()
    assert report.ok, report.table()


def test_reading_an_element_an_iteration_writes_is_caught(monkeypatch) -> None:
    """Mutation: with every element taken for one the loop never writes, e (which reads
    c(i - 1, k), written by the previous iteration) is recomputed from the wrong value."""
    from fortran_ad.ad.rewrites import distinct

    monkeypatch.setattr(distinct, "apart", lambda *args: True)
    assert not _check().ok
