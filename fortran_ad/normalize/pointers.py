"""Local pointers that stand for one whole variable or a section: replaced by it.

``p => w`` at the top level of a routine body, with ``p`` a local POINTER associated nowhere
else and ``w`` a whole variable that is not itself a pointer, makes ``p`` another name for
``w`` from there on: ``p(i)`` is ``w(i)`` (a pointer associated with a whole array has its
bounds). Every analysis then sees one variable where the program has two names for the same
storage: a write through ``p`` is a write to ``w``, a read of ``p`` after a write to ``w``
reads the new value (the to-be-recorded, liveness and overlap analyses name variables; left
with two names, they took ``p`` and ``w`` for distinct storage and the adjoint restored one
and not the other). A pointer to a section (``p => w(2:n)``, ``p => a(:, j)``) is replaced the
same way: ``p`` by the section, ``p(i)`` by the element it designates (``w(2 + (i - 1))``), when
the section's subscripts read nothing the routine may change afterwards (they are evaluated
once, at the association). Kept as written (and handled by ad/constructs/pointers.py, which
refuses a kept section pointer in reverse mode): a pointer associated twice or inside a
construct, with another pointer or a section whose bounds may change, referenced before
its association, in ALLOCATE/DEALLOCATE/NULLIFY or ASSOCIATED, with components, or passed
as an actual argument (a pointer dummy could re-associate it). The association statement
stays (the derivative pointer follows it).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import wrap
from fortran_ad.ir.intrinsic_table import lookup as intrinsic
from fortran_ad.ir.walk import (
    base_name,
    exprs_of_body,
    map_expr,
    names_in,
    stmt_exprs,
    subexprs,
    walk_stmts,
)


def resolve_aliases(r: ir.Routine, lookup) -> ir.Routine:
    from fortran_ad.normalize.constructs import _substitute_body, map_body_exprs

    for k, s in enumerate(r.body):
        if not (isinstance(s, ir.PointerAssign) and isinstance(s.target, ir.Name)):
            continue
        if not isinstance(s.value, ir.Name | ir.ArrayRef) or "%" in s.value.name + s.target.name:
            continue
        p, w = s.target.name, s.value.name
        sym, target = r.symbol(p), lookup(w)
        if sym is None or "pointer" not in sym.attrs or "save" in sym.attrs or p in r.args:
            continue
        if target is None or "pointer" in target.attrs or w == p:
            continue
        if _mentioned(r.body[:k], p) or not _plain_uses(r.body, p, s):
            continue
        rest = r.body[k + 1 :]
        if isinstance(s.value, ir.Name):
            rest = _substitute_body(rest, {p: ir.Name(w)}, None, s.loc)
        else:
            fixed = {a for a in r.args if getattr(r.symbol(a), "intent", None) == "in"}
            section = _section(s.value, rest, fixed)
            if section is None:
                continue
            rest = map_body_exprs(rest, lambda e, p=p, sec=section: _through(e, p, sec))
        r = replace(r, body=(*r.body[: k + 1], *rest))
    return r


def _section(value: ir.ArrayRef, rest: tuple[ir.Stmt, ...], fixed: set[str]) -> ir.ArrayRef | None:
    """``value`` when ``p => value`` can be replaced by it: a section (a triplet among its
    subscripts) whose subscripts read nothing ``rest`` may change (they are evaluated once,
    at the association; a substituted reference would evaluate them again) but ``fixed``
    names (INTENT(IN) dummies)."""
    if not any(isinstance(x, ir.Range) for x in value.subs):
        return None
    read: set[str] = set()
    for x in value.subs:
        for part in (x.lo, x.hi, x.step) if isinstance(x, ir.Range) else (x,):
            read |= names_in(part) if part is not None else set()
    changed: set[str] = set()
    for st in walk_stmts(rest):
        if isinstance(st, ir.Assign | ir.PointerAssign):
            changed.add(base_name(st.target) or "")
        elif isinstance(st, ir.Do):
            changed.add(st.var)
        elif isinstance(st, ir.CallStmt):
            changed |= set().union(*(names_in(a) for a in st.args))
        elif isinstance(st, ir.Opaque):
            changed |= set(st.writes)
        for e in stmt_exprs(st):  # user functions may change their arguments
            for x in subexprs(e):
                if isinstance(x, ir.Call) and intrinsic(x.name) is None:
                    changed |= set().union(*(names_in(a) for a in x.args))
    return None if (read - fixed) & changed else value


def _through(e: ir.Expr, p: str, section: ir.ArrayRef) -> ir.Expr:
    """``e`` with pointer ``p`` (associated with ``section``) replaced: ``p`` by the section,
    ``p(i, ...)`` by the element it designates (the pointer's lower bounds are 1), ``p(a:b)``
    by the section of the section. Inquiries of ``p`` (size, lbound, ubound) become those of
    the section, which has the same bounds."""

    def element(subs: tuple[ir.Expr, ...]) -> ir.Expr:
        out: list[ir.Expr] = []
        k = 0
        for d, x in enumerate(section.subs, 1):
            if not isinstance(x, ir.Range):
                out.append(x)
                continue
            lo = x.lo if x.lo is not None else ir.Call("lbound", (ir.Name(section.name), _int(d)))
            step = x.step if x.step is not None else _int(1)
            i = subs[k]
            k += 1
            if isinstance(i, ir.Range):  # p(a:b:c) -> w(lo + (a-1)*s : lo + (b-1)*s : c*s)
                top = i.hi if i.hi is not None else ir.Call("size", (section, _int(k)))
                a = _at(lo, step, i.lo if i.lo is not None else _int(1))
                c = step if i.step is None else ir.BinOp("*", ir.Paren(i.step), ir.Paren(step))
                out.append(ir.Range(a, _at(lo, step, top), c))
            else:
                out.append(_at(lo, step, i))
        return ir.ArrayRef(section.name, tuple(out))

    def _at(lo: ir.Expr, step: ir.Expr, i: ir.Expr) -> ir.Expr:
        offset = ir.BinOp("-", wrap(i), _int(1))
        if step != _int(1):
            offset = ir.BinOp("*", ir.Paren(offset), wrap(step))
        return ir.BinOp("+", wrap(lo), offset)

    def fn(x: ir.Expr) -> ir.Expr | None:
        if isinstance(x, ir.Name) and x.name == p:
            return section
        if isinstance(x, ir.ArrayRef) and x.name == p:
            return element(tuple(map_expr(a, fn) for a in x.subs))
        return None

    return map_expr(e, fn)


def _int(n: int) -> ir.Literal:
    return ir.Literal(str(n), "integer")


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
                and not _plain_intrinsic(y.name)  # ASSOCIATED, user functions
                and any(p in names_in(a) for a in y.args)
            ):
                return False
    return True


def _plain_intrinsic(name: str) -> bool:
    """An intrinsic whose arguments are values (a user function's dummy could be a pointer;
    ASSOCIATED, MOVE_ALLOC and C_LOC see the pointer itself)."""
    return intrinsic(name) is not None and name not in ("associated", "move_alloc", "c_loc")
