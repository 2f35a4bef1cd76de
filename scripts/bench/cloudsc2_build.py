"""Sources, differentiation and build of the CLOUDSC2 benchmark (``scripts/bench/cloudsc2.py``).

ECMWF's snapshot (``dwarf-p-cloudsc2-tl-ad``) is only read, never copied into the project.
fortran-ad runs on the nonlinear scheme ``src/cloudsc2_nl/cloudsc2.F90`` and the modules it
uses, listed explicitly so that the HDF5 module (``hdf5_file_mod``) is not needed; the
includes come from ``src/common/include``.

The sources are used unmodified. An emptied routine (the frontend once dropped everything
after a statement function followed by a declaration in ``fcttre.func.h``) is detected, not
assumed: every one of the ten outputs must have a tangent assignment in ``cloudsc2_d``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cloudsc2_driver import INPUTS, OUTPUTS, driver_source

MODULES = ("parkind1", "file_io_mod", "yomcst", "yoethf", "yoecld", "yoecldp", "yoephli", "yophnc")
BUILD_MODULES = ("parkind1", "abor1", "file_io_mod", "yomcst", "yoethf", "yoecld", "yoecldp")
BUILD_MODULES += ("yoephli", "yophnc", "yomncl")
HAND_TL = ("cloudsc2_tl/cloudsc2tl.F90", "cloudsc2_tl/cuadjtqstl.F90")
HAND_AD = ("cloudsc2_ad/cloudsc2ad.F90", "cloudsc2_ad/cuadjtqs.F90", "cloudsc2_ad/cuadjtqsad.F90")
NL = "cloudsc2_nl/cloudsc2.F90"


class BenchError(RuntimeError):
    """A step of the benchmark failed (message says which)."""


@dataclass
class Inputs:
    """The files fortran-ad reads."""

    modules: list[Path]
    include: Path


def layout(src: Path) -> tuple[Path, Path, Path]:
    """(src/, module folder, include folder) of the snapshot, checked."""
    root = src / "src"
    mod, inc = root / "common" / "module", root / "common" / "include"
    for p in [root / NL, inc / "fcttre.func.h", *(mod / f"{m}.F90" for m in BUILD_MODULES)]:
        if not p.is_file():
            raise BenchError(f"{p}: not found (is --src the dwarf-p-cloudsc2-tl-ad snapshot?)")
    return root, mod, inc


def fortran_ad(inputs: Inputs, root: Path, mode: str, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "fortran_ad", "diff", *map(str, inputs.modules)]
    cmd += [str(root / NL), "-I", str(inputs.include), "--head", "cloudsc2", "--mode", mode]
    cmd += ["--wrt", ",".join(INPUTS), "--of", ",".join(OUTPUTS), "-o", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def emptied(gen_dir: Path) -> list[str]:
    """Outputs without a tangent assignment in the generated tangent."""
    text = (gen_dir / "cloudsc2_d.f90").read_text().lower()
    return [o for o in OUTPUTS if not re.search(rf"\b{o.lower()}d\s*\([^\n]*\)\s*=", text)]


def generate(src: Path, work: Path) -> tuple[Inputs, Path, Path]:
    """Run fortran-ad in both modes; returns the inputs used and the two output folders."""
    root, mod, inc = layout(src)
    inputs = Inputs([mod / f"{m}.F90" for m in MODULES], inc)
    fwd, rev = work / "gen_forward", work / "gen_reverse"
    check(fortran_ad(inputs, root, "forward", fwd), "fortran-ad --mode forward")
    if emptied(fwd):
        raise BenchError(f"generated tangent assigns none of {', '.join(emptied(fwd))}")
    check(fortran_ad(inputs, root, "reverse", rev), "fortran-ad (reverse)")
    return inputs, fwd, rev


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
