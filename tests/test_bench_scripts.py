"""The benchmark scripts: scripts/bench_adjoint.py and scripts/bench_generate.py.

Pure helpers (tape prediction, case selection, tables) are tested in-process; the scripts
themselves run as subprocesses on small inputs (the lorenz96 check sizes), asserting exit codes
and the numbers in their tables.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from conftest import GFORTRAN, REPO_ROOT, SAMPLES_DIR

from fortran_ad.ad.core.generate import generate
from fortran_ad.driver import Options, load

SCRIPTS = REPO_ROOT / "scripts"
TIMEOUT = 120


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench_adjoint = _script("bench_adjoint")
bench_generate = _script("bench_generate")


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _rows(stdout: str, first: str) -> list[list[str]]:
    """Table rows (cells split at runs of 2+ spaces) whose first cell starts with ``first``."""
    cells = [re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines()]
    return [c for c in cells if c and c[0].startswith(first)]


# ------------------------------------------------------------------- tape prediction
def test_predict_is_exact_for_power_laws() -> None:
    # bytes = 8 * n**2 * nt: base n=10, nt=5; one doubling each; target n=100, nt=50
    base = 8 * 10**2 * 5
    doublings = {"n": (10, 20, 8 * 20**2 * 5, 100), "nt": (5, 10, 8 * 10**2 * 10, 50)}
    assert bench_adjoint.predict(base, doublings) == pytest.approx(8 * 100**2 * 50)


def test_predict_follows_a_constant_plus_linear_part() -> None:
    # bytes = 1000 + 10 * n: a power law through (10, 1100), (20, 1200) would give 1000 * 10**0.126
    base, doubled = 1000 + 10 * 10, 1000 + 10 * 20
    predicted = bench_adjoint.predict(base, {"n": (10, 20, doubled, 1000)})
    assert predicted == pytest.approx(1000 + 10 * 1000)


def test_predict_without_tape_or_growth() -> None:
    assert bench_adjoint.predict(0, {"n": (10, 20, 0, 1000)}) == 0.0
    assert bench_adjoint.predict(500, {"n": (10, 20, 500, 1000)}) == pytest.approx(500)
    assert bench_adjoint.predict(500, {"n": (10, 10, 500, 10)}) == pytest.approx(500)


# ---------------------------------------------------------------------- cases
def test_cases_of_the_samples() -> None:
    cases = bench_adjoint.load_cases(SAMPLES_DIR)
    tomls = [tomllib.loads(p.read_text()) for p in SAMPLES_DIR.glob("*/sample.toml")]
    # every case of every sample but the MPI ones (they run under mpirun: bench_mpi.py)
    assert len(cases) == sum(len(t.get("case", [])) for t in tomls if not t.get("mpi")) > 13
    assert sum(c.sample == "npbench" for c in cases) == 27
    assert all({"check", "bench"} <= set(c.presets) for c in cases)
    (l96,) = bench_adjoint.load_cases(SAMPLES_DIR, ["lorenz96"])
    assert l96.head == "l96_run"
    assert l96.size_names() == ["n", "nt"]  # dt is the same in both presets
    assert l96.sizes_text("check") == "n=40,nt=50"
    (gemm,) = bench_adjoint.load_cases(SAMPLES_DIR, ["npbench:gemm"])
    assert gemm.sizes_text("bench") == "ni=1000,nj=1100,nk=1200"
    with pytest.raises(SystemExit, match="unknown sample or head: nope"):
        bench_adjoint.load_cases(SAMPLES_DIR, ["nope"])


def test_probe_sizes_stay_at_or_below_the_preset() -> None:
    (case,) = bench_adjoint.load_cases(SAMPLES_DIR, ["warm_rain"])
    base, grow = bench_adjoint.probe_plan(case, "bench")
    assert base["nz"] == 40  # check 20 * 8 capped at the bench size
    assert base["ncol"] == 24 and base["nt"] == 96
    assert grow == ["ncol", "nt"]
    assert base["dz"] == case.presets["bench"]["dz"]  # non-size values come from the preset
    assert bench_adjoint.probe_plan(case, "check")[1] == []  # check sizes: nothing to predict


def test_set_overrides_preset_values() -> None:
    values = bench_adjoint._values("nt=100, dt=0.5,nk=3,flag=.true.")
    assert values == {"nt": 100, "dt": 0.5, "nk": 3, "flag": True}
    cases = bench_adjoint.load_cases(SAMPLES_DIR, ["lorenz96", "gemm"])
    l96, gemm = bench_adjoint.with_values(cases, "bench", {"nt": 100, "nk": 7})
    assert l96.presets["bench"] == {"n": 4000, "nt": 100, "dt": 0.01}
    assert gemm.presets["bench"] == {"ni": 1000, "nj": 1100, "nk": 7}
    assert gemm.sizes_text("bench") == "ni=1000,nj=1100,nk=7"
    assert cases[0].presets["bench"]["nt"] == 10000  # the originals are left alone
    with pytest.raises(SystemExit, match="zz"):
        bench_adjoint.with_values(cases, "bench", {"zz": 1})


def test_table_and_geometric_mean() -> None:
    R = bench_adjoint.Result
    results = [
        R("a", "f", "n=1", 1000.0, 2000.0, 2.0, 10.0),
        R("b", "g", "n=2", 10.0, 80.0, 8.0, 0.5),
        R("c", "h", "n=3", status="tape limit", notes=["predicted 9.0 GiB"]),
    ]
    text = bench_adjoint.format_table(results)
    assert "geometric mean of adjoint/primal ratios: 4.00 (2 of 3 cases)" in text
    (row_c,) = _rows(text, "c")
    assert row_c[2:] == ["n=3", "-", "-", "-", "-", "tape limit"]
    (row_b,) = _rows(text, "b")
    assert row_b[3:7] == ["10.0", "80.0", "8.00", "0.5"]
    assert "note c:h: predicted 9.0 GiB" in text


def test_timing_program_reads_sizes_from_its_command_line(tmp_path: Path) -> None:
    (case,) = bench_adjoint.load_cases(SAMPLES_DIR, ["lorenz96"])
    from fortran_ad.checks.inputs import find_head, load_case
    from fortran_ad.checks.spec import build_spec

    cv = load_case(case.toml, case.head)
    module, routine = find_head(load(list(cv.sources)), case.head, cv.wrt)
    signature = [("n", False), ("nt", False), ("dt", False)]
    signature += [("forcing", True), ("x", True), ("cost", True)]
    spec = build_spec(
        routine, module, {"reverse": signature}, cv.wrt, cv.of, case.presets["bench"], cv.ranges
    )
    assert [d.name for d in bench_adjoint.fixed_args(spec)] == ["n", "nt", "dt"]
    text = bench_adjoint.timing_source(spec)
    assert "read(fad_arg, *) nt" in text
    assert "10000" not in text  # the bench sizes are arguments, not literals
    assert "fad_b_cost = 1" in text and "fad_b_x = 0" in text
    assert "call l96_run_b(n, nt, dt, forcing, fad_b_forcing, x, fad_b_x, cost, fad_b_cost)" in text
    assert [bench_adjoint.arg_text(v) for v in (3, 0.01, True)] == ["3", "0.01", "T"]


# ---------------------------------------------------------------- bench_adjoint.py
@pytest.mark.gfortran
def test_bench_adjoint_on_lorenz96(tmp_path: Path) -> None:
    out_csv = tmp_path / "out.csv"
    proc = _run(
        "bench_adjoint.py", "--preset", "check", "--repeat", "1", "--samples", "lorenz96",
        "--csv", str(out_csv),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    header = _rows(proc.stdout, "sample")
    assert header and header[0][3:] == [
        "primal ms", "adjoint ms", "ratio", "peak tape MiB", "status"
    ]  # fmt: skip
    (row,) = _rows(proc.stdout, "lorenz96")
    assert row[1:3] == ["l96_run", "n=40,nt=50"]
    primal, adjoint, ratio, tape = (float(x) for x in row[3:7])
    assert row[7] == "ok"
    assert primal > 0 and adjoint > 0 and tape > 0
    assert ratio > 0 and math.isfinite(ratio)
    assert ratio == pytest.approx(adjoint / primal, rel=0.05)  # the columns are rounded
    mean = re.search(r"geometric mean of adjoint/primal ratios: ([0-9.]+) \(1 of 1", proc.stdout)
    assert mean and float(mean.group(1)) == pytest.approx(ratio, abs=0.01)
    with open(out_csv, newline="") as fh:
        table = list(csv.reader(fh))
    assert table[1][:3] == ["lorenz96", "l96_run", "n=40,nt=50"]
    assert float(table[1][5]) == pytest.approx(ratio, abs=0.01) and table[1][7] == "ok"


@pytest.mark.gfortran
def test_bench_adjoint_reports_a_failing_case_and_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "lorenz96"
    shutil.copytree(SAMPLES_DIR / "lorenz96", good)
    bad = tmp_path / "broken"
    bad.mkdir()
    shutil.copy(good / "l96.f90", bad / "l96.f90")
    toml = (good / "sample.toml").read_text().replace('head = "l96_run"', 'head = "no_such"')
    (bad / "sample.toml").write_text(toml)
    proc = _run(
        "bench_adjoint.py", "--preset", "check", "--repeat", "1", "--samples-dir", str(tmp_path)
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (bad_row,) = _rows(proc.stdout, "broken")
    assert bad_row[-1] == "generate failed"
    (good_row,) = _rows(proc.stdout, "lorenz96")
    assert good_row[-1] == "ok" and float(good_row[5]) > 0
    assert "no subroutine 'no_such'" in proc.stdout
    assert "FAILED cases: broken:no_such (generate failed)" in proc.stderr


@pytest.mark.gfortran
def test_bench_adjoint_reports_a_tape_limit_without_failing() -> None:
    proc = _run(
        "bench_adjoint.py", "--preset", "check", "--repeat", "1", "--samples", "lorenz96",
        "--tape-limit", "4K", "--checkpoint", "store-all",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "checkpoint policy store-all, tape limit 4 KiB" in proc.stdout
    (row,) = _rows(proc.stdout, "lorenz96")
    assert row[3:] == ["-", "-", "-", "-", "tape limit"]
    assert "fad_tape: memory limit of 4096 bytes exceeded" in proc.stdout
    assert "(0 of 1 cases)" in proc.stdout


# --------------------------------------------------------------- bench_generate.py
def test_synthetic_module_differentiates_every_copy(tmp_path: Path) -> None:
    text, job, copies = bench_generate.synthetic_module("lorenz96", 300)
    assert copies == 5  # 66 lines per copy
    assert len(text.splitlines()) >= 300
    path = tmp_path / "synthetic.f90"
    path.write_text(text)
    options = Options(sources=(str(path),), head=job.head, wrt=job.wrt, of=job.of)
    files = generate(load([str(path)]), options)
    derivative = files["synthetic_b.f90"]
    for k in range(1, copies + 1):
        assert re.search(rf"subroutine l96_run_k{k}_b\(", derivative), k
        assert re.search(rf"call l96_run_k{k}_(b|bwd)\(", derivative), k  # joint or split
    if GFORTRAN:
        proc = subprocess.run(
            [GFORTRAN, "-fsyntax-only", str(path)], cwd=tmp_path, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr


def test_bench_generate_on_a_small_input(tmp_path: Path) -> None:
    out_csv = tmp_path / "gen.csv"
    proc = _run(
        "bench_generate.py", "--samples", "lorenz96", "--synthetic", "lorenz96",
        "--min-lines", "300", "--repeat", "1", "--csv", str(out_csv),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (sample,) = _rows(proc.stdout, "lorenz96:l96_run")
    (synth,) = _rows(proc.stdout, "synthetic(lorenz96 x5)")
    for row in (sample, synth):
        lines, parse, gen, total, per_kloc, out_lines, rss, _ = row[1:]
        assert int(lines) > 0 and int(out_lines) > 0
        assert float(parse) > 0 and float(gen) > 0 and float(per_kloc) > 0
        assert float(total) == pytest.approx(float(parse) + float(gen), abs=0.002)
        assert float(per_kloc) == pytest.approx(float(total) / (int(lines) / 1000), rel=0.05)
        assert float(rss) > 0
    assert int(sample[1]) == 66 and int(synth[1]) >= 300
    assert re.search(r"overall: [0-9.]+ s for \d+ lines = [0-9.]+ s per 1,000 lines", proc.stdout)
    with open(out_csv, newline="") as fh:
        assert [r[0] for r in csv.reader(fh)][1:] == ["lorenz96:l96_run", "synthetic(lorenz96 x5)"]


def test_bench_checkpoint_errors_are_ratios_of_ratios_and_targets_judge_them() -> None:
    """Round-robin numbers made by hand: the machine is twice as slow in round 2, which the
    per-round ratio to store-all cancels."""
    bc = _script("bench_checkpoint")
    mib = bc.MIB
    store = bc.Variant("c", "store-all", bc.BIG, predicted_s=1.2, adjoint=[1.0, 2.0, 1.0],
                       primal=[0.5, 1.0, 0.5], peak=[100 * mib], rel=[1.0, 1.0, 1.0])  # fmt: skip
    rc = bc.Variant("c", "recompute-all", bc.BIG, predicted_s=3.0, adjoint=[2.5, 5.0, 2.5],
                    primal=[0.5, 1.0, 0.5], peak=[10 * mib], rel=[2.5, 2.5, 2.5])  # fmt: skip
    tenth = bc.Variant("c", "ilp", 10 * mib, predicted_s=1.8, adjoint=[1.5, 3.0, 1.5],
                       primal=[0.5, 1.0, 0.5], peak=[9 * mib], rel=[1.5, 1.5, 1.5])  # fmt: skip
    err, rel = bc.errors(tenth, store)
    assert err == pytest.approx(1.8 / 1.5 - 1)  # predicted / median measured - 1
    assert rel == pytest.approx((1.8 / 1.2) / 1.5 - 1)  # (1.5 predicted) / (1.5 measured) - 1
    assert tenth.ratio == pytest.approx(3.0)
    lines = bc.targets([store, rc, tenth], [0.1])
    assert "ilp/store-all = 1.50 (<= 2: met)" in lines[0]
    assert "best fitting baseline 2.50 (<= +10%: met)" in lines[1]  # store-all does not fit
    assert lines[-1] == "measured peak <= budget: met"
    tenth.rel = [2.9, 2.9, 2.9]  # slower than recompute-all by more than 10 %
    assert "MISSED" in bc.targets([store, rc, tenth], [0.1])[1]
