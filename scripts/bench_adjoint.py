#!/usr/bin/env python3
"""Benchmark generated adjoints against their primal: time ratio and peak tape, per sample case.

    python scripts/bench_adjoint.py [--preset check|bench] [--samples a,b] [--repeat N]
                                    [--csv out.csv] [--tape-limit 8G] [--keep DIR]

For every ``[[case]]`` of ``legacy_samples/*/sample.toml`` (``--samples`` picks sample folders,
heads, or ``sample:head``):

1. generate the reverse-mode derivative in-process (``fortran_ad.ad.core.generate``) with the tape
   limit baked in (the head's adjoint sets it on entry);
2. build ONE timing program with ``gfortran -O3 -march=native`` from the primal sources,
   ``fad_tape.f90``, the derivative and a generated driver. The driver declares and fills the
   head's dummies exactly like ``fortran-ad check`` (it is a subclass of the checker's Fortran
   emitter, fed by the checker's ``build_spec``), but reads the sample's fixed values (sizes,
   time steps) from the command line, so the same binary runs at any size;
3. when the preset's sizes are larger than the probe sizes, run the binary at small sizes to
   predict the peak tape (per size parameter, from one doubling: the larger of a power law
   and a straight line). The prediction is reported (CSV; a note when it is off by more
   than 2x); what protects the machine is the tape limit (``--tape-limit``, default 8 GiB),
   which the adjoint sets on entry: a run that needs more stops with a clear message after
   at most ~1.5x the limit (the last doubling of the stack) and the case is reported as
   "tape limit", with the predicted need;
4. run it: one warm-up, then ``--repeat`` interleaved pairs (inputs restored from a saved copy
   before every call; ``system_clock`` with int64 counts around each call): primal, then
   adjoint (outputs' adjoints seeded with 1, the other adjoints 0). The ratio is
   median(adjoint) / median(primal) from the same process, so machine drift cancels.

The tape is not reset between timed adjoint calls (steady state, as in an optimisation loop
that calls the gradient repeatedly); ``--reset-tape`` frees it before every call instead, so
the timings include growing the tape. A case that generates, compiles or runs badly is reported
and the others go on; the exit status is 1 when any case failed ("tape limit" is not a failure).
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_program, also when loaded by path

from bench_program import (  # noqa: E402
    COMPILER,
    FAILURES,
    FLAGS,
    PROGRAM,
    REPO_ROOT,
    SAMPLES_DIR,
    STATUS_OK,
    STATUS_TAPE,
    Built,
    Case,
    CaseError,
    Run,
    TimingEmitter,
    arg_text,
    build_case,
    fixed_args,
    load_cases,
    run_program,
    timing_source,
)

from fortran_ad.checkpoint.ilp import POLICIES  # noqa: E402
from fortran_ad.checks.harness import WP  # noqa: E402
from fortran_ad.checks.spec import FixedValue  # noqa: E402
from fortran_ad.driver import Options  # noqa: E402

__all__ = [  # the timing program's pieces, for the scripts that load this one
    "COMPILER",
    "FAILURES",
    "FLAGS",
    "PROGRAM",
    "REPO_ROOT",
    "Built",
    "CaseError",
    "Run",
    "TimingEmitter",
    "WP",
    "arg_text",
    "build_case",
    "fixed_args",
    "main",
    "run_program",
    "timing_source",
]

GIB = 1024**3
MIB = 1024**2
DEFAULT_TAPE_LIMIT = 8 * GIB
PROBE_FACTOR = 8  # probe sizes: the check sizes times this (never above the preset's)
MAX_EXPONENT = 4.0  # clamp for fitted tape-size exponents


# ---------------------------------------------------------------------- tape prediction
def probe_plan(case: Case, preset: str) -> tuple[dict[str, FixedValue], list[str]]:
    """Probe values (size parameters at PROBE_FACTOR x the check sizes, capped at the
    preset's) and the size names still below the preset's value (empty: no probe needed)."""
    target = case.presets[preset]
    check = case.presets.get("check", target)
    base = dict(target)
    grow = []
    for name in case.size_names():
        t, c = target[name], check[name]
        assert isinstance(t, int) and isinstance(c, int)
        base[name] = min(t, max(c * PROBE_FACTOR, 1))
        if base[name] < t:
            grow.append(name)
    return base, grow


def predict(base_bytes: int, doublings: Mapping[str, tuple[int, int, int, int]]) -> float:
    """Peak tape at the target sizes, extrapolated one size parameter at a time.

    ``doublings[name] = (base size s0, probe size s1, probe bytes, target size)``: the probe
    run changes only that parameter. Per parameter the growth factor is the larger of a power
    law through both runs (right for n**2, n**3 loops) and a straight line through them (right
    when a constant part dominates the small runs); the factors multiply. Both models pass
    through the measured points, so taking the larger errs on the safe side.
    """
    if base_bytes <= 0:
        return 0.0
    out = float(base_bytes)
    for s0, s1, t1, target in doublings.values():
        if s1 <= s0:
            continue
        r = max(t1, 0) / base_bytes
        e = math.log(max(r, 1e-12)) / math.log(s1 / s0)
        power = (target / s0) ** min(max(e, 0.0), MAX_EXPONENT)
        line = 1.0 + (r - 1.0) * (target / s0 - 1.0) / (s1 / s0 - 1.0)
        out *= max(power, line)
    return out


def predict_tape(built: Built, preset: str, timeout: float) -> float | None:
    """Predicted peak tape bytes at the preset's sizes, or None when they are probe-sized."""
    case = built.case
    base, grow = probe_plan(case, preset)
    if not grow:
        return None
    base_peak = run_program(built, base, 0, 1, False, timeout)[0].peak
    target = case.presets[preset]
    doublings = {}
    for name in grow:
        s0, t = int(base[name]), int(target[name])
        s1 = min(2 * s0, t)
        peak = run_program(built, {**base, name: s1}, 0, 1, False, timeout)[0].peak
        doublings[name] = (s0, s1, peak, t)
    return predict(base_peak, doublings)


# ----------------------------------------------------------------------------- results
@dataclass
class Result:
    sample: str
    head: str
    sizes: str
    primal_ms: float = math.nan
    adjoint_ms: float = math.nan
    ratio: float = math.nan
    peak_mib: float = math.nan
    predicted_mib: float = math.nan
    ratio_of_minima: float = math.nan  # min(adjoint) / min(primal): least disturbed by load
    spread: float = math.nan  # largest (max - min) / median of the primal and adjoint times
    status: str = STATUS_OK
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in FAILURES


def size_text(nbytes: float) -> str:
    """``8 GiB``, ``1.5 MiB``, ``512 B``."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", 1024)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"


@dataclass(frozen=True)
class Settings:
    """How every case is measured (the command line's choices)."""

    preset: str = "bench"
    repeat: int = 5
    tape_limit: int = DEFAULT_TAPE_LIMIT
    checkpoint: str = Options.checkpoint
    reset_tape: bool = False
    timeout: float = 3600.0

    def header(self) -> str:
        return (
            f"preset {self.preset}, checkpoint policy {self.checkpoint}, tape limit "
            f"{size_text(self.tape_limit)}, median of {self.repeat} runs after 1 warm-up, "
            f"{' '.join(FLAGS)}" + (", tape freed before every adjoint" if self.reset_tape else "")
        )


def bench_case(case: Case, settings: Settings, workdir: Path) -> Result:
    """Measure one case; every problem ends up in the result's status and notes."""
    result = Result(case.sample, case.head, case.sizes_text(settings.preset))
    try:
        return _measure(case, settings, workdir, result)
    except Exception:  # a bug here must not lose the other cases' results
        result.status = "run failed"
        result.notes.append("unexpected error:\n" + traceback.format_exc(limit=-4))
        return result


def _measure(case: Case, settings: Settings, workdir: Path, result: Result) -> Result:
    s = settings
    try:
        built = build_case(case, s.preset, workdir, s.tape_limit, s.checkpoint)
        predicted = predict_tape(built, s.preset, s.timeout)
        if predicted is not None:
            result.predicted_mib = predicted / MIB
        # The tape limit (baked into the adjoint) stops a run that needs more, so the run is
        # safe even when the prediction exceeds the limit; the prediction can be far off, e.g.
        # for checkpointed loops whose segment length is fixed (the probes' loops are shorter).
        runs = run_program(built, case.presets[s.preset], 1, s.repeat, s.reset_tape, s.timeout)
    except CaseError as exc:
        result.status = exc.status
        result.notes.append(str(exc))
        if exc.status == STATUS_TAPE and math.isfinite(result.predicted_mib):
            result.notes.append(f"the probe runs predicted {result.predicted_mib / 1024:.1f} GiB")
        return result
    tp = statistics.median(r.primal for r in runs)
    ta = statistics.median(r.adjoint for r in runs)
    result.primal_ms, result.adjoint_ms = 1e3 * tp, 1e3 * ta
    result.ratio = ta / tp if tp > 0 else math.inf
    mp, ma = min(r.primal for r in runs), min(r.adjoint for r in runs)
    result.ratio_of_minima = ma / mp if mp > 0 else math.inf
    result.spread = max(
        (max(xs) - min(xs)) / statistics.median(xs) if statistics.median(xs) > 0 else 0.0
        for xs in ([r.primal for r in runs], [r.adjoint for r in runs])
    )
    result.peak_mib = max(r.peak for r in runs) / MIB
    last = runs[-1]
    if last.left != 0:
        result.notes.append(f"tape not empty after the adjoint: {last.left} bytes left")
    if not math.isclose(last.f_primal, last.f_adjoint, rel_tol=1e-6):
        result.notes.append(
            f"outputs differ: sum {last.f_adjoint:.9e} after the adjoint, "
            f"{last.f_primal:.9e} after the primal"
        )
    if not math.isfinite(last.grad):
        result.notes.append(f"gradient is not finite ({last.grad})")
    if math.isfinite(result.predicted_mib) and not (
        0.5 * result.peak_mib <= result.predicted_mib <= 2.0 * result.peak_mib
    ):
        result.notes.append(
            f"the probe runs predicted {result.predicted_mib:.1f} MiB of tape, "
            f"{result.peak_mib:.1f} MiB measured"
        )
    if s.preset == "bench" and not 0.5e3 <= result.primal_ms <= 5e3:
        result.notes.append(f"primal takes {tp:.2f} s, outside the intended 0.5-5 s")
    return result


def geomean(values: Sequence[float]) -> float:
    ok = [v for v in values if math.isfinite(v) and v > 0]
    return math.exp(sum(map(math.log, ok)) / len(ok)) if ok else math.nan


COLUMNS = ("sample", "head", "sizes", "primal ms", "adjoint ms", "ratio", "peak tape MiB", "status")


def _num(x: float, fmt: str) -> str:
    return format(x, fmt) if math.isfinite(x) else "-"


def _amount(x: float) -> str:
    """Milliseconds or MiB: one decimal from 10 up, three significant digits below."""
    return _num(x, ".1f" if abs(x) >= 10 else ".3g")


def table_rows(results: Sequence[Result]) -> list[tuple[str, ...]]:
    return [
        (
            r.sample,
            r.head,
            r.sizes,
            _amount(r.primal_ms),
            _amount(r.adjoint_ms),
            _num(r.ratio, ".2f"),
            _amount(r.peak_mib),
            r.status,
        )
        for r in results
    ]


def format_table(results: Sequence[Result]) -> str:
    rows = [COLUMNS, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for row in rows:
        cells = [
            c.rjust(w) if 3 <= i <= 6 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    ratios = [r.ratio for r in results if r.status == STATUS_OK]
    n_ok = sum(1 for v in ratios if math.isfinite(v) and v > 0)
    lines.append(
        f"geometric mean of adjoint/primal ratios: {_num(geomean(ratios), '.2f')} "
        f"({n_ok} of {len(results)} cases)"
    )
    for r in results:
        for note in r.notes:
            first, *rest = note.splitlines() or [""]
            lines.append(f"note {r.sample}:{r.head}: {first}")
            lines.extend(f"    {x}" for x in rest[:40])
    return "\n".join(lines)


EXTRA_CSV_COLUMNS = ("predicted tape MiB", "ratio of minima", "spread %")


def write_csv(results: Sequence[Result], path: Path) -> None:
    """The table's columns (6 significant digits), the predicted tape, the ratio of the
    fastest runs and the spread of the times (noise on this shared machine), then notes."""

    def g(x: float) -> str:
        return _num(x, ".6g")

    ratios = [r.ratio for r in results if r.status == STATUS_OK]
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([*COLUMNS, *EXTRA_CSV_COLUMNS, "notes"])
        for r in results:
            nums = (r.primal_ms, r.adjoint_ms, r.ratio, r.peak_mib)
            extra = (r.predicted_mib, r.ratio_of_minima, 100.0 * r.spread)
            row = [r.sample, r.head, r.sizes, *map(g, nums), r.status, *map(g, extra)]
            out.writerow([*row, " | ".join(r.notes)])
        minima = [r.ratio_of_minima for r in results if r.status == STATUS_OK]
        out.writerow(
            ["geomean", "", "", "", "", g(geomean(ratios)), "", "", "", g(geomean(minima)), "", ""]
        )


# -------------------------------------------------------------------------------- main
def _bytes(text: str) -> int:
    units = {"k": 1024, "m": MIB, "g": GIB}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def _values(text: str) -> dict[str, FixedValue]:
    """``n=100,dt=0.5,flag=true``: integers, reals and logicals."""
    out: dict[str, FixedValue] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, eq, raw = part.partition("=")
        if not eq or not name.strip():
            raise argparse.ArgumentTypeError(f"bad value '{part}' (want name=value)")
        raw = raw.strip().lower()
        value: FixedValue
        if raw in ("true", "false", ".true.", ".false."):
            value = raw.strip(".") == "true"
        else:
            try:
                value = int(raw)
            except ValueError:
                try:
                    value = float(raw)
                except ValueError:
                    raise argparse.ArgumentTypeError(f"bad value '{part}'") from None
        out[name.strip().lower()] = value
    return out


def with_values(cases: Sequence[Case], preset: str, values: Mapping[str, FixedValue]) -> list[Case]:
    """The cases with ``values`` replacing the preset's values of the dummies they name."""
    unused = set(values) - {k for c in cases for k in c.presets[preset]}
    if unused:
        raise SystemExit(f"bench_adjoint: --set names no value of these cases: {sorted(unused)}")
    out = []
    for c in cases:
        own = {k: v for k, v in values.items() if k in c.presets[preset]}
        presets = {**c.presets, preset: {**c.presets[preset], **own}}
        out.append(replace(c, presets=presets))
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=("check", "bench"), default="bench")
    p.add_argument("--samples", default="", help="sample folders or heads: lorenz96,gemm")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per case (median)")
    p.add_argument("--csv", type=Path, default=None, help="also write the table as CSV")
    p.add_argument("--tape-limit", type=_bytes, default=DEFAULT_TAPE_LIMIT, help="e.g. 8G")
    p.add_argument(
        "--checkpoint",
        choices=POLICIES,
        default=Options.checkpoint,
        help=f"checkpoint policy of the generated adjoint (default {Options.checkpoint})",
    )
    p.add_argument("--reset-tape", action="store_true", help="free the tape before every call")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per program run")
    p.add_argument("--set", type=_values, default={}, help="override preset values: nt=1000,nk=300")
    p.add_argument("--keep", type=Path, default=None, help="keep the builds in this folder")
    p.add_argument("--samples-dir", type=Path, default=SAMPLES_DIR, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cases = [
        c for c in load_cases(args.samples_dir, args.samples.split(",")) if args.preset in c.presets
    ]
    if not cases:
        print("bench_adjoint: no case to run", file=sys.stderr)
        return 1
    cases = with_values(cases, args.preset, args.set)
    settings = Settings(
        args.preset, args.repeat, args.tape_limit, args.checkpoint, args.reset_tape, args.timeout
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="fad-bench-") as tmp:
        root = args.keep.resolve() if args.keep else Path(tmp)
        for case in cases:
            t0 = time.perf_counter()
            print(
                f"[bench] {case.label} ({case.sizes_text(args.preset)}) ...",
                file=sys.stderr,
                flush=True,
            )
            r = bench_case(case, settings, root / f"{case.sample}-{case.head}")
            results.append(r)
            print(
                f"[bench] {case.label}: {r.status}, ratio {_num(r.ratio, '.2f')} "
                f"({time.perf_counter() - t0:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    print(settings.header())
    print(format_table(results))
    if args.csv:
        write_csv(results, args.csv)
    failed = [f"{r.sample}:{r.head} ({r.status})" for r in results if r.failed]
    if failed:
        print(f"bench_adjoint: FAILED cases: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
