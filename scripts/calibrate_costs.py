#!/usr/bin/env python3
"""Calibrate the checkpoint cost model on this machine (real gfortran runs, once).

    python scripts/calibrate_costs.py [--repeat 3] [--dry-run]

The cost model (fortran_ad/checkpoint/costs.py) counts flop equivalents: modelled flops of the
generated forward and backward sweeps plus BYTE_COST per tape byte. Two constants turn that
into seconds and are measured here:

1. seconds per tape byte (push and pop): a gfortran -O3 -march=native program pushes 2e7
   real64 scalars through the shipped fad_tape module and pops them back (the generated code
   pushes elements in inner loops), minus the same loops without the tape;
2. weights of division, sqrt, exp (and the other libm functions), ** and mod in modelled
   flops: loops with each operation against a loop of one multiply-add (no vectorisation);
   FLOP_SECONDS (seconds per modelled flop) is a third of the multiply-add loop's time per
   element.

BYTE_COST = BYTE_SECONDS / FLOP_SECONDS. The store-all adjoints of the cases below (other
sizes than the bench preset), timed by the timing program of scripts/bench_adjoint.py, are
predicted as FLOP_SECONDS * modelled flops + BYTE_SECONDS * tape bytes; one common scale of both
rates (what the small loops above do not see: memory traffic, call overheads) is fitted to
them by least squares in relative error. Constants, scale and per-case errors are written to
fortran_ad/checkpoint/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_adjoint import FLAGS, CaseError, build_case, load_cases, run_program  # noqa: E402

from fortran_ad.ad.emit import plan_checkpoints  # noqa: E402
from fortran_ad.ad.generate import Plan  # noqa: E402
from fortran_ad.checkpoint import costs  # noqa: E402
from fortran_ad.checks.inputs import load_case  # noqa: E402
from fortran_ad.driver import Options, load  # noqa: E402
from fortran_ad.runtime import TAPE_SOURCE  # noqa: E402

CASES = {  # sample -> sizes: about a second per adjoint, other sizes than the bench preset
    "lorenz96": {"n": 4000, "nt": 1000},
    "shallow_water": {"nx": 128, "ny": 128, "nt": 200},
    "advection_diffusion": {"n": 50000, "nt": 200},
    "vertical_diffusion": {"nz": 1000, "nt": 3000},
    "warm_rain": {"ncol": 500, "nt": 100},
}
PUSHES = 20_000_000

TAPE_BENCH = """\
program fad_tape_rate
  use iso_fortran_env, only: int64, real64
  use fad_tape
  implicit none
  integer, parameter :: n = {n}
  real(real64) :: x, s
  integer :: i, k
  integer(int64) :: t0, t1, rate
  real(real64) :: with_tape, without
  call fad_tape_set_limit(huge(0_int64))
  with_tape = huge(1.0_real64)
  without = huge(1.0_real64)
  do k = 1, 3
    x = 0; s = 0
    call system_clock(t0, rate)
    do i = 1, n
      x = x + 1.0_real64
      call fad_push(x)
    end do
    do i = n, 1, -1
      call fad_pop(x)
      s = s + x
    end do
    call system_clock(t1)
    with_tape = min(with_tape, real(t1 - t0, real64) / real(rate, real64))
    x = 0
    call system_clock(t0, rate)
    do i = 1, n
      x = x + 1.0_real64
      s = s + x*1.0e-30_real64
    end do
    call system_clock(t1)
    without = min(without, real(t1 - t0, real64) / real(rate, real64))
  end do
  print '(3es16.8)', with_tape, without, s
end program fad_tape_rate
"""


OP_BENCH = """\
program fad_op_rates
  use iso_fortran_env, only: int64, real64
  implicit none
  integer, parameter :: n = 100000, reps = 100
  real(real64) :: x(n), y(n), best(6)
  integer :: m(n), i, r, k
  integer(int64) :: t0, t1, rate
  call random_number(x)
  x = x + 0.5_real64
  y = 0
  m = 0
  best = huge(1.0_real64)
  do k = 1, 3
    do r = 0, 5
      call system_clock(t0, rate)
      select case (r)
      case (0)
        do i = 1, reps; call add(); end do
      case (1)
        do i = 1, reps; call div(); end do
      case (2)
        do i = 1, reps; call root(); end do
      case (3)
        do i = 1, reps; call expo(); end do
      case (4)
        do i = 1, reps; call pow(); end do
      case (5)
        do i = 1, reps; call modulo_(); end do
      end select
      call system_clock(t1)
      best(r + 1) = min(best(r + 1), real(t1 - t0, real64) / real(rate, real64) / (n*reps))
    end do
  end do
  print '(6es16.8,es12.4,i12)', best, sum(y), sum(m)
contains
  subroutine add()
    integer :: j
    do j = 1, n
      y(j) = 0.7_real64*x(j) + y(j)
    end do
  end subroutine add
  subroutine div()
    integer :: j
    do j = 1, n
      y(j) = y(j) + 1.0_real64/x(j)
    end do
  end subroutine div
  subroutine root()
    integer :: j
    do j = 1, n
      y(j) = y(j) + sqrt(x(j))
    end do
  end subroutine root
  subroutine expo()
    integer :: j
    do j = 1, n
      y(j) = y(j) + exp(x(j))
    end do
  end subroutine expo
  subroutine pow()
    integer :: j
    do j = 1, n
      y(j) = y(j) + x(j)**0.875_real64
    end do
  end subroutine pow
  subroutine modulo_()
    integer :: j
    do j = 1, n
      m(j) = m(j) + mod(j + m(j), 7)
    end do
  end subroutine modulo_
