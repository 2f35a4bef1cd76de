"""Element-level first writes: assignments in loops that define an element of a local array
no earlier statement wrote.

The old value of such an element is undefined and no correct program reads it, so its
overwrite needs no record, although the array as a whole is needed (to-be-recorded analysis
works on whole arrays). The tridiagonal sweeps of vertical advection (npbench vadv, COSMO's
dycore) are the case:

    k = 1;  do j; do i;  ccol(i, j, k) = ...                 ! plane 1
    do k = 2, nk - 1; do j; do i
      ccol(i, j, k) = gcv*bet_p                              ! first write of (i, j, k)
      divided = 1/(bcol - ccol(i, j, k - 1)*acol)            ! reads the plane below
      ccol(i, j, k) = ccol(i, j, k)*divided                  ! second write: recorded

An assignment ``v(f) = e`` counts when
  * ``v`` is a local array (no dummy, result, SAVE, initial value, COMMON, pointer, target or
    allocatable) that only plain element assignments write, never a call, WHERE or FORALL,
    and ``e`` does not mention ``v``;
  * within the top-level statement ``S`` around it, every write of ``v`` has the very
    subscripts ``f``, the assignment comes first among them, and ``f`` is one-to-one in the
    variables of the counted loops around it (each appears as ``+-var + c`` in a dimension of
    its own, the rest free of loop variables): an earlier write in ``S`` is either in an
    earlier iteration of a loop around both, so it wrote another element, or it follows in
    the text;
  * every write of ``v`` in a top-level statement before ``S`` lies in a region disjoint from
    the region ``f`` covers: in some dimension both are intervals of integer expressions in
    unchanged names (``k = 1`` before a loop nest counts as the constant) with a constant gap,
    like ``[1, 1]`` and ``[2, nk - 1]``.
Routines with GO TO, internal procedures, EQUIVALENCE, DATA or SAVE statements are left
alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy

from fortran_ad.analysis.dependence import to_sympy
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import (
    base_name,
    bodies,
    exprs_of_body,
    names_in,
    stmt_exprs,
    subexprs,
    walk_stmts,
)

if TYPE_CHECKING:
    from fortran_ad.ad.core.common import RoutineAD

Interval = tuple[sympy.Expr, sympy.Expr] | None  # [lo, hi]; None: unknown
_INTRINSIC = frozenset({"real", "double precision", "integer", "logical", "complex"})
_EXCLUDED = frozenset({"save", "parameter", "pointer", "target", "allocatable", "volatile"})


def element_first_writes(t: RoutineAD) -> set[int]:
    """Ids of the assignments that write an element of a local array for the first time."""
    r = t.routine
    if r.contains or _has_goto_or_data(r):
        return set()
    arrays = _candidates(t)
    if not arrays:
        return set()
    stable = _stable_names(t)
    env: dict[sympy.Symbol, sympy.Expr] = {}
    before: dict[str, list[list[Interval]]] = {v: [] for v in arrays}
    out: set[int] = set()
    for top in r.body:
        inside = t.writes((top,))
        known = {k: x for k, x in env.items() if k.name not in inside}
        nest = _Nest(known, stable)
        writes = nest.writes(top, (), arrays)
        for v in {base_name(w.target) for w, _ in writes}:
            mine = [(w, loops) for w, loops in writes if base_name(w.target) == v]
            first, loops = mine[0]
            regions = [nest.region(w.target, lp) for w, lp in mine]
            if (
                all(w.target == first.target for w, _ in mine)
                and v not in names_in(first.value)
                and loops
                and nest.one_to_one(first.target, loops)
                and all(_disjoint(regions[0], old) for old in before[v])
            ):
                out.add(id(first))
            before[v] += regions
        _update_env(env, top, inside, stable)
    return out


class _Nest:
    """Regions of element writes inside one top-level statement."""

    def __init__(self, env: dict[sympy.Symbol, sympy.Expr], stable: set[str]) -> None:
        self.env = env
        self.stable = stable

    def writes(
        self, s: ir.Stmt, loops: tuple[ir.Do, ...] | None, arrays: set[str]
    ) -> list[tuple[ir.Assign, tuple[ir.Do, ...] | None]]:
        """Assignments to ``arrays`` in ``s`` (source order) with the counted loops around
        them; None below any other construct (DO WHILE, WHERE, ...): it may repeat them."""
        if isinstance(s, ir.Assign):
            return [(s, loops)] if base_name(s.target) in arrays else []
        inner: tuple[ir.Do, ...] | None = None
        if isinstance(s, ir.Do) and loops is not None:
            inner = (*loops, s)
        elif isinstance(s, ir.If | ir.Select):
            inner = loops
        return [x for b in bodies(s) for y in b for x in self.writes(y, inner, arrays)]

    def expr(self, e: ir.Expr, loopvars: set[str]) -> sympy.Expr | None:
        x = to_sympy(e)
        if x is None:
            return None
        x = x.subs(self.env)
        if all(sym.name in self.stable or sym.name in loopvars for sym in x.free_symbols):
            return sympy.expand(x)
        return None

    def _linear(
        self, e: ir.Expr, loops: tuple[ir.Do, ...]
    ) -> tuple[ir.Do | None, int, sympy.Expr] | None:
        """``e == a*var + b`` with ``a`` = +-1 for at most one loop variable, ``b`` free of
        them: (loop, a, b), loop None when ``e`` names none."""
        names = {d.var for d in loops}
        x = self.expr(e, names)
        if x is None:
            return None
        used = [d for d in loops if sympy.Symbol(d.var, integer=True) in x.free_symbols]
        if not used:
            return None, 0, x
        if len(used) > 1:
            return None
        sym = sympy.Symbol(used[0].var, integer=True)
        a = x.coeff(sym, 1)
        b = sympy.expand(x - a * sym)
        if a not in (1, -1) or b.free_symbols & {sympy.Symbol(n, integer=True) for n in names}:
            return None
        return used[0], int(a), b

    def one_to_one(self, target: ir.Expr, loops: tuple[ir.Do, ...]) -> bool:
        if not isinstance(target, ir.ArrayRef) or any(isinstance(x, ir.Range) for x in target.subs):
            return False
        seen: list[ir.Do] = []
        for sub in target.subs:
            lin = self._linear(sub, loops)
            if lin is None:
                return False
            if lin[0] is not None:
                if any(d is lin[0] for d in seen):
                    return False
                seen.append(lin[0])
        return len(seen) == len(loops) and all(_step(d) is not None for d in loops)

    def region(self, target: ir.Expr, loops: tuple[ir.Do, ...] | None) -> list[Interval]:
        if not isinstance(target, ir.ArrayRef) or loops is None:
            return []
        out: list[Interval] = []
        for sub in target.subs:
            lin = None if isinstance(sub, ir.Range) else self._linear(sub, loops)
            if lin is None:
                out.append(None)
            elif lin[0] is None:
                out.append((lin[2], lin[2]))
            else:
                out.append(self._range(lin[0], lin[1], lin[2]))
        return out

    def _range(self, d: ir.Do, a: int, b: sympy.Expr) -> Interval:
        step = _step(d)
        lo, hi = self.expr(d.start, set()), self.expr(d.stop, set())
        if step not in (1, -1) or lo is None or hi is None:
            return None
        if step == -1:
            lo, hi = hi, lo
        return (lo + b, hi + b) if a == 1 else (b - hi, b - lo)


def _step(d: ir.Do) -> int | None:
    if d.step is None:
        return 1
    x = to_sympy(d.step)
    return int(x) if x is not None and x.is_Integer and x != 0 else None


def _disjoint(a: list[Interval], b: list[Interval]) -> bool:
    for x, y in zip(a, b, strict=False):
        if x is None or y is None:
            continue
        for gap in (x[1] - y[0], y[1] - x[0]):
            gap = sympy.expand(gap)
            if gap.is_Integer and gap < 0:
                return True
    return False


def _candidates(t: RoutineAD) -> set[str]:
    """Local arrays written only by plain element assignments."""
    r = t.routine
    out = {
        s.name
        for s in r.symbols
        if s.rank
        and (s.type is None or s.type.base in _INTRINSIC)
        and s.name not in r.args
        and s.name != r.result
        and s.init is None
        and not (s.attrs & _EXCLUDED)
        and not any(a.startswith("common") for a in s.attrs)
    }
    for x in walk_stmts(r.body):
        if isinstance(x, ir.Assign):
            for e in (x.target, x.value):
                out -= _call_arguments(t, e)
            continue
        if isinstance(x, ir.Do | ir.DoWhile | ir.If | ir.Select):
            for e in stmt_exprs(x):
                out -= _call_arguments(t, e)
            continue
        for e in stmt_exprs(x):
            out -= names_in(e)
        if isinstance(x, ir.Opaque):
            out -= set(x.writes) | set(x.reads)
    return out


def _call_arguments(t: RoutineAD, e: ir.Expr) -> set[str]:
    """Names in the arguments of calls of the program's own functions (they may write them)."""
    out: set[str] = set()
    for x in subexprs(e):
        if isinstance(x, ir.Call) and t.program.get(x.name) is not None:
            for a in x.args:
                out |= names_in(a)
    return out


