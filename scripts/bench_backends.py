#!/usr/bin/env python3
"""Benchmark the derivative back ends: Fortran output vs C output (``--emit c``), same adjoint.

    python scripts/bench_backends.py [--preset bench|check] [--samples a,b] [--repeat N]

For each case (default: the stencil samples jacobi_2d, heat_3d, shallow_water, lorenz96) the
reverse-mode derivative is generated once; the timing program of scripts/bench_adjoint.py
(same driver, inputs and timers) is built twice with ``gfortran/gcc -O3 -march=native``: with
the Fortran derivative files, and with the C files plus their ISO_C_BINDING wrappers. Both run
single-threaded (OMP_NUM_THREADS=1) at the preset's sizes; the table gives the median primal and
adjoint times of each build and the ratio adjoint(C) / adjoint(Fortran), plus the relative
difference of the gradients the two builds report (``grad``: <xb, d> summed over inputs).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from fortran_ad.ad.core.generate import generate, head_signature
from fortran_ad.backends.c_files import emit_c
from fortran_ad.checks.inputs import find_head, load_case
from fortran_ad.checks.spec import build_spec
from fortran_ad.driver import Options, load
from fortran_ad.runtime import RUNTIME_SOURCES

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_adjoint", HERE / "bench_adjoint.py")
ba = importlib.util.module_from_spec(_spec)
sys.modules["bench_adjoint"] = ba
_spec.loader.exec_module(ba)  # type: ignore[union-attr]

DEFAULT = ("jacobi_2d", "heat_3d", "swm_run", "l96_run")
TAPE_LIMIT = 8 * 1024**3


def build(case, preset: str, workdir: Path, backend: str):
    values = case.presets[preset]
    cv = load_case(case.toml, case.head)
    program = load(list(cv.sources))
    module, routine = find_head(program, case.head, cv.wrt)
    sizes = {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}
    options = Options(
        sources=cv.sources,
        mode="reverse",
        head=routine.name,
        wrt=cv.wrt,
        of=cv.of,
        memory_limit=TAPE_LIMIT,
        sizes=sizes,
    )
    files = generate(program, options)
    if backend == "c":
        files = emit_c(options, files)
    spec = build_spec(
        routine,
        module,
        {"reverse": list(head_signature(program, options))},
        cv.wrt,
        cv.of,
        values,
        cv.ranges,
        tape=True,
        memory_limit=TAPE_LIMIT,
    )
    workdir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (workdir / name).write_text(text)
    driver = workdir / f"{ba.PROGRAM}.f90"
    driver.write_text(ba.timing_source(spec))
    runtime = [n for n in files if n in {p.name for p in RUNTIME_SOURCES}]
    rest = [n for n in files if n not in runtime and not n.endswith(".h")]
    sources = [Path(s).resolve() for s in cv.sources] + [workdir / n for n in runtime + rest]
    exe = workdir / ba.PROGRAM
    (workdir / "mod").mkdir(exist_ok=True)
    cmd = ["gfortran", *ba.FLAGS, "-J", str(workdir / "mod"), "-o", str(exe)]
    proc = subprocess.run([*cmd, *map(str, sources), str(driver)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{case.label} ({backend}): compile failed\n{proc.stderr[-3000:]}")
    return ba.Built(case, spec, exe)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--preset", default="bench", choices=("bench", "check"))
    p.add_argument("--samples", default=",".join(DEFAULT))
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"
    cases = ba.load_cases(ba.SAMPLES_DIR, args.samples.split(","))
    print(f"preset {args.preset}, {' '.join(ba.FLAGS)}, 1 thread, median of {args.repeat}")
    head = f"{'case':<28} {'sizes':<22} {'primal':>8} {'adj F90':>9} {'adj C':>9} {'C/F90':>6}"
    print(head + f" {'grad rel.diff':>13}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    try:
        for case in cases:
            runs = {}
            for backend in ("fortran", "c"):
                built = build(case, args.preset, tmp / case.head / backend, backend)
                runs[backend] = ba.run_program(
                    built, case.presets[args.preset], 1, args.repeat, False, 3600.0
                )
            med = {b: statistics.median(r.adjoint for r in rs) for b, rs in runs.items()}
            primal = statistics.median(r.primal for r in runs["fortran"])
            gf, gc = runs["fortran"][0].grad, runs["c"][0].grad
            diff = abs(gf - gc) / max(abs(gf), 1e-300)
            print(
                f"{case.label:<28} {case.sizes_text(args.preset):<22} {primal:8.3f} "
                f"{med['fortran']:9.3f} {med['c']:9.3f} {med['c'] / med['fortran']:6.2f} "
                f"{diff:13.1e}",
                flush=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
