"""Gradient-only adjoints (``--gradient-only``, fortran_ad/ad/core/liveness.py).

The head's forward sweep keeps only what the backward sweep needs; the check then verifies the
gradients (central finite differences, the dot-product identity with the tangent, the Taylor
test of the tangent) and skips the "primal outputs left as the primal would" row. Checked on
the NPBench MATMUL kernels, a loop kernel, a climate sample whose time loop is checkpointed and
tests/data/gradient_only/live.f90 (dead statements whose adjoints read their target, a later
live write of it, loops, branches, a module variable). A liveness that forgets the record of a
dead statement must make the check fail; the dead primal GEMM of gemm must be gone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from fortran_ad import api, cli
from fortran_ad.ad.core import adjoint, liveness
from fortran_ad.checks.run import prepare_check
from fortran_ad.driver import Options

pytestmark = pytest.mark.gfortran

NPB = REPO_ROOT / "legacy_samples" / "npbench"
MM_TOML = NPB / "matmul.toml"
LIVE = Path(__file__).parent / "data" / "gradient_only" / "live.f90"
MODES = ("reverse", "forward")
MM_SOURCES = [str(NPB / "npb_kinds.f90"), str(NPB / "npb_blas_mm.f90")]
GEMM = [*MM_SOURCES, "--head", "gemm_mm", "--wrt", "alpha,beta,c,a,b", "--of", "cost"]


def _ok_without_primal_rows(report) -> None:
    assert report.ok, report.table()
    tests = {r.test for r in report.rows}
    assert {"fd_adjoint", "dot_product", "tape_balanced"} <= tests
    assert "adjoint_primal" not in tests  # the gradient-only adjoint may leave it unfinished


@pytest.mark.parametrize("head", ["gemm_mm", "k2mm_mm", "doitgen_mm"])
def test_npbench_matmul_kernels(head: str) -> None:
    report = api.check([], head=head, sample=MM_TOML, modes=MODES, gradient_only=True)
    _ok_without_primal_rows(report)


def test_loop_kernel_lu() -> None:
    report = api.check([], head="lu", sample=NPB / "sample.toml", modes=MODES, gradient_only=True)
    _ok_without_primal_rows(report)


def test_checkpointed_time_loop_shallow_water() -> None:
    """recompute-all checkpoints the time loop (kept whole, its re-runs execute the primal
    body); swm_run has internal procedures reading host variables (kept)."""
    sample = REPO_ROOT / "legacy_samples" / "shallow_water" / "sample.toml"
    options = Options(sources=(), checkpoint="recompute-all", gradient_only=True)
    prepared = prepare_check(options, sample, modes=MODES)
    text = prepared.files["swm_b.f90"]
    assert "checkpointed loop" in text
    body = text.split("subroutine swm_run_b(", 1)[1]
    forward = body.split("! ---- backward sweep", 1)[0]
    assert "cost = " not in forward  # the objective itself is dead
    _ok_without_primal_rows(prepared.run())


@pytest.mark.parametrize(
    "head,wrt", [("reuse", "x,y,w"), ("loopy", "x,y"), ("branchy", "x"), ("slabs", "x,y")]
)
def test_live_cases(head: str, wrt: str) -> None:
    report = api.check(
        LIVE, wrt=wrt, of="cost", head=head, sizes={"n": 4}, modes=MODES, gradient_only=True
    )
    _ok_without_primal_rows(report)


def test_dropping_a_needed_record_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """``w = w*w`` in ``reuse`` is dead, its adjoint reads w and a live statement writes w
    later: without its push/pop the gradient is wrong, and the check says so."""
    original = liveness.dead_statements
    monkeypatch.setattr(
        adjoint, "dead_statements", lambda t: (original(t)[0], set(), original(t)[2])
    )
    report = api.check(
        LIVE, wrt="x,y,w", of="cost", head="reuse", sizes={"n": 4}, modes=MODES, gradient_only=True
    )
    assert not report.ok
    assert any(r.test == "fd_adjoint" and not r.passed for r in report.rows)


def _stepped(head: str) -> tuple[str, object]:
    """``head``'s adjoint, every loop checkpointed every iteration, and its check."""
    options = Options(
        sources=(str(LIVE),),
        head=head,
        wrt=("x", "y"),
        of=("cost",),
        sizes={"n": 4},
        checkpoint="recompute-all",
        gradient_only=True,
    )
    prepared = prepare_check(options, None, modes=MODES)
    return prepared.files["live_b.f90"], prepared.run()


def test_independent_checkpointed_steps_run_only_in_the_backward_sweep() -> None:
    """``stepped``: empty snapshots, nothing live after the loop: the forward sweep has no
    step loop (``sin``), the re-runs no dead diagnostic (``d(k)``); the gradient is right."""
    text, report = _stepped("stepped")
    forward, backward = _sweeps(text, "stepped_b")
    assert "sin(" not in forward and "do k =" not in forward
    assert "sin(" in backward  # the re-run
    assert "d(k)" not in text.split("subroutine stepped_b(", 1)[1]
    _ok_without_primal_rows(report)


def test_checkpointed_steps_whose_result_is_read_keep_their_forward_sweep() -> None:
    """``stepped_live``: the adjoint of cost = sum(z*z) reads z: the step loop stays."""
    text, report = _stepped("stepped_live")
    forward, _ = _sweeps(text, "stepped_live_b")
    assert "do k =" in forward and "z(fad_i1, k) =" in forward
    _ok_without_primal_rows(report)


def test_dropping_a_needed_forward_sweep_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation: claim every checkpointed loop's forward sweep unneeded; ``stepped_live``'s
    adjoint then reads a z nobody computed, and the check says so."""
    monkeypatch.setattr(liveness._Liveness, "_unneeded_forward", lambda self, s, live: s.var == "k")
    text, report = _stepped("stepped_live")
    assert "do k =" not in _sweeps(text, "stepped_live_b")[0]
    assert not report.ok
    assert any(r.test == "fd_adjoint" and not r.passed for r in report.rows)


def _sweeps(text: str, routine: str) -> tuple[str, str]:
    body = text.split(f"subroutine {routine}(", 1)[1].split(f"end subroutine {routine}", 1)[0]
    forward, backward = body.split("! ---- backward sweep", 1)
    return forward.split("! ---- forward sweep", 1)[1], backward


def test_gemm_forward_sweep_has_no_gemm(tmp_path: Path) -> None:
    texts = {}
    for flag in ((), ("--gradient-only",)):
        out = tmp_path / ("go" if flag else "joint")
        assert cli.main([*GEMM, *flag, "-o", str(out)]) == 0
        texts[bool(flag)] = _sweeps((out / "npb_blas_mm_b.f90").read_text(), "gemm_mm_b")
    calls = {k: [len(re.findall(r"\bmatmul\(", s)) for s in v] for k, v in texts.items()}
    assert calls[False] == [1, 2]  # joint: the primal GEMM, then two in the backward sweep
    assert calls[True] == [0, 2]  # gradient-only: only the two the gradient needs
    go_forward, go_backward = texts[True]
    assert "fad_push" not in go_forward and "fad_pop" not in go_backward  # no tape
    assert "fad_final" not in go_backward  # outputs are not restored
    assert "fad_push(c)" in texts[False][0]  # joint: c's old value (for betab) is recorded


def test_forward_mode_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli.main([*GEMM, "--mode", "forward", "--gradient-only", "-o", str(out)]) == 2
    assert "--gradient-only applies to reverse modes" in capsys.readouterr().err
    assert not out.exists()
