"""Array elements that provably differ, from the bounds of the enclosing DO loops.

Two designators of one array in the same statement, e.g. ``a(i, j)`` and ``a(i, k)`` in
``a(i, j) = a(i, j) - a(i, k)*a(k, j)`` inside ``do j = 1, i - 1; do k = 1, j - 1``, name
different elements when in some dimension the difference of the subscripts (here ``j - k``)
can never be 0. Both are evaluated at the same point, so every variable has one value; the
loops bound their variables: ``start <= var <= stop`` (``stop <= var <= start`` for a negative
literal step). The largest value of an affine difference is found by replacing, innermost loop
first, each loop variable by the bound its coefficient's sign selects (the bounds of an inner
loop mention only outer variables); a largest value below 0 (or smallest above 0) proves it.
A loop counts only when its step is absent or an integer literal, its bounds are affine and
nothing its body writes appears in them (their values at the statement are the entry values).

Used by the adjoint of increments (``v(e1) = v(e1) + f(v(e2))`` keeps ``vb(e1)`` unchanged
when ``e1 != e2``, ad/core/adjoint.py) and to hoist loop-invariant reads out of backward loops
(:func:`hoist`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import sympy

from fortran_ad.analysis.dependence import to_sympy
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import names_in, subexprs, var_of

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

Bounds = list[tuple[sympy.Symbol, sympy.Expr, sympy.Expr]]  # (var, low, high), outermost first


def bounds(t: Reverse, loops: list[ir.Do]) -> Bounds:
    """The usable (var, low, high) of ``loops`` (outermost first)."""
    out: Bounds = []
    for loop in loops:
        step = 1
        if loop.step is not None:
            s = to_sympy(loop.step)
            if s is None or not s.is_Integer or s == 0:
                continue
            step = int(s)
        lo, hi = to_sympy(loop.start), to_sympy(loop.stop)
        if lo is None or hi is None:
            continue
        used = names_in(loop.start) | names_in(loop.stop)
        if used & t.writes(loop.body):
            continue
        low, high = (lo, hi) if step > 0 else (hi, lo)
        out.append((sympy.Symbol(loop.var, integer=True), low, high))
    return out


def _extreme(d: sympy.Expr, b: Bounds, largest: bool) -> sympy.Expr | None:
    """The largest (or smallest) value of ``d`` over the loops, or None when not affine."""
    for var, low, high in reversed(b):
        d = sympy.expand(d)
        c = d.coeff(var, 1)
        if c == 0:
            continue
        if not c.is_Integer or var in sympy.expand(d - c * var).free_symbols:
            return None
        up = (c > 0) == largest
        d = d.subs(var, high if up else low)
    return sympy.expand(d)


def _never_zero(d: sympy.Expr, b: Bounds) -> bool:
    if d.is_Integer:
        return d != 0
    hi = _extreme(d, b, largest=True)
    if hi is not None and hi.is_Integer and hi < 0:
        return True
    lo = _extreme(d, b, largest=False)
    return lo is not None and lo.is_Integer and lo > 0


def differ(a: ir.Expr, b: ir.Expr, loops: Bounds) -> bool:
    """``a`` and ``b`` (designators of one array) never name the same element."""
    if not (isinstance(a, ir.ArrayRef) and isinstance(b, ir.ArrayRef)):
        return False
    if a.name != b.name or len(a.subs) != len(b.subs):
        return False
    for sa, sb in zip(a.subs, b.subs, strict=True):
        if isinstance(sa, ir.Range) or isinstance(sb, ir.Range):
            continue
        xa, xb = to_sympy(sa), to_sympy(sb)
        if xa is not None and xb is not None and _never_zero(sympy.expand(xa - xb), loops):
            return True
    return False


def apart(a: ir.ArrayRef, b: ir.ArrayRef, changing: set[str], loops: Bounds) -> bool:
    """``a`` and ``b`` never name the same element whatever the values of ``changing`` at
    each of them: some dimension holds subscripts free of ``changing`` that always differ
    (``c(i, k)`` written and ``c(i, k - 1)`` read over ``i``)."""
    if a.name != b.name or len(a.subs) != len(b.subs):
        return False
    for sa, sb in zip(a.subs, b.subs, strict=True):
        if isinstance(sa, ir.Range) or isinstance(sb, ir.Range):
            continue
        if (names_in(sa) | names_in(sb)) & changing:
            continue
        xa, xb = to_sympy(sa), to_sympy(sb)
        if xa is not None and xb is not None and _never_zero(sympy.expand(xa - xb), loops):
            return True
    return False


def hoist(t: Reverse, loop: ir.Do) -> tuple[list[ir.Stmt], ir.Do]:
    """Reads in ``loop`` (a backward loop of plain assignments) of an element of an array the
    loop writes, where the element does not depend on the loop and provably differs from
    every element the loop writes: read once before the loop into a scalar, so that the
    iterations become independent (``bb(k, j) = bb(k, j) + a(k, i)*bb(i, j)`` over ``k > i``)."""
    from fortran_ad.ad.rewrites.loop_stmts import plain, real_type

    step = to_sympy(loop.step) if loop.step is not None else sympy.Integer(1)
    assigns = [s for s in loop.body if not isinstance(s, ir.Comment)]
    if step is None or not step.is_Integer or not assigns:
        return [], loop
    if not all(plain(t, s) for s in assigns):
        return [], loop
    down = step < 0
    targets = [s.target for s in assigns]
    written = {var_of(x.name) for x in targets} | {loop.var}
    b: Bounds | None = None  # computed at the first candidate
    swap: dict[ir.Expr, ir.Name] = {}
    pre: list[ir.Stmt] = []
    for s in assigns:
        for x in subexprs(s.value):
            if not isinstance(x, ir.ArrayRef) or x in swap or x.name not in written:
                continue
            if any(names_in(e) & written for e in x.subs) or x in targets:
                continue
            b = bounds(t, t.loops) if b is None else b
            if not all(differ(x, w, b) for w in targets if w.name == x.name):
                continue
            typ = real_type(t, x)
            if typ is None:
                continue
            swap[x] = ir.Name(t.temp("inv", typ))
            pre.append(ir.Assign(swap[x], x, loop.loc))
    if not swap:
        return [], loop
    body = tuple(_swap(s, swap) for s in loop.body)
    # read only when the loop runs: the element may not exist otherwise (-fcheck=bounds)
    runs = ir.BinOp(">=" if down else "<=", loop.start, loop.stop)
    return [ir.If(((runs, tuple(pre)),), loc=loop.loc)], replace(loop, body=body)


def _swap(s: ir.Stmt, swap: dict[ir.Expr, ir.Name]) -> ir.Stmt:
    if not isinstance(s, ir.Assign):
        return s
    from fortran_ad.ir.walk import map_expr

    return replace(s, value=map_expr(s.value, lambda e: swap.get(e)))


def increment(t: Reverse, target: ir.Expr, self_terms: list) -> bool:
    """Is the assignment to ``target`` with these (reference, coefficient) terms of its own
    variable an increment ``v = v + e``: ``target`` once with coefficient 1, every other
    reference to ``v`` provably another element? Its adjoint leaves ``vb(target)`` alone."""
    one = (target, None)
    if self_terms.count(one) != 1:
        return False
    others = [r for r, c in self_terms if (r, c) != one]
    b = bounds(t, t.loops) if others else []
    return all(differ(r, target, b) for r in others)
