"""Latency of loop-carried recurrences: the time per iteration a dependence chain through the
iterations of a loop needs, however many execution units the machine has.

The flop model (checkpoint/costs.py) charges throughput: independent iterations overlap. A
loop whose iteration reads what the previous one wrote, through a scalar (``pivot`` in the
Thomas algorithm, a sum ``s = s + x(i)``) or an array element (``x(k) = ... x(k - 1)``), runs
no faster than the latency of the operations on that chain: ``gam(k) = c(k - 1)/pivot;
pivot = b(k) - a(k)*gam(k)`` costs a division, a multiply and a subtract of latency per
iteration, ``s = s + x(i)`` an add (gfortran keeps the order of floating-point sums).

``recurrence(loop, lookup)`` looks at a straight-line body (assignments, tape pushes and pops;
anything else: no term). Channels are the real scalars an iteration reads before writing them
and the array elements it writes at ``x(i + c)`` and reads at ``x(i + c - d)`` (d >= 1
iterations later along the loop's unit step; other subscripts identical). From the carried
value of each channel, the latency to each channel's new value is the longest path through
the expression trees (an operation adds its latency to the latest of its operands; loads,
popped values, loop invariants and integer index arithmetic are off the chain). The result is
the largest cycle ratio, summed latency over summed distance, over the simple cycles of the
channel graph, in seconds per iteration. LATENCY_SECONDS comes from calibration.json
(scripts/calibrate_costs.py times a chain of each operation); the other libm functions take
exp's latency, operations not listed an add's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from fortran_ad.analysis.dependence import offset
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name

CALIBRATION = Path(__file__).with_name("calibration.json")
# defaults (a 3 GHz core): add 4 cycles, divide 13, sqrt 15, libm calls tens of ns
DEFAULTS = {"+": 1.3e-9, "*": 1.3e-9, "/": 4.3e-9, "sqrt": 5e-9, "exp": 15e-9, "**": 30e-9}
DEFAULTS["mod"] = 4e-9


def _load() -> dict[str, float]:
    try:
        data = json.loads(CALIBRATION.read_text())
    except (OSError, ValueError):
        data = {}
    out = {}
    for k, v in DEFAULTS.items():
        try:
            out[k] = float(data.get(f"latency_{k}", v))
        except (TypeError, ValueError):
            out[k] = v
    return out


LATENCY_SECONDS = _load()
LIBM = ("log", "log10", "sin", "cos", "tan", "tanh", "atan", "exp")
_FREE = {"real", "dble", "int", "nint", "float", "sngl"}  # conversions: off the latency chain
MAX_CHANNELS = 12  # more: only self-recurrences are searched
NEG = -math.inf
Lookup = Callable[[str], "ir.Symbol | None"]


def op_latency(x: ir.Expr) -> float:
    L = LATENCY_SECONDS
    if isinstance(x, ir.BinOp):
        if x.op == "**":
            small = isinstance(x.right, ir.Literal) and x.right.type == "integer"
            return L["*"] if small else L["**"]
        if x.op in ("/", "mod"):
            return L[x.op]
        return L["*"] if x.op == "*" else L["+"]
    if isinstance(x, ir.Call):
        if x.name in _FREE:
            return 0.0
        if x.name in LIBM:
            return L["exp"]
        if x.name in ("sqrt", "mod", "modulo"):
            return L["sqrt" if x.name == "sqrt" else "mod"]
        return L["+"]
    return 0.0


def recurrence(loop: ir.Do, lookup: Lookup) -> float:
    """Seconds per iteration the loop's carried dependence chains need (0: none found)."""
    step = _step(loop.step)
    body = [s for s in loop.body if not isinstance(s, ir.Comment)]
    if step is None or not all(_straight(s) for s in body):
        return 0.0
    channels = _channels(loop.var, step, body, lookup)
    if not channels:
        return 0.0
    edges: dict[tuple[str, str], tuple[float, int]] = {}
    for src, dist in channels:
        for dst, lat in _arrivals(loop.var, step, body, src, dist).items():
            if lat > 0 and (
                (src, dst) not in edges or lat / dist > edges[(src, dst)][0] / edges[(src, dst)][1]
            ):
                edges[(src, dst)] = (lat, dist)
    return _max_cycle_ratio(edges)


def _step(step: ir.Expr | None) -> int | None:
    if step is None or (isinstance(step, ir.Literal) and step.text == "1"):
        return 1
    if isinstance(step, ir.UnOp) and step.op == "-" and step.operand == ir.Literal("1", "integer"):
        return -1
    if isinstance(step, ir.Literal) and step.text == "-1":
        return -1
    return None


def _straight(s: ir.Stmt) -> bool:
    if isinstance(s, ir.Assign):
        return isinstance(s.target, ir.Name | ir.ArrayRef)
    return isinstance(s, ir.CallStmt) and s.name in ("fad_push", "fad_pop")


def _real(name: str, lookup: Lookup) -> bool:
    sym = lookup(name)
    if sym is None or sym.type is None:
        return True  # a transform temporary: an adjoint or a saved value
    return sym.type.base in ("real", "double precision", "complex", "double complex")


