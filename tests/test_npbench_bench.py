"""scripts/bench: the fortran-ad vs JAX runner on the npbench sample.

The table in ``scripts/bench/sizes.py`` is the source of ``legacy_samples/npbench/sample.toml``;
the runner is run end to end at the tiny ``check`` preset on two kernels (skipped when jax,
an optional ``bench`` extra, is not installed), and its gradient comparison is shown to fail
on a wrong JAX kernel. The gradients of the Fortran kernels themselves are checked by
tests/test_samples_ad.py like every sample's.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import GFORTRAN, REPO_ROOT

BENCH = REPO_ROOT / "scripts" / "bench"
sys.path.insert(0, str(BENCH))

import sizes  # noqa: E402

HAS_JAX = importlib.util.find_spec("jax") is not None
needs_jax = pytest.mark.skipif(not HAS_JAX, reason="jax not installed (pip install '.[bench]')")
needs_gfortran = pytest.mark.skipif(GFORTRAN is None, reason="gfortran not installed")


def test_sample_toml_is_generated_from_the_table() -> None:
    text = (sizes.SAMPLE_DIR / "sample.toml").read_text()
    assert text == sizes.toml_text(), "run: python scripts/bench/sizes.py --write-toml"
    text = sizes.MM_TOML.read_text()
    assert text == sizes.toml_text("matmul"), "run: python scripts/bench/sizes.py --write-toml"


def test_every_kernel_has_all_presets_and_a_fortran_head() -> None:
    sources = " ".join(p.read_text().lower() for p in sizes.SAMPLE_DIR.glob("npb_*.f90"))
    assert len(sizes.KERNELS) == 27
    for k in sizes.KERNELS:
        assert f"subroutine {k.head}(" in sources, k.head
        if k.mm:  # the MATMUL version (--form matmul)
            assert f"subroutine {k.head}_mm(" in sources, k.head
        for preset in ("check", *sizes.PRESETS):
            vals = k.sizes(preset)
            assert set(vals) == set(k.check) | set(k.fixed), (k.head, preset)
        # the presets grow: S <= M <= L in every size
        for n in k.check:
            assert k.S[n] <= k.M[n] <= k.L[n], (k.head, n)


def _run_module():
    spec = importlib.util.spec_from_file_location("npbench_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_reports_the_largest_relative_difference() -> None:
    run = _run_module()
    j = {"a": np.array([1.0, -4.0]), "b": np.zeros(3)}
    assert run.compare({"a": np.array([1.0, -4.0]), "b": np.zeros(3)}, j) == 0.0
    assert run.compare({"a": np.array([1.0, -3.0]), "b": np.zeros(3)}, j) == pytest.approx(0.25)
    assert run.compare({"a": np.array([1.0, -4.0]), "b": np.full(3, 1e-3)}, j) == 1e-3
    assert run.compare({"a": np.array([1.0, -4.0])}, j) == math.inf  # a gradient is missing


def test_merge_takes_per_kernel_medians(tmp_path: Path) -> None:
    """Three runs of gemm (one slow JAX process) and one of atax: gemm gets the median of each
    time column, the largest gradient difference and a note; one failed run marks it."""
    import report

    runs = []
    for k, (jg, fg) in enumerate([(10.0, 2.0), (30.0, 2.2), (11.0, 1.8)]):
        rows = [report.Row("gemm", "n=1", f_primal_ms=1.0 + k, f_grad_ms=fg, j_grad_ms=jg,
                           j_primal_ms=5.0, rel_err=1e-15 * (k + 1), tape_mib=0.0)]  # fmt: skip
        if k == 0:
            rows.append(report.Row("atax", "n=1", f_grad_ms=1.0, j_grad_ms=3.0, f_primal_ms=0.5))
        runs.append(tmp_path / f"run{k}.csv")
        report.write_csv(rows, runs[-1])
    merged = report.medians([r for p in runs for r in report.read_csv(p)])
    assert [r.kernel for r in merged] == ["gemm", "atax"]
    gemm = merged[0]
    assert (gemm.j_grad_ms, gemm.f_grad_ms, gemm.f_primal_ms) == (11.0, 2.0, 2.0)
    assert gemm.rel_err == pytest.approx(3e-15) and gemm.status == "ok"
    assert gemm.notes[0] == "median of 3 runs" and merged[1].speedup == 3.0
    failed = report.Row("gemm", "n=1", status="gradients differ", f_grad_ms=2.0, j_grad_ms=9.0)
    assert report.medians([*merged[:1], failed])[0].status == "gradients differ"


def test_malloc_keep_reaches_the_fortran_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    """--malloc-keep 1G: mallopt here (JAX), MALLOC_*_THRESHOLD_ for the programs; the mmap
    threshold stays within glibc's 32 MiB limit."""
    run = _run_module()
    assert run.parse_args(["--kernels", "gemm"]).malloc_keep == 0  # glibc's default
    args = run.parse_args(["--kernels", "gemm", "--malloc-keep", "1G"])
    assert args.malloc_keep == 1024**3
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)  # restored afterwards
    run.keep_heap(args.malloc_keep)
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == str(32 * 1024**2)
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == str(1024**3)


