"""Block tape for innermost loops: one push/pop of a contiguous slice instead of one call per
element.

The store-all sweep records ``x(i, j)`` before every iteration's overwrite::

    do i = lo, hi                      ! forward            do i = hi, lo, -1    ! backward
      call fad_push(x(i, j))                                  call fad_pop(x(i, j))
      x(i, j) = x(i, j)*beta                                  ... adjoint of the statement
    end do                                                  end do

When iteration ``i`` touches no element of ``x`` but ``x(i, j)`` (every reference in the loop
is that very designator, ``j`` does not change in the loop) and nothing writes ``x`` before the
push, the pushed value is the value ``x(i, j)`` had when the loop started: the whole loop
records ``x(lo:hi, j)``, so it is pushed as one slice before the loop and popped as one slice
before the reversed loop (a block copy, no call per element, and the loops stay vectorisable).
Popping before the reversed loop restores ``x(i, j)`` earlier than the element pop did, which
is harmless when the adjoint statements ahead of the element pop do not read ``x``; and the
slices stay last-in first-out only when the loop records nothing else, so both are required.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import stmt_exprs, subexprs, var_of, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ad.adjoint import Reverse

Stmts = list[ir.Stmt]


def hoist(
    t: Reverse, s: ir.Do, f_body: Stmts, b_body: Stmts, bounds: tuple
) -> tuple[Stmts, Stmts, Stmts, Stmts]:
    """(slice pushes before the loop, forward body, slice pops before the reversed loop,
    backward body) for the innermost loop ``s``; ``bounds`` = (start, stop, step) as the
    forward loop runs them. Returns no slices when any condition does not hold."""
    if t.omp_depth or any(isinstance(x, ir.Do | ir.DoWhile) for x in walk_stmts(tuple(f_body))):
        return [], f_body, [], b_body
    written = t.writes(s.body) | {s.var}
    moved: list[ir.ArrayRef] = []
    for k, x in enumerate(f_body):
        ref = _pushed(x, "fad_push")
        if ref is None or not _sliceable(ref, s.var, written):
            continue
        name = ref.name
        pops = [j for j, y in enumerate(b_body) if _pushed(y, "fad_pop") == ref]
        if len(pops) != 1 or sum(_pushed(y, "fad_push") == ref for y in f_body) != 1:
            continue
        if _mentions(f_body[:k], name) or _mentions(b_body[: pops[0]], name):
            continue
        if not _only_element(t, s.body, ref):
            continue
        moved.append(ref)
    if not moved:
        return [], f_body, [], b_body
    f_rest = [x for x in f_body if _pushed(x, "fad_push") not in moved]
    b_rest = [y for y in b_body if _pushed(y, "fad_pop") not in moved]
    if any(_is_tape(x, "fad_push") for x in walk_stmts(tuple(f_rest))):
        return [], f_body, [], b_body  # other records inside: the slices would not stay LIFO
    if any(_is_tape(y, "fad_pop") for y in walk_stmts(tuple(b_rest))):
        return [], f_body, [], b_body
    slices = [_slice(ref, s.var, bounds) for ref in moved]
    pushes = [ir.CallStmt("fad_push", (x,), s.loc) for x in slices]
    pops_ = [ir.CallStmt("fad_pop", (x,), s.loc) for x in reversed(slices)]
    return pushes, f_rest, pops_, b_rest


def _is_tape(s: ir.Stmt, name: str) -> bool:
    return isinstance(s, ir.CallStmt) and s.name == name


def _pushed(s: ir.Stmt, name: str) -> ir.ArrayRef | None:
    """The element ``x(..)`` of ``call <name>(x(..))``, else None."""
    if _is_tape(s, name) and len(s.args) == 1 and isinstance(s.args[0], ir.ArrayRef):
        return s.args[0]
    return None


def _sliceable(ref: ir.ArrayRef, var: str, written: set[str]) -> bool:
    """``x(.., var, ..)``: one subscript is the loop index, the others do not change in the
    loop; a plain variable (no component path)."""
    if "%" in ref.name or any(isinstance(e, ir.Range) for e in ref.subs):
        return False
    at = [k for k, e in enumerate(ref.subs) if e == ir.Name(var)]
    if len(at) != 1:
        return False
    others = [e for k, e in enumerate(ref.subs) if k != at[0]]
    return not any(_names(e) & written for e in others)


def _names(e: ir.Expr) -> set[str]:
    out: set[str] = set()
    for x in subexprs(e):
        if isinstance(x, ir.Name | ir.ArrayRef):
            out.add(var_of(x.name))
        elif isinstance(x, ir.OpaqueExpr):
            out.update(x.names)
    return out


def _mentions(stmts: Stmts, name: str) -> bool:
    for s in walk_stmts(tuple(stmts)):
        if isinstance(s, ir.Opaque) and name in (*s.reads, *s.writes):
            return True
        if any(name in _names(e) for e in stmt_exprs(s)):
            return True
    return False


def _only_element(t: Reverse, body: tuple[ir.Stmt, ...], ref: ir.ArrayRef) -> bool:
    """Every reference to ``ref``'s variable in the primal loop body is ``ref`` itself, and
    none is an argument of a procedure (which could reach the rest of the array)."""
    name = ref.name
    for s in walk_stmts(body):
        if isinstance(s, ir.Opaque) and name in (*s.reads, *s.writes):
            return False
        if isinstance(s, ir.CallStmt) and any(name in _names(a) for a in s.args):
            return False
        for e in stmt_exprs(s):
            if not _same_refs(t, e, ref):
                return False
    return True


def _same_refs(t: Reverse, e: ir.Expr, ref: ir.ArrayRef) -> bool:
    if isinstance(e, ir.ArrayRef) and e == ref:
        return True
    if isinstance(e, ir.Name | ir.ArrayRef) and var_of(e.name) == ref.name:
        return False
    if isinstance(e, ir.OpaqueExpr) and ref.name in e.names:
        return False
    if isinstance(e, ir.Call) and t.program.get(e.name) and ref.name in _names(e):
        return False
    from fortran_ad.ir.walk import children

    return all(_same_refs(t, c, ref) for c in children(e))


def _slice(ref: ir.ArrayRef, var: str, bounds: tuple) -> ir.ArrayRef:
    start, stop, step = bounds
    span = ir.Range(start, stop, step)
    return ir.ArrayRef(ref.name, tuple(span if e == ir.Name(var) else e for e in ref.subs))
