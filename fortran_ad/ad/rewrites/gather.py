"""Gather form of scatter-form adjoint loops (stencils).

The adjoint of ``a(i) = c*(b(i - 1) + b(i) + b(i + 1))``, ``i = lo, hi``, is a scatter::

    do i = hi, lo, -1
      bb(i - 1) = bb(i - 1) + c*ab(i)
      bb(i) = bb(i) + c*ab(i)
      bb(i + 1) = bb(i + 1) + c*ab(i)
      ab(i) = 0.0_dp
    end do

ad/rewrites/fission.py splits it into one vectorised loop per offset: three passes over ``bb`` where
the primal made one. This pass turns it around: element ``q`` of ``bb`` collects what the iterations
``q + 1``, ``q``, ``q - 1`` would have added, in one loop, and the zeroing of ``ab`` follows in a
second::

    do i = lo + 1, hi - 1
      bb(i) = bb(i) + c*(ab(i + 1) + ab(i) + ab(i - 1))
    end do

with the boundary elements (``lo - 1``, ``lo``, ``hi``, ``hi + 1``), where fewer iterations
contribute, as short loops of their own. Legal when every statement is an increment
``x(.., i + d, ..) = x(.., i + d, ..) +- e`` or a zeroing ``y(.., i, ..) = 0`` of the
iteration's own element, the increments' ``e`` read none of the arrays the loop writes except a
zeroed one at the iteration's own element (before its zeroing), and no target is read: the
sums are then the same (rounded in another order) and every ``e`` sees the values from before
the loop. The segments assume ``hi - lo >= max d - min d``; shorter ranges run the scatter loop
(an IF at run time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from fortran_ad.ad.parallel.races import _from_sympy, _plus
from fortran_ad.ad.rewrites.loop_stmts import increment_of, mentions, plain
from fortran_ad.analysis import dependence
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import wrap, wrap_sum
from fortran_ad.ir.walk import map_expr, names_in, subexprs

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

ONE = ir.Literal("1", "integer")
NOTE = "each element collects its increments; zeroed once read for the last time"


@dataclass
class Row:
    """The increments of one target row: ``name(subs)`` with the loop index at ``dim``."""

    name: str
    dim: int
    subs: tuple[ir.Expr, ...]
    terms: list[tuple[int, str, ir.Expr]] = field(default_factory=list)  # (d, +/-, e)


def rewrite(
    t: Reverse, loop: ir.Do, forward: tuple, scatter: list[ir.Stmt]
) -> list[ir.Stmt] | None:
    """The gather form of ``loop`` behind a run-time IF whose ELSE runs ``scatter`` (the
    statements the loop becomes otherwise), or None when the loop is not of that form."""
    lo, hi, step = forward
    if step is not None and step != ONE or recorded(t, loop) is not None:
        return None  # a loop around a gathered loop is ad/rewrites/gather_nest.py's
    parts = _parts(t, loop)
    if parts is None:
        return None
    rows, zeros = parts
    offsets = sorted({d for r in rows for d, _, _ in r.terms})
    if len(offsets) < 2:
        return None  # nothing to gather: fission and simd already make it one pass
    cond = long_enough(lo, hi, offsets[-1] - offsets[0])

    def build(drop: frozenset[str] = frozenset(), assign: Assigned = None):
        return _build(loop, lo, hi, rows, [z for z in zeros if z.target.name not in drop], assign)

    out = ir.If(((cond, tuple(build() or ())),), tuple(scatter))
    targets = [_target(r, loop.var) for r in rows]
    loops = ((loop.var, lo, hi),)
    remember(t, out, Gathered(build, cond, scatter, zeros, targets, loops, (loop, forward)))
    return [out]


Assigned = tuple[str, ir.Expr] | None  # (array, its zero): set, not incremented, in range


@dataclass
class Gathered:
    """How a gathered IF was made, to make it again with another zeroing (ad/rewrites/handoff.py):
    ``build(drop, assign)`` gives the gathered statements without the zeroing of the arrays
    in ``drop`` and with the elements of ``assign``'s array within the loops' ranges set
    instead of incremented (None when the segments do not tell those elements apart)."""

    build: Callable[..., list[ir.Stmt] | None]
    cond: ir.Expr
    scatter: list[ir.Stmt]
    zeros: list[ir.Stmt]  # own-element zeroings, as in the loop
    targets: list[ir.Expr]  # the incremented rows, indexed by the loop variables
    loops: tuple[tuple[str, ir.Expr, ir.Expr], ...]  # (index, lo, hi) of the loops, outer first
    raw: tuple[ir.Do, tuple] | None = None  # one loop: (the scatter loop, forward bounds)


def remember(t: Reverse, out: ir.If, info: Gathered) -> None:
    made = getattr(t, "gathered_info", {})
    made[id(out)] = (out, info)
    t.gathered_info = made


def made_by(t: Reverse, s: ir.Stmt) -> Gathered | None:
    """How ``s`` was made, when it is a gathered IF (see :func:`remember`)."""
    entry = getattr(t, "gathered_info", {}).get(id(s))
    return entry[1] if entry is not None and entry[0] is s else None


def _build(loop: ir.Do, lo, hi, rows: list[Row], zeros: list[ir.Stmt], assign: Assigned):
    var = loop.var
    offsets = sorted({d for r in rows for d, _, _ in r.terms})
    notes = [s for s in loop.body if isinstance(s, ir.Comment)][:1]
    gathered: list[ir.Stmt] = [ir.Comment(f"! gather form: {NOTE}"), *notes]
    last = offsets[-1]  # element j of a zeroed array is read last by target j + last
    for a, b, active, inside in _segments(lo, hi, offsets):
        if assign is not None and inside is None:
            return None
        here = assign if inside else None
        body = [x for x in (_collect(r, var, active, here) for r in rows) if x is not None]
        if active[-1] == last:
            body += [_shift(z, var, -last) for z in zeros]
        gathered.append(ir.Do(var, a, b, None, tuple(body), None, loc=loop.loc))
    return gathered


def long_enough(lo: ir.Expr, hi: ir.Expr, span: int) -> ir.Expr:
    """``hi - lo >= span`` (simplified)."""
    size = dependence.to_sympy(ir.BinOp("-", hi, wrap(lo)))
    length = _from_sympy(size) if size is not None else ir.BinOp("-", hi, wrap(lo))
    return ir.BinOp(">=", length, ir.Literal(str(span), "integer"))


def recorded(t: Reverse, loop: ir.Do) -> tuple[ir.Do, tuple] | None:
    """(raw loop, forward bounds) when ``loop``'s body is one gathered loop, else None."""
    body = [s for s in loop.body if not isinstance(s, ir.Comment)]
    if len(body) != 1:
        return None
    made = made_by(t, body[0])
    return made.raw if made is not None else None


