"""scripts/bench/sena.py: fortran-ad's SENA shallow-water derivatives against NOAA's.

The pure-Python pieces (arguments, parsing of the drivers' output, the tables' verdicts, the
drivers' interfaces) are tested in-process. The real benchmark needs NOAA-GSL's SENA
shallow-water snapshot, which the project does not ship: it runs, at a small size, when
FORTRAN_AD_SENA_SRC names the snapshot (its modules need netCDF-Fortran and MPI).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

BENCH = REPO_ROOT / "scripts" / "bench"
sys.path.insert(0, str(BENCH))

import sena  # noqa: E402
import sena_build  # noqa: E402
import sena_driver  # noqa: E402

SRC = os.environ.get("FORTRAN_AD_SENA_SRC")


def test_arguments_defaults_and_rejections(capsys: pytest.CaptureFixture[str]) -> None:
    args = sena.parse_args(["--src", "/x"])
    assert (args.n, args.nsteps, args.reps, args.no_check) == (256, 3, 7, False)
    for bad in (["--src", "/x", "--n", "4"], ["--src", "/x", "--reps", "0"], []):
        with pytest.raises(SystemExit) as exc:
            sena.parse_args(bad)
        assert exc.value.code == 2
    assert "--n must be at least 8" in capsys.readouterr().err


def test_a_check_over_its_tolerance_fails() -> None:
    res = sena.parse(
        ["tl_gen_vs_hand 1.0e-16", "dot_gen 3.0e-15", "times 1e-3 2e-3 1e-3 3e-3 2e-3"]
    )
    lines, ok = sena.table("t", res, "")
    assert (
        ok
        and sum("| ok |" in x for x in lines) == 2
        and "| generated ADJ | 3.000 | 3.00 |" in lines
    )
    res["tl_gen_vs_hand"] = [2.0e-9]
    lines, ok = sena.table("t", res, "")
    assert not ok and any("FAIL" in x and "generated vs hand tangent" in x for x in lines)


def test_missing_sources_are_a_located_failure(tmp_path: Path) -> None:
    with pytest.raises(sena_build.BenchError, match="module_shallow_water_kind.f90: not found"):
        sena_build.sources(tmp_path)


@pytest.mark.parametrize("kernel", ["interior", "boundaries"])
def test_kernel_driver_binds_noaa_kernels_by_their_gfortran_names(kernel: str) -> None:
    text = sena_driver.kernel_driver(kernel)
    names = re.findall(r'name="__shallow_water_model_MOD_(\w+)"', text)
    assert names == [f"update_{kernel}_{s}" for s in ("model", "tl", "adj")]
    # the generated pair comes from the derivative modules of Shallow_Water_Model
    assert f"use shallow_water_model_d, only: update_{kernel}_model_d" in text
    assert f"use shallow_water_model_b, only: update_{kernel}_model_b" in text


def test_loop_driver_uses_the_copied_modules() -> None:
    text = sena_driver.loop_driver()
    for s in ("d", "b"):
        assert f"use shallow_water_state_{s}, only: state_{s} => shallow_water_state_type" in text
    assert (
        "call tlp%adv_nsteps(sp, traj, 1)" in text and "call adjp%adv_nsteps(sp, traj, 1)" in text
    )


@pytest.mark.gfortran
@pytest.mark.skipif(SRC is None, reason="FORTRAN_AD_SENA_SRC (NOAA-GSL's SENA) not set")
def test_benchmark_runs_on_the_snapshot(tmp_path: Path) -> None:
    cmd = [sys.executable, str(BENCH / "sena.py"), "--src", str(SRC), "--n", "16", "--reps", "1"]
    cmd += ["--work", str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for title in ("update_interior", "update_boundaries", "adv_nsteps_model: 3 steps"):
        assert title in out
    assert out.count("| generated vs hand adjoint |") == 3 and "FAIL" not in out
