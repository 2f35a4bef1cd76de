"""SENA shallow water: fortran-ad's tangents and adjoints against NOAA-GSL's hand-written ones.

    python scripts/bench/sena.py --src /path/to/SENA-shallow-water [--n 256] [--nsteps 3]
        [--reps 7] [--work DIR] [--no-check]

``--src`` is a checkout of NOAA-GSL's SENA shallow-water model (read, never copied). The script
differentiates, from the unmodified sources (sena_build), the interior and boundary kernels
and the time loop ``adv_nsteps_model`` (through a wrapper of ours, ``sena_step``), compiles
every generated file with ``-Wall -fcheck=all`` (unless ``--no-check``), builds SENA and our
drivers (sena_driver) with ``-O2`` and prints, per kernel and for one step of the time loop:
generated and hand-written tangents against central finite differences, generated against
hand-written tangents and adjoints (relative 2-norm differences), dot-product tests of both
pairs, and median times of the nonlinear code and the four derivatives, with ratios to the
nonlinear time; for the time loop over ``--nsteps`` steps also the generated tangent against
finite differences and its dot-product test. Exit status 0 when every check is within its
tolerance, 1 otherwise, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from sena_build import KERNELS, BenchError, build, primal  # noqa: E402

# (key, what, tolerance): relative differences; finite differences of the multi-step loop are
# limited by their truncation error, the rest by rounding
CHECKS = (
    ("tl_gen_vs_fd", "generated tangent vs finite differences", 1e-6),
    ("tl_hand_vs_fd", "hand tangent vs finite differences", 1e-6),
    ("tl_gen_vs_hand", "generated vs hand tangent", 1e-12),
    ("adj_gen_vs_hand", "generated vs hand adjoint", 1e-12),
    ("dot_gen", "dot-product test, generated pair", 1e-12),
    ("dot_hand", "dot-product test, hand pair", 1e-12),
)
TIMES = ("nonlinear", "generated TL", "hand TL", "generated ADJ", "hand ADJ")


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="sena.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--src", type=Path, required=True, help="SENA shallow-water checkout")
    p.add_argument("--n", type=positive, default=256, help="grid points per side")
    p.add_argument("--nsteps", type=positive, default=3, help="time steps of the loop check")
    p.add_argument("--reps", type=positive, default=7, help="timed repetitions (median)")
    p.add_argument("--fc", default="mpif90", help="MPI Fortran compiler wrapper")
    p.add_argument("--no-check", action="store_true", help="skip the -Wall -fcheck=all builds")
    p.add_argument("--work", type=Path, help="keep generated code and builds here")
    args = p.parse_args(argv)
    if args.n < 8:
        p.error("--n must be at least 8")
    return args


def parse(lines: list[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for line in lines:
        key, *values = line.split() or [""]
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            continue  # the model's own messages
        if numbers:
            out[key] = numbers
    return out


def table(title: str, res: dict[str, list[float]], prefix: str) -> tuple[list[str], bool]:
    ok = True
    lines = [f"## {title}", "", "| check | relative difference | tolerance | result |"]
    lines.append("|---|---|---|---|")
    for key, what, tol in CHECKS:
        if prefix + key not in res:
            continue
        value = res[prefix + key][0]
        good = value <= tol
        ok &= good
        lines.append(f"| {what} | {value:.2e} | {tol:.0e} | {'ok' if good else 'FAIL'} |")
    times = res.get(prefix + "times")
    if times:
        lines += ["", "| code | median time [ms] | / nonlinear |", "|---|---|---|"]
        for name, t in zip(TIMES, times, strict=True):
            lines.append(f"| {name} | {t * 1e3:.3f} | {t / max(times[0], 1e-12):.2f} |")
    return lines + [""], ok


def run_exe(exe: Path, argv: list[str]) -> dict[str, list[float]]:
    proc = subprocess.run([str(exe), *argv], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError(f"{exe.name} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return parse(proc.stdout.splitlines())


def run(args: argparse.Namespace, work: Path) -> int:
    print(f"# fortran-ad on {args.src} (work folder {work})", flush=True)
    objs = primal(args.src, work, args.fc)
    out = [f"# SENA shallow water, {args.n} x {args.n}, {args.reps} reps, {args.fc} -O2, "
           "unmodified sources", ""]  # fmt: skip
    ok = True
    for kernel in KERNELS:
        exe = build(args.src, work, kernel, args.fc, objs, not args.no_check)
        res = run_exe(exe, [str(args.n), str(args.reps)])
        lines, good = table(f"update_{kernel}: one call", res, "")
        out += lines
        ok &= good
    exe = build(args.src, work, "step", args.fc, objs, not args.no_check)
    res = run_exe(exe, [str(args.n), str(args.nsteps), str(args.reps)])
    nsteps = int(res.get("loop_nsteps", [args.nsteps])[0])
    lines, good = table(f"adv_nsteps_model: {nsteps} steps (generated only)", res, "loop_")
    out += lines
    ok &= good
    lines, good = table("adv_nsteps_model: one step", res, "step_")
    out += lines
    ok &= good
    print("\n".join(out))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.work is not None:
            args.work.mkdir(parents=True, exist_ok=True)
            return run(args, args.work.resolve())
        with tempfile.TemporaryDirectory(prefix="sena_bench_") as tmp:
            return run(args, Path(tmp))
    except BenchError as exc:
        print(f"sena.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
