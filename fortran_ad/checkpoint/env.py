"""What the cost model knows about sizes: values of scalars and extents of arrays, per routine.

The size hints (``--size n=1000,nt=500`` or a sample's bench values) seed the head's
environment. From there the values flow

* into named constants (``parameter``) and the routine's straight-line scalar assignments
  (``nsub = floor(2*vt_max*dt/dz) + 1`` is known when ``vt_max``, ``dt`` and ``dz`` are);
* into internal procedures from their host, and into callees at their first call site: a
  scalar actual binds the dummy's value, an array actual binds the dummy's extents
  (``t(:, icol)`` gives an assumed-shape ``t(:)`` the extent of ``t``'s first dimension),
  so ``size(t)`` and ``do k = 1, size(t)`` are known there;
* into inner loops: while costing a loop body the loop variable holds the midpoint of its
  range, so a triangular ``do j = 1, i`` counts its mean trip count exactly.

Values are numbers (ints stay ints, so integer division truncates as Fortran's does).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import walk_stmts

Number = int | float
Lookup = Callable[[str], "ir.Symbol | None"]

_UNARY: dict[str, Callable[[float], Number]] = {
    "abs": abs,
    "floor": math.floor,
    "ceiling": math.ceil,
    "int": int,
    "nint": round,
    "real": float,
    "dble": float,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
}


def _no_symbol(name: str) -> ir.Symbol | None:
    return None


@dataclass(frozen=True)
class SizeEnv:
    values: dict[str, Number] = field(default_factory=dict)
    shapes: dict[str, tuple[Number | None, ...]] = field(default_factory=dict)
    lookup: Lookup = _no_symbol

    def bind(self, name: str, value: Number | None) -> SizeEnv:
        if value is None:
            return self
        return replace(self, values={**self.values, name: value})

    def value(self, e: ir.Expr | None, depth: int = 0) -> Number | None:
        """The value of an expression, or None when it depends on something unknown."""
        if e is None or depth > 20:
            return None
        if isinstance(e, ir.Literal):
            return _literal(e)
        if isinstance(e, ir.Name):
            if e.name in self.values:
                return self.values[e.name]
            sym = self.lookup(e.name)
            if sym is not None and "parameter" in sym.attrs and sym.init is not None:
                return self.value(sym.init, depth + 1)
            return None
        if isinstance(e, ir.Paren):
            return self.value(e.expr, depth)
        if isinstance(e, ir.UnOp) and e.op in ("+", "-"):
            v = self.value(e.operand, depth)
            return None if v is None else (v if e.op == "+" else -v)
        if isinstance(e, ir.BinOp):
            return _binop(e.op, self.value(e.left, depth), self.value(e.right, depth))
        if isinstance(e, ir.Call):
            return self._call(e, depth)
        return None

    def _call(self, e: ir.Call, depth: int) -> Number | None:
        if e.name in ("size", "ubound", "lbound") and e.args:
            return self._inquiry(e, depth)
        args = e.args[:1] if e.name in _UNARY else e.args  # kind= arguments do not matter
        vals = [self.value(a, depth) for a in args]
        if not vals or any(v is None for v in vals):
            return None
        try:
            if e.name in ("min", "max"):
                return (min if e.name == "min" else max)(vals)  # type: ignore[type-var]
            if e.name == "mod" and len(vals) == 2 and vals[1]:
                return (
                    math.fmod(vals[0], vals[1])
                    if isinstance(vals[0], float)
                    else (
                        int(math.fmod(vals[0], vals[1]))  # type: ignore[arg-type]
                    )
                )
            if e.name in _UNARY and len(vals) >= 1:
                return _UNARY[e.name](vals[0])  # type: ignore[arg-type]
        except (ValueError, OverflowError):
            return None
        return None

    def _inquiry(self, e: ir.Call, depth: int) -> Number | None:
        target = e.args[0]
        name = target.name if isinstance(target, ir.Name) else None
        if name is None:
            return None
        dim = self.value(e.args[1], depth) if len(e.args) > 1 else None
        if e.name == "size":
            ext = self.extents(name)
            if ext is None:
                return None
            picked = ext if dim is None else ext[int(dim) - 1 : int(dim)]
            if not picked or any(x is None for x in picked):
                return None
            return math.prod(picked)  # type: ignore[arg-type]
        if dim is None:
            return None
        bounds = self.bounds(name)
        if bounds is None or not 1 <= int(dim) <= len(bounds):
            return None
        return bounds[int(dim) - 1][0 if e.name == "lbound" else 1]

    def bounds(self, name: str) -> list[tuple[Number | None, Number | None]] | None:
        if name in self.shapes:
            return [(1, x) for x in self.shapes[name]]
        sym = self.lookup(name)
        if sym is None or not sym.dims:
            return None
        out = []
        for d in sym.dims:
            if d.kind != "explicit":
                out.append((None, None))
                continue
            lo = self.value(d.lo) if d.lo is not None else 1
            out.append((lo, self.value(d.hi)))
        return out

    def extents(self, name: str) -> tuple[Number | None, ...] | None:
        """Extents of an array (None entries where unknown), or None for an unknown name."""
        if name in self.shapes:
            return self.shapes[name]
        b = self.bounds(name)
        if b is None:
            return None
        return tuple(None if lo is None or hi is None else max(0, hi - lo + 1) for lo, hi in b)

    def section_extents(self, e: ir.Expr) -> tuple[Number | None, ...] | None:
        """Extents of an array actual argument: a whole array or a section."""
        if isinstance(e, ir.Name):
            return self.extents(e.name)
        if not isinstance(e, ir.ArrayRef):
            return None
        full = self.bounds(e.name)
        if full is None:
            return None
        out: list[Number | None] = []
        for k, s in enumerate(e.subs):
            if not isinstance(s, ir.Range):
                continue
            lo = self.value(s.lo) if s.lo is not None else (full[k][0] if k < len(full) else None)
            hi = self.value(s.hi) if s.hi is not None else (full[k][1] if k < len(full) else None)
            step = self.value(s.step) if getattr(s, "step", None) is not None else 1
            ok = lo is not None and hi is not None and step
            out.append(max(0, (hi - lo + step) // step) if ok else None)  # type: ignore[operator]
        return tuple(out)

    def run_straight_line(self, body: tuple[ir.Stmt, ...]) -> SizeEnv:
        """Bind the scalars the routine's top-level assignments compute from known values."""
        env = self
        for s in body:
            if isinstance(s, ir.Assign) and isinstance(s.target, ir.Name):
                v = env.value(s.value)
                env = env.bind(s.target.name, v) if v is not None else env
        return env


