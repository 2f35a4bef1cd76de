"""Statement functions (``F(A, B) = A*A + SIN(B)`` at the top of the executable part) are
inlined: every reference ``F(x, y)`` becomes ``(x)*(x) + SIN((y))`` with the actual
arguments in parentheses, and the definitions go. fparser reads a definition as an
assignment to an element of an undeclared array; it is one when its name is not an array (local,
host- or use-associated: ``lookup``), not a component (``s%a(i) = ...``) and its arguments are
plain names. Later definitions may use earlier ones (inlined in order).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import map_expr


def inline_statement_functions(r: ir.Routine, lookup=None) -> ir.Routine:
    defs: dict[str, tuple[tuple[str, ...], ir.Expr]] = {}
    rest = list(r.body)
    while rest:
        s = rest[0]
        if isinstance(s, ir.Comment):
            rest.pop(0)
            continue
        if not _is_definition(s, r, lookup):
            break
        assert isinstance(s, ir.Assign) and isinstance(s.target, ir.ArrayRef)
        params = tuple(a.name for a in s.target.subs)  # type: ignore[union-attr]
        defs[s.target.name] = (params, _inline(s.value, defs))
        rest.pop(0)
    if not defs:
        return r
    first = len(r.body) - len(rest)
    comments = tuple(s for s in r.body[:first] if isinstance(s, ir.Comment))
    from fortran_ad.normalize.constructs import map_body_exprs  # WHERE/FORALL/ASSOCIATE too

    body = map_body_exprs(tuple(rest), lambda e: _inline(e, defs))
    return replace(r, body=comments + body)


def _is_definition(s: ir.Stmt, r: ir.Routine, lookup=None) -> bool:
    if not isinstance(s, ir.Assign) or not isinstance(s.target, ir.ArrayRef):
        return False
    if "%" in s.target.name or s.target.head:
        return False
    sym = r.symbol(s.target.name)
    if sym is None and lookup is not None:
        sym = lookup(s.target.name)
    if sym is not None and sym.rank:
        return False
    return all(isinstance(a, ir.Name) for a in s.target.subs)


def _inline(e: ir.Expr, defs) -> ir.Expr:
    def fn(x: ir.Expr) -> ir.Expr | None:
        if isinstance(x, ir.Call | ir.ArrayRef) and x.name in defs:
            params, body = defs[x.name]
            args = x.args if isinstance(x, ir.Call) else x.subs
            values = {p: ir.Paren(_inline(a, defs)) for p, a in zip(params, args, strict=False)}
            return ir.Paren(
                map_expr(body, lambda y: values.get(y.name) if isinstance(y, ir.Name) else None)
            )
        return None

    return map_expr(e, fn)
