"""Call sites in the checkpoint plan: JOINT or SPLIT, decided together with the loop options.

JOINT: the forward sweep runs the callee as the primal (snapshotting the actual arguments it
overwrites that the adjoint needs); the backward sweep restores them and calls ``<name>_b``,
which runs the callee's forward sweep (recording) and its backward sweep. The callee runs
twice; its tape lives only while ``<name>_b`` runs.
SPLIT: the forward sweep calls ``<name>_fwd`` (the callee's forward sweep: its tape, and the
final values of the locals its backward sweep reads, stay on the shared tape); the backward
sweep calls ``<name>_bwd`` (pops those, runs the callee's backward sweep). The callee runs once;
its tape lives from the call until its adjoint.

The model, per routine r (bytes; d_c is what splitting call site c adds to r's tape):
  Rec(r)  = base(r) + sum over loops L of r: states_o*S_L + alive_o*T_L  (o: L's option)
                    + sum over calls c at r's top level: mult_c*d_c
  T_L     = T0_L + sum over calls c in L: mult_c*d_c
  d_c     = split_c * (Rec(callee_c) + extra_c)   (extra_c: final locals + split snapshot
                                                    - joint snapshot, per call)
  Peak(r) = Rec(r) + max(0, max over c: transient_c - after_c)
  transient_c = joint: Peak(callee_c); split: Peak(callee_c) - Rec(callee_c)
(after_c: what the caller pushed after c and pops before c's adjoint runs, counting only
pushes no decision changes), and the predicted peak tape is Peak(head). Estimated time beyond
the primal, in flop equivalents: sum over loops of the option's time + sum over calls of
execs_c times (joint: one more run of the callee; split: the extra bytes' traffic, and the
callee's tape at the rate of a tape beyond the cache, split_rate).

As an integer program: x[L,o] and s[c] are binaries, Rec/Peak continuous; the products are
linearised exactly with upper bounds (w_c = s_c*Rec(callee), v[L,o] = x[L,o]*alive_o*T_L).
``evaluate`` computes peak and time of a choice directly (the solver's answer is re-checked
with it; tests compare the solver with brute force).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from fortran_ad.checkpoint import costs

SCALE = float(1 << 20)  # the program counts memory in MiB (better conditioned than bytes)


@dataclass(frozen=True)
class CallSite:
    key: str  # "<caller>:<line>:<callee>"
    routine: str  # the caller
    callee: str
    where: str  # file:line
    loop: str | None  # key of the enclosing loop candidate (None: the caller's top level)
    mult: float  # executions per iteration of ``loop`` (per call of the caller when None)
    execs: float  # executions per run of the head
    joint_snapshot: float  # bytes a joint call pushes per execution
    extra: float  # bytes split adds per execution besides the callee's tape (may be < 0)
    callee_cost: float  # flop equivalents of one run of the callee
    why_joint: str = ""  # non-empty: split cannot handle this call (the reason)
    after: float = 0.0  # bytes the caller pushed after the call, popped before its adjoint
    after_loops: tuple[str, ...] = ()  # loop candidates (keys) whose tape is popped before it
    after_calls: tuple[str, ...] = ()  # call sites (keys) whose tape is popped before it
    extra_pushes: float = 0.0  # pushes split adds per execution (final locals, snapshot)

    @property
    def split_cost(self) -> float:
        """Flop equivalents one execution costs more split than joint, the callee's re-run
        aside: the traffic of the extra pushes (final locals, the split snapshot, less the
        joint snapshot)."""
        return costs.traffic_cost(self.extra_pushes, self.extra)


@dataclass
class Model:
    """Everything the planner sees: loops (with their options), call sites, per-routine base
    tape and the head. ``head=None``: every loop belongs to one routine (tapes add up)."""

    loops: list  # ilp.Candidate
    options: list  # list[list[ilp.Option]], one list per loop
    calls: list[CallSite]
    bases: dict[str, float] = field(default_factory=dict)
    head: str | None = None

    def owner(self, routine: str) -> str:
        return routine if self.head is not None else ""

    @property
    def top(self) -> str:
        return self.head if self.head is not None else ""

    def routines(self) -> list[str]:
        names = {self.top, *(self.owner(r) for r in self.bases)}
        names |= {self.owner(c.routine) for c in self.loops}
        names |= {self.owner(c.routine) for c in self.calls} | {c.callee for c in self.calls}
        return sorted(names)

    def callees_first(self) -> list[str]:
        out: list[str] = []

        def visit(r: str, path: tuple[str, ...]) -> None:
            if r in out or r in path:
                return
            for c in self.calls:
                if self.owner(c.routine) == r:
                    visit(c.callee, (*path, r))
            out.append(r)

        for r in self.routines():
            visit(r, ())
        return out

    def detached(self) -> list[str]:
        """Routines with tape that no call site links to the head (counted as transients)."""
        reached, todo = {self.top}, [self.top]
        while todo:
            r = todo.pop()
            for c in self.calls:
                if self.owner(c.routine) == r and c.callee not in reached:
                    reached.add(c.callee)
                    todo.append(c.callee)
        return [r for r in self.routines() if r not in reached]


def evaluate(m: Model, picks: list, split: dict[str, bool]) -> tuple[float, float]:
    """Predicted peak tape (bytes) and extra time (flop equivalents) of one choice: ``picks``
    holds one option per loop, ``split`` the decision per call-site key."""
    rec_memo: dict[str, float] = {}
    peak_memo: dict[str, float] = {}

    def d(c: CallSite) -> float:
        return rec(c.callee) + c.extra if split.get(c.key) else 0.0

    def rec(r: str) -> float:
        if r not in rec_memo:
            rec_memo[r] = math.inf  # guards against (refused) recursion
            total = m.bases.get(r, 0.0) if m.head is not None else sum(m.bases.values())
            for loop, o in zip(m.loops, picks, strict=True):
                if m.owner(loop.routine) == r:
                    total += mem(loop, o)
            total += sum(c.mult * d(c) for c in m.calls if m.owner(c.routine) == r and not c.loop)
            rec_memo[r] = total
        return rec_memo[r]

    def mem(loop, o) -> float:
        inside = sum(c.mult * d(c) for c in m.calls if c.loop == loop.key)
        return o.states * loop.snapshot + o.alive * (loop.tape_per_iter + inside)

    def popped(c: CallSite) -> float:
        """Tape pushed after ``c`` and popped before its adjoint."""
        out = c.after + sum(
            mem(x, o)
            for x, o in zip(m.loops, picks, strict=True)
            if x.key in c.after_loops and m.owner(x.routine) == m.owner(c.routine)
        )
        for e in m.calls:
            if e.key in c.after_calls:
                out += e.mult * (e.joint_snapshot + d(e))
        return out

    def peak(r: str) -> float:
        if r not in peak_memo:
            extra = 0.0
            for c in m.calls:
                if m.owner(c.routine) == r:
                    inner = peak(c.callee) - (rec(c.callee) if split.get(c.key) else 0.0)
                    extra = max(extra, inner - popped(c))
            if r == m.top:
                extra = max([extra, *(peak(x) for x in m.detached())])
            peak_memo[r] = rec(r) + extra
        return peak_memo[r]

    time = sum(o.time for o in picks)
    urec = bounds(m)[0] if any(split.values()) else {}
    for c in m.calls:
        time += c.execs * (c.split_cost if split.get(c.key) else c.callee_cost)
        if split.get(c.key):  # the callee's tape, kept beyond the call
            time += c.execs * rec(c.callee) * split_rate(c, urec)
    return peak(m.top), time


def split_rate(c: CallSite, urec: dict[str, float]) -> float:
    """Flop equivalents per byte of the callee's tape a split call adds: joint, the tape lives
    while ``<name>_b`` runs (within the cache, as the store-all work counts it); split, it
    stays until the call's adjoint, with the tapes of the site's other executions (at most
    execs times the callee's largest tape, at the rate of a tape that size)."""
    return max(0.0, costs.byte_cost(c.execs * urec.get(c.callee, 0.0)) - costs.BYTE_COST)


def bounds(m: Model) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Upper bounds of Rec and Peak per routine and of T per loop (every call split, every
    loop at its largest option): the big-M constants of the linearisation."""
    rec: dict[str, float] = {}
    peak: dict[str, float] = {}
    tl: dict[str, float] = {}

    def d(c: CallSite) -> float:
        return c.mult * (rec.get(c.callee, 0.0) + max(c.extra, 0.0))

    for r in m.callees_first():
        total = m.bases.get(r, 0.0) if m.head is not None else sum(m.bases.values())
        for loop, opts in zip(m.loops, m.options, strict=True):
            if m.owner(loop.routine) == r:
                tl[loop.key] = loop.tape_per_iter + sum(d(c) for c in m.calls if c.loop == loop.key)
                total += max(o.states * loop.snapshot + o.alive * tl[loop.key] for o in opts)
        total += sum(d(c) for c in m.calls if m.owner(c.routine) == r and not c.loop)
        rec[r] = total
        inner = [peak.get(c.callee, 0.0) for c in m.calls if m.owner(c.routine) == r]
        peak[r] = total + max(inner, default=0.0)
    top = m.top
    peak[top] = peak.get(top, 0.0) + sum(peak.get(x, 0.0) for x in m.detached())
    return rec, peak, tl


class _Program:
    """A mixed-integer linear program built row by row (scipy.optimize.milp underneath)."""

    def __init__(self) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.integer: list[int] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, lb: float = 0.0, ub: float = math.inf, integer: bool = False) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.integer.append(1 if integer else 0)
        return len(self.lb) - 1

    def row(self, coefs: dict[int, float], lb: float = -math.inf, ub: float = math.inf) -> None:
        self.rows.append((coefs, lb, ub))

    def solve(self, cost: dict[int, float]) -> np.ndarray | None:
        from scipy.sparse import coo_matrix

        n = len(self.lb)
        entries = [(i, j, v) for i, (coefs, _, _) in enumerate(self.rows) for j, v in coefs.items()]
        rows, cols, vals = zip(*entries, strict=True) if entries else ((), (), ())
        a = coo_matrix((vals, (rows, cols)), shape=(len(self.rows), n)).tocsr()
        c = np.zeros(n)
        for j, v in cost.items():
            c[j] += v
        with quiet_stdout():  # HiGHS prints MIP debug lines on the C stdout
            result = milp(
                c,
                constraints=[
                    LinearConstraint(a, [r[1] for r in self.rows], [r[2] for r in self.rows])
                ],
                integrality=np.array(self.integer),
                bounds=Bounds(np.array(self.lb), np.array(self.ub)),
                options={"mip_rel_gap": 1e-9},
            )
        return result.x if result.success else None


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """File descriptor 1 to /dev/null for the block: the solver library writes there directly
    (a user's stdout, e.g. a pipe, must carry only what fortran-ad prints)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        _libc_flush()  # what the library buffered goes to /dev/null too
        os.dup2(saved, 1)
        os.close(saved)


def _libc_flush() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


def solve(m: Model, budget: float | None, fixed: dict[str, bool]) -> tuple[list, dict] | None:
    """The fastest choice whose Peak(head) fits ``budget`` (None: the choice with the least
    peak instead). ``fixed`` pins call sites to split (True) or joint (False)."""
    urec, upeak, utl = bounds(m)
    p = _Program()
    x = [[p.var(0, 1, True) for _ in opts] for opts in m.options]
    s = {c.key: p.var(*_pinned(c, fixed), True) for c in m.calls}
    w = {c.key: p.var() for c in m.calls}
    rec = {r: p.var() for r in m.routines()}
    peak = {r: p.var() for r in m.routines()}
    for xs in x:
        p.row({j: 1.0 for j in xs}, 1.0, 1.0)
    for c in m.calls:  # w_c >= Rec(callee) - U*(1 - s_c)
        big = urec[c.callee] / SCALE
        p.row({w[c.key]: 1.0, rec[c.callee]: -1.0, s[c.key]: -big}, -big)

    def d(c: CallSite, k: float) -> dict[int, float]:
        return {w[c.key]: k * c.mult, s[c.key]: k * c.mult * c.extra / SCALE}

    def add(row: dict[int, float], coefs: dict[int, float], k: float = 1.0) -> None:
        for j, v in coefs.items():
            row[j] = row.get(j, 0.0) + k * v

    for r in m.routines():
        row: dict[int, float] = {rec[r]: 1.0}
        base = m.bases.get(r, 0.0) if m.head is not None else sum(m.bases.values())
        mem: dict[str, dict[int, float]] = {}  # loop key -> its tape as a linear expression
        for loop, opts, xs in zip(m.loops, m.options, x, strict=True):
            if m.owner(loop.routine) != r:
                continue
            inside = [c for c in m.calls if c.loop == loop.key]
            expr = mem[loop.key] = {}
            for o, j in zip(opts, xs, strict=True):
                expr[j] = o.states * loop.snapshot / SCALE
                if o.alive == 0:
                    continue
                v = p.var()  # v >= alive*T_L - alive*U_T*(1 - x)
                big = o.alive * utl[loop.key] / SCALE
                vrow = {v: 1.0, j: -big}
                for c in inside:
                    add(vrow, d(c, -o.alive))
                p.row(vrow, o.alive * loop.tape_per_iter / SCALE - big)
                expr[v] = 1.0
            add(row, expr, -1.0)
        for c in m.calls:
            if m.owner(c.routine) == r and not c.loop:
                add(row, d(c, -1.0))
        p.row(row, base / SCALE)
        p.row({peak[r]: 1.0, rec[r]: -1.0}, 0.0)
        for c in m.calls:
            if m.owner(c.routine) != r:
                continue
            # Peak(r) >= Rec(r) - popped(c) + transient(c); joint: Peak(callee), split:
            # Peak(callee) - Rec(callee)
            popped: dict[int, float] = {}
            after = c.after
            for key in c.after_loops:
                add(popped, mem.get(key, {}))
            for e in m.calls:
                if e.key in c.after_calls:
                    add(popped, d(e, 1.0))
                    after += e.mult * e.joint_snapshot
            big = upeak[c.callee] / SCALE
            joint = {peak[r]: 1.0, rec[r]: -1.0, peak[c.callee]: -1.0, s[c.key]: big}
            add(joint, popped)
            p.row(joint, -after / SCALE)
            split = {peak[r]: 1.0, rec[r]: -1.0, peak[c.callee]: -1.0, rec[c.callee]: 1.0}
            add(split, popped)
            p.row(split, -after / SCALE)
    for r in m.detached():
        p.row({peak[m.top]: 1.0, rec[m.top]: -1.0, peak[r]: -1.0}, 0.0)
    if budget is not None:
        p.row({peak[m.top]: 1.0}, ub=budget / SCALE)
        cost = {
            j: o.time
            for opts, xs in zip(m.options, x, strict=True)
            for o, j in zip(opts, xs, strict=True)
        }
        for c in m.calls:
            cost[s[c.key]] = c.execs * (c.split_cost - c.callee_cost)
            cost[w[c.key]] = c.execs * SCALE * split_rate(c, urec)  # w_c = s_c*Rec(callee)
    else:
        cost = {peak[m.top]: 1.0}
    sol = p.solve(cost)
    if sol is None:
        return None
    picks = [
        opts[int(np.argmax([sol[j] for j in xs]))] for opts, xs in zip(m.options, x, strict=True)
    ]
    return picks, {c.key: bool(round(sol[s[c.key]])) for c in m.calls}


def _pinned(c: CallSite, fixed: dict[str, bool]) -> tuple[float, float]:
    if c.why_joint:
        return 0.0, 0.0
    if c.key in fixed:
        v = 1.0 if fixed[c.key] else 0.0
        return v, v
    return 0.0, 1.0
