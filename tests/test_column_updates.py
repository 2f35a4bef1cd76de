"""One pass over a matrix for all its rank-1 adjoint updates
(fortran_ad/ad/rewrites/column_updates.py).

tests/data/matmul/columns.f90: ``both`` uses one matrix in two matrix-vector products (its
two updates of ``ab`` must merge), ``blocked`` changes the vector between the products (they
must not). The NPBench MATMUL kernels mvt, bicg, atax and gemver get one column loop each.
Values: finite differences and the dot-product identity (``api.check``); merging the blocked
loops anyway must fail it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from fortran_ad import api, cli
from fortran_ad.ad.rewrites import column_updates

SRC = Path(__file__).parent / "data" / "matmul" / "columns.f90"
NPB = REPO_ROOT / "legacy_samples" / "npbench"
KERNELS = {
    "mvt_mm": "x1,x2,y1,y2,a",
    "bicg_mm": "a,p,r",
    "atax_mm": "a,x",
    "gemver_mm": "alpha,beta,a,u1,v1,u2,v2,w,x,y,z",
}


def _adjoint(tmp_path: Path, sources: list[Path], head: str, wrt: str) -> str:
    out = tmp_path / head
    args = [*map(str, sources), "--head", head, "--wrt", wrt, "--of", "cost", "-o", str(out)]
    assert cli.main(args) == 0
    return next(out.glob("*_b.f90")).read_text()


def _column_loops(text: str) -> list[str]:
    """The bodies of the ``do fad_jN`` loops over ``ab``."""
    return re.findall(r"do fad_j\d+ = 1, size\(ab, 2\)\n\s*(ab\(:, .*)\n", text)


@pytest.mark.parametrize("head", sorted(KERNELS))
def test_npbench_matrix_vector_kernels_pass_over_ab_once(tmp_path: Path, head: str) -> None:
    text = _adjoint(tmp_path, [NPB / "npb_kinds.f90", NPB / "npb_blas_mm.f90"], head, KERNELS[head])
    (loop,) = _column_loops(text)
    assert loop.count("fad_j") == 4  # the column, twice, and one factor of each of two terms


def test_merged_only_where_legal(tmp_path: Path) -> None:
    (both,) = _column_loops(_adjoint(tmp_path, [SRC], "both", "a,x,w"))
    assert both.count("fad_j") == 4
    assert len(_column_loops(_adjoint(tmp_path, [SRC], "blocked", "a,x"))) == 2


RANGES = {"a": (-1.0, 1.0), "x": (0.5, 1.5), "w": (-1.0, 1.0)}


def _check(head: str, wrt: str) -> api.CheckReport:
    ranges = {k: v for k, v in RANGES.items() if k in wrt.split(",")}
    return api.check(
        SRC, wrt=wrt, of="cost", head=head, sizes={"n": 5}, modes=("reverse",), ranges=ranges
    )


@pytest.mark.gfortran
@pytest.mark.parametrize(("head", "wrt"), [("both", "a,x,w"), ("blocked", "a,x")])
def test_merged_adjoints_are_correct(head: str, wrt: str) -> None:
    report = _check(head, wrt)
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_merging_the_blocked_loops_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation: let every column loop move past anything; ``blocked`` then adds the new
    ``x`` where the old one belongs and the check fails."""
    monkeypatch.setattr(column_updates, "_movable", lambda *args: True)
    assert not _check("blocked", "a,x").ok