def _channels(var: str, step: int, body, lookup: Lookup) -> list[tuple[str, int]]:
    """(channel, distance): real scalars read before written, array (name, d) pairs."""
    out: dict[str, int] = {}
    written: set[str] = set()
    array_writes = {}
    for s in body:
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.ArrayRef):
            key = element(s.target, var)
            if key is not None:
                array_writes.setdefault(s.target.name, []).append(key)
    for s in body:
        if isinstance(s, ir.CallStmt):
            written |= {base_name(a) or "" for a in s.args} if s.name == "fad_pop" else set()
            continue
        for x in leaves(s.value):
            if isinstance(x, ir.Name) and x.name not in written and _real(x.name, lookup):
                if any(_target_is(t, x.name) for t in body):
                    out.setdefault(x.name, 1)
            elif isinstance(x, ir.ArrayRef) and x.name in array_writes:
                key = element(x, var)
                for rest, c in array_writes[x.name] if key is not None else []:
                    d = (c - key[1]) * step
                    if rest == key[0] and d >= 1 and _real(x.name, lookup):
                        out[x.name] = min(out.get(x.name, d), d)
        if isinstance(s.target, ir.Name):
            written.add(s.target.name)
    if len(out) > MAX_CHANNELS:
        return [(k, d) for k, d in out.items()][:MAX_CHANNELS]
    return list(out.items())


def _target_is(s: ir.Stmt, name: str) -> bool:
    return isinstance(s, ir.Assign) and isinstance(s.target, ir.Name) and s.target.name == name


def _offset(sub: ir.Expr, var: str) -> int | None:
    """``c`` for ``var + c`` (the common forms without sympy)."""
    if isinstance(sub, ir.Name):
        return 0 if sub.name == var else None
    if isinstance(sub, ir.Literal):
        return None
    if (
        isinstance(sub, ir.BinOp)
        and sub.op in "+-"
        and isinstance(sub.left, ir.Name)
        and isinstance(sub.right, ir.Literal)
        and sub.right.type == "integer"
        and sub.right.text.isdigit()
    ):
        if sub.left.name != var:
            return None
        return int(sub.right.text) * (1 if sub.op == "+" else -1)
    return offset(sub, var)


def element(ref: ir.ArrayRef, var: str):
    """(the other subscripts, c) for a reference ``x(..., var + c, ...)``; else None."""
    hits = [
        (k, _offset(sub, var)) for k, sub in enumerate(ref.subs) if not isinstance(sub, ir.Range)
    ]
    found = [(k, c) for k, c in hits if c is not None]
    if len(found) != 1 or len(hits) != len(ref.subs):
        return None
    k, c = found[0]
    return tuple(sub for j, sub in enumerate(ref.subs) if j != k), c


def leaves(e: ir.Expr):
    """Names and array references read by ``e`` (not inside subscripts)."""
    if isinstance(e, ir.Name | ir.ArrayRef):
        yield e
        return
    for c in _operands(e):
        yield from leaves(c)


def _operands(e: ir.Expr) -> tuple[ir.Expr, ...]:
    if isinstance(e, ir.BinOp):
        return (e.left, e.right)
    if isinstance(e, ir.UnOp):
        return (e.operand,)
    if isinstance(e, ir.Paren):
        return (e.expr,)
    if isinstance(e, ir.Call):
        return tuple(a for a in e.args if not isinstance(a, ir.Keyword))
    return ()


def _arrivals(var: str, step: int, body, src: str, dist: int) -> dict[str, float]:
    """Latency from the carried value of ``src`` (read ``dist`` iterations back) to the last
    new value of each channel in one iteration."""
    now: dict[str, float] = {}  # scalars written this iteration
    elems: dict[tuple, float] = {}  # array elements written this iteration
    out: dict[str, float] = {}

    def lat(e: ir.Expr) -> float:
        if isinstance(e, ir.Name):
            return now.get(e.name, 0.0 if e.name == src else NEG)
        if isinstance(e, ir.ArrayRef):
            key = element(e, var)
            if key is not None and (e.name, key) in elems:
                return elems[(e.name, key)]
            if key is not None and e.name == src:
                return 0.0  # a carried element (a conservative read of any distance)
            return NEG
        ops = _operands(e)
        worst = max((lat(c) for c in ops), default=NEG)
        return worst + op_latency(e) if worst > NEG else NEG

    for s in body:
        if isinstance(s, ir.CallStmt):
            for a in s.args if s.name == "fad_pop" else ():
                if isinstance(a, ir.Name):
                    now[a.name] = NEG
            continue
        t = lat(s.value)
        if isinstance(s.target, ir.Name):
            now[s.target.name] = t
            out[s.target.name] = t
        else:
            key = element(s.target, var)
            if key is not None:
                elems[(s.target.name, key)] = t
                out[s.target.name] = t
    return {k: v for k, v in out.items() if v > NEG}


def _max_cycle_ratio(edges: dict[tuple[str, str], tuple[float, int]]) -> float:
    """max over simple cycles of sum(latency)/sum(distance) (depth-first, small graphs)."""
    nodes = sorted({a for a, _ in edges} | {b for _, b in edges})
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    best = 0.0
    for i, start in enumerate(nodes):
        allowed = set(nodes[i:])
        stack = [(start, 0.0, 0, (start,))]
        while stack:
            n, lat, dist, path = stack.pop()
            for m in succ[n]:
                el, ed = edges[(n, m)]
                if m == start:
                    best = max(best, (lat + el) / (dist + ed))
                elif m in allowed and m not in path and len(path) < MAX_CHANNELS:
                    stack.append((m, lat + el, dist + ed, (*path, m)))
    return best
