"""CLOUDSC2: fortran-ad's tangent and adjoint against ECMWF's hand-written ones.

    python scripts/bench/cloudsc2.py --src /path/to/dwarf-p-cloudsc2-tl-ad [--nproma 100]
        [--nlev 137] [--blocks 4] [--reps 5] [--work DIR]

``--src`` is a checkout of ECMWF's ``dwarf-p-cloudsc2-tl-ad`` (Apache-2.0; read, never copied).
The script differentiates the nonlinear scheme ``CLOUDSC2`` with fortran-ad (forward and
reverse, the 16 real inputs to the 10 outputs; ``cloudsc2_build``), compiles the nonlinear
scheme, both generated derivatives, ECMWF's CLOUDSC2TL and CLOUDSC2AD and our own driver
(``cloudsc2_driver``: synthetic IFS-like state, no HDF5 input) with ``gfortran -O2``, runs it on
one thread and prints the tables (``cloudsc2_tables``): tangents per output (generated, ECMWF,
finite differences), dot-product tests of both pairs, adjoints per input with an explanation
of every known difference, median times and ratios to the nonlinear scheme, and the generated
adjoint's tape peak. Exit status 0 when every difference is explained and the generated pair
passes its dot-product test, 1 otherwise, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from cloudsc2_build import BenchError, build, generate  # noqa: E402
from cloudsc2_tables import parse, report  # noqa: E402


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="cloudsc2.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--src", type=Path, required=True, help="dwarf-p-cloudsc2-tl-ad checkout")
    p.add_argument("--nproma", type=positive, default=100, help="columns per block (NPROMA)")
    p.add_argument("--nlev", type=positive, default=137, help="vertical levels")
    p.add_argument("--blocks", type=positive, default=4, help="NPROMA blocks")
    p.add_argument("--reps", type=positive, default=7, help="timed repetitions (median)")
    p.add_argument(
        "--evap",
        action="store_true",
        help="LEVAPLS2=.true.: rain evaporation on (off in ECMWF's driver; PCOVPTOT is then 0)",
    )
    p.add_argument("--fc", default="gfortran", help="Fortran compiler (flags: -O2)")
    p.add_argument("--work", type=Path, help="keep generated code and build here")
    args = p.parse_args(argv)
    if args.nlev < 10:
        p.error("--nlev must be at least 10 (the synthetic profiles need a troposphere)")
    return args


def run(args: argparse.Namespace, work: Path) -> int:
    print(f"# fortran-ad on {args.src} (work folder {work})", flush=True)
    _, fwd, rev = generate(args.src, work)
    exe = build(args.src, fwd, rev, work, args.fc)
    sizes = [str(v) for v in (args.nproma, args.nlev, args.blocks, args.reps, int(args.evap))]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([str(exe), *sizes], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise BenchError(f"driver failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    res = parse(proc.stdout.splitlines())
    title = (
        f"CLOUDSC2, NPROMA={args.nproma}, {args.nlev} levels, {args.blocks} blocks, "
        f"{args.reps} reps, LEVAPLS2={'T' if args.evap else 'F'}, {args.fc} -O2, unmodified sources"
    )
    print(report(res, title))
    return 0 if res.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.work is not None:
            args.work.mkdir(parents=True, exist_ok=True)
            return run(args, args.work.resolve())
        with tempfile.TemporaryDirectory(prefix="cloudsc2_bench_") as tmp:
            return run(args, Path(tmp))
    except BenchError as exc:
        print(f"cloudsc2.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
