"""Shared fixtures: the bundled samples and a small gfortran build-and-run helper.

* ``samples``: every ``legacy_samples/*/sample.toml`` parsed, with ``dir`` (its folder) added.
* ``sample``: one of them; any test asking for it is parametrized over all samples by name.
* ``fortran``: a :class:`Fortran` that compiles sources in ``tmp_path`` and runs executables.

Tests needing gfortran carry ``@pytest.mark.gfortran``; they skip when gfortran is missing,
except under CI (``CI=true``), where a missing compiler is an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT / "legacy_samples"
GFORTRAN = shutil.which("gfortran")
# Flags that make the roundtrip comparison bit-exact: no optimisation, no FMA contraction.
EXACT_FLAGS = ("-O0", "-ffp-contract=off")
STRICT_FLAGS = ("-Wall", "-fcheck=all")
RUN_TIMEOUT = 120


def load_samples(mpi: bool = False) -> list[dict[str, Any]]:
    """All sample.toml files under legacy_samples/, sorted by folder, each with ``dir``.
    Samples marked ``mpi = true`` need mpif90/mpirun: only ``load_samples(mpi=True)`` lists
    them (tests/test_mpi.py runs them under mpirun)."""
    out = []
    for toml in sorted(SAMPLES_DIR.glob("*/sample.toml")):
        data = tomllib.loads(toml.read_text())
        data["dir"] = toml.parent
        data.setdefault("name", toml.parent.name)
        if bool(data.get("mpi", False)) == mpi:
            out.append(data)
    return out


SAMPLES = load_samples()
MPI_SAMPLES = load_samples(mpi=True)


def sample_sources(sample: dict[str, Any]) -> list[Path]:
    """The sample's sources in the order given (modules before their users)."""
    return [sample["dir"] / s for s in sample["sources"]]


def sample_driver(sample: dict[str, Any]) -> Path:
    return sample["dir"] / sample["driver"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "sample" in metafunc.fixturenames:
        metafunc.parametrize("sample", SAMPLES, ids=[s["name"] for s in SAMPLES])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if GFORTRAN is not None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("gfortran is not installed (scripts/setup.sh installs it)")
    skip = pytest.mark.skip(reason="gfortran not installed (scripts/setup.sh installs it)")
    for item in items:
        if "gfortran" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def samples() -> list[dict[str, Any]]:
    assert SAMPLES, f"no sample.toml found under {SAMPLES_DIR}"
    return SAMPLES


@dataclass
class Build:
    """Result of one gfortran invocation."""

    exe: Path
    returncode: int
    output: str  # compiler stdout + stderr
    command: list[str]

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Fortran:
    """Compile with gfortran into fresh folders under ``root`` and run the results."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def _folder(self, name: str) -> Path:
        self.count += 1
        folder = self.root / f"build{self.count}-{name}"
        folder.mkdir(parents=True)
        return folder

    def build(
        self, sources: Sequence[Path | str], name: str = "prog", flags: Sequence[str] = EXACT_FLAGS
    ) -> Build:
        """Compile and link ``sources`` (in order) into ``name``; .mod files stay in its folder."""
        assert GFORTRAN is not None, "gfortran not installed"
        folder = self._folder(name)
        exe = folder / name
        cmd = [GFORTRAN, *flags, "-J", str(folder), "-o", str(exe), *map(str, sources)]
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        return Build(exe, proc.returncode, proc.stdout + proc.stderr, cmd)

    def compile(
        self, sources: Sequence[Path | str], name: str = "prog", flags: Sequence[str] = EXACT_FLAGS
    ) -> Path:
        """Like :meth:`build`, but fails the test with the compiler's messages on an error."""
        result = self.build(sources, name, flags)
        if not result.ok:
            pytest.fail(f"gfortran failed: {' '.join(result.command)}\n{result.output}")
        return result.exe

    def syntax_check(self, sources: Sequence[Path | str], flags: Sequence[str]) -> Build:
        """Compile only (``-c``), e.g. with -Wall -fcheck=all, without linking a program."""
        assert GFORTRAN is not None, "gfortran not installed"
        folder = self._folder("objects")
        cmd = [GFORTRAN, *flags, "-c", "-J", str(folder), *map(str, sources)]
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        return Build(folder, proc.returncode, proc.stdout + proc.stderr, cmd)

    def run(self, exe: Path, stdin: str | None = None) -> str:
        """Run ``exe`` in its folder; fails the test on a non-zero exit. Returns stdout."""
        proc = subprocess.run(
            [str(exe)], cwd=exe.parent, input=stdin, capture_output=True, text=True,
            timeout=RUN_TIMEOUT,
        )  # fmt: skip
        if proc.returncode != 0:
            pytest.fail(f"{exe.name} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout


@pytest.fixture
def fortran(tmp_path: Path) -> Fortran:
    return Fortran(tmp_path)


def run_cli(
    args: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m fortran_ad ARGS`` in a subprocess (the real entry point, real exit code)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "fortran_ad", *args], cwd=cwd, env=full_env, capture_output=True,
        text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
