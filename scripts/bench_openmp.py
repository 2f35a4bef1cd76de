#!/usr/bin/env python3
"""Benchmark parallel adjoints: time at 1 and 2 (or more) threads, speedup, adjoint/primal.

    python scripts/bench_openmp.py [--preset bench|check] [--samples omp_stencil,...]
                                   [--npbench jacobi_1d,...] [--threads 1,2] [--repeat 3]
                                   [--rounds 3] [--variants gather,atomic]

For every case of the OpenMP samples (``legacy_samples/omp_*`` by default) and every variant
(``gather``: the default race-free rewrite, ``atomic``: ``--omp-atomic``, every shared
increment an ``!$omp atomic``), and for the NPBench loop kernels named by ``--npbench`` (built
with ``--parallelize-adjoint``, variant ``parallelize``), one timing program is built with
scripts/bench_adjoint.py's machinery (``gfortran -O3 -march=native -fopenmp``, primal and
adjoint in the same process, wall-clock ``system_clock``, inputs restored before every call,
``--repeat`` timed calls after a warm-up) and run with OMP_NUM_THREADS set to each thread
count, ``--rounds`` times with the thread counts interleaved. Printed per row: the primal
and adjoint times (the MINIMUM over all runs and calls: on a shared machine other processes
only ever add time, so the minimum is the least disturbed run), adjoint/primal, the adjoint's
speedup over 1 thread of the same variant and, beside it, the primal's. The load average
before and after is printed too: on a shared machine the numbers are only meaningful when it
is low. ``OMP_WAIT_POLICY`` is left as set by the caller (``passive`` behaves better than the
default spinning when the cores are oversubscribed).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _bench_adjoint():
    spec = importlib.util.spec_from_file_location(
        "bench_adjoint", Path(__file__).with_name("bench_adjoint.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_adjoint"] = module
    spec.loader.exec_module(module)
    return module


ba = _bench_adjoint()
VARIANTS = {"gather": "auto", "atomic": "atomic", "parallelize": "auto"}


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(
    case, preset: str, variant: str, threads: Sequence[int], repeat: int, rounds: int, work: Path
):
    """Rows (variant, threads, primal s, adjoint s, sum|grad|) for one case: the minimum over
    ``rounds`` runs of the program per thread count, each of ``repeat`` timed calls."""
    built = ba.build_case(
        case,
        preset,
        work,
        ba.DEFAULT_TAPE_LIMIT,
        omp_increments=VARIANTS[variant],
        parallelize_adjoint=variant == "parallelize",
    )
    best: dict[int, tuple[float, float, float]] = {}
    for _ in range(rounds):  # thread counts interleaved: load drift hits all of them alike
        for n in threads:
            os.environ["OMP_NUM_THREADS"] = str(n)
            runs = ba.run_program(built, case.presets[preset], 1, repeat, False, 3600.0)
            tp, ta = min(r.primal for r in runs), min(r.adjoint for r in runs)
            old = best.get(n, (tp, ta, 0.0))
            best[n] = (min(tp, old[0]), min(ta, old[1]), runs[-1].grad)
    return [(variant, n, *best[n]) for n in threads]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="bench", choices=["bench", "check"])
    p.add_argument("--samples", default="omp_stencil,omp_column,omp_scatter")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--npbench", default="", help="NPBench heads, --parallelize-adjoint")
    p.add_argument("--repeat", type=int, default=3, help="timed calls per program run")
    p.add_argument("--rounds", type=int, default=3, help="program runs per thread count")
    p.add_argument("--variants", default="gather,atomic")
    args = p.parse_args(argv)
    threads = [int(x) for x in args.threads.split(",")]
    variants = [v for v in args.variants.split(",") if v]
    cases = ba.load_cases(ba.SAMPLES_DIR, args.samples.split(","))
    jobs = [(c, v) for c in cases for v in variants]
    if args.npbench:
        kernels = [f"npbench:{h}" for h in args.npbench.split(",") if h]
        jobs += [(c, "parallelize") for c in ba.load_cases(ba.SAMPLES_DIR, kernels)]
    print(
        f"# {load()}; preset {args.preset}; minimum over {args.rounds} runs (thread counts "
        f"interleaved) of {args.repeat} timed calls after a warm-up; {' '.join(ba.FLAGS)} -fopenmp"
    )
    omp_env = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(("OMP_", "GOMP_"))]
    print(f"# nproc {os.cpu_count()}; {' '.join(omp_env) or 'no OMP_* settings'} (threads per row)")
    header = (
        "case",
        "sizes",
        "variant",
        "threads",
        "primal s",
        "adjoint s",
        "adj/primal",
        "speedup",
        "primal speedup",
        "sum|grad|",
    )
    print(" | ".join(header))
    failed = False
    with tempfile.TemporaryDirectory(prefix="fad-bench-omp-") as tmp:
        for case, variant in jobs:
            work = Path(tmp) / f"{case.sample}-{case.head}-{variant}"
            try:
                rows = measure(case, args.preset, variant, threads, args.repeat, args.rounds, work)
            except ba.CaseError as exc:
                print(f"{case.label} | {variant} | {exc.status}: {str(exc)[:300]}")
                failed = True
                continue
            base, base_primal = rows[0][3], rows[0][2]
            for v, n, tp, ta, grad in rows:
                cells = (
                    case.label,
                    case.sizes_text(args.preset),
                    v,
                    str(n),
                    f"{tp:.4f}",
                    f"{ta:.4f}",
                    f"{ta / tp:.2f}",
                    f"{base / ta:.2f}",
                    f"{base_primal / tp:.2f}",
                    f"{grad:.10e}",
                )
                print(" | ".join(cells), flush=True)
    print(f"# {load()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
