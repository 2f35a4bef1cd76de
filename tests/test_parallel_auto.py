"""Which loops ``--parallelize-adjoint`` runs on threads (fortran_ad/ad/parallel/auto.py).

NPBench's syrk put every inner ``i`` loop on threads, each with a snapshot of the whole ``c``
(320 KB) taken and restored for every ``(j, k)`` pair, or fell back to a serial loop that still
re-ran iterations: 450 ms at preset M against 0.6 ms on one thread. Such loops are now reversed
like serial loops (the transform restarts without them); the loops that stay on threads get an
OpenMP IF clause on their innermost iterations, which ``fortran-ad check`` sets to 0 so that its
2-thread runs do run them on threads. Gradients are checked with two threads throughout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from test_openmp import SERIAL as SMOOTH  # smooth(): a proved-parallel loop, a recurrence

from fortran_ad import api, cli
from fortran_ad.ad.parallel import auto as parallel_auto

pytestmark = pytest.mark.gfortran

NPB = REPO_ROOT / "legacy_samples" / "npbench"
SYRK = [str(NPB / "npb_kinds.f90"), str(NPB / "npb_blas.f90"), "--head", "syrk"]
SYRK_WRT = "alpha,beta,c,a"


def _generate(args: list[str], out: Path, *flags: str) -> str:
    assert cli.main([*args, "--of", "cost", *flags, "-o", str(out)]) == 0
    return "".join(p.read_text() for p in sorted(out.glob("*_b.f90")))


def _backward(text: str) -> str:
    return text.split("! ---- backward sweep", 1)[1]


def test_inner_loops_that_need_snapshots_are_reversed_serially(tmp_path: Path) -> None:
    """syrk: no whole-array records of ``c`` (they were taken for every ``(j, k)``), no serial
    re-run loop; only the seed loop runs on threads, behind its IF clause."""
    args = [*SYRK, "--wrt", SYRK_WRT, "--gradient-only"]
    two = _generate(args, tmp_path / "two", "--parallelize-adjoint")
    assert "runs serially" not in two
    assert not re.search(r"call fad_(push|pop)\(c\)", two)
    assert "call fad_pop(c(j:n, j))" in two  # a column, once per j, as on one thread
    assert _backward(two).count("!$omp parallel do") == 1 and "fad_omp_min_work" in two


def test_syrk_gradient_on_two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    report = api.check(
        [NPB / "npb_kinds.f90", NPB / "npb_blas.f90"],
        wrt=SYRK_WRT,
        of="cost",
        head="syrk",
        sizes={"n": 12, "m": 7},
        modes=("reverse",),
        parallelize_adjoint=True,
    )
    assert report.ok, report.error or report.table()


def test_chosen_loops_run_on_threads_only_with_enough_work(tmp_path: Path) -> None:
    """The IF clause counts the nest's innermost iterations; a loop the user marked keeps its
    directive as written (no clause of ours)."""
    src = tmp_path / "plain.f90"
    src.write_text(SMOOTH)
    text = _backward(_generate([str(src), "--wrt", "x"], tmp_path / "out", "--parallelize-adjoint"))
    clause = "if(dble(n - 1 - 2 + 1) >= fad_omp_min_work)"
    assert "!$omp parallel do if(dble(n) >= fad_omp_min_work)" in text  # sum's seed loop
    colours = [x for x in text.splitlines() if "!$omp parallel do private(" in x]
    assert len(colours) == 1 and colours[0].endswith(f"schedule(static) {clause}")  # smoothing
    assert "even blocks of i, then odd ones" in text  # (ad/parallel/colour.py)
    flags = ("--parallelize-adjoint", "--rewrites=-omp_colour")
    text = _backward(_generate([str(src), "--wrt", "x"], tmp_path / "buffers", *flags))
    assert f"!$omp parallel do {clause}" in text  # the smoothing loop
    assert f"!$omp parallel do schedule(static) {clause}" in text  # its gather loop
    marked = SMOOTH.replace("    do i = 2, n - 1\n", "    !$omp parallel do\n    do i = 2, n - 1\n")
    marked = marked.replace("    end do\n", "    end do\n    !$omp end parallel do\n", 1)
    src.write_text(marked)
    text = _backward(_generate([str(src), "--wrt", "x"], tmp_path / "marked"))
    assert "!$omp parallel do" in text and "fad_omp_min_work" not in text


def test_check_runs_chosen_loops_on_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check's driver sets the threshold to 0 (its sizes are far below 32768 iterations):
    the 2-thread runs of the check exercise the race-free rewrites."""
    from fortran_ad.checks import run

    drivers: list[str] = []
    original = run.harness_source
    monkeypatch.setattr(
        run, "harness_source", lambda spec: drivers.append(original(spec)) or drivers[-1]
    )
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    src = tmp_path / "plain.f90"
    src.write_text(SMOOTH)
    report = api.check(src, wrt="x", of="cost", head="smooth", sizes={"n": 9},
                       modes=("reverse",), parallelize_adjoint=True)  # fmt: skip
    assert report.ok, report.error or report.table()
    assert drivers and all(re.search(r"^\s*fad_omp_min_work = 0\b", d, re.M) for d in drivers)


def test_serial_decision_is_the_exception_path() -> None:
    """give_up: only loops fortran-ad chose; a reason to stay serial, or a snapshot inside
    another loop."""

    class T:
        depth = 1

    class Loop:
        parallel = None

    class Marked:
        parallel = object()

    assert parallel_auto.give_up(T(), Loop(), ["c"], None)
    assert parallel_auto.give_up(T(), Loop(), [], None, atomics=True)
    assert parallel_auto.give_up(T(), Loop(), [], None, buffers=True)
    assert parallel_auto.give_up(T(), Loop(), [], "why")
    assert not parallel_auto.give_up(T(), Loop(), [], None)
    assert not parallel_auto.give_up(T(), Marked(), ["c"], "why")
    T.depth = 0
    assert not parallel_auto.give_up(T(), Loop(), ["c"], None)
    assert not parallel_auto.give_up(T(), Loop(), [], None, buffers=True)
