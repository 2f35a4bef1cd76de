#!/usr/bin/env python3
"""Checkpoint policies under memory budgets: measured peak tape, adjoint time, and the plan's
predictions, per sample case.

    python scripts/bench_checkpoint.py [--samples lorenz96,shallow_water] [--preset bench]
                                       [--fractions 1,0.3,0.1,0.03] [--repeat 3] [--set nt=..]

For every case: build and time the adjoint under ``store-all`` (its measured peak tape P is
the reference), ``recompute-all``, and ``ilp`` with the budget (``--memory-limit``) at each
fraction of P. Every row is measured by the timing program of scripts/bench_adjoint.py
(primal and adjoint alternate in one process, so the ratio is robust to machine load).

Time prediction: the plan's own estimate of the adjoint time (``Plan.seconds``: modelled
flops of the generated sweeps and tape bytes, plus what the plan re-runs, in seconds with the
machine's calibration, fortran_ad/checkpoint/calibration.json from scripts/calibrate_costs.py);
nothing is anchored to the measured runs. "split" counts the call sites the plan splits.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_adjoint import (  # noqa: E402
    MIB,
    CaseError,
    build_case,
    load_cases,
    run_program,
    with_values,
)

from fortran_ad.ad.emit import plan_checkpoints  # noqa: E402
from fortran_ad.ad.generate import Plan  # noqa: E402
from fortran_ad.checks.inputs import load_case  # noqa: E402
from fortran_ad.driver import Options, load  # noqa: E402
from fortran_ad.errors import FortranADError  # noqa: E402

BIG = 1 << 62


@dataclass
class Row:
    case: str
    policy: str
    budget: float
    predicted_mib: float
    peak_mib: float = math.nan
    primal_ms: float = math.nan
    adjoint_ms: float = math.nan
    predicted_ms: float = math.nan
    split: int = 0  # call sites the plan splits
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.adjoint_ms / self.primal_ms


def planned(case, values, policy: str, budget: int):
    cv = load_case(case.toml, case.head)
    sizes = {k: v for k, v in values.items() if not isinstance(v, bool)}
    opts = Options(sources=cv.sources, mode="reverse", head=case.head, wrt=cv.wrt, of=cv.of,
                   sizes=sizes, checkpoint=policy, memory_limit=budget)  # fmt: skip
    plan = Plan(load(list(cv.sources)), opts)
    return plan_checkpoints(plan)


def measure(case, preset, policy, budget, repeat, workdir: Path) -> Row:
    values = case.presets[preset]
    label = "store-all" if policy == "store-all" else policy
    try:
        p = planned(case, values, policy, budget if budget < BIG else BIG)
    except FortranADError as exc:
        return Row(case.label, label, budget, math.nan, note=str(exc).split("\n")[0][-80:])
    row = Row(case.label, label, budget, p.peak / MIB, predicted_ms=1e3 * p.seconds,
              split=len(p.split_sites()))  # fmt: skip
    try:
        built = build_case(case, preset, workdir, int(min(budget, BIG)), policy)
        runs = run_program(built, values, 1, repeat, False, 3600.0)
    except CaseError as exc:
        row.note = exc.status
        return row
    row.primal_ms = 1e3 * statistics.median(r.primal for r in runs)
    row.adjoint_ms = 1e3 * statistics.median(r.adjoint for r in runs)
    row.peak_mib = max(r.peak for r in runs) / MIB
    return row


def bench(case, preset: str, fractions, repeat: int, root: Path) -> list[Row]:
    work = root / case.label.replace(":", "-")
    store = measure(case, preset, "store-all", BIG, repeat, work / "store")
    rows = [store, measure(case, preset, "recompute-all", BIG, repeat, work / "recompute")]
    if math.isfinite(store.peak_mib):
        for f in fractions:
            budget = int(f * store.peak_mib * MIB)
            rows.append(measure(case, preset, "ilp", budget, repeat, work / f"ilp-{f}"))
    return rows


def table(rows: list[Row]) -> str:
    head = ("case", "policy", "budget MiB", "plan MiB", "peak MiB", "adjoint s",
            "predicted s", "error", "adjoint/primal", "split")  # fmt: skip
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        pred = r.predicted_ms
        err = (pred - r.adjoint_ms) / r.adjoint_ms if r.adjoint_ms else math.nan
        budget = "-" if r.budget >= BIG else f"{r.budget / MIB:.3g}"
        error = f"{err:+.0%}" if math.isfinite(err) else "-"
        seconds = (_g(r.adjoint_ms / 1e3), _g(pred / 1e3))
        cells = (r.case, r.policy, budget, _g(r.predicted_mib), _g(r.peak_mib), *seconds,
                 error, _g(r.ratio), str(r.split))  # fmt: skip
        out.append("| " + " | ".join(cells) + " |" + (f" {r.note}" if r.note else ""))
    return "\n".join(out)


def _g(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", default="lorenz96,shallow_water,advection_diffusion")
    p.add_argument("--preset", choices=("check", "bench"), default="bench")
    p.add_argument("--fractions", default="1,0.3,0.1,0.03")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--set", default="", help="override preset values: nt=1000")
    args = p.parse_args(argv)
    values = {}
    for part in filter(None, args.set.split(",")):
        k, _, v = part.partition("=")
        values[k.strip().lower()] = int(v) if v.strip().isdigit() else float(v)
    cases = with_values(load_cases(select=args.samples.split(",")), args.preset, values)
    fractions = [float(x) for x in args.fractions.split(",")]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="fad-bench-ckp-") as tmp:
        for case in cases:
            print(f"[bench_checkpoint] {case.label} ...", file=sys.stderr, flush=True)
            got = bench(case, args.preset, fractions, args.repeat, Path(tmp))
            print(table(got).split("\n", 2)[2] if rows else table(got), flush=True)
            rows += got
    return 0


if __name__ == "__main__":
    sys.exit(main())
