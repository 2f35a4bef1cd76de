"""Checkpoint planning as an integer linear program (scipy.optimize.milp, HiGHS).

Decision apart from mechanism: this module sees only candidates with their costs and returns a
frozen Plan; ``ad/adjoint.py`` obeys it. Candidates today are the outermost DO and DO WHILE
loops of each reversed routine. For a loop of N iterations that pushes T bytes per iteration
and whose state (variables it writes) is S bytes, the options are
  store       tape every iteration:                memory N*T,            extra time 0
  every p     snapshot every p iterations, re-run   memory ceil(N/p)*S+p*T, extra time N*C
              each segment with recording before reversing it (two-level checkpointing)
  every p, q  as above, but a segment's re-run      memory (ceil(N/p)+ceil(p/q))*S+q*T,
  (, r)       snapshots every q < p first, then       extra time 2*N*C (one more run per level)
              treats those sub-segments the same way (multi-level, up to MAX_LEVELS)
  revolve/c   binomial schedule with c snapshots    memory (c+1)*S+T, extra time r*N*C where
              (runtime module fad_revolve)           r is the smallest with C(c+r, c) >= N
Minimize estimated adjoint time subject to total tape memory <= the budget (--memory-limit).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from fortran_ad.checkpoint.costs import BYTE_COST
from fortran_ad.errors import FortranADError

POLICIES = ("ilp", "store-all", "recompute-all")


@dataclass(frozen=True)
class Candidate:
    key: str  # "<routine>:<line>"
    routine: str
    where: str  # file:line
    trips: int
    tape_per_iter: float  # bytes pushed by one recorded iteration
    snapshot: float  # bytes of the loop's state
    iter_cost: float  # flops of one primal iteration


@dataclass(frozen=True)
class Option:
    """How to reverse one loop. ``levels`` are snapshot periods, outermost first: () stores
    every iteration; (p,) snapshots every p iterations and re-runs a segment recording before
    reversing it; (p, q, ...) re-runs a segment taking snapshots every q first, and so on."""

    levels: tuple[int, ...]
    memory: float
    time: float
    snaps: int = 0  # > 0: a binomial (revolve) schedule with this many snapshot slots

    @property
    def period(self) -> int:
        return self.levels[0] if self.levels else 0

    @property
    def stores(self) -> bool:
        return not self.levels and not self.snaps

    @property
    def label(self) -> str:
        if self.snaps:
            return f"revolve/{self.snaps}"
        return "store" if not self.levels else "checkpoint/" + "/".join(map(str, self.levels))


@dataclass(frozen=True)
class Decision:
    candidate: Candidate
    option: Option


@dataclass(frozen=True)
class Plan:
    policy: str
    budget: int
    base_memory: float
    decisions: tuple[Decision, ...]

    def schedule(self) -> dict[str, Option]:
        """The option chosen for each loop, by candidate key."""
        return {d.candidate.key: d.option for d in self.decisions}

    def period(self, key: str) -> int:
        for d in self.decisions:
            if d.candidate.key == key:
                return d.option.period
        return 0

    @property
    def peak(self) -> float:
        return self.base_memory + sum(d.option.memory for d in self.decisions)

    @property
    def extra_time(self) -> float:
        return sum(d.option.time for d in self.decisions)

    def table(self) -> str:
        head = (
            f"{'loop':<28} {'trips':>8} {'tape/iter':>11} {'state':>11} {'decision':<16} "
            f"{'tape':>11} {'est. cost':>11}"
        )
        lines = [head]
        for d in self.decisions:
            c, o = d.candidate, d.option
            what = o.label
            lines.append(
                f"{c.routine + ' ' + c.where:<28} {c.trips:>8} {_b(c.tape_per_iter):>11} "
                f"{_b(c.snapshot):>11} {what:<16} {_b(o.memory):>11} {o.time:>11.3g}"
            )
        lines.append(
            f"policy {self.policy}: predicted peak tape {_b(self.peak)} "
            f"(budget {_b(self.budget)}), extra cost {self.extra_time:.3g} flop-equivalents"
        )
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "policy": self.policy,
                "budget": self.budget,
                "base_memory": self.base_memory,
                "peak": self.peak,
                "decisions": [asdict(d) for d in self.decisions],
            },
            indent=2,
        )


def _b(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


MAX_LEVELS = 3  # snapshot levels per loop (each costs one more forward run of the loop)


def options(c: Candidate) -> list[Option]:
    """Store, or snapshot levels p1 > p2 > ... (powers of two, plus the two-level optimum).

    Memory: ceil(N/p1)*S + ceil(p1/p2)*S + ... + p_last*T; time: one forward run of the loop
    per level, plus the tape traffic and the snapshot traffic."""
    n, t, s = max(c.trips, 1), c.tape_per_iter, c.snapshot
    store_traffic = n * t * BYTE_COST
    out = [Option((), n * t, store_traffic)]
    periods = {1 << k for k in range(int(math.log2(n)) + 1)}
    periods.add(max(1, min(n, round(math.sqrt(n * s / t)) if t > 0 else n)))
    ordered = sorted(periods, reverse=True)

    def chains(prefix: tuple[int, ...]) -> None:
        levels = len(prefix)
        outer = [n, *prefix]
        snaps = sum(math.ceil(a / b) for a, b in zip(outer, prefix, strict=False))
        memory = snaps * s + prefix[-1] * t
        visits = sum(n / p for p in prefix)  # snapshots written over the whole run
        time = levels * n * c.iter_cost + store_traffic + visits * s * BYTE_COST
        out.append(Option(prefix, memory, time))
        if levels < MAX_LEVELS:
            for q in ordered:
                if 1 < q < prefix[-1] // 2:
                    chains((*prefix, q))

    for p in ordered:
        chains((p,))
    snaps = 1
    while snaps < n:
        r = repetitions(n, snaps)
        memory = (snaps + 1) * s + t
        time = (r + 1) * n * c.iter_cost + store_traffic + (r * n / 2 + snaps) * s * BYTE_COST
        out.append(Option((), memory, time, snaps))
        snaps *= 2
    return out


def repetitions(n: int, snaps: int) -> int:
    """The smallest r with (snaps + r)! / (snaps! r!) >= n: a binomial schedule runs each of
    the n iterations forward at most r + 1 times (Griewank and Walther, revolve)."""
    r = 0
    while math.comb(snaps + r, snaps) < n:
        r += 1
    return r


def plan(candidates: list[Candidate], budget: int, base_memory: float, policy: str) -> Plan:
    """Choose an option per candidate. Pure: same inputs, same Plan."""
    if policy not in POLICIES:
        raise FortranADError(None, f"unknown checkpoint policy '{policy}' ({', '.join(POLICIES)})")
    opts = [options(c) for c in candidates]
    if policy == "store-all":
        chosen = [o[0] for o in opts]
    elif policy == "recompute-all":
        # the least memory the level schemes reach (binomial schedules are the ILP's tool)
        chosen = [min((x for x in o if x.levels), key=lambda x: (x.memory, x.time)) for o in opts]
    else:
        chosen = _solve(opts, budget - base_memory)
        if chosen is None:
            smallest = base_memory + sum(min(x.memory for x in o) for o in opts)
            raise FortranADError(
                None,
                f"memory limit of {budget} bytes is infeasible: the smallest tape this plan can "
                f"reach is {math.ceil(smallest)} bytes",
                f"use --memory-limit {math.ceil(smallest)} or more",
            )
    decisions = tuple(Decision(c, o) for c, o in zip(candidates, chosen, strict=True))
    return Plan(policy, budget, base_memory, decisions)


def _solve(opts: list[list[Option]], budget: float) -> list[Option] | None:
    if not opts:
        return [] if budget >= 0 else None
    flat = [(i, o) for i, group in enumerate(opts) for o in group]
    cost = np.array([o.time for _, o in flat])
    memory = np.array([[o.memory for _, o in flat]])
    pick = np.zeros((len(opts), len(flat)))
    for j, (i, _) in enumerate(flat):
        pick[i, j] = 1
    constraints = [
        LinearConstraint(pick, lb=np.ones(len(opts)), ub=np.ones(len(opts))),
        LinearConstraint(memory, lb=-np.inf, ub=budget),
    ]
    result = milp(
        cost, constraints=constraints, integrality=np.ones(len(flat)), bounds=Bounds(0, 1)
    )
    if not result.success:
        return None
    x = np.round(result.x).astype(int)
    return [o for (_, o), on in zip(flat, x, strict=True) if on]
