#!/usr/bin/env python3
"""Fortran vs DaCe back end: adjoint time on the PolyBench stencils, at 1 and 2 threads.

    python scripts/bench_dace.py [--heads jacobi_2d,heat_3d,seidel_2d] [--repeat 3]
                                 [--size jacobi_2d:n=600,tsteps=50 ...] [--keep DIR]

For each head, ONE Fortran driver (``fortran_ad.backends.sdfg_check.driver``) is linked twice:
with the Fortran back end's ``npb_stencils_b.f90`` (gfortran -O3 -march=native) and with the
DaCe back end's interface module and ``lib<head>_b.so`` (DaCe's C++ flags, OpenMP Maps). The
driver resets the inputs before each call and prints the best of ``--repeat`` calls
(``system_clock``); both programs then run with OMP_NUM_THREADS=1 and 2. The Fortran adjoint is
serial (it has no OpenMP), so its two columns show the noise of the machine. The last column
checks that the two back ends agree (max relative difference over all outputs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fortran_ad.backends.sdfg_check import build_both, max_relative_difference, run  # noqa: E402
from fortran_ad.driver import Options  # noqa: E402

NPB = ROOT / "legacy_samples" / "npbench"
# smaller than the samples' [case.bench] sizes: 2 shared cores, a run of a few seconds
DEFAULT_SIZES = {
    "jacobi_2d": {"n": 800, "tsteps": 40},
    "heat_3d": {"n": 80, "tsteps": 20},
    "seidel_2d": {"n": 600, "tsteps": 10},
    "gemm": {"ni": 300, "nj": 320, "nk": 340},
}


def _sizes(items: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for item in items:
        head, _, rest = item.partition(":")
        out[head] = {k: int(v) for k, v in (p.split("=") for p in rest.split(","))}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--heads", default="jacobi_2d,heat_3d,seidel_2d")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--size", action="append", default=[], help="head:n=..,tsteps=..")
    ap.add_argument("--keep", type=Path, default=None, help="keep the builds in DIR")
    args = ap.parse_args()
    spec = tomllib.loads((NPB / "sample.toml").read_text())
    cases = {c["head"]: c for c in spec["case"]}
    sources = tuple(str(NPB / s) for s in spec["sources"])
    sizes = DEFAULT_SIZES | _sizes(args.size)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-dace-"))
    rows = []
    for head in args.heads.split(","):
        c = cases[head]
        opts = Options(sources=sources, head=head, wrt=tuple(c["wrt"]), of=("cost",))
        size = sizes.get(head, c["bench"])
        exes = build_both(opts, work / head, size, c.get("ranges", {}), args.repeat, ("-O3",))
        times = {}
        for backend, exe in exes.items():
            for threads in (1, 2):
                times[backend, threads] = run(exe, threads)
        diff = max(max_relative_difference(times["fortran", 1], times["dace", 1]).values())
        rows.append((head, size, {k: v.seconds for k, v in times.items()}, diff))
        print(f"{head}: done", file=sys.stderr, flush=True)
    print(
        "| kernel | sizes | Fortran 1t [s] | Fortran 2t [s] | DaCe 1t [s] | DaCe 2t [s] "
        "| Fortran/DaCe 1t | Fortran 1t/DaCe 2t | max rel diff |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for head, size, t, diff in rows:
        text = ",".join(f"{k}={v}" for k, v in size.items())
        print(
            f"| {head} | {text} | {t['fortran', 1]:.3f} | {t['fortran', 2]:.3f} "
            f"| {t['dace', 1]:.3f} | {t['dace', 2]:.3f} | {t['fortran', 1] / t['dace', 1]:.2f} "
            f"| {t['fortran', 1] / t['dace', 2]:.2f} | {diff:.1e} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