def _parts(t: Reverse, loop: ir.Do) -> tuple[list[Row], list[ir.Stmt]] | None:
    """The loop's increments by target row and its zeroings, or None."""
    if t.omp_depth or t.vector or loop.parallel is not None or loop.directives:
        return None
    var = loop.var
    assigns = [s for s in loop.body if not isinstance(s, ir.Comment)]
    if not assigns or not all(plain(t, s) and isinstance(s.target, ir.ArrayRef) for s in assigns):
        return None
    rows: dict[tuple, Row] = {}
    zeros: list[ir.Stmt] = []
    zeroed: set[str] = set()
    incremented: set[str] = set()
    for s in assigns:
        place = _place(s.target, var)
        if place is None:
            return None
        dim, d = place
        if _is_zero(s.value):
            if d != 0 or s.target.name in zeroed:
                return None
            zeros.append(s)
            zeroed.add(s.target.name)
            continue
        e = increment_of(s)
        if e is None or s.target.name in zeroed:
            return None
        assert isinstance(s.value, ir.BinOp)
        key_subs = tuple(x for k, x in enumerate(s.target.subs) if k != dim)
        row = rows.setdefault(
            (s.target.name, dim, key_subs), Row(s.target.name, dim, s.target.subs)
        )
        row.terms.append((d, s.value.op, e))
        incremented.add(s.target.name)
    if incremented & zeroed:
        return None
    written = incremented | zeroed
    own = {z.target for z in zeros}
    for r in rows.values():
        for _, _, e in r.terms:
            for x in subexprs(e):
                if isinstance(x, ir.Name | ir.ArrayRef) and x.name in written and x not in own:
                    return None
    fixed = [x for r in rows.values() for k, x in enumerate(r.subs) if k != r.dim]
    fixed += [x for z in zeros for x in z.target.subs if x != ir.Name(var)]
    if any(mentions(x, written) or var in names_in(x) for x in fixed):
        return None
    return list(rows.values()), zeros


def _place(target: ir.ArrayRef, var: str) -> tuple[int, int] | None:
    """(dimension, d) of ``x(.., var + d, ..)`` with the other subscripts free of ``var``."""
    return dependence.position(target, var)


def _is_zero(e: ir.Expr) -> bool:
    """A real literal zero: ``0.0``, ``0.0_dp``, ``0.0d0``."""
    if not (isinstance(e, ir.Literal) and e.type == "real"):
        return False
    try:
        return float(e.text.split("_")[0].lower().replace("d", "e")) == 0.0
    except ValueError:
        return False


