"""Loop-private scalars recomputed at the top of each backward iteration (ad/recompute.py) and
elements recorded more than once per iteration going through one buffer per record
(ad/block_tape.py): structure of the adjoint, and its values against finite differences and
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
    # g, s and lo re-run in body order before the iteration's adjoint; d is restored
    lines = [x.strip() for x in body.splitlines()]
    assert lines[:3] == [
        "g = 0.25d0*(w(i + 1, k) + w(i, k))",
        "s = g*g",
        "lo = sin(g) + s",
    ]
    assert re.search(r"d = fad_save\d+\(i\)", body)
    # no per-element record left: c(i, k) twice and d through buffers, s and lo kept
    # around the loop (one record per k, not per i)
    forward = text.split("backward sweep", 1)[0]
    pushes = re.findall(r"call fad_push\(([^()]*(?:\([^)]*\))?)\)", forward)
    assert "c(i, k)" not in pushes and "s" in pushes and "lo" in pushes
    assert not re.search(r"fad_save\d+\(i\) = (g|s|lo)$", forward, re.M)
    assert len(re.findall(r"fad_save\d+\(i\) = c\(i, k\)", forward)) == 2


def test_no_loop_rewrites_records_the_scalars(tmp_path: Path) -> None:
    text = _adjoint(tmp_path, "--no-loop-rewrites")
    pushes = re.findall(r"call fad_push\(([^()]*(?:\([^)]*\))?)\)", text)
    assert pushes.count("c(i, k)") == 2 and "lo" in pushes and "d" in pushes


def test_recomputed_adjoint_is_correct() -> None:
    report = api.check(
        SRC,
        wrt="w,u",
        of="cost",
        head="head",
        sizes={"n": 5, "nk": 4},
        ranges={"w": (-1.0, 1.0), "u": (-1.0, 1.0)},
        modes=("reverse",),
    )
    assert report.ok, report.table()
