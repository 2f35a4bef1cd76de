"""End-to-end derivatives of every bundled sample case (each ``[[case]]`` of each sample.toml).

Per case:
* ``api.check`` in reverse and forward mode passes (finite differences, dot product, Taylor);
* the generated adjoint compiles with ``gfortran -O2 -Wall -fcheck=all`` without errors
  (warnings are allowed; they are counted and shown with ``pytest -s``);
* generation is reproducible: two runs, in fresh interpreters with different hash seeds,
  writes byte-identical files;
* the order of the ``--wrt`` names does not change the output.

A case may set ``defines = ["NAME", "NAME=VAL"]`` (passed as ``-D``; cases of one head are
told apart by them) and ``modes = [...]`` (the modes it is checked in; default all four).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GFORTRAN, RUN_TIMEOUT, SAMPLES, sample_sources

from fortran_ad import api, cli

pytestmark = pytest.mark.gfortran

Case = tuple[dict[str, Any], dict[str, Any]]
CASES: list[Case] = [(s, c) for s in SAMPLES for c in s["case"]]


def case_id(sample: dict[str, Any], case: dict[str, Any]) -> str:
    return "-".join([sample["name"], case["head"], *(f"D{d}" for d in case.get("defines", ()))])


IDS = [case_id(s, c) for s, c in CASES]
MULTI_WRT = [(s, c) for s, c in CASES if len(c["wrt"]) > 1]
MULTI_IDS = [case_id(s, c) for s, c in MULTI_WRT]
ALL_MODES = ("reverse", "forward", "vector", "vector-reverse")
MODES = ("reverse", "forward")
STRICT = ("-O2", "-Wall", "-fcheck=all")
WARNING = re.compile(r"^Warning: ", re.M)


def cli_args(sample: dict[str, Any], case: dict[str, Any], mode: str, wrt: list[str]) -> list[str]:
    return [
        *map(str, sample_sources(sample)),
        "--head",
        case["head"],
        "--wrt",
        ",".join(wrt),
        "--of",
        ",".join(case["of"]),
        "--mode",
        mode,
        *(f"-D{d}" for d in case.get("defines", ())),
    ]


def read_dir(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


class Generated:
    """Derivative files per (case, mode, wrt order), generated in-process once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[tuple[str, str, tuple[str, ...]], dict[str, bytes]] = {}

    def get(
        self, sample: dict[str, Any], case: dict[str, Any], mode: str, wrt: list[str] | None = None
    ) -> dict[str, bytes]:
        wrt = list(case["wrt"]) if wrt is None else wrt
        key = (case_id(sample, case), mode, tuple(wrt))
        if key not in self.cache:
            out = self.root / f"{key[0]}-{mode}-{len(self.cache)}"
            rc = cli.main([*cli_args(sample, case, mode, wrt), "-o", str(out)])
            assert rc == 0, f"generation failed for {key}"
            self.cache[key] = read_dir(out)
        return self.cache[key]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return Generated(tmp_path_factory.mktemp("generated"))


@pytest.mark.parametrize(("cfg", "case"), CASES, ids=IDS)
def test_check_passes(cfg: dict[str, Any], case: dict[str, Any]) -> None:
    modes = tuple(case.get("modes", ALL_MODES))
    report = api.check(
        sample_sources(cfg),
        sample=cfg["dir"] / "sample.toml",
        head=case["head"],
        modes=modes,
        defines=case.get("defines", ()),
    )
    assert report.ok, report.table()
    tests = {r.test for r in report.rows}
    wanted = {"fd_adjoint", "fd_tangent", "dot_product", "taylor"}
    wanted |= {"vector_fd"} if "vector" in modes else set()
    wanted |= {"vreverse_fd"} if "vector-reverse" in modes else set()
    assert wanted <= tests, tests


