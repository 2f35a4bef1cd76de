"""Sources, differentiation and build of the CLOUDSC2 benchmark (``scripts/bench/cloudsc2.py``).

ECMWF's snapshot (``dwarf-p-cloudsc2-tl-ad``) is only read, never copied into the project.
fortran-ad runs on the nonlinear scheme ``src/cloudsc2_nl/cloudsc2.F90`` and the modules it
uses, listed explicitly so that the HDF5 module (``hdf5_file_mod``) is not needed; the
includes come from ``src/common/include``.

The unmodified sources are tried first. Two known frontend problems may make that fail; each
one is then worked around in a temporary copy, with a WARNING line naming the edit (the
result is then NOT a result on unmodified sources):

- ``modules``: the modules' parameter loaders (``CALL LOAD_SCALAR('...', YRECLDP%RAMID)``,
  a generic call with a derived-type component argument) are rejected; the copy drops the
  loaders (everything after ``CONTAINS``) and their ``USE FILE_IO_MOD`` line;
- ``include``: a statement function followed by a declaration in ``fcttre.func.h`` empties the
  routine; the copy moves the declarations of the include ahead of its statement functions.

An emptied routine is detected, not assumed: every one of the ten outputs must have a tangent
assignment in the generated ``cloudsc2_d``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cloudsc2_driver import INPUTS, OUTPUTS, driver_source

MODULES = ("parkind1", "file_io_mod", "yomcst", "yoethf", "yoecld", "yoecldp", "yoephli", "yophnc")
LOADER_MODULES = ("yomcst", "yoethf", "yoecldp", "yoephli")
BUILD_MODULES = ("parkind1", "abor1", "file_io_mod", "yomcst", "yoethf", "yoecld", "yoecldp")
BUILD_MODULES += ("yoephli", "yophnc", "yomncl")
HAND_TL = ("cloudsc2_tl/cloudsc2tl.F90", "cloudsc2_tl/cuadjtqstl.F90")
HAND_AD = ("cloudsc2_ad/cloudsc2ad.F90", "cloudsc2_ad/cuadjtqs.F90", "cloudsc2_ad/cuadjtqsad.F90")
NL = "cloudsc2_nl/cloudsc2.F90"


class BenchError(RuntimeError):
    """A step of the benchmark failed (message says which)."""


@dataclass
class Inputs:
    """The files fortran-ad reads, and the workarounds applied to get them (empty: none)."""

    modules: list[Path]
    include: Path
    workarounds: list[str] = field(default_factory=list)


def layout(src: Path) -> tuple[Path, Path, Path]:
    """(src/, module folder, include folder) of the snapshot, checked."""
    root = src / "src"
    mod, inc = root / "common" / "module", root / "common" / "include"
    for p in [root / NL, inc / "fcttre.func.h", *(mod / f"{m}.F90" for m in BUILD_MODULES)]:
        if not p.is_file():
            raise BenchError(f"{p}: not found (is --src the dwarf-p-cloudsc2-tl-ad snapshot?)")
    return root, mod, inc


def strip_loaders(text: str) -> str:
    """A module without its ``USE FILE_IO_MOD`` line and its contained procedures."""
    text = re.sub(r"(?im)^\s*USE\s+FILE_IO_MOD\b.*\n", "", text)
    return re.sub(r"(?is)\n\s*CONTAINS\s*\n.*?(\n\s*END\s+MODULE)", r"\1", text)


def declarations_first(text: str) -> str:
    """An include with its type declarations moved ahead of its statement functions."""
    lines = text.splitlines(keepends=True)
    decl = [ln for ln in lines if re.match(r"(?i)\s*REAL\s*\(\s*KIND\s*=\s*JPRB\s*\)\s*::", ln)]
    return "".join(decl + [ln for ln in lines if ln not in decl])


def fortran_ad(inputs: Inputs, root: Path, mode: str, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "fortran_ad", "diff", *map(str, inputs.modules)]
    cmd += [str(root / NL), "-I", str(inputs.include), "--head", "cloudsc2", "--mode", mode]
    cmd += ["--wrt", ",".join(INPUTS), "--of", ",".join(OUTPUTS), "-o", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def emptied(gen_dir: Path) -> list[str]:
    """Outputs without a tangent assignment in the generated tangent."""
    text = (gen_dir / "cloudsc2_d.f90").read_text().lower()
    return [o for o in OUTPUTS if not re.search(rf"\b{o.lower()}d\s*\([^\n]*\)\s*=", text)]


def generate(src: Path, work: Path, log=print) -> tuple[Inputs, Path, Path]:
    """Run fortran-ad in both modes; returns the inputs used and the two output folders."""
    root, mod, inc = layout(src)
    inputs = Inputs([mod / f"{m}.F90" for m in MODULES], inc)
    tmp = work / "workaround"
    fwd, rev = work / "gen_forward", work / "gen_reverse"
    proc = fortran_ad(inputs, root, "forward", fwd)
    if proc.returncode != 0 and "load_scalar" in proc.stderr:
        (tmp / "module").mkdir(parents=True, exist_ok=True)
        for m in LOADER_MODULES:
            (tmp / "module" / f"{m}.F90").write_text(strip_loaders((mod / f"{m}.F90").read_text()))
        keep = [m for m in MODULES if m != "file_io_mod"]
        inputs.modules = [
            (tmp / "module" if m in LOADER_MODULES else mod) / f"{m}.F90" for m in keep
        ]
        inputs.workarounds.append(
            "modules: fortran-ad rejects the parameter loaders (generic LOAD_SCALAR on a derived-"
            f"type component: {first_error(proc.stderr)}); used copies of "
            f"{', '.join(LOADER_MODULES)} without their CONTAINS part and USE FILE_IO_MOD"
        )
        proc = fortran_ad(inputs, root, "forward", fwd)
    if proc.returncode == 0 and emptied(fwd):
        (tmp / "include").mkdir(parents=True, exist_ok=True)
        for h in inc.iterdir():
            (tmp / "include" / h.name).write_bytes(h.read_bytes())
        func = tmp / "include" / "fcttre.func.h"
        func.write_text(declarations_first(func.read_text()))
        inputs.include = tmp / "include"
        inputs.workarounds.append(
            f"include: the generated tangent assigns none of {', '.join(emptied(fwd))} (routine"
            " emptied by the statement functions of fcttre.func.h); used a copy of the include"
            " with its REAL declarations moved ahead of its statement functions"
        )
        proc = fortran_ad(inputs, root, "forward", fwd)
    for w in inputs.workarounds:
        log(f"WARNING: workaround applied, results are NOT on unmodified sources: {w}")
    check(proc, "fortran-ad --mode forward")
    if emptied(fwd):
        raise BenchError(f"generated tangent assigns none of {', '.join(emptied(fwd))}")
    check(fortran_ad(inputs, root, "reverse", rev), "fortran-ad (reverse)")
    return inputs, fwd, rev


def first_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if "error" in ln]
    return (lines[0] if lines else stderr.strip()[-300:]).strip()


def check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        raise BenchError(f"{what} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def build(src: Path, fwd: Path, rev: Path, work: Path, fc: str = "gfortran") -> Path:
    """Compile everything with ``fc -O2`` (one object per file) and link the driver."""
    root, mod, inc = layout(src)
    obj = work / "build"
    obj.mkdir(parents=True, exist_ok=True)
    (obj / "driver.f90").write_text(driver_source())
    files = [mod / f"{m}.F90" for m in BUILD_MODULES] + [rev / "fad_tape.f90", root / NL]
    files += [fwd / "cloudsc2_d.f90", rev / "cloudsc2_b.f90"]
    files += [root / f for f in HAND_TL + HAND_AD] + [obj / "driver.f90"]
    objects = []
    for i, f in enumerate(files):
        o = obj / f"{i:02d}_{f.stem}.o"
        cmd = [fc, "-O2", "-c", f"-I{inc}", f"-J{obj}", str(f), "-o", str(o)]
        check(subprocess.run(cmd, capture_output=True, text=True, check=False), " ".join(cmd))
        objects.append(str(o))
    exe = obj / "cloudsc2_bench"
    link = [fc, "-O2", *objects, "-o", str(exe)]
    check(subprocess.run(link, capture_output=True, text=True, check=False), "link")
    return exe