def _segments(lo: ir.Expr, hi: ir.Expr, offsets: list[int]):
    """(first, last, active offsets, inside) of the target elements ``q``: offset ``d``
    contributes where ``lo + d <= q <= hi + d``; assumes ``hi - lo >= max - min``. ``inside``:
    the segment lies within ``lo..hi`` (True) or outside it (False); None when offset 0 is
    missing (then no segment starts at ``lo`` and ends at ``hi``)."""
    zero = 0 in offsets
    out = []
    for k in range(len(offsets) - 1):  # low boundary: offsets[0..k] active
        a, b = _plus(lo, offsets[k]), _plus(lo, offsets[k + 1] - 1)
        out.append((a, b, offsets[: k + 1], offsets[k] >= 0 if zero else None))
    out.append((_plus(lo, offsets[-1]), _plus(hi, offsets[0]), offsets, True if zero else None))
    for k in range(1, len(offsets)):  # high boundary: offsets[k..] active
        a, b = _plus(hi, offsets[k - 1] + 1), _plus(hi, offsets[k])
        out.append((a, b, offsets[k:], offsets[k] <= 0 if zero else None))
    return out


def _collect(r: Row, var: str, active: list[int], assign: Assigned = None) -> ir.Assign | None:
    """``x(.., i, ..) = x(.., i, ..) + e_d(i - d) + ...`` for the row's active terms
    (``x(.., i, ..) = e_d(i - d) + ...`` when ``assign`` names ``x``)."""
    terms = [(d, op, e) for d, op, e in r.terms if d in active]
    target = _target(r, var)
    setting = assign is not None and assign[0] == r.name
    if not terms:
        return ir.Assign(target, assign[1]) if setting and assign is not None else None
    return total(target, [(op, _shift(e, var, -d)) for d, op, e in terms], {var}, setting)


def _target(r: Row, var: str) -> ir.ArrayRef:
    subs = list(r.subs)
    subs[r.dim] = ir.Name(var)
    return ir.ArrayRef(r.name, tuple(subs))


def total(
    target: ir.ArrayRef, terms: list[tuple[str, ir.Expr]], vars: set[str], setting: bool = False
) -> ir.Assign:
    """``target = target +- e1 +- e2 ...`` (``target = +-e1 +- e2 ...`` when ``setting``),
    terms sharing a weight free of the loop variables ``vars`` summed before one product by
    it."""
    value: ir.Expr | None = None if setting else target
    for coef, group in _by_coefficient(terms, vars):
        first, inner = group[0]
        for op, rest in group[1:]:
            inner = ir.BinOp("+" if op == first else "-", inner, wrap_sum(rest))
        piece = wrap_sum(inner) if coef is None else ir.BinOp("*", coef, wrap(inner))
        if value is None:
            value = piece if first == "+" else ir.UnOp("-", wrap(piece))
        else:
            value = ir.BinOp(first, value, piece)
    assert value is not None
    return ir.Assign(target, value)


def _by_coefficient(terms: list[tuple[str, ir.Expr]], vars: set[str]):
    """The terms grouped by a leading factor free of ``var`` that several share (the
    stencil's weight): ``c*ab(i + 1) + c*ab(i)`` is ``c*(ab(i + 1) + ab(i))``, one product
    instead of one per term (the sum is rounded differently, as any reordering of the
    increments is). Groups in the order of their first term; (None, [term]) for a term
    that shares no factor."""
    split: list[tuple[ir.Expr | None, str, ir.Expr]] = []
    for op, e in terms:
        factors = _factors(e)
        if len(factors) > 1 and not names_in(factors[0]) & vars:
            rest = factors[1]
            for f in factors[2:]:
                rest = ir.BinOp("*", rest, f)
            split.append((factors[0], op, rest))
        else:
            split.append((None, op, e))
    counts: dict[ir.Expr, int] = {}
    for c, _, _ in split:
        if c is not None:
            counts[c] = counts.get(c, 0) + 1
    groups: dict[object, tuple[ir.Expr | None, list[tuple[str, ir.Expr]]]] = {}
    for k, (c, op, rest) in enumerate(split):
        if c is not None and counts[c] > 1:
            groups.setdefault(c, (c, []))[1].append((op, rest))
        else:
            groups[k] = (None, [(op, terms[k][1])])
    return list(groups.values())


def _factors(e: ir.Expr) -> list[ir.Expr]:
    """``a*b*c`` (parsed ``(a*b)*c``) as [a, b, c]; any other expression as [e]."""
    if isinstance(e, ir.BinOp) and e.op == "*":
        return [*_factors(e.left), e.right]
    return [e]


def _shift(e, var: str, c: int):
    """``e`` with ``var`` replaced by ``var + c`` (subscripts simplified: ``ab(i + 1)``)."""
    if c == 0:
        return e
    if isinstance(e, ir.Assign):
        return replace(e, target=_shift(e.target, var, c), value=_shift(e.value, var, c))

    def fn(x: ir.Expr) -> ir.Expr | None:
        if isinstance(x, ir.ArrayRef):
            subs = tuple(_shift_sub(s, var, c) for s in x.subs)
            return ir.ArrayRef(x.name, subs, x.head)
        if x == ir.Name(var):
            return ir.Paren(_plus(x, c))
        return None

    return map_expr(e, fn)


def _shift_sub(s: ir.Expr, var: str, c: int) -> ir.Expr:
    if var not in names_in(s):
        return s
    if dependence.offset(s, var) is not None:
        return _plus(s, c)
    return _shift(s, var, c)