def _literal(e: ir.Literal) -> Number | None:
    text = e.text.split("_")[0].lower().replace("d", "e")
    try:
        return int(text) if e.type == "integer" else float(text) if e.type == "real" else None
    except ValueError:
        return None


def _binop(op: str, a: Number | None, b: Number | None) -> Number | None:
    if a is None or b is None:
        return None
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if not b:
                return None
            both_int = isinstance(a, int) and isinstance(b, int)
            return int(a / b) if both_int else a / b
        if op == "**":
            return a**b
    except (OverflowError, ZeroDivisionError):
        return None
    return None


def routine_envs(program, order: list[str], head: str, hints: dict) -> dict[str, SizeEnv]:
    """Each routine's environment: the head's from the hints, a callee's from its first call."""
    envs: dict[str, SizeEnv] = {}
    seeds = {head: {k.lower(): v for k, v in hints.items()}}
    shapes: dict[str, dict[str, tuple[Number | None, ...]]] = {head: {}}
    for name in _callers_first(program, order, head):
        info = program.routines[name]
        r = info.routine
        lookup = _lookup(info)
        host = envs.get(info.host.name) if info.host is not None else None
        values = {**(host.values if host else {}), **seeds.get(name, {})}
        env = SizeEnv(values, {**(host.shapes if host else {}), **shapes.get(name, {})}, lookup)
        env = env.run_straight_line(r.body)
        envs[name] = env
        for call in walk_stmts(r.body):
            if isinstance(call, ir.CallStmt) and call.name in program.routines:
                _bind_call(program, env, call.name, call.args, seeds, shapes)
    return envs


def _bind_call(program, env: SizeEnv, callee: str, actuals, seeds, shapes) -> None:
    if callee in seeds:
        return  # the first call site decides
    dummies = program.routines[callee].routine.args
    seeds[callee], shapes[callee] = {}, {}
    for dummy, actual in zip(dummies, actuals, strict=False):
        if isinstance(actual, ir.Keyword):
            dummy, actual = actual.name, actual.value
        ext = env.section_extents(actual)
        if ext is not None:
            shapes[callee][dummy] = ext
            continue
        v = env.value(actual)
        if v is not None:
            seeds[callee][dummy] = v


def _callers_first(program, order: list[str], head: str) -> list[str]:
    seen: list[str] = []

    def visit(name: str) -> None:
        if name in seen or name not in order:
            return
        seen.append(name)
        for c in sorted(program.callees(program.routines[name].routine)):
            visit(c)

    visit(head)
    return seen + [n for n in order if n not in seen]


def _lookup(info) -> Lookup:
    def find(name: str) -> ir.Symbol | None:
        sym = info.routine.symbol(name)
        return sym if sym is not None else info.scope.lookup(name)

    return find
