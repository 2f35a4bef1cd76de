"""fparser2 array constructs → IR: WHERE / ELSEWHERE, FORALL and ASSOCIATE (statements and
constructs). normalize/ turns them into loops; the IR keeps them for faithful roundtrips.
Bodies are lowered through ``ctx.body`` / ``ctx.stmt`` (frontend/lower_stmt.py's context), so
this module does not import the statement lowering back."""

from __future__ import annotations

from collections.abc import Callable

from fparser.two import Fortran2003 as F

from fortran_ad.frontend.lower_expr import Scope, lname, lower_expr
from fortran_ad.ir import nodes as ir


def _where_construct(node: F.Where_Construct, ctx, scope: Scope) -> ir.Stmt:
    head = node.children[0]
    branches: list[tuple[ir.Expr, tuple[ir.Stmt, ...]]] = []
    cond: ir.Expr | None = lower_expr(head.items[0], scope)
    current: list = []
    else_body: tuple[ir.Stmt, ...] | None = None
    in_else = False
    for child in node.children[1:]:
        if isinstance(child, F.Masked_Elsewhere_Stmt | F.Elsewhere_Stmt | F.End_Where_Stmt):
            body = ctx.body(current, scope)
            if in_else:
                else_body = body
            else:
                assert cond is not None
                branches.append((cond, body))
            current = []
            if isinstance(child, F.Masked_Elsewhere_Stmt):
                cond = lower_expr(child.items[0], scope)
            elif isinstance(child, F.Elsewhere_Stmt):
                in_else = True
        else:
            current.append(child)
    name = getattr(head.item, "name", None)
    return ir.Where(tuple(branches), else_body, name, False, ctx.loc(head), ctx.label(head))


def _where_stmt(node: F.Where_Stmt, ctx, scope: Scope) -> ir.Stmt:
    mask, action = node.items
    inner = ctx.stmt(action, scope)
    assert inner is not None
    loc = ctx.loc(node)
    from dataclasses import replace

    inner = replace(inner, loc=loc)
    return ir.Where(((lower_expr(mask, scope), (inner,)),), None, None, True, loc, ctx.label(node))


def _forall_header(header: F.Forall_Header, scope: Scope) -> tuple[tuple, ir.Expr | None]:
    specs = []
    for spec in header.items[0].items:
        var, lo, hi, step = spec.items
        specs.append(
            (
                lname(var),
                lower_expr(lo, scope),
                lower_expr(hi, scope),
                lower_expr(step, scope) if step is not None else None,
            )
        )
    mask = lower_expr(header.items[1], scope) if header.items[1] is not None else None
    return tuple(specs), mask


def _forall_construct(node: F.Forall_Construct, ctx, scope: Scope) -> ir.Stmt:
    head = node.children[0]
    header = next(c for c in head.items if isinstance(c, F.Forall_Header))
    specs, mask = _forall_header(header, scope)
    body = ctx.body(node.children[1:-1], scope)
    name = getattr(head.item, "name", None)
    return ir.Forall(specs, mask, body, name, False, ctx.loc(head), ctx.label(head))


def _forall_stmt(node: F.Forall_Stmt, ctx, scope: Scope) -> ir.Stmt:
    header, action = node.items
    specs, mask = _forall_header(header, scope)
    loc = ctx.loc(node)
    inner = ctx.stmt(action, scope)
    assert inner is not None
    from dataclasses import replace

    inner = replace(inner, loc=loc)
    return ir.Forall(specs, mask, (inner,), None, True, loc, ctx.label(node))


def _associate(node: F.Associate_Construct, ctx, scope: Scope) -> ir.Stmt:
    head = node.children[0]
    assocs = tuple((lname(a.items[0]), lower_expr(a.items[2], scope)) for a in head.items[1].items)
    # associate names may be subscripted in the block: read ``z(i)`` as an element
    inner = Scope({n for n, _ in assocs}, scope)
    body = ctx.body(node.children[1:-1], inner)
    name = getattr(head.item, "name", None)
    return ir.Associate(assocs, body, name, ctx.loc(head), ctx.label(head))


ARRAY_HANDLERS: dict[type, Callable] = {
    F.Where_Construct: _where_construct,
    F.Where_Stmt: _where_stmt,
    F.Forall_Construct: _forall_construct,
    F.Forall_Stmt: _forall_stmt,
    F.Associate_Construct: _associate,
}
CONSTRUCTS = (F.Where_Construct, F.Forall_Construct, F.Associate_Construct)
