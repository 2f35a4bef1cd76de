#!/usr/bin/env python3
"""Calibrate the checkpoint cost model on this machine (real gfortran runs, once).

    python scripts/calibrate_costs.py [--rounds 5] [--dry-run]

The cost model (fortran_ad/checkpoint/costs.py) counts flop equivalents: modelled flops of the
generated forward and backward sweeps (a loop whose iterations form a dependence chain costs
at least the chain's latency, checkpoint/latency.py) plus PUSH_COST per tape push and
BYTE_COST per tape byte (BYTE_COST_MEMORY for the part of a tape beyond the last-level cache).
The constants are measured here, all with the process's CPU time (``cpu_time``), so that other
processes' load on a shared machine does not inflate them:

1. the tape: a gfortran -O3 -march=native program pushes and pops 2e7 real64 scalars through
   the shipped fad_tape module (minus the same loop without the tape): seconds per push (a
   call into the tape); pushes and pops of 4096-element real64 arrays with 4 MiB on the tape
   at its peak (within the cache) and with 1 GiB (far beyond it): seconds per byte of each
   (calibrate_kernels.py);
2. latencies: a chain ``s = s + x(j)``, ``s = s*x(j)``, ``s = x(j)/s``, ``sqrt``, ``exp``,
   ``**``, ``mod`` per operation (calibrate_kernels.py), less the chain's other operations;
3. weights of division, sqrt, exp (and the other libm functions), ** and mod in modelled
   flops: loops with each operation against a loop of one multiply-add (no vectorisation);
   a third of the multiply-add loop's time per element is the first guess of FLOP_SECONDS.

The store-all adjoints of the cases below (other sizes than the bench preset), timed by the
timing program of scripts/bench_adjoint.py with the CPU clock, built once and run
round-robin ``--rounds`` times (median), are predicted by their plans (``Plan.seconds``; the
primals by the flop model, reported only). Two constants are fitted to the adjoints by least
squares in relative error: one scale of FLOP_SECONDS (what the small loops above do not see: memory
traffic of the sweeps, call overheads), repeated until it settles (a latency-bound loop costs
its chain's seconds whatever the flop rate), for each speed-up of vectorised loops
(checkpoint/vector.py) in VECTOR_GRID; the pair with the smallest error is kept.
Constants, latencies, the cache size, scale, speed-up and per-case errors are written to
fortran_ad/checkpoint/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibrate_kernels as kernels  # noqa: E402
from bench_adjoint import FLAGS, CaseError, build_case, load_cases, run_program  # noqa: E402
from bench_checkpoint import cpu_source  # noqa: E402

from fortran_ad.ad.core.generate import Plan  # noqa: E402
from fortran_ad.ad.core.transforms import cost_model, plan_checkpoints  # noqa: E402
from fortran_ad.checkpoint import costs, latency, vector  # noqa: E402
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
CACHE_TAPE = 4 << 20  # bytes on the tape when the byte rate within the cache is measured
MEMORY_TAPE = 1 << 30  # ... and far beyond the last-level cache

TAPE_BENCH = """\
program fad_tape_rate
  use iso_fortran_env, only: int64, real64
  use fad_tape
  implicit none
  integer, parameter :: n = {n}, m = {m}
  real(real64) :: x, s, a(m), t0, t1
  integer :: i, k
  real(real64) :: with_tape, without, arrays
  call fad_tape_set_limit(huge(0_int64))
  with_tape = huge(1.0_real64)
  without = huge(1.0_real64)
  arrays = huge(1.0_real64)
  a = 1
  do k = 1, 3
    x = 0; s = 0
    call cpu_time(t0)
    do i = 1, n
      x = x + 1.0_real64
      call fad_push(x)
    end do
    do i = n, 1, -1
      call fad_pop(x)
      s = s + x
    end do
    call cpu_time(t1)
    with_tape = min(with_tape, t1 - t0)
    x = 0
    call cpu_time(t0)
    do i = 1, n
      x = x + 1.0_real64
      s = s + x*1.0e-30_real64
    end do
    call cpu_time(t1)
    without = min(without, t1 - t0)
    call cpu_time(t0)
    do i = 1, n / m
      a(1) = a(1) + 1.0_real64
      call fad_push(a)
    end do
    do i = 1, n / m
      call fad_pop(a)
      s = s + a(1)
    end do
    call cpu_time(t1)
    arrays = min(arrays, t1 - t0)
  end do
  print '(4es16.8)', with_tape, without, arrays, s
