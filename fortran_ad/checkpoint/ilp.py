"""Checkpoint planning as an integer linear program (scipy.optimize.milp, HiGHS).

Decision apart from mechanism: this module sees only candidates with their costs and returns a
frozen Plan; ``ad/core/adjoint.py`` obeys it. Candidates today are the outermost DO and DO WHILE
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
Call sites are candidates too: JOINT or SPLIT (checkpoint/calls.py has the model that places
loops and calls in the call tree). Minimize estimated adjoint time subject to the predicted
peak tape <= the budget (--memory-limit).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from fortran_ad.checkpoint.calls import CallSite, Model, evaluate
from fortran_ad.checkpoint.calls import solve as solve_calls
from fortran_ad.checkpoint.costs import traffic_cost
from fortran_ad.errors import FortranADError

POLICIES = ("ilp", "store-all", "recompute-all")
CALL_POLICIES = ("auto", "joint", "split")


@dataclass(frozen=True)
class Candidate:
    key: str  # "<routine>:<line>"
    routine: str
    where: str  # file:line
    trips: int
    tape_per_iter: float  # bytes pushed by one recorded iteration
    snapshot: float  # bytes of the loop's state
    iter_cost: float  # flops of one primal iteration
    runs: float = 1.0  # executions of the loop per run of the head (its routine's calls)
    pushes_per_iter: float = 0.0  # tape pushes of one recorded iteration
    snapshot_pushes: float = 0.0  # pushes of one snapshot (one per state variable)


@dataclass(frozen=True)
class Option:
    """How to reverse one loop. ``levels`` are snapshot periods, outermost first: () stores
    every iteration; (p,) snapshots every p iterations and re-runs a segment recording before
    reversing it; (p, q, ...) re-runs a segment taking snapshots every q first, and so on."""

    levels: tuple[int, ...]
    memory: float
    time: float
    snaps: int = 0  # > 0: a binomial (revolve) schedule with this many snapshot slots
    states: float = 0.0  # loop states held at once (memory = states*S + alive*T)
    alive: float = 0.0  # recorded iterations held at once

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
class CallDecision:
    call: CallSite
    split: bool

    @property
    def label(self) -> str:
        return "split" if self.split else "joint"


@dataclass(frozen=True)
class Plan:
    policy: str
    budget: int
    base_memory: float
    decisions: tuple[Decision, ...]
    calls: tuple[CallDecision, ...] = ()
    peak: float = 0.0  # predicted peak tape (bytes)
    extra_time: float = 0.0  # estimated time beyond the primal (flop equivalents)
    work: float = 0.0  # estimated adjoint time (flop equivalents; 0: unknown)

    @property
    def seconds(self) -> float:
        """Estimated adjoint time on the calibrated machine (costs.FLOP_SECONDS)."""
        from fortran_ad.checkpoint import costs

        return self.work * costs.FLOP_SECONDS

    def schedule(self) -> dict[str, Option]:
        """The option chosen for each loop, by candidate key."""
        return {d.candidate.key: d.option for d in self.decisions}

    def split_sites(self) -> frozenset[str]:
        """Keys of the call sites the adjoint splits (the others stay joint)."""
        return frozenset(c.call.key for c in self.calls if c.split)

    def period(self, key: str) -> int:
        for d in self.decisions:
            if d.candidate.key == key:
                return d.option.period
        return 0

    def table(self) -> str:
        head = (
            f"{'loop / call site':<34} {'trips':>8} {'tape/iter':>11} {'state':>11} "
            f"{'decision':<16} {'tape':>11} {'est. cost':>11}"
        )
        lines = [head]
        for d in self.decisions:
            c, o = d.candidate, d.option
            lines.append(
                f"{c.routine + ' ' + c.where:<34} {c.trips:>8} {_b(c.tape_per_iter):>11} "
                f"{_b(c.snapshot):>11} {o.label:<16} {_b(o.memory):>11} {o.time:>11.3g}"
            )
        for cd in self.calls:
            c = cd.call
            what = f"call {c.callee} {c.where}"
            per = c.extra if cd.split else c.joint_snapshot
            cost = c.execs * (c.split_cost if cd.split else c.callee_cost)
            label = cd.label + (f" ({c.why_joint})" if c.why_joint else "")
            lines.append(
                f"{what:<34} {c.execs:>8.0f} {'':>11} {_b(c.joint_snapshot):>11} "
                f"{label:<16} {_b(per):>11} {cost:>11.3g}"
            )
        lines.append(
            f"policy {self.policy}: predicted peak tape {_b(self.peak)} "
            f"(budget {_b(self.budget)}), extra cost {self.extra_time:.3g} flop-equivalents"
        )
        if self.work:
            lines.append(f"estimated adjoint time {self.seconds:.3g} s (calibrated cost model)")
        if self.calls:
            lines.append(
                "call sites: trips = executions per run; state = joint snapshot per call; "
                "tape = bytes per call beside the callee's own tape (split) or the snapshot"
            )
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "policy": self.policy,
                "budget": self.budget,
                "base_memory": self.base_memory,
                "peak": self.peak,
                "extra_time": self.extra_time,
                "work": self.work,
                "seconds": self.seconds,
                "decisions": [asdict(d) for d in self.decisions],
                "calls": [{**asdict(c.call), "decision": c.label} for c in self.calls],
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

    Memory: ceil(N/p1)*S + ceil(p1/p2)*S + ... + p_last*T; time per execution of the loop: one
    forward (primal) run of the loop per level, plus the tape traffic and the snapshot
    traffic (bytes at the rate of a tape of the option's memory, costs.byte_cost); times
    ``c.runs``, the loop's executions per run of the head (a loop in a callee
    is reversed once per call)."""
    n, t, s = max(c.trips, 1), c.tape_per_iter, c.snapshot

    def store_traffic(resident: float) -> float:  # every iteration recorded once
        return n * traffic_cost(c.pushes_per_iter, t, resident)

    def snap_traffic(resident: float) -> float:  # one snapshot pushed and popped
        return traffic_cost(c.snapshot_pushes, s, resident)

    out = [Option((), n * t, c.runs * store_traffic(n * t), 0, 0.0, n)]
    periods = {1 << k for k in range(int(math.log2(n)) + 1)}
    periods.add(max(1, min(n, round(math.sqrt(n * s / t)) if t > 0 else n)))
    ordered = sorted(periods, reverse=True)

    def chains(prefix: tuple[int, ...]) -> None:
        levels = len(prefix)
        outer = [n, *prefix]
        snaps = sum(math.ceil(a / b) for a, b in zip(outer, prefix, strict=False))
        memory = snaps * s + prefix[-1] * t
        visits = sum(n / p for p in prefix)  # snapshots written over the whole run
        traffic = store_traffic(memory) + visits * snap_traffic(memory)
        time = levels * n * c.iter_cost + traffic
        out.append(Option(prefix, memory, c.runs * time, 0, snaps, prefix[-1]))
        if levels < MAX_LEVELS:
            for q in ordered:
                if 1 < q < prefix[-1] // 2:
                    chains((*prefix, q))

    for p in ordered:
        chains((p,))
    snaps = 1
    while snaps < n:
        memory = (snaps + 1) * s + t
        advances, copies = revolve_counts(n, snaps)
        # the forward sweep's primal run, the schedule's advances; snapshots pushed and popped
        traffic = store_traffic(memory) + (1 + copies) * snap_traffic(memory)
        time = (n + advances) * c.iter_cost + traffic
        out.append(Option((), memory, c.runs * time, snaps, snaps + 1, 1))
        snaps *= 2
    return out


