"""The fortran-ad side of the JAX comparison: generate the adjoint of one npbench kernel,
build a timing program (bench_adjoint's, fed with the runner's inputs and writing the
gradient), run it and read the gradient back.

The program reads every non-fixed dummy from ``in_<name>.bin`` (raw float64, column-major)
when the file exists, times ``warm-up + repeat`` primal/adjoint pairs exactly like
``scripts/bench_adjoint.py`` and, after the last pair, writes each adjoint ``<name>b`` of a
``--wrt`` input to ``grad_<name>.bin``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCRIPTS = Path(__file__).resolve().parents[1]
SAMPLE_TOML = SCRIPTS.parent / "legacy_samples" / "npbench" / "sample.toml"
# one thread, like the rest of the Fortran side (the runner compares CPU times anyway)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@dataclass(frozen=True)
class Blas:
    """How MATMUL runs: OpenBLAS through ``gfortran -fexternal-blas`` when the library is
    installed (Debian: ``apt-get install libopenblas-dev``), else libgfortran's own MATMUL.
    The flags apply to the primal and the adjoint alike (one compile of both)."""

    name: str
    flags: tuple[str, ...] = ()
    libs: tuple[str, ...] = ()


def find_blas() -> Blas:
    fc = shutil.which(ba.COMPILER)
    if fc is not None:
        proc = subprocess.run(
            [fc, "-print-file-name=libopenblas.so"], capture_output=True, text=True, check=False
        )
        if os.path.isabs(proc.stdout.strip()):
            return Blas("openblas", ("-fexternal-blas",), ("-lopenblas",))
    return Blas("libgfortran matmul")


def _load_bench_adjoint():
    if "bench_adjoint" in sys.modules:
        return sys.modules["bench_adjoint"]
    spec = importlib.util.spec_from_file_location("bench_adjoint", SCRIPTS / "bench_adjoint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_adjoint"] = module
    spec.loader.exec_module(module)
    return module


ba = _load_bench_adjoint()
CaseError = ba.CaseError


class IOEmitter(ba.TimingEmitter):
    """bench_adjoint's timing program, with inputs from files and the gradient to files."""

    def bench_declarations(self) -> None:
        super().bench_declarations()
        self.w.line("logical :: fad_exists")
        self.w.line("integer :: fad_u")
        self.w.line(f"real({ba.WP}) :: fad_cpu0, fad_cpu1")

    def timed(self, call, target: str) -> None:
        """Process CPU time (cpu_time), not wall time: on a shared, loaded machine the wall
        time of a single-threaded run mostly measures waiting for a core."""
        self.w.line("call cpu_time(fad_cpu0)")
        call()
        self.w.line("call cpu_time(fad_cpu1)")
        self.w.line(f"{target} = fad_cpu1 - fad_cpu0")

    def bench_values(self) -> None:
        super().bench_values()
        w = self.w
        for d in self.s.dummies:
            if d.fixed is not None:
                continue
            w.line(f"inquire(file='in_{d.name}.bin', exist=fad_exists)")
            w.line("if (fad_exists) then")
            w.indent()
            w.line(
                f"open(newunit=fad_u, file='in_{d.name}.bin', access='stream', "
                "form='unformatted', status='old')"
            )
            w.line(f"read(fad_u) {d.name}")
            w.line("close(fad_u)")
            w.line(f"{self.v('x0', d)} = {d.name}")
            w.dedent()
            w.line("end if")

    def outputs_sum(self, target: str) -> None:
        super().outputs_sum(target)
        if target != "fad_fa":  # after the adjoint call: save the gradient of the last pair
            return
        w = self.w
        w.line("if (fad_k == fad_rep) then")
        w.indent()
        for d in self.s.wrt():
            if not d.has_b:
                continue
            w.line(
                f"open(newunit=fad_u, file='grad_{d.name}.bin', access='stream', "
                "form='unformatted', status='replace')"
            )
            w.line(f"write(fad_u) {self.v('b', d)}")
            w.line("close(fad_u)")
        w.dedent()
        w.line("end if")


