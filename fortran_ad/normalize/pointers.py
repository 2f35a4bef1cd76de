"""Local pointers that stand for one whole variable: replaced by that variable.

``p => w`` at the top level of a routine body, with ``p`` a local POINTER associated nowhere
else and ``w`` a whole variable that is not itself a pointer, makes ``p`` another name for
``w`` from there on: ``p(i)`` is ``w(i)`` (a pointer associated with a whole array has its
bounds). Every analysis then sees one variable where the program has two names for the same
storage: a write through ``p`` is a write to ``w``, a read of ``p`` after a write to ``w``
reads the new value (the to-be-recorded, liveness and overlap analyses name variables; left
with two names, they took ``p`` and ``w`` for distinct storage and the adjoint restored one
and not the other). Kept as written (and handled by ad/constructs/pointers.py): a pointer
associated twice or inside a construct, with a section or another pointer, referenced before
its association, in ALLOCATE/DEALLOCATE/NULLIFY or ASSOCIATED, with components, or passed
as an actual argument (a pointer dummy could re-associate it). The association statement
stays (the derivative pointer follows it).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, exprs_of_body, names_in, subexprs, walk_stmts


def resolve_aliases(r: ir.Routine, lookup) -> ir.Routine:
    from fortran_ad.normalize.constructs import _substitute_body

    for k, s in enumerate(r.body):
        if not (isinstance(s, ir.PointerAssign) and isinstance(s.target, ir.Name)):
            continue
        if not isinstance(s.value, ir.Name) or "%" in s.value.name + s.target.name:
            continue
        p, w = s.target.name, s.value.name
        sym, target = r.symbol(p), lookup(w)
        if sym is None or "pointer" not in sym.attrs or "save" in sym.attrs or p in r.args:
            continue
        if target is None or "pointer" in target.attrs or w == p:
            continue
        if _mentioned(r.body[:k], p) or not _plain_uses(r.body, p, s):
            continue
        rest = _substitute_body(r.body[k + 1 :], {p: ir.Name(w)}, None, s.loc)
        r = replace(r, body=(*r.body[: k + 1], *rest))
    return r


def _mentioned(body: tuple[ir.Stmt, ...], p: str) -> bool:
    return any(p in names_in(e) for e in exprs_of_body(body)) or any(
        isinstance(x, ir.PointerAssign | ir.Opaque) for x in walk_stmts(body) if _touches(x, p)
    )


def _touches(x: ir.Stmt, p: str) -> bool:
    if isinstance(x, ir.PointerAssign):
        return base_name(x.target) == p or base_name(x.value) == p
    if isinstance(x, ir.Opaque):
        return p in x.reads or p in x.writes
    return False


def _plain_uses(body: tuple[ir.Stmt, ...], p: str, assoc: ir.PointerAssign) -> bool:
    """``p`` is only read and assigned through: no other association, no opaque statement,
    no component, no ASSOCIATED, never an actual argument."""
    for x in walk_stmts(body):
        if x is not assoc and _touches(x, p):
            return False
        if isinstance(x, ir.CallStmt) and any(p in names_in(a) for a in x.args):
            return False
    for e in exprs_of_body(body):
        for y in subexprs(e):
            if isinstance(y, ir.Name | ir.ArrayRef) and y.name.startswith(f"{p}%"):
                return False
            if (
                isinstance(y, ir.Call)
                and y.name not in _ELEMENTAL_SAFE  # ASSOCIATED, user functions
                and any(p in names_in(a) for a in y.args)
            ):
                return False
    return True


# intrinsics whose arguments are plain values (a user function's dummy could be a pointer)
_ELEMENTAL_SAFE = frozenset(
    "abs sqrt exp log sin cos tan tanh atan atan2 sinh cosh max min sign dim mod modulo sum "
    "product maxval minval size lbound ubound real dble int nint dot_product matmul merge".split()
)
