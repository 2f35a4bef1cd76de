"""Generated code runs clean under floating-point traps and extra warnings on every sample:
the checker's build adds -Wextra -ffpe-trap=invalid,zero,overflow (FORTRAN_AD_CHECK_FFLAGS), so
an invalid operation, a division by zero or an overflow in derivative code aborts the check."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = [
    (folder, case["head"])
    for folder in sorted((ROOT / "legacy_samples").glob("*/"))
    if (folder / "sample.toml").exists()
    and not tomllib.loads((folder / "sample.toml").read_text()).get("mpi")  # test_mpi.py
    for case in tomllib.loads((folder / "sample.toml").read_text())["case"]
]


@pytest.mark.gfortran
@pytest.mark.slow
@pytest.mark.parametrize(("folder", "head"), CASES, ids=[f"{f.name}-{h}" for f, h in CASES])
def test_sample_checks_clean_under_fpe_traps(folder: Path, head: str) -> None:
    cfg = tomllib.loads((folder / "sample.toml").read_text())
    case = next(c for c in cfg["case"] if c["head"] == head)
    env = dict(os.environ, FORTRAN_AD_CHECK_FFLAGS="-Wextra -ffpe-trap=invalid,zero,overflow")
    args = [sys.executable, "-m", "fortran_ad", "check", *(str(folder / s) for s in cfg["sources"]),
            "--wrt", ",".join(case["wrt"]), "--of", ",".join(case["of"]), "--head", head,
            "--sample", str(folder / "sample.toml"), "--modes", "reverse,forward"]  # fmt: skip
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"check of {head}: passed" in proc.stdout