def _stable_names(t: RoutineAD) -> set[str]:
    """Dummies and named constants the routine never writes: the same value throughout."""
    r = t.routine
    written = t.writes(r.body)
    for e in exprs_of_body(r.body):
        written |= _call_arguments(t, e)
    out = set()
    for s in r.symbols:
        if s.name in written or s.attrs & {"pointer", "target", "volatile"}:
            continue
        if any(a.startswith("common") for a in s.attrs):
            continue
        if s.name in r.args or "parameter" in s.attrs:
            out.add(s.name)
    return out


def _update_env(
    env: dict[sympy.Symbol, sympy.Expr], top: ir.Stmt, written: set[str], stable: set[str]
) -> None:
    """After ``top``: ``k = <expression in stable names>`` makes k known, any other write of
    a known name forgets it."""
    for name in written:
        env.pop(sympy.Symbol(name, integer=True), None)
    if isinstance(top, ir.Assign) and isinstance(top.target, ir.Name):
        x = to_sympy(top.value)
        if x is not None:
            x = sympy.expand(x.subs(env))
            if all(sym.name in stable for sym in x.free_symbols):
                env[sympy.Symbol(top.target.name, integer=True)] = x


def _has_goto_or_data(r: ir.Routine) -> bool:
    """GO TO, DATA, EQUIVALENCE or SAVE (a saved local keeps the last call's values, which
    this call may read before it writes them)."""
    if any(isinstance(s, ir.Goto) for s in walk_stmts(r.body)):
        return True
    for x in r.spec:
        if isinstance(x, ir.OpaqueSpec):
            text = x.text.lower()
            if text.lstrip().startswith("data") or "equivalence" in text:
                return True
        if isinstance(x, ir.AttrStmt) and x.attr == "save":
            return True
    return False