def repetitions(n: int, snaps: int) -> int:
    """The smallest r with (snaps + r)! / (snaps! r!) >= n: a binomial schedule runs each of
    the n iterations forward at most r + 1 times (Griewank and Walther, revolve)."""
    r = 0
    while math.comb(snaps + r, snaps) < n:
        r += 1
    return r


_REVOLVE: dict[tuple[int, int], tuple[int, int]] = {}


def revolve_counts(n: int, snaps: int) -> tuple[int, int]:
    """Primal iterations the runtime's binomial schedule advances, and the snapshots it takes
    or restores (each a push, or a pop and a push, of the loop state), for n iterations and
    ``snaps`` free slots: the recursion of ``rev`` in fad_revolve (runtime/fad_tape.f90), run
    with an explicit stack (its depth reaches ``snaps``)."""
    todo = [(n, snaps)]
    while todo:
        key = todo[-1]
        if _known(key) is not None:
            todo.pop()
            continue
        chain, rest = _chain(*key)
        missing = [k for _, k in chain if _known(k) is None]
        if missing:
            todo += missing
            continue
        advances, copies = _known(rest)  # type: ignore[misc]
        for d, k in chain:
            a, c = _known(k)  # type: ignore[misc]
            advances, copies = advances + d + a, copies + 2 + c  # takeshot, restore
        _REVOLVE[key] = (advances, copies)
        todo.pop()
    return _known((n, snaps))  # type: ignore[return-value]


