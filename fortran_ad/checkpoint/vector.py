"""Which counted loops gfortran vectorises (-O3 -march=native, no -ffast-math), for the cost
model (checkpoint/costs.py): such a loop costs its flops divided by VECTOR_SPEEDUP.

A static stand-in for the vectoriser, close enough for time estimates. An innermost loop
vectorises when
- its body is assignments only (no calls, branches, nested loops, tape pushes or pops),
- it reads and writes no element through an index array or an index the iteration computes
  (``x(idx(i))``, ``x(kp1)`` with ``kp1 = mod(k, n) + 1``: gathers),
- it calls no user function and no libm function (``exp``, ``log``, ``**`` with a real
  exponent: scalar calls without -ffast-math; ``sqrt``, ``min``, ``max``, ``abs``, ``sign``
  and ``merge`` vectorise),
- and, unless it is marked ``!$omp simd``, no value flows from one iteration to the next: no
  scalar is read before the iteration writes it (a sum ``s = s + x(i)``: gfortran keeps the
  order of floating-point sums), every array element it writes has the loop variable in its
  subscripts (``x(i + c, j)``), and an array it writes is read only at the element written.

VECTOR_SPEEDUP (how much faster a vectorised loop runs per modelled flop, after the loads and
stores it still does) comes from calibration.json (scripts/calibrate_costs.py fits it to
measured adjoints); 1.0 without it.
"""

from __future__ import annotations

import json
from pathlib import Path

from fortran_ad.checkpoint.latency import LIBM, element, leaves
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import stmt_exprs, subexprs

CALIBRATION = Path(__file__).with_name("calibration.json")
MIN_TRIPS = 16  # shorter loops: the scalar prologue and epilogue dominate


def _speedup() -> float:
    try:
        return float(json.loads(CALIBRATION.read_text())["vector_speedup"])
    except (OSError, ValueError, KeyError, TypeError):
        return 1.0


VECTOR_SPEEDUP = _speedup()


def vectorises(loop: ir.Do, functions: frozenset[str] | set[str] = frozenset()) -> bool:
    """True when gfortran is expected to vectorise ``loop`` (``functions``: the user
    functions of the program, scalar calls)."""
    body = [s for s in loop.body if not isinstance(s, ir.Comment)]
    if not body or not all(_plain(s) for s in body):
        return False
    private = {s.target.name for s in body if isinstance(s.target, ir.Name)}
    for s in body:
        for e in stmt_exprs(s):
            if any(_scalar_call(x, functions) or _gather(x, private) for x in subexprs(e)):
                return False
    simd = any(d.lower().startswith("!$omp simd") for d in loop.directives)
    return simd or not _carried(loop.var, body)


def _plain(s: ir.Stmt) -> bool:
    return isinstance(s, ir.Assign) and isinstance(s.target, ir.Name | ir.ArrayRef)


def _scalar_call(x: ir.Expr, functions) -> bool:
    if isinstance(x, ir.Call):
        return x.name in functions or x.name in LIBM
    if isinstance(x, ir.BinOp) and x.op == "**":
        return not (isinstance(x.right, ir.Literal) and x.right.type == "integer")
    return False


def _gather(x: ir.Expr, private: set[str]) -> bool:
    """An element picked through an index array or an index the iteration computes."""
    if not isinstance(x, ir.ArrayRef):
        return False
    for sub in x.subs:
        for y in subexprs(sub):
            if isinstance(y, ir.ArrayRef) or (isinstance(y, ir.Name) and y.name in private):
                return True
    return False


def _carried(var: str, body: list[ir.Assign]) -> bool:
    """A value flows between iterations: a scalar read before written, an element written
    without ``var`` in its subscripts, an array read at another element than it is written."""
    written: set[str] = set()
    arrays: dict[str, object] = {}
    for s in body:
        if isinstance(s.target, ir.ArrayRef):
            key = element(s.target, var)
            if key is None or arrays.setdefault(s.target.name, key) != key:
                return True
    for s in body:
        for x in leaves(s.value):
            if isinstance(x, ir.Name) and x.name not in written:
                if any(isinstance(t.target, ir.Name) and t.target.name == x.name for t in body):
                    return True
            elif (
                isinstance(x, ir.ArrayRef)
                and x.name in arrays
                and element(x, var) != arrays[x.name]
            ):
                return True
        if isinstance(s.target, ir.Name):
            written.add(s.target.name)
    return False
