"""Sources, differentiation and builds of the SENA benchmark (``scripts/bench/sena.py``).

NOAA-GSL's SENA shallow-water model (``src/fortran/*.f90``, object-oriented Fortran 2003) is
only read, never copied into the project. fortran-ad runs on its seven modules unmodified:

- the kernels ``update_interior_model`` and ``update_boundaries_model`` (``--wrt u,v,h --of
  u_new,v_new,h_new``), each in both modes;
- the time loop ``adv_nsteps_model`` through ``sena_step`` (sena_driver.SENA_STEP, ours): ``--head
  step --wrt u,v,h --of u,v,h``. The derivative modules of SENA's modules are then copies of them
  (their derivatives read PRIVATE components such as ``this%dt`` and ``state%clock``;
  fortran_ad/ad/constructs/module_copies.py), which the driver uses in place of SENA's.

The model is built as its CMake build does (``-ffree-line-length-none``, MPI's Fortran
compiler wrapper, netCDF-Fortran from ``nf-config``); NetCDF I/O (``read``/``write``) and the
MPI halo exchange stay primal code in the derivatives (they carry no derivatives).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from sena_driver import SENA_STEP, kernel_driver, loop_driver

MODULES = (
    "module_shallow_water_kind",
    "module_netcdf_utils",
    "module_shallow_water_geometry_config",
    "module_shallow_water_geometry",
    "module_shallow_water_model_config",
    "module_shallow_water_state",
    "module_shallow_water_model",
)
KERNELS = ("interior", "boundaries")
FLAGS = ("-O2", "-ffree-line-length-none", "-fallow-argument-mismatch")


class BenchError(RuntimeError):
    """A step of the benchmark failed (message says which)."""


def sources(src: Path) -> list[Path]:
    """SENA's module sources in dependency order, checked."""
    root = src / "src" / "fortran"
    paths = [root / f"{m}.f90" for m in MODULES]
    for p in paths:
        if not p.is_file():
            raise BenchError(f"{p}: not found (is --src the SENA shallow-water snapshot?)")
    return paths


def netcdf_flags() -> tuple[list[str], list[str]]:
    """Compile and link flags of netCDF-Fortran (``nf-config``), as SENA's build needs."""
    if shutil.which("nf-config") is None:
        raise BenchError(
            "netCDF-Fortran not found (nf-config): SENA's modules use netcdf; install "
            "libnetcdff-dev (Debian/Ubuntu)"
        )
    f = subprocess.run(["nf-config", "--fflags"], capture_output=True, text=True, check=True)
    lib = subprocess.run(["nf-config", "--flibs"], capture_output=True, text=True, check=True)
    return f.stdout.split(), lib.stdout.split()


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError(
            f"{what} failed (exit {proc.returncode}):\n{(proc.stderr or proc.stdout)[-3000:]}"
        )


def primal(src: Path, work: Path, fc: str) -> list[Path]:
    """SENA compiled into ``work/primal`` (objects, in link order)."""
    out = work / "primal"
    out.mkdir(parents=True, exist_ok=True)
    fflags, _ = netcdf_flags()
    objs = []
    for p in sources(src):
        obj = out / f"{p.stem}.o"
        _run([fc, "-c", *FLAGS, *fflags, str(p), "-o", str(obj)], out, f"compiling {p.name}")
        objs.append(obj)
    return objs


def generate(src: Path, work: Path, job: str, mode: str) -> Path:
    """fortran-ad on SENA for one job (a kernel or ``step``) and mode; the output folder."""
    out = work / "gen" / f"{job}_{mode}"
    if out.exists():
        shutil.rmtree(out)
    files = [str(p) for p in sources(src)]
    if job == "step":
        (work / "sena_step.f90").write_text(SENA_STEP)
        files.append(str(work / "sena_step.f90"))
        head = ["--head", "step", "--wrt", "u,v,h", "--of", "u,v,h"]
    else:
        head = ["--head", f"update_{job}_model", "--wrt", "u,v,h", "--of", "u_new,v_new,h_new"]
    cmd = [sys.executable, "-m", "fortran_ad", *files, *head, "--mode", mode, "-o", str(out)]
    _run(cmd, work, f"fortran-ad ({job}, {mode})")
    return out


def _ordered(files: list[Path]) -> list[Path]:
    """Runtime first, then SENA's derivative modules in SENA's order, then the rest."""
    rank = {m: i for i, m in enumerate(MODULES)}

    def key(p: Path) -> tuple[int, int, str]:
        if p.name.startswith("fad_") or "_tape_ext" in p.name:
            return (0, 0, p.name)
        stem = p.stem.rsplit("_", 1)[0]
        return (1, rank.get(stem, len(rank)), p.name)

    return sorted(files, key=key)


def build(src: Path, work: Path, job: str, fc: str, objs: list[Path], check: bool) -> Path:
    """Both modes of one job compiled with the driver into ``work/<job>/sena_<job>``.

    ``check``: also compile every generated file with ``-Wall -fcheck=all`` first (errors
    fail the benchmark; warnings are counted)."""
    fflags, libs = netcdf_flags()
    out = work / job
    out.mkdir(parents=True, exist_ok=True)
    inc = ["-I", str(work / "primal"), *fflags]
    gen: dict[str, Path] = {}
    for mode in ("forward", "reverse"):
        for f in generate(src, work, job, mode).glob("*.f90"):
            gen.setdefault(f.name, f)  # fad_mpi.f90 comes with both modes
    files = _ordered(list(gen.values()))
    if check:
        strict = out / "strict"
        strict.mkdir(exist_ok=True)
        for f in files:
            _run([fc, "-c", "-Wall", "-fcheck=all", *inc, str(f)], strict, f"{f.name} -fcheck=all")
    new = []
    for f in files:
        obj = out / f"{f.stem}.o"
        _run([fc, "-c", *FLAGS, *inc, str(f), "-o", str(obj)], out, f"compiling {f.name}")
        new.append(obj)
    driver = out / f"sena_{job}.f90"
    driver.write_text(loop_driver() if job == "step" else kernel_driver(job))
    exe = out / f"sena_{job}"
    cmd = [fc, *FLAGS, *inc, str(driver), *map(str, new), *map(str, objs), *libs, "-o", str(exe)]
    _run(cmd, out, f"building the {job} driver")
    return exe
