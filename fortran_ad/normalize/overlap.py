"""When may an array assignment run as one loop nest? (normalize/scalarize.py asks.)

Fortran evaluates the whole right side before assigning. A loop is equivalent when every
element of the target the right side reads is read before the loop overwrites it:
* reads at the same element, or in a provably different slice (``z(:,1) = z(:,2)``), are safe;
* reads at constant offsets (``a(2:n) = a(1:n-1)``) are safe when the dimension that decides
  the order (the outermost one with a nonzero offset) runs in the offset's direction: the
  loop runs backwards where needed;
* anything else (unknown offsets, conflicting directions, non-unit steps) needs a temporary.
"""

from __future__ import annotations

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import INQUIRY, children, names_in


def order(lhs: ir.Expr, rhs: ir.Expr, name: str, it) -> frozenset[int] | None:
    """Dimensions to run backwards (empty: all forwards), or None if no loop order works."""
    if not isinstance(lhs, ir.ArrayRef):
        return frozenset()
    index_vars = {v.name for _, v in it if isinstance(v, ir.Name)}
    dim_of = {v.name: k for k, (_, v) in enumerate(it) if isinstance(v, ir.Name)}
    want: dict[int, bool] = {}  # dimension of the iteration -> runs forwards
    for x in value_refs(rhs):
        if not (isinstance(x, ir.ArrayRef | ir.Name) and x.name == name):
            continue
        if not isinstance(x, ir.ArrayRef) or len(x.subs) != len(lhs.subs):
            return None
        if x == lhs:
            continue
        offsets = []
        disjoint = False
        for w, r in zip(lhs.subs, x.subs, strict=True):
            d = const_diff(r, w)
            wv, rv = names_in(w) & index_vars, names_in(r) & index_vars
            if not wv and not rv:  # a fixed slice: disjoint when provably different
                if d is not None and d != 0:
                    disjoint = True
                    break
                if d is None:
                    return None
                continue
            if d is None or wv != rv or len(wv) != 1:
                return None
            offsets.append((dim_of[next(iter(wv))], d))
        if disjoint:
            continue
        moving = [(k, d) for k, d in offsets if d != 0]
        if not moving:
            continue
        k, d = max(moving)  # the outermost dimension with an offset decides the order
        if any(not _unit(it[j][0].step) for j, _ in moving):
            return None
        forwards = d > 0  # reading ahead: forwards; reading behind: backwards
        if want.setdefault(k, forwards) != forwards:
            return None
    return frozenset(k for k, fwd in want.items() if not fwd)


def value_refs(e: ir.Expr):
    """Sub-expressions whose values ``e`` reads (not the arguments of inquiries)."""
    if isinstance(e, ir.Call) and e.name in INQUIRY:
        return
    yield e
    for c in children(e):
        yield from value_refs(c)


def _unit(step: ir.Expr | None) -> bool:
    return step is None or (isinstance(step, ir.Literal) and step.text == "1")


def const_diff(a: ir.Expr, b: ir.Expr) -> int | None:
    """a - b when it is a known integer constant, else None."""
    ta, ca = _split(a)
    tb, cb = _split(b)
    if ta == tb:
        return ca - cb
    return None


def _split(e: ir.Expr) -> tuple[ir.Expr | None, int]:
    """e = term + constant."""
    if isinstance(e, ir.Paren):
        return _split(e.expr)
    if isinstance(e, ir.Literal) and e.type == "integer" and e.text.lstrip("-").isdigit():
        return None, int(e.text)
    if isinstance(e, ir.BinOp) and e.op in ("+", "-"):
        tr, cr = _split(e.right)
        if tr is None:
            tl, cl = _split(e.left)
            return tl, cl + (cr if e.op == "+" else -cr)
    return e, 0
