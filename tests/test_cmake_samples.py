"""The top-level CMakeLists.txt builds every legacy sample's driver with gfortran."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.gfortran
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is installed by scripts/setup.sh")
def test_cmake_builds_and_runs_every_sample(tmp_path: Path) -> None:
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build)], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True)
    samples = sorted(  # MPI samples need mpif90 and their adjoint: tests/test_mpi.py
        p.parent.name
        for p in (ROOT / "legacy_samples").glob("*/sample.toml")
        if "\nmpi = true" not in p.read_text()
    )
    drivers = sorted(p.name.removesuffix("_driver") for p in build.glob("*_driver"))
    assert drivers == samples
    result = subprocess.run(["ctest", "--output-on-failure"], cwd=build, capture_output=True,
                            text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(samples)} tests" in result.stdout or "100% tests passed" in result.stdout
