#!/usr/bin/env python3
"""Checkpoint policies under memory budgets: measured peak tape, adjoint time, and the plan's
predictions, per sample case, measured interleaved so that machine load cancels.

    python scripts/bench_checkpoint.py [--samples lorenz96,shallow_water] [--preset bench]
                                       [--fractions 1,0.3,0.1,0.03] [--rounds 5] [--set nt=..]
                                       [--clock cpu|wall] [--calls auto|joint|split] [--csv F]

For every case: build the adjoint under ``store-all`` and run it once (its measured peak tape
P is the reference), then build ``recompute-all`` and ``ilp`` with the budget
(``--memory-limit``) at each fraction of P. All variants of the case are then run
round-robin, ``--rounds`` times (the order rotates every round), each run a fresh process of
the timing program of scripts/bench_adjoint.py (one warm-up call, one timed primal and one
timed adjoint call; ``--clock cpu``, the default, times them with the process's CPU time,
which other processes' load does not inflate).

Columns: median adjoint seconds, adjoint/primal (median of the per-run ratios), "rel" = the
median over rounds of adjoint / store-all's adjoint of the same round (robust to load
drifting between rounds), the plan's predicted seconds (``Plan.seconds``: modelled flops of
the generated sweeps and tape bytes plus what the plan re-runs, with the machine's
calibration, fortran_ad/checkpoint/calibration.json from scripts/calibrate_costs.py; nothing
is anchored to the measured runs), "error" = predicted / measured - 1, "rel error" =
(predicted / predicted store-all) / rel - 1 (the ratio of ratios: the model's error on the
policy's cost relative to store-all, independent of the machine's speed at the time), and
"primal error": the primal's time predicted by the same flop counts (no tape, no plan) over
the measured primal - 1, which separates the flop model's error from the rest.
Then the acceptance targets of the ILP (at budget P/10 ilp <= 2x store-all; ilp never more
than 10 % slower than the better of store-all and recompute-all where they fit), judged on
the "rel" column. "split" counts the call sites the plan splits.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_adjoint import (  # noqa: E402
    MIB,
    WP,
    CaseError,
    TimingEmitter,
    build_case,
    load_cases,
    run_program,
    with_values,
)

from fortran_ad.ad.core.generate import Plan  # noqa: E402
from fortran_ad.ad.core.transforms import cost_model, plan_checkpoints  # noqa: E402
from fortran_ad.checkpoint import costs  # noqa: E402
from fortran_ad.checks.inputs import load_case  # noqa: E402
from fortran_ad.driver import Options, load  # noqa: E402
from fortran_ad.errors import FortranADError  # noqa: E402

BIG = 1 << 62


class CpuTimingEmitter(TimingEmitter):
    """The timing program with the process's CPU time (``cpu_time``) instead of the wall
    clock: on a shared machine, time spent waiting for a core does not count."""

    def bench_declarations(self) -> None:
        super().bench_declarations()
        self.w.line(f"real({WP}) :: fad_s0, fad_s1")

    def timed(self, call, target: str) -> None:
        self.w.line("call cpu_time(fad_s0)")
        call()
        self.w.line("call cpu_time(fad_s1)")
        self.w.line(f"{target} = fad_s1 - fad_s0")


def cpu_source(spec) -> str:
    return CpuTimingEmitter(spec).program()


@dataclass
class Variant:
    case: str
    policy: str
    budget: float
    predicted_mib: float = math.nan
    predicted_s: float = math.nan
    predicted_primal_s: float = math.nan  # the flop model alone (no tape, no plan)
    split: int = 0  # call sites the plan splits
    note: str = ""
    built: object = None
    adjoint: list[float] = field(default_factory=list)
    primal: list[float] = field(default_factory=list)
    peak: list[int] = field(default_factory=list)
    rel: list[float] = field(default_factory=list)  # adjoint / store-all's, per round

    @property
    def adjoint_s(self) -> float:
        return statistics.median(self.adjoint) if self.adjoint else math.nan

    @property
    def ratio(self) -> float:
        pairs = [a / p for a, p in zip(self.adjoint, self.primal, strict=True) if p > 0]
        return statistics.median(pairs) if pairs else math.nan

    @property
    def primal_s(self) -> float:
        return statistics.median(self.primal) if self.primal else math.nan

    @property
    def rel_s(self) -> float:
        return statistics.median(self.rel) if self.rel else math.nan

    @property
    def peak_mib(self) -> float:
        return max(self.peak) / MIB if self.peak else math.nan


def planned(case, values, policy: str, budget: int, calls: str):
    """The checkpoint plan and the predicted primal seconds."""
    cv = load_case(case.toml, case.head)
    sizes = {k: v for k, v in values.items() if not isinstance(v, bool)}
    opts = Options(sources=cv.sources, mode="reverse", head=case.head, wrt=cv.wrt, of=cv.of,
                   sizes=sizes, checkpoint=policy, memory_limit=budget, calls=calls)  # fmt: skip
    plan = Plan(load(list(cv.sources)), opts)
    checkpoints = plan_checkpoints(plan)
    return checkpoints, cost_model(plan)[1](plan.head) * costs.FLOP_SECONDS


def prepare(case, preset, policy, budget, calls, workdir: Path, source) -> Variant:
    """Plan and build one variant (a note instead when the budget is infeasible)."""
    values = case.presets[preset]
    v = Variant(case.label, policy, budget)
    limit = int(min(budget, BIG))
    try:
        p, v.predicted_primal_s = planned(case, values, policy, limit, calls)
    except FortranADError as exc:
        v.note = str(exc).split("\n")[0][-80:]
        return v
    v.predicted_mib, v.predicted_s, v.split = p.peak / MIB, p.seconds, len(p.split_sites())
    try:
        v.built = build_case(case, preset, workdir, limit, policy, source, calls=calls)
    except CaseError as exc:
        v.note = exc.status
    return v


def rounds(variants: list[Variant], values, n: int, timeout: float) -> None:
    """Run every built variant ``n`` times round-robin (rotating the order each round)."""
    ready = [v for v in variants if v.built is not None]
    for r in range(n):
        order = ready[r % len(ready) :] + ready[: r % len(ready)] if ready else []
        times: dict[int, float] = {}
        for v in order:
            if v.built is None:  # a run failed (the note says why)
                continue
            try:
                run = run_program(v.built, values, 1, 1, False, timeout)[0]
            except CaseError as exc:
                v.note, v.built = f"{exc.status}: {str(exc)[-200:]}", None
                continue
            v.adjoint.append(run.adjoint)
            v.primal.append(run.primal)
            v.peak.append(run.peak)
            times[id(v)] = run.adjoint
        base = times.get(id(variants[0]))
        for v in ready:
            if base and id(v) in times:
                v.rel.append(times[id(v)] / base)
        print(f"  round {r + 1}/{n} done", file=sys.stderr, flush=True)


def bench(case, preset, fractions, n, calls, clock, timeout, root: Path) -> list[Variant]:
    work = root / case.label.replace(":", "-")
    source = cpu_source if clock == "cpu" else None
    values = case.presets[preset]
    store = prepare(case, preset, "store-all", BIG, "joint", work / "store", source)
    if store.built is None:
        return [store]
    try:  # the reference: store-all's measured peak tape
        ref = run_program(store.built, values, 0, 1, False, timeout)[0].peak
    except CaseError as exc:
        store.note = exc.status
        return [store]
    out = [store, prepare(case, preset, "recompute-all", BIG, "joint", work / "rc", source)]
    for f in fractions:
        budget = int(f * ref)
        out.append(prepare(case, preset, "ilp", budget, calls, work / f"ilp-{f}", source))
    rounds(out, values, n, timeout)
    return out


def errors(v: Variant, store: Variant) -> tuple[float, float]:
    """(predicted/measured - 1, (predicted/predicted store-all)/rel - 1)."""
    err = v.predicted_s / v.adjoint_s - 1 if v.adjoint else math.nan
    rel = (v.predicted_s / store.predicted_s) / v.rel_s - 1 if v.rel else math.nan
    return err, rel


HEAD = ("case", "policy", "budget MiB", "plan MiB", "peak MiB", "adjoint s", "adjoint/primal",
        "rel", "predicted s", "error", "rel error", "primal error", "split")  # fmt: skip


def cells(v: Variant, store: Variant) -> tuple[str, ...]:
    err, rel = errors(v, store)
    primal = v.predicted_primal_s / v.primal_s - 1 if v.primal else math.nan
    budget = "-" if v.budget >= BIG else f"{v.budget / MIB:.3g}"
    pct = [f"{x:+.0%}" if math.isfinite(x) else "-" for x in (err, rel, primal)]
    return (v.case, v.policy, budget, _g(v.predicted_mib), _g(v.peak_mib), _g(v.adjoint_s),
            _g(v.ratio), _g(v.rel_s), _g(v.predicted_s), *pct, str(v.split))  # fmt: skip


def table(variants: list[Variant]) -> str:
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for v in variants:
        note = f" {v.note}" if v.note else ""
        out.append("| " + " | ".join(cells(v, variants[0])) + " |" + note)
    return "\n".join(out)


def targets(variants: list[Variant], fractions: list[float]) -> list[str]:
    """The acceptance targets, judged on the per-round ratios to store-all."""
    store, rc = variants[0], variants[1]
    ilps = [v for v in variants[2:] if v.rel]
    lines = []
    tenth = [v for f, v in zip(fractions, variants[2:], strict=False) if f == 0.1 and v.rel]
    for v in tenth:
        verdict = "met" if v.rel_s <= 2.0 else "MISSED"
        lines.append(f"budget P/10: ilp/store-all = {v.rel_s:.2f} (<= 2: {verdict})")
    for v in ilps:
        fits = [1.0] if store.peak and store.peak_mib * MIB <= v.budget else []
        if rc.rel and rc.peak_mib * MIB <= v.budget:
            fits.append(rc.rel_s)
        if not fits:
            continue
        best = min(fits)
        ok = v.rel_s <= 1.1 * best
        lines.append(
            f"budget {v.budget / MIB:.3g} MiB: ilp {v.rel_s:.2f} vs best fitting baseline "
            f"{best:.2f} (<= +10%: {'met' if ok else 'MISSED'})"
        )
    bad = [v for v in variants if v.peak and v.peak_mib * MIB > v.budget]
    lines.append("measured peak <= budget: " + ("met" if not bad else "MISSED"))
    return lines


def _g(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", default="lorenz96,shallow_water,vertical_diffusion")
    p.add_argument("--preset", choices=("check", "bench"), default="bench")
    p.add_argument("--fractions", default="1,0.3,0.1,0.03")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    p.add_argument("--calls", choices=("auto", "joint", "split"), default="auto")
    p.add_argument("--timeout", type=float, default=3600.0)
    p.add_argument("--csv", type=Path, default=None)
    p.add_argument("--set", default="", help="override preset values: nt=1000")
    args = p.parse_args(argv)
    values = {}
    for part in filter(None, args.set.split(",")):
        k, _, v = part.partition("=")
        values[k.strip().lower()] = int(v) if v.strip().isdigit() else float(v)
    cases = with_values(load_cases(select=args.samples.split(",")), args.preset, values)
    fractions = [float(x) for x in args.fractions.split(",")]
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="fad-bench-ckp-") as tmp:
        for case in cases:
            print(f"[bench_checkpoint] {case.label} ...", file=sys.stderr, flush=True)
            got = bench(case, args.preset, fractions, args.rounds, args.calls, args.clock,
                        args.timeout, Path(tmp))  # fmt: skip
            print(table(got).split("\n", 2)[2] if rows else table(got), flush=True)
            if len(got) > 2:
                for line in targets(got, fractions):
                    print(f"  {case.label}: {line}", flush=True)
            rows += [list(cells(v, got[0])) + [v.note] for v in got]
    if args.csv is not None:
        with args.csv.open("w", newline="") as fh:
            csv.writer(fh).writerows([[*HEAD, "note"], *rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