class WallIOEmitter(IOEmitter):
    """IOEmitter timed with the wall clock (``system_clock``): the 2-thread runs, whose
    process CPU time counts both threads."""

    timed = ba.TimingEmitter.timed


def io_source(spec) -> str:
    return IOEmitter(spec).program()


def wall_io_source(spec) -> str:
    return WallIOEmitter(spec).program()


@dataclass
class FortranRun:
    primal_s: float
    adjoint_s: float
    peak_bytes: int
    cost: float
    grads: dict[str, np.ndarray]


def shapes(spec, sizes: dict[str, int | float]) -> dict[str, tuple[int, ...]]:
    """Shape of every dummy at ``sizes`` (the dims text evaluated with the size values)."""
    out = {}
    for d in spec.dummies:
        if d.rank:
            dims = eval(d.dims, {"__builtins__": {}}, dict(sizes))  # noqa: S307 - our own text
            out[d.name] = tuple(int(x) for x in (dims if isinstance(dims, tuple) else (dims,)))
        else:
            out[d.name] = ()
    return out


def build(
    head: str,
    preset_sizes: dict,
    workdir: Path,
    tape_limit: int,
    checkpoint: str,
    toml: Path = SAMPLE_TOML,
    blas: Blas | None = None,
    gradient_only: bool = True,
    threads: int = 1,
):
    """Generate and compile the case ``head`` of ``toml`` (sample.toml: the loop nests,
    matmul.toml: the MATMUL versions); returns bench_adjoint's Built (raises CaseError).

    The adjoint is gradient-only (``--gradient-only``): like ``jax.grad`` it computes the
    gradient and skips primal work nobody needs; the primal timed beside it is the plain one.
    ``threads`` > 1: timed with the wall clock; the loop nests (``toml`` sample.toml) with
    ``--parallelize-adjoint`` (the adjoint of every loop the dependence analysis proves
    parallel is an OpenMP loop), the MATMUL versions as they are (their MATMUL calls are
    kept, and OpenBLAS runs them on ``threads`` threads)."""
    blas = blas or Blas("libgfortran matmul")
    case = ba.Case(toml.parent.name, head, toml, {"run": dict(preset_sizes)})
    return ba.build_case(
        case,
        "run",
        workdir,
        tape_limit,
        checkpoint,
        source=io_source if threads == 1 else wall_io_source,
        extra_flags=blas.flags,
        libs=blas.libs,
        gradient_only=gradient_only,
        parallelize_adjoint=threads > 1 and toml == SAMPLE_TOML,
    )


def run(
    built,
    sizes: dict,
    inputs: dict[str, np.ndarray],
    repeat: int,
    timeout: float,
    threads: int = 1,
):
    folder = built.exe.parent
    for old in folder.glob("grad_*.bin"):
        old.unlink()
    for name, value in inputs.items():
        (folder / f"in_{name}.bin").write_bytes(np.asarray(value, dtype="<f8").tobytes(order="F"))
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    old = {n: os.environ.get(n) for n in names}
    os.environ.update({n: str(threads) for n in names})
    try:
        runs = ba.run_program(built, sizes, 1, repeat, False, timeout)
    finally:
        for n, v in old.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v
    shp = shapes(built.spec, sizes)
    grads = {}
    for d in built.spec.wrt():
        path = folder / f"grad_{d.name}.bin"
        if d.has_b and path.exists():
            grads[d.name] = np.fromfile(path, dtype="<f8").reshape(shp[d.name], order="F")
    for name in inputs:
        (folder / f"in_{name}.bin").unlink()
    return FortranRun(
        statistics.median(r.primal for r in runs),
        statistics.median(r.adjoint for r in runs),
        max(r.peak for r in runs),
        runs[-1].f_primal,
        grads,
    )
