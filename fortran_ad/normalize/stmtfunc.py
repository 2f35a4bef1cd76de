"""Statement functions (``F(A, B) = A*A + SIN(B)`` at the top of the executable part) are
inlined: every reference ``F(x, y)`` becomes ``(x)*(x) + SIN((y))`` with the actual
arguments in parentheses, and the definitions go. fparser reads a definition as an
assignment to an element of an undeclared array; it is one when its name is not an array and
its arguments are plain names. Later definitions may use earlier ones (inlined in order).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import map_expr


def inline_statement_functions(r: ir.Routine) -> ir.Routine:
    defs: dict[str, tuple[tuple[str, ...], ir.Expr]] = {}
    rest = list(r.body)
    while rest:
        s = rest[0]
        if isinstance(s, ir.Comment):
            rest.pop(0)
            continue
        if not _is_definition(s, r):
            break
        assert isinstance(s, ir.Assign) and isinstance(s.target, ir.ArrayRef)
        params = tuple(a.name for a in s.target.subs)  # type: ignore[union-attr]
        defs[s.target.name] = (params, _inline(s.value, defs))
        rest.pop(0)
    if not defs:
        return r
    first = len(r.body) - len(rest)
    comments = tuple(s for s in r.body[:first] if isinstance(s, ir.Comment))
    body = tuple(_inline_stmt(s, defs) for s in rest)
    return replace(r, body=comments + body)


def _is_definition(s: ir.Stmt, r: ir.Routine) -> bool:
    if not isinstance(s, ir.Assign) or not isinstance(s.target, ir.ArrayRef):
        return False
    sym = r.symbol(s.target.name)
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


def _inline_stmt(s: ir.Stmt, defs) -> ir.Stmt:
    from fortran_ad.ir.walk import bodies

    if bodies(s):
        from fortran_ad.normalize.goto import _map_bodies

        s = _map_bodies(s, lambda b: tuple(_inline_stmt(x, defs) for x in b))
    fields = {}
    for name in ("target", "value", "cond", "start", "stop", "step", "expr", "index"):
        v = getattr(s, name, None)
        if isinstance(v, ir.Expr):
            fields[name] = _inline(v, defs)
    if isinstance(s, ir.CallStmt):
        fields["args"] = tuple(_inline(a, defs) for a in s.args)
    if isinstance(s, ir.If):
        fields["branches"] = tuple((_inline(c, defs), b) for c, b in s.branches)
    return replace(s, **fields) if fields else s