def _known(key: tuple[int, int]) -> tuple[int, int] | None:
    """The counts of ``rev`` where they have a closed form or were computed (None else)."""
    n, snaps = key
    if n <= 1:
        return 0, 0
    if snaps == 0:  # each iteration from the segment's start; a restore before all but one
        return n * (n - 1) // 2, n - 1
    if snaps == 1:  # the split leaves d = n - 1 every time
        return n * (n - 1) // 2, 2 * (n - 1)
    if n <= snaps + 1:  # r = 1: a snapshot after every iteration
        return n - 1, 2 * (n - 1)
    return _REVOLVE.get(key)


def _chain(n: int, snaps: int) -> tuple[list[tuple[int, tuple[int, int]]], tuple[int, int]]:
    """``rev(0, n, snaps)`` as a loop: advance d, reverse the last n - d iterations with one
    slot less (the child), go on with the first d iterations and the same slots, until a
    closed form is left (the rest)."""
    out = []
    while True:
        r = repetitions(n, snaps)
        d = max(1, n - math.comb(snaps - 1 + r, snaps - 1))
        out.append((d, (n - d, snaps - 1)))
        n = d
        if _known((n, snaps)) is not None and (n, snaps) not in _REVOLVE:
            return out, (n, snaps)


def plan(
    candidates: list[Candidate],
    budget: int,
    base_memory: float,
    policy: str,
    calls: list[CallSite] | None = None,
    head: str | None = None,
    bases: dict[str, float] | None = None,
    call_policy: str = "auto",
    work: float = 0.0,
) -> Plan:
    """Choose an option per loop and JOINT or SPLIT per call site. Pure: same inputs, same
    Plan. ``head`` and ``bases`` (tape each routine records outside its loop candidates) place
    the candidates in the call tree (checkpoint/calls.py); without them all tapes add up.
    ``call_policy``: auto (the ILP decides; joint under the fixed policies), joint or split
    (every call site split can handle). ``work``: flop equivalents of the store-all adjoint
    (costs.adjoint_work), the base of the Plan's time estimate."""
    if policy not in POLICIES:
        raise FortranADError(None, f"unknown checkpoint policy '{policy}' ({', '.join(POLICIES)})")
    if call_policy not in CALL_POLICIES:
        raise FortranADError(
            None, f"unknown call policy '{call_policy}' ({', '.join(CALL_POLICIES)})"
        )
    calls = list(calls or [])
    opts = [options(c) for c in candidates]
    top = head if head is not None else ""
    model = Model(candidates, opts, calls, {**(bases or {}), top: base_memory}, head)
    fixed = {c.key: call_policy == "split" for c in calls if call_policy != "auto"}
    if policy == "store-all":
        chosen, split = [o[0] for o in opts], _fixed_split(calls, fixed)
    elif policy == "recompute-all":
        # the least memory the level schemes reach (binomial schedules are the ILP's tool)
        chosen = [min((x for x in o if x.levels), key=lambda x: (x.memory, x.time)) for o in opts]
        split = _fixed_split(calls, fixed)
    else:
        found = _solve(model, budget, fixed)
        if found is None:
            least = solve_calls(model, None, fixed)
            smallest = evaluate(model, *least)[0] if least is not None else math.inf
            raise FortranADError(
                None,
                f"memory limit of {budget} bytes is infeasible: the smallest tape this plan can "
                f"reach is {math.ceil(smallest)} bytes",
                f"use --memory-limit {math.ceil(smallest)} or more",
            )
        chosen, split = found
    peak, time = evaluate(model, chosen, split)
    decisions = tuple(Decision(c, o) for c, o in zip(candidates, chosen, strict=True))
    sites = tuple(CallDecision(c, split.get(c.key, False)) for c in calls)
    # the store-all work already holds the loops' tape traffic (at the cache's byte rate,
    # costs.adjoint_counts) that option times count (at the rate of the option's tape)
    held = sum(c.runs * max(c.trips, 1) * traffic_cost(c.pushes_per_iter, c.tape_per_iter)
               for c in candidates)  # fmt: skip
    total = work - held + time if work else 0.0
    return Plan(policy, budget, base_memory, decisions, sites, peak, time, total)


def _fixed_split(calls: list[CallSite], fixed: dict[str, bool]) -> dict[str, bool]:
    return {c.key: fixed.get(c.key, False) and not c.why_joint for c in calls}


def _solve(model: Model, budget: float, fixed: dict[str, bool]):
    """The ILP's choice, re-checked exactly: the linearisation's big-M constants meet the
    solver's tolerances, so a choice that overshoots by rounding is solved again tighter."""
    target = float(budget)
    for _ in range(4):
        found = solve_calls(model, target, fixed)
        if found is None:
            return None
        peak = evaluate(model, *found)[0]
        if peak <= budget * (1 + 1e-9) + 1e-6:
            return found
        target -= peak - budget + 1.0
    return None
