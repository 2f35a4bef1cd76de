"""Run the Fortran and the DaCe-compiled adjoint from one Fortran driver and compare them
(used by tests/test_sdfg_backend.py and scripts/bench_dace.py).

The driver declares every dummy of ``<head>_b`` under its own name, fills real inputs with a
deterministic sequence inside the sample's ranges, seeds the adjoints of the ``of`` outputs with
1, calls ``<head>_b`` ``reps`` times (inputs reset before each call) and prints the best wall
time and every real dummy after the last call. The same driver text links against either back
end, so the two runs differ only in the adjoint's implementation.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fortran_ad.ad.core import naming
from fortran_ad.backends.sdfg_emit import Lowered, lower
from fortran_ad.ir import nodes as ir
from fortran_ad.ir import printer as fw
from fortran_ad.ir.writer import Writer
from fortran_ad.options import Options
from fortran_ad.outputs import write_outputs

GFORTRAN = ["gfortran", "-O2", "-march=native"]


@dataclass(frozen=True)
class Run:
    seconds: float
    values: dict[str, list[float]]


def driver(low: Lowered, sizes: dict[str, int], ranges: dict[str, list[float]], of, reps=1):
    r = low.derivative
    w = Writer()
    w.line("program fad_sdfg_driver")
    w.indent()
    if low.module:
        w.line(f"use {low.module}")
        w.line(f"use {naming.module_name(low.module, 'reverse')}")
    w.line("implicit none")
    w.line("integer(8) :: fad_c0, fad_c1, fad_rate")
    w.line("integer :: fad_rep, fad_k")
    w.line("double precision :: fad_best")
    reals = []
    for a in r.args:
        s = r.symbol(a)
        if s.type.base == "integer":
            w.line(f"integer :: {a} = {sizes[a]}")
        else:
            dims = ", ".join(":" for _ in s.dims)
            alloc = ", allocatable" if s.dims else ""
            w.line(f"{fw.type_text(s.type)}{alloc} :: {a}{f'({dims})' if dims else ''}")
            reals.append(s)
    for s in reals:
        if s.dims:
            w.line(f"allocate({s.name}{fw.dims_text(s.dims)})")
    w.line("fad_best = huge(1.0d0)")
    w.line(f"do fad_rep = 1, {reps}")
    w.indent()
    for k, s in enumerate(reals):
        lo, hi = ranges.get(s.name, [0.5, 1.5]) if s.name in r.args else (0.0, 0.0)
        seed = 0.1 * (k + 1)
        if s.name.endswith("b") and s.name[:-1] in r.args:  # an adjoint: zero or the seed
            lo = hi = 1.0 if s.name[:-1] in of else 0.0
        elif s.name in sizes:  # a fixed value of the case (dt = 0.01)
            lo = hi = float(sizes[s.name])
        if s.dims:
            w.line(f"do fad_k = 1, size({s.name})")
            w.indent()
            w.line(
                f"call fad_put({s.name}, fad_k, {lo!r}d0 + ({hi!r}d0 - {lo!r}d0)*"
                f"modulo(0.6180339887d0*fad_k + {seed!r}d0, 1.0d0))"
            )
            w.dedent()
            w.line("end do")
        else:
            w.line(f"{s.name} = {lo!r}d0 + ({hi!r}d0 - {lo!r}d0)*{0.37 + seed / 7:.6f}d0")
    w.line("call system_clock(fad_c0, fad_rate)")
    w.line(f"call {r.name}({', '.join(r.args)})")
    w.line("call system_clock(fad_c1)")
    w.line("fad_best = min(fad_best, dble(fad_c1 - fad_c0)/dble(fad_rate))")
    w.dedent()
    w.line("end do")
    w.line("print '(a, es26.17e3)', 'TIME ', fad_best")
    for s in reals:
        if s.dims:
            w.line(f"do fad_k = 1, size({s.name})")
            w.line(f"  print '(a, i0, es26.17e3)', '{s.name} ', fad_k, fad_get({s.name}, fad_k)")
            w.line("end do")
        else:
            w.line(f"print '(a, i0, es26.17e3)', '{s.name} ', 1, {s.name}")
    w.dedent()
    w.line("contains")
    w.indent()
    w.line("subroutine fad_put(x, k, v)")
    w.line("  real(kind(1.0d0)), intent(inout) :: x(*)")
    w.line("  integer, intent(in) :: k")
    w.line("  double precision, intent(in) :: v")
    w.line("  x(k) = v")
    w.line("end subroutine fad_put")
    w.line("double precision function fad_get(x, k)")
    w.line("  real(kind(1.0d0)), intent(in) :: x(*)")
    w.line("  integer, intent(in) :: k")
    w.line("  fad_get = x(k)")
    w.line("end function fad_get")
    w.dedent()
    w.line("end program fad_sdfg_driver")
    return w.text()


def build_both(
    options: Options, work: Path, sizes, ranges, reps: int = 1, flags: tuple[str, ...] = ()
) -> dict[str, Path]:
    """Executables ``fortran`` and ``dace`` of the same driver, built under ``work``."""
    from fortran_ad.backends.sdfg_build import files_of

    low = lower(options)  # once: both back ends' files come from it
    text = driver(low, sizes, ranges, set(options.of or ()), reps)
    exes = {}
    for backend, files in (("fortran", low.fortran), ("dace", files_of(low))):
        out = work / backend
        written = write_outputs(files, out)
        (out / "driver.f90").write_text(text)
        f90 = [str(p) for p in written if p.suffix == ".f90"]
        f90 = sorted(f90, key=lambda p: not p.endswith("fad_tape.f90"))
        libs = [p for p in written if p.suffix == ".so"]
        link = []
        for lib in libs:
            link += [f"-L{lib.parent}", f"-l{lib.stem[3:]}", f"-Wl,-rpath,{lib.parent}"]
        exe = out / "driver"
        defines = [f"-D{d}" for d in options.defines]
        cmd = [*GFORTRAN, *flags, *defines, "-J", str(out), *options.sources, *f90]
        cmd.append(str(out / "driver.f90"))
        subprocess.run([*cmd, *link, "-o", str(exe)], check=True, capture_output=True, text=True)
        exes[backend] = exe
    return exes


def run(exe: Path, threads: int | None = None) -> Run:
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True, env=env).stdout
    values: dict[str, list[float]] = {}
    seconds = 0.0
    for line in out.splitlines():
        parts = line.split()
        if parts[0] == "TIME":
            seconds = float(parts[1])
        else:
            values.setdefault(parts[0], []).append(float(parts[2]))
    return Run(seconds, values)


def max_relative_difference(a: Run, b: Run) -> dict[str, float]:
    """Per variable: max |a - b| / max |a| (0 when both are zero)."""
    out = {}
    for name, xs in a.values.items():
        ys = b.values[name]
        scale = max(abs(x) for x in xs)
        diff = max(abs(x - y) for x, y in zip(xs, ys, strict=True))
        out[name] = diff / scale if scale else diff
    return out


__all__ = ["Run", "build_both", "driver", "ir", "max_relative_difference", "run"]
