"""A static cost model of generated code, evaluated with size hints (``--size n=1000,nt=500``).

Counts are estimates, not promises: floating-point operations per statement times trip counts,
and bytes per tape push times trip counts. Names without a hint take DEFAULT_EXTENT; loops
whose trip count cannot be evaluated are assumed to run DEFAULT_TRIPS times. The constants that
turn bytes into time (BYTE_COST, in flop equivalents) were set from measurements on the
development machine (a push+pop of 8 bytes costs about as much as 2 floating-point operations of
the primal at -O2); they only need to be right to within a factor of a few, since the planner
compares alternatives that differ by much more.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import type_bytes
from fortran_ad.ir.walk import bodies, subexprs

DEFAULT_EXTENT = 100
DEFAULT_TRIPS = 100
BYTE_COST = 0.25  # flop equivalents per byte pushed and popped
WHILE_TRIPS = 10


def eval_int(e: ir.Expr | None, sizes: dict[str, int]) -> int | None:
    """The value of an integer expression under the size hints, or None."""
    if e is None:
        return None
    if isinstance(e, ir.Literal) and e.type == "integer":
        text = e.text.split("_")[0]
        return int(text) if text.lstrip("-").isdigit() else None
    if isinstance(e, ir.Name):
        return sizes.get(e.name)
    if isinstance(e, ir.Paren):
        return eval_int(e.expr, sizes)
    if isinstance(e, ir.UnOp) and e.op in "+-":
        v = eval_int(e.operand, sizes)
        return None if v is None else (v if e.op == "+" else -v)
    if isinstance(e, ir.BinOp) and e.op in ("+", "-", "*", "/"):
        a, b = eval_int(e.left, sizes), eval_int(e.right, sizes)
        if a is None or b is None:
            return None
        if e.op == "/":
            return int(a / b) if b else None
        return {"+": a + b, "-": a - b, "*": a * b}[e.op]
    if isinstance(e, ir.Call) and e.name in ("min", "max") and e.args:
        vals = [eval_int(a, sizes) for a in e.args]
        if any(v is None for v in vals):
            return None
        return min(vals) if e.name == "min" else max(vals)  # type: ignore[type-var]
    return None


def trips(s: ir.Do, sizes: dict[str, int]) -> int:
    lo, hi = eval_int(s.start, sizes), eval_int(s.stop, sizes)
    step = eval_int(s.step, sizes) if s.step is not None else 1
    if lo is None or hi is None or not step:
        return DEFAULT_TRIPS
    return max(0, (hi - lo + step) // step)


def elements(sym: ir.Symbol | None, sizes: dict[str, int]) -> int:
    """Elements of a variable: the product of its extents (DEFAULT_EXTENT when unknown)."""
    if sym is None:
        return 1
    n = 1
    for d in sym.dims:
        hi = eval_int(d.hi, sizes)
        lo = eval_int(d.lo, sizes) if d.lo is not None else 1
        known = d.kind == "explicit" and hi is not None and lo is not None
        n *= (hi - lo + 1) if known else DEFAULT_EXTENT  # type: ignore[operator]
    return max(n, 1)


def ref_bytes(e: ir.Expr, lookup: Callable[[str], ir.Symbol | None], sizes) -> int:
    """Bytes of a designator as pushed on the tape."""
    name = e.name if isinstance(e, ir.Name | ir.ArrayRef) else None
    sym = lookup(name) if name else None
    per = type_bytes(sym.type) if sym is not None else 8
    if isinstance(e, ir.Name):
        return per * elements(sym, sizes)
    if isinstance(e, ir.ArrayRef):
        n = 1
        for k, s in enumerate(e.subs):
            if isinstance(s, ir.Range):
                lo = eval_int(s.lo, sizes) if s.lo is not None else 1
                hi = eval_int(s.hi, sizes) if s.hi is not None else None
                if hi is None and sym is not None and k < len(sym.dims):
                    hi = eval_int(sym.dims[k].hi, sizes)
                n *= (hi - lo + 1) if (hi is not None and lo is not None) else DEFAULT_EXTENT
        return per * max(n, 1)
    return per


def flops(body: tuple[ir.Stmt, ...], sizes, callee_cost: Callable[[str], float]) -> float:
    """Estimated floating-point work of running ``body`` once."""
    total = 0.0
    for s in body:
        if isinstance(s, ir.Assign):
            total += 1 + sum(1 for x in subexprs(s.value) if isinstance(x, ir.BinOp | ir.Call))
        elif isinstance(s, ir.CallStmt):
            total += callee_cost(s.name)
        elif isinstance(s, ir.Do):
            total += trips(s, sizes) * flops(s.body, sizes, callee_cost)
        elif isinstance(s, ir.DoWhile):
            total += WHILE_TRIPS * flops(s.body, sizes, callee_cost)
        else:
            branch = [flops(b, sizes, callee_cost) for b in bodies(s)]
            total += max(branch, default=0.0)
    return total


def tape_bytes(body: list[ir.Stmt] | tuple[ir.Stmt, ...], lookup, sizes) -> float:
    """Estimated bytes a (generated, recording) statement list pushes when run once."""
    total = 0.0
    for s in body:
        if isinstance(s, ir.CallStmt) and s.name == "fad_push":
            total += ref_bytes(s.args[0], lookup, sizes)
        elif isinstance(s, ir.Do):
            total += trips(s, sizes) * tape_bytes(s.body, lookup, sizes)
        elif isinstance(s, ir.DoWhile):
            total += WHILE_TRIPS * tape_bytes(s.body, lookup, sizes)
        else:
            total += max((tape_bytes(b, lookup, sizes) for b in bodies(s)), default=0.0)
    return total


def segments(n: int, period: int) -> int:
    return math.ceil(n / period) if period > 0 else 0