@needs_jax
@needs_gfortran
def test_runner_end_to_end_at_the_check_preset(tmp_path: Path) -> None:
    cmd = [sys.executable, str(BENCH / "run.py"), "--preset", "check", "--kernels",
           "trisolv", "--repeat", "1", "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "geometric mean" in proc.stdout and "arithmetic mean" in proc.stdout
    rows = list(csv.DictReader((tmp_path / "npbench_check.csv").open()))
    assert [r["kernel"] for r in rows] == ["trisolv"]
    for r in rows:
        assert r["status"] == "ok", r
        assert float(r["rel_err"]) <= 1e-8
        # CPU times of a 6x6 solve may be below the clock's resolution (0), never negative
        for key in ("f_primal_ms", "f_grad_ms", "f_grad_2t_ms", "j_primal_ms", "j_grad_ms"):
            assert 0 <= float(r[key]) < 1e4, (key, r)
        assert float(r["tape_mib"]) > 0  # the adjoint recorded something
    assert (tmp_path / "npbench_check.png").stat().st_size > 1000


@needs_jax
@needs_gfortran
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # gfortran/program run after jax
def test_runner_flags_a_wrong_jax_gradient(tmp_path: Path) -> None:
    """A JAX gemm with beta*c replaced by c (wrong d/dbeta, d/dc) is caught."""
    run = _run_module()
    run.jax_side.configure(1)
    import jax.numpy as jnp

    def wrong(sz, alpha, beta, c, a, b):
        return jnp.sum(alpha * a @ b + c) + 0.0 * beta

    args = run.parse_args(["--preset", "check", "--kernels", "gemm", "--repeat", "1"])
    row = run.bench_kernel("gemm", "check", args, tmp_path, {"gemm": wrong})
    assert row.status == run.STATUS_DIFFER
    assert row.rel_err > 1e-3


@needs_gfortran
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # the programs run after jax
def test_two_thread_gradient_equals_the_one_thread_gradient(tmp_path: Path) -> None:
    """The runner's 2-thread build (--parallelize-adjoint, OMP_NUM_THREADS=2) has OpenMP loops
    in its adjoint and gives the 1-thread gradient (same generated inputs in both programs)."""
    import fortran_side

    size = sizes.BY_HEAD["jacobi_2d"].sizes("check")
    runs = {}
    for threads in (1, 2):
        built = fortran_side.build("jacobi_2d", size, tmp_path / f"t{threads}", 1 << 30, "ilp",
                                   threads=threads)  # fmt: skip
        adjoint = "\n".join(p.read_text() for p in (tmp_path / f"t{threads}").glob("*_b.f90"))
        assert ("!$omp parallel do" in adjoint) == (threads == 2)
        runs[threads] = fortran_side.run(built, size, {}, 1, 300.0, threads=threads)
    one, two = runs[1], runs[2]
    assert one.grads and one.grads.keys() == two.grads.keys()
    for name, g in one.grads.items():
        assert np.abs(g).max() > 0, name
        np.testing.assert_allclose(two.grads[name], g, rtol=1e-12, atol=1e-14 * np.abs(g).max())