end program fad_tape_rate
"""
ARRAY = 4096  # elements per array push in the tape program


OP_BENCH = """\
program fad_op_rates
  use iso_fortran_env, only: int64, real64
  implicit none
  integer, parameter :: n = 100000, reps = 100
  real(real64) :: x(n), y(n), best(6)
  integer :: m(n), i, r, k
  real(real64) :: t0, t1
  call random_number(x)
  x = x + 0.5_real64
  y = 0
  m = 0
  best = huge(1.0_real64)
  do k = 1, 3
    do r = 0, 5
      call cpu_time(t0)
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
      call cpu_time(t1)
      best(r + 1) = min(best(r + 1), (t1 - t0) / (n*reps))
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


def tape_seconds(work: Path) -> tuple[float, float]:
    """Seconds per push (and its pop) and per byte moved: scalar pushes cost P + 8 B, pushes
    of ARRAY-element arrays P + 8 ARRAY B."""
    (work / "fad_tape.f90").write_text(TAPE_SOURCE.read_text())
    (work / "rate.f90").write_text(TAPE_BENCH.format(n=PUSHES, m=ARRAY))
    exe = work / "rate"
    cmd = ["gfortran", *FLAGS, "fad_tape.f90", "rate.f90", "-o", str(exe)]
    subprocess.run(cmd, cwd=work, check=True, capture_output=True)
    out = subprocess.run([str(exe)], cwd=work, check=True, capture_output=True, text=True)
    with_tape, without, arrays, _ = (float(x) for x in out.stdout.split())
    scalar = max(with_tape - without, 1e-12) / PUSHES
    array = arrays / (PUSHES // ARRAY)
    per_byte = max(array - scalar, 1e-15) / (8.0 * (ARRAY - 1))
    return max(scalar - 8.0 * per_byte, 1e-12), per_byte


def predicted(case, values: dict) -> tuple[float, float]:
    """Seconds of the store-all adjoint (joint calls) the plan predicts with the current
    constants: (the flop model's part, the tape traffic's part) and the primal's seconds."""
    cv = load_case(case.toml, case.head)
    sizes = {k: v for k, v in values.items() if not isinstance(v, bool)}
    opts = Options(sources=cv.sources, mode="reverse", head=case.head, wrt=cv.wrt, of=cv.of,
                   sizes=sizes, checkpoint="store-all")  # fmt: skip
    plan = Plan(load(list(cv.sources)), opts)
    full = plan_checkpoints(plan).seconds
    primal = cost_model(plan)[1](plan.head) * costs.FLOP_SECONDS
    saved = costs.PUSH_COST, costs.BYTE_COST, costs.BYTE_COST_MEMORY
    costs.PUSH_COST = costs.BYTE_COST = costs.BYTE_COST_MEMORY = 0.0
    try:
        flop = plan_checkpoints(Plan(load(list(cv.sources)), opts)).seconds
    finally:
        costs.PUSH_COST, costs.BYTE_COST, costs.BYTE_COST_MEMORY = saved
    return flop, full - flop, primal


VECTOR_GRID = (1.0, 1.5, 2.0, 2.5, 3.0)  # speed-ups of vectorised loops tried


def fit(
    a: float, speedup: float, push, cache, memory, cases, seconds
) -> tuple[float, float, float]:
    """(sum of squared relative errors, fitted FLOP_SECONDS, speedup): the flop rate scaled by
    least squares in relative error over the store-all adjoints with vectorised loops
    ``speedup`` times faster; repeated until the scale settles (a loop bound
    by a recurrence costs its chain's seconds whatever the flop rate)."""
    vector.VECTOR_SPEEDUP = speedup
    err = math.inf
    for _ in range(4):
        set_rates(a, push, cache, memory)
        f, tau = [], []  # per case: flop part and tape part over the measured seconds
        for n, (s, _) in seconds.items():
            fl, tr, _ = predicted(cases[n], cases[n].presets["calibrate"])
            f.append(fl / s)
            tau.append(tr / s)
        num = sum((1 - t) * x for x, t in zip(f, tau, strict=True))
        k = num / sum(x * x for x in f) if f and num > 0 else 1.0
        a *= k
        err = sum((k * x + t - 1) ** 2 for x, t in zip(f, tau, strict=True))
        print(f"vector speed-up {speedup}: scale step {k:.4f}, squared error {err:.4f}", flush=True)
        if abs(k - 1) < 1e-3:
            break
    return err, a, speedup


def set_rates(flop: float, push: float, cache: float, memory: float) -> None:
    """The cost model's constants (flop equivalents) for these seconds."""
    costs.FLOP_SECONDS = flop
    costs.PUSH_COST, costs.BYTE_COST, costs.BYTE_COST_MEMORY = (
        push / flop,
        cache / flop,
        memory / flop,
    )


def measure(cases: dict, rounds: int, work: Path) -> dict[str, tuple[float, float]]:
    """Median CPU seconds of each case's store-all adjoint and of its primal, the cases run
    round-robin."""
    built = {}
    for name, values in CASES.items():
        case = cases[name]
        case.presets["calibrate"] = {**case.presets["bench"], **values}
        try:
            built[name] = build_case(case, "calibrate", work / name, 1 << 62, "store-all",
                                     cpu_source)  # fmt: skip
        except CaseError as exc:
            print(f"{name}: {exc.status}", flush=True)
    times: dict[str, list[float]] = {name: [] for name in built}
    primals: dict[str, list[float]] = {name: [] for name in built}
    for r in range(rounds):
        for name, b in built.items():
            try:
                run = run_program(b, cases[name].presets["calibrate"], 1, 1, False, 3600.0)
            except CaseError as exc:
                print(f"{name}: {exc.status}", flush=True)
                continue
            times[name].append(run[0].adjoint)
            primals[name].append(run[0].primal)
        print(f"round {r + 1}/{rounds}", file=sys.stderr, flush=True)
    return {n: (statistics.median(t), statistics.median(primals[n])) for n, t in times.items() if t}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="round-robin runs per case (median)")
    p.add_argument("--dry-run", action="store_true", help="print, do not write the file")
    args = p.parse_args(argv)
    cases = {c.sample: c for c in load_cases(select=list(CASES))}
    with tempfile.TemporaryDirectory(prefix="fad-calibrate-") as tmp:
        root = Path(tmp)
        push, _ = tape_seconds(root)
        cache = kernels.byte_rate(root, CACHE_TAPE, 1 << 30)
        memory = kernels.byte_rate(root, MEMORY_TAPE, 2 * MEMORY_TAPE)
        print(f"tape: {push * 1e9:.3f} ns per push; per byte {cache * 1e9:.4f} ns (a tape of "
              f"{CACHE_TAPE >> 20} MiB), {memory * 1e9:.4f} ns ({MEMORY_TAPE >> 20} MiB)",
              flush=True)  # fmt: skip
        lat = kernels.latencies(root)
        latency.LATENCY_SECONDS.update(lat)
        print("latency (ns): " + ", ".join(f"{k} {v * 1e9:.3g}" for k, v in lat.items()))
        a, weights = op_weights(root)
        print(f"flop: {a * 1e9:.3f} ns; weights (flop equivalents): {weights}", flush=True)
        costs.WEIGHTS.update(weights)  # the counts below use them
        for f in ("log", "log10", "sin", "cos", "tan", "tanh", "atan"):
            costs.WEIGHTS[f] = weights["exp"]
        costs.WEIGHTS["modulo"] = weights["mod"]
        seconds = measure(cases, args.rounds, root)
    first = a
    # the flop rate's scale and the vectorised loops' speed-up (checkpoint/vector.py), least
    # squares in relative error over the adjoints (the primals' errors are reported); tape
    # rates and latencies as measured
    best = min((fit(a, v, push, cache, memory, cases, seconds) for v in VECTOR_GRID),
               key=lambda r: r[0])  # fmt: skip
    _, a, speedup = best
    vector.VECTOR_SPEEDUP, scale = speedup, a / first
    print(f"chosen: vector speed-up {speedup}, scale {scale:.4f}", flush=True)
    set_rates(a, push, cache, memory)
    cases_out = {}
    for name, (s, sp) in seconds.items():
        fl, tr, pp = predicted(cases[name], cases[name].presets["calibrate"])
        p = fl + tr
        cases_out[name] = {"measured_s": s, "predicted_s": p, "error": (p - s) / s,
                           "primal_measured_s": sp, "primal_predicted_s": pp,
                           "primal_error": (pp - sp) / sp}  # fmt: skip
        print(f"{name}: measured {s:.3g} s, predicted {p:.3g} s (tape {tr:.3g} s); primal "
              f"{sp:.3g} s, predicted {pp:.3g} s", flush=True)  # fmt: skip
    result = {
        "flop_seconds": a,
        "push_seconds": push,
        "byte_seconds": cache,
        "byte_seconds_memory": memory,
        "push_cost": push / a,
        "byte_cost": cache / a,
        "byte_cost_memory": memory / a,
        "llc_bytes": costs.LLC_BYTES,
        "scale": scale,
        "vector_speedup": speedup,
        **{f"weight_{k}": round(v, 2) for k, v in weights.items()},
        **{f"latency_{k}": v for k, v in lat.items()},
        "date": date.today().isoformat(),
        "load": round(os.getloadavg()[0], 1),
        "clock": "cpu_time",
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