def _gfortran(
    flags: tuple[str, ...], sources: list[Path], mod: Path, include: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess[str]:
    assert GFORTRAN is not None
    incs = [f"-I{p}" for p in include]
    cmd = [GFORTRAN, *flags, "-c", "-J", str(mod), "-I", str(mod), *incs, *map(str, sources)]
    return subprocess.run(cmd, cwd=mod, capture_output=True, text=True, timeout=RUN_TIMEOUT)


class TapeBuilds:
    """The tape module compiled once per distinct text (it is big: ~1.5 s at -O2)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folders: dict[bytes, Path] = {}

    def folder(self, text: bytes) -> Path:
        if text not in self.folders:
            folder = self.root / f"tape{len(self.folders)}"
            folder.mkdir(parents=True)
            (folder / "fad_tape.f90").write_bytes(text)
            proc = _gfortran(STRICT, [folder / "fad_tape.f90"], folder)
            assert proc.returncode == 0, f"the tape module does not compile:\n{proc.stderr}"
            print(f"\nfad_tape.f90: {len(WARNING.findall(proc.stderr))} gfortran warnings")
            self.folders[text] = folder
        return self.folders[text]


@pytest.fixture(scope="module")
def tapes(tmp_path_factory: pytest.TempPathFactory) -> TapeBuilds:
    return TapeBuilds(tmp_path_factory.mktemp("tapes"))


@pytest.mark.parametrize(("cfg", "case"), CASES, ids=IDS)
def test_adjoint_compiles_strict(
    cfg: dict[str, Any],
    case: dict[str, Any],
    generated: Generated,
    tapes: TapeBuilds,
    tmp_path: Path,
) -> None:
    """The adjoint (with the tape) compiles with -O2 -Wall -fcheck=all; warnings counted."""
    files = dict(generated.get(cfg, case, "reverse"))
    tape = files.pop("fad_tape.f90", None)
    include = (tapes.folder(tape),) if tape is not None else ()
    gen = tmp_path / "gen"
    gen.mkdir()
    for name, data in files.items():
        (gen / name).write_bytes(data)
    # derivative files in the order of their sources (modules before their users)
    stems = [f"{p.stem}_b.f90" for p in sample_sources(cfg)]
    order = [n for n in stems if n in files] + sorted(set(files) - set(stems))
    # primal modules only need their .mod files: -fsyntax-only writes them
    defines = tuple(f"-D{d}" for d in case.get("defines", ()))
    primal = _gfortran(("-fsyntax-only", *defines), sample_sources(cfg), tmp_path)
    assert primal.returncode == 0, primal.stderr
    proc = _gfortran(STRICT, [gen / n for n in order], tmp_path, include)
    assert proc.returncode == 0, f"gfortran {' '.join(STRICT)} rejects the adjoint:\n{proc.stderr}"
    warnings = len(WARNING.findall(proc.stderr))
    print(f"\n{cfg['name']}-{case['head']}: {warnings} gfortran warnings in generated code")


FRESH_RUN = """\
import sys
from fortran_ad import cli
out, args = sys.argv[1], sys.argv[2:]
for mode in ("reverse", "forward"):
    if cli.main([*args, "--mode", mode, "-o", f"{out}/{mode}"]) != 0:
        sys.exit(1)
"""


def _generate_fresh(cfg: dict[str, Any], case: dict[str, Any], out: Path, seed: int) -> None:
    """Both modes via ``cli.main`` in a new interpreter with hash seed ``seed``."""
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    args = cli_args(cfg, case, "reverse", case["wrt"])[:-2]  # without --mode
    cmd = [sys.executable, "-c", FRESH_RUN, str(out), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stderr


def _first_difference(a: bytes, b: bytes) -> str:
    la, lb = a.decode().splitlines(), b.decode().splitlines()
    for i, (x, y) in enumerate(zip(la, lb, strict=False), start=1):
        if x != y:
            return f"line {i}:\n  {x}\n  {y}"
    return f"lengths differ: {len(la)} vs {len(lb)} lines"


def assert_same_files(a: dict[str, bytes], b: dict[str, bytes], what: str) -> None:
    assert sorted(a) == sorted(b), f"{what}: different files {sorted(a)} vs {sorted(b)}"
    for name in a:
        assert a[name] == b[name], (
            f"{what}: {name} differs at {_first_difference(a[name], b[name])}"
        )


@pytest.mark.parametrize(("cfg", "case"), CASES, ids=IDS)
def test_generation_is_reproducible(
    cfg: dict[str, Any], case: dict[str, Any], tmp_path: Path
) -> None:
    """Two runs in fresh interpreters with different hash seeds (set/dict order must not leak
    into the output) write the same bytes. Both runs load the code on disk at the same time,
    so the comparison also holds while fortran_ad/ is being edited."""
    _generate_fresh(cfg, case, tmp_path / "first", seed=1)
    _generate_fresh(cfg, case, tmp_path / "second", seed=2)
    for mode in MODES:
        first = read_dir(tmp_path / "first" / mode)
        assert first, "nothing generated"
        assert_same_files(first, read_dir(tmp_path / "second" / mode), f"{mode} mode, second run")


@pytest.mark.parametrize(("cfg", "case"), MULTI_WRT, ids=MULTI_IDS)
def test_wrt_order_does_not_matter(
    cfg: dict[str, Any], case: dict[str, Any], generated: Generated
) -> None:
    wrt = list(case["wrt"])
    orders = [wrt[::-1]] + ([wrt[1:] + wrt[:1]] if len(wrt) > 2 else [])
    for mode in MODES:
        base = generated.get(cfg, case, mode)
        for order in orders:
            other = generated.get(cfg, case, mode, order)
            assert_same_files(base, other, f"{mode} mode, --wrt {','.join(order)}")
