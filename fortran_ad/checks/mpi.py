"""The derivative check of MPI programs (issue #13): the ordinary harness (``harness.py``),
started with MPI_Init on every rank, built with mpif90 and run with mpirun.

Every rank draws its own inputs, directions and weights (the seed depends on the rank), runs
the same sequence of primal, adjoint and tangent calls, and prints its *local* sums; the
global numbers are combined here (sums add, norms add in squares, maxima take the max) and
judged by the usual policy (``report.evaluate``): the SPMD program is checked as one function
of all ranks' inputs. Open MPI's mpirun is assumed (``--tag-output``, ``--oversubscribe``).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

from fortran_ad.checks.harness import harness_source
from fortran_ad.checks.report import CheckReport, evaluate
from fortran_ad.errors import FortranADError

MPIF90 = "mpif90"
MPIRUN = "mpirun"
MPIRUN_FLAGS = ("--oversubscribe", "--allow-run-as-root", "--tag-output")
#: default number of ranks of ``fortran-ad check`` on MPI code (FORTRAN_AD_MPI_NP overrides)
DEFAULT_NPROCS = 2
_TAGGED = re.compile(r"^\[\d+,(\d+)\]<stdout>:\s?(.*)$")
# how each field of a harness line combines over ranks: s sum, n norm, m max, = same
_COMBINE = {
    "BASE": "ss",
    "FD": "=ssssss",
    "ADJ": "sssms",
    "TAN": "sss",
    "TAYLOR": "=nnn",
}


def tools() -> tuple[str, str] | None:
    """(mpif90, mpirun) when both are on PATH."""
    fc, run = shutil.which(MPIF90), shutil.which(MPIRUN)
    return (fc, run) if fc and run else None


def default_nprocs() -> int:
    return int(os.environ.get("FORTRAN_AD_MPI_NP", DEFAULT_NPROCS))


def mpirun_command(nprocs: int, exe: Path | str, *args: str) -> list[str]:
    found = tools()
    if found is None:
        raise FortranADError(
            None, "mpif90/mpirun not found", "install Open MPI (scripts/setup.sh does)"
        )
    return [found[1], *MPIRUN_FLAGS, "-np", str(nprocs), str(exe), *args]


def mpi_harness(text: str) -> str:
    """The harness program with MPI started and finished around ``fad_run`` and a seed per
    rank (so ranks hold different inputs)."""
    lines = text.splitlines()
    out: list[str] = []
    done_decl = done_call = False
    for line in lines:
        stripped = line.strip()
        if stripped == "call fad_run()" and not done_call:
            pad = line[: len(line) - len(line.lstrip())]
            out += [
                f"{pad}call MPI_Init(fad_mpi_ierr)",
                f"{pad}call MPI_Comm_rank(MPI_COMM_WORLD, fad_mpi_rank, fad_mpi_ierr)",
                f"{pad}fad_state = 1 + modulo(fad_state + 7919_fad_int64*fad_mpi_rank, "
                "2147483646_fad_int64)",
                line,
                f"{pad}call MPI_Finalize(fad_mpi_ierr)",
            ]
            done_call = True
            continue
        out.append(line)
        if stripped.startswith("program fad_check"):
            out.append(line.replace(stripped, "use mpi"))
        if stripped == "implicit none" and not done_decl:
            out.append(line.replace(stripped, "integer :: fad_mpi_rank, fad_mpi_ierr"))
            done_decl = True
    assert done_decl and done_call, "harness layout changed: update checks/mpi.py"
    return "\n".join(out) + "\n"


def merge(output: str) -> str:
    """One harness output from the tagged output of all ranks (see the module docstring)."""
    per_rank: dict[int, list[str]] = {}
    for line in output.splitlines():
        m = _TAGGED.match(line)
        if m:
            per_rank.setdefault(int(m.group(1)), []).append(m.group(2))
    if not per_rank:
        return output
    ranks = [per_rank[r] for r in sorted(per_rank)]
    if len({len(r) for r in ranks}) != 1:
        raise ValueError("ranks printed different numbers of lines")
    merged = []
    for lines in zip(*ranks, strict=True):
        parts = [ln.split() for ln in lines]
        tag = parts[0][0] if parts[0] else ""
        rule = _COMBINE.get(tag)
        if tag == "EPS" or rule is None:
            if tag.startswith("V"):
                raise ValueError(f"vector-mode line {tag} in an MPI check")
            merged.append(lines[0])
            continue
        values = [[float(x) for x in p[2:]] for p in parts]
        fields = []
        for i, how in enumerate(rule):
            col = [v[i] for v in values]
            if how == "s":
                x = math.fsum(col)
            elif how == "n":
                x = math.sqrt(math.fsum(c * c for c in col))
            elif how == "m":
                x = max(col)
            else:
                x = col[0]
            fields.append(repr(x))
        merged.append(" ".join([tag, parts[0][1], *fields]))
    return "\n".join(merged) + "\n"


def build_and_run(compile_one, spec, build: Path, primal, runtime, derivative, flags, timeout,
                  nprocs: int) -> CheckReport:  # fmt: skip
    """Compile (``compile_one(fc, source, build, index, extra)`` from run.py) with mpif90 and
    run the harness on ``nprocs`` ranks."""
    found = tools()
    if found is None:
        raise FortranADError(
            None, "the sources call MPI but mpif90/mpirun are missing", "scripts/setup.sh"
        )
    fc = found[0]
    harness = build / "fad_check.f90"
    harness.write_text(mpi_harness(harness_source(spec)))
    objects = []
    for i, src in enumerate(primal):
        try:
            objects.append(compile_one(fc, Path(src).resolve(), build, i, flags))
        except Exception as exc:  # run.py's _CompileError
            msg = "mpif90 cannot compile the primal source"
            raise FortranADError(str(src), msg, str(exc)) from None
    try:
        for i, src in enumerate([*runtime, *derivative, harness], start=len(objects)):
            objects.append(compile_one(fc, Path(src).resolve(), build, i, ()))
        exe = build / "fad_check"
        proc = subprocess.run([fc, "-o", str(exe), *map(str, objects)], cwd=build,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip
        if proc.returncode != 0:
            return CheckReport(spec.head, (), f"linking failed:\n{proc.stderr[-3000:]}")
    except Exception as exc:  # a compile error of generated code is a failed check
        if isinstance(exc, FortranADError):
            raise
        return CheckReport(spec.head, (), str(exc))
    cmd = mpirun_command(nprocs, exe)
    try:
        run = subprocess.run(cmd, cwd=build, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return CheckReport(spec.head, (), f"mpirun -np {nprocs} ran longer than {timeout:g} s")
    if run.returncode != 0:
        tail = (run.stdout[-1500:] + "\n" + run.stderr[-3000:]).strip()
        return CheckReport(spec.head, (), f"mpirun -np {nprocs} failed (exit {run.returncode}):"
                           f"\n{tail}")  # fmt: skip
    try:
        return evaluate(spec.head, merge(run.stdout), spec.gradient_only, spec.draws())
    except ValueError as exc:
        return CheckReport(spec.head, (), f"cannot combine the ranks' output: {exc}")