end program fad_op_rates
"""


def op_weights(work: Path) -> tuple[float, dict[str, float]]:
    """Seconds per modelled flop (a third of the per-element time of ``y = 0.7*x + y``) and
    the flop equivalents of division, sqrt, exp, ** and mod (per-element time of a loop with
    the operation over that flop time, minus the loop's other modelled flops). Compiled without
    vectorisation, like the generated sweeps that push or pop in every iteration."""
    (work / "ops.f90").write_text(OP_BENCH)
    exe = work / "ops"
    cmd = ["gfortran", *FLAGS, "-fno-tree-vectorize", "ops.f90", "-o", str(exe)]
    subprocess.run(cmd, cwd=work, check=True, capture_output=True)
    out = subprocess.run([str(exe)], cwd=work, check=True, capture_output=True, text=True)
    t = [float(x) for x in out.stdout.split()[:6]]
    flop = t[0] / 3
    # modelled: 1 (assignment) + 1 (+) + the operation; mod: one more + inside
    names = ("/", "sqrt", "exp", "**", "mod")
    out = {k: max(1.0, t[i + 1] / flop - (3 if k == "mod" else 2)) for i, k in enumerate(names)}
    return flop, out


def byte_seconds(work: Path) -> float:
    """Seconds per tape byte pushed and popped (8-byte scalar pushes)."""
    (work / "fad_tape.f90").write_text(TAPE_SOURCE.read_text())
    (work / "rate.f90").write_text(TAPE_BENCH.format(n=PUSHES))
    exe = work / "rate"
    cmd = ["gfortran", *FLAGS, "fad_tape.f90", "rate.f90", "-o", str(exe)]
    subprocess.run(cmd, cwd=work, check=True, capture_output=True)
    out = subprocess.run([str(exe)], cwd=work, check=True, capture_output=True, text=True)
    with_tape, without, _ = (float(x) for x in out.stdout.split())
    return max(with_tape - without, 1e-12) / (8.0 * PUSHES)


def counts(case, values: dict) -> tuple[float, float]:
    """Modelled flops and tape bytes of the store-all adjoint (joint calls) at ``values``."""
    cv = load_case(case.toml, case.head)
    sizes = {k: v for k, v in values.items() if not isinstance(v, bool)}
    opts = Options(sources=cv.sources, mode="reverse", head=case.head, wrt=cv.wrt, of=cv.of,
                   sizes=sizes, checkpoint="store-all")  # fmt: skip
    plan = Plan(load(list(cv.sources)), opts)
    p = plan_checkpoints(plan)
    traffic = plan.adjoint_counts[1]
    return p.work - costs.BYTE_COST * traffic, traffic


def measure(case, values: dict, repeat: int, work: Path) -> float:
    """Median adjoint seconds of the store-all adjoint (the timing program of bench_adjoint)."""
    case.presets["calibrate"] = {**case.presets["bench"], **values}
    built = build_case(case, "calibrate", work, 1 << 62, "store-all")
    runs = run_program(built, case.presets["calibrate"], 1, repeat, False, 3600.0)
    return statistics.median(r.adjoint for r in runs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dry-run", action="store_true", help="print, do not write the file")
    args = p.parse_args(argv)
    cases = {c.sample: c for c in load_cases(select=list(CASES))}
    rows = []
    with tempfile.TemporaryDirectory(prefix="fad-calibrate-") as tmp:
        root = Path(tmp)
        b = byte_seconds(root)
        print(f"tape: {b * 1e9:.3f} ns per byte pushed and popped", flush=True)
        a, weights = op_weights(root)
        print(f"flop: {a * 1e9:.3f} ns; weights (flop equivalents): {weights}", flush=True)
        costs.WEIGHTS.update(weights)  # the counts below use them
        for f in ("log", "log10", "sin", "cos", "tan", "tanh", "atan"):
            costs.WEIGHTS[f] = weights["exp"]
        costs.WEIGHTS["modulo"] = weights["mod"]
        for name, values in CASES.items():
            case = cases[name]
            try:
                seconds = measure(case, values, args.repeat, root / name)
            except CaseError as exc:
                print(f"{name}: {exc.status}", flush=True)
                continue
            flops, traffic = counts(case, case.presets["calibrate"])
            rows.append((name, seconds, flops, traffic))
            print(f"{name}: {seconds:.3g} s, {flops:.3g} flops, {traffic:.3g} B", flush=True)
    # one scale for both rates (memory traffic, call overheads the loops above do not see):
    # least squares in relative error over the validation cases
    ratios = [(a * f + b * t) / s for _, s, f, t in rows]
    scale = sum(ratios) / sum(r * r for r in ratios) if ratios else 1.0
    a, b = a * scale, b * scale
    cases_out = {}
    for name, s, f, t in rows:
        predicted = a * f + b * t
        cases_out[name] = {"measured_s": s, "predicted_s": predicted, "error": (predicted - s) / s}
    result = {
        "flop_seconds": a,
        "byte_seconds": b,
        "byte_cost": b / a,
        "scale": scale,
        **{f"weight_{k}": round(v, 2) for k, v in weights.items()},
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "flags": " ".join(FLAGS),
        "cases": cases_out,
        "max_error": max((abs(v["error"]) for v in cases_out.values()), default=math.nan),
    }
    text = json.dumps(result, indent=2) + "\n"
    print(text)
    if not args.dry_run:
        costs.CALIBRATION.write_text(text)
        print(f"wrote {costs.CALIBRATION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
