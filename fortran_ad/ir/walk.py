"""Generic traversals of the IR: sub-expressions, statements, and rebuilding with a mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.intrinsic_table import of_class


def children(e: ir.Expr) -> tuple[ir.Expr, ...]:
    if isinstance(e, ir.ArrayRef):
        return e.subs
    if isinstance(e, ir.Call):
        return e.args
    if isinstance(e, ir.BinOp):
        return (e.left, e.right)
    if isinstance(e, ir.UnOp):
        return (e.operand,)
    if isinstance(e, ir.Paren):
        return (e.expr,)
    if isinstance(e, ir.Keyword):
        return (e.value,)
    if isinstance(e, ir.ArrayCtor):
        return e.items
    if isinstance(e, ir.Range):
        return tuple(x for x in (e.lo, e.hi, e.step) if x is not None)
    if isinstance(e, ir.ImpliedDo):
        return (*e.items, *(x for x in (e.lo, e.hi, e.step) if x is not None))
    return ()


def subexprs(e: ir.Expr) -> Iterator[ir.Expr]:
    """``e`` and all its sub-expressions, pre-order."""
    yield e
    for c in children(e):
        yield from subexprs(c)


def map_expr(e: ir.Expr, fn: Callable[[ir.Expr], ir.Expr | None]) -> ir.Expr:
    """Rebuild ``e`` bottom-up... top-down: ``fn`` may return a replacement (not recursed into)."""
    new = fn(e)
    if new is not None:
        return new
    if isinstance(e, ir.ArrayRef):
        return ir.ArrayRef(e.name, tuple(map_expr(s, fn) for s in e.subs), e.head)
    if isinstance(e, ir.Call):
        return replace(e, args=tuple(map_expr(a, fn) for a in e.args))
    if isinstance(e, ir.BinOp):
        return ir.BinOp(e.op, map_expr(e.left, fn), map_expr(e.right, fn))
    if isinstance(e, ir.UnOp):
        return ir.UnOp(e.op, map_expr(e.operand, fn))
    if isinstance(e, ir.Paren):
        return ir.Paren(map_expr(e.expr, fn))
    if isinstance(e, ir.Keyword):
        return ir.Keyword(e.name, map_expr(e.value, fn))
    if isinstance(e, ir.ArrayCtor):
        return ir.ArrayCtor(tuple(map_expr(i, fn) for i in e.items))
    if isinstance(e, ir.Range):
        return ir.Range(*(map_expr(x, fn) if x is not None else None for x in (e.lo, e.hi, e.step)))
    if isinstance(e, ir.ImpliedDo):
        step = map_expr(e.step, fn) if e.step is not None else None
        items = tuple(map_expr(i, fn) for i in e.items)
        return ir.ImpliedDo(items, e.var, map_expr(e.lo, fn), map_expr(e.hi, fn), step)
    return e


def var_of(name: str) -> str:
    """The variable of a name or derived-type component path (``s`` for ``s%p%c``)."""
    return name.split("%", 1)[0]


def paths_nest(p: str, q: str) -> bool:
    """Component paths one of which is a prefix of the other (``s`` and ``s%u``, ``s%u`` and
    ``s%u``): designators of common storage whatever their subscripts. Distinct non-pointer
    components of one variable (``s%u``, ``s%v``) are disjoint storage (F2018 9.4.2)."""
    a, b = p.lower().split("%"), q.lower().split("%")
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def names_in(e: ir.Expr) -> set[str]:
    """Variable (and function) names mentioned in ``e`` (variables of component paths)."""
    out: set[str] = set()
    for s in subexprs(e):
        if isinstance(s, (ir.Name, ir.ArrayRef)):
            out.add(var_of(s.name))
        elif isinstance(s, ir.OpaqueExpr):
            out.update(s.names)
    return out


# inquiry intrinsics read their arguments' type and shape, never their values
INQUIRY = of_class("inquiry")


def value_names(e: ir.Expr) -> set[str]:
    """Names whose *values* ``e`` reads: arguments of inquiry functions (SIZE(x), ...) only
    read shapes, which assignments to elements never change."""
    out: set[str] = set()

    def visit(x: ir.Expr) -> None:
        if isinstance(x, ir.Call) and x.name in INQUIRY:
            for a in x.args[1:]:
                visit(a)
            return
        if isinstance(x, ir.Name | ir.ArrayRef):
            out.add(var_of(x.name))
        elif isinstance(x, ir.OpaqueExpr):
            out.update(x.names)
        for c in children(x):
            visit(c)

    visit(e)
    return out


def status_names(e: ir.Expr) -> set[str]:
    """Names whose allocation, association or shape ``e`` inquires (``allocated(a)``,
    ``size(a)``, ...): what ALLOCATE, DEALLOCATE and pointer assignment change, the reads
    ``value_names`` leaves out."""
    out: set[str] = set()
    for x in subexprs(e):
        if isinstance(x, ir.Call) and x.name in INQUIRY and x.args:
            first = x.args[0].value if isinstance(x.args[0], ir.Keyword) else x.args[0]
            out |= names_in(first)
    return out


def subscript_names(e: ir.Expr) -> set[str]:
    """Names read by the subscripts of the array references in ``e`` (an assignment target's
    ``i``, ``k`` in ``a(i, k)%b``): reads even where ``e`` itself is written."""
    out: set[str] = set()
    for x in subexprs(e):
        if isinstance(x, ir.ArrayRef):
            for sub in x.subs:
                out |= names_in(sub)
    return out


def base_name(e: ir.Expr) -> str | None:
    """The variable a designator refers to (``a`` for ``a(i)``, ``s`` for ``s%h(i)``), else
    None."""
    if isinstance(e, ir.Name | ir.ArrayRef):
        return var_of(e.name)
    if isinstance(e, ir.OpaqueExpr):
        return e.base
    return None


def stmt_exprs(s: ir.Stmt) -> tuple[ir.Expr, ...]:
    """Expressions directly in ``s`` (not those of nested bodies)."""
    if isinstance(s, ir.Assign | ir.PointerAssign):
        return (s.target, s.value)
    if isinstance(s, ir.CallStmt):
        return s.args
    if isinstance(s, ir.Do):
        return tuple(x for x in (s.start, s.stop, s.step) if x is not None)
    if isinstance(s, ir.DoWhile):
        return (s.cond,) if s.cond is not None else ()
    if isinstance(s, ir.If):
        return tuple(c for c, _ in s.branches)
    if isinstance(s, ir.Select):
        return (s.expr,) + tuple(x for c in s.cases for x in c.selectors)
    if isinstance(s, ir.Goto):
        return (s.index,) if s.index is not None else ()
    if isinstance(s, ir.Where):
        return tuple(c for c, _ in s.branches)
    if isinstance(s, ir.Forall):
        parts = [x for _, lo, hi, st in s.specs for x in (lo, hi, st) if x is not None]
        return (*parts, *((s.mask,) if s.mask is not None else ()))
    if isinstance(s, ir.Associate):
        return tuple(e for _, e in s.assocs)
    return ()


def bodies(s: ir.Stmt) -> tuple[tuple[ir.Stmt, ...], ...]:
    if isinstance(s, ir.Do | ir.DoWhile | ir.Forall | ir.Associate):
        return (s.body,)
    if isinstance(s, ir.If | ir.Where):
        out = tuple(b for _, b in s.branches)
        return out + ((s.else_body,) if s.else_body is not None else ())
    if isinstance(s, ir.Select):
        return tuple(c.body for c in s.cases)
    return ()


def walk_stmts(body: tuple[ir.Stmt, ...]) -> Iterator[ir.Stmt]:
    """All statements, nested ones included, in source order."""
    for s in body:
        yield s
        for b in bodies(s):
            yield from walk_stmts(b)


def exprs_of_body(body: tuple[ir.Stmt, ...]) -> Iterator[ir.Expr]:
    for s in walk_stmts(body):
        yield from stmt_exprs(s)


def map_body(
    body: tuple[ir.Stmt, ...], fn: Callable[[ir.Stmt], list[ir.Stmt] | None]
) -> tuple[ir.Stmt, ...]:
    """Rebuild a body: ``fn`` returns replacement statements for a statement, or None to keep
    it (its nested bodies are then mapped too)."""
    out: list[ir.Stmt] = []
    for s in body:
        new = fn(s)
        if new is not None:
            out.extend(new)
            continue
        if isinstance(s, ir.Do | ir.DoWhile | ir.Forall | ir.Associate):
            out.append(replace(s, body=map_body(s.body, fn)))
        elif isinstance(s, ir.If | ir.Where):
            branches = tuple((c, map_body(b, fn)) for c, b in s.branches)
            els = map_body(s.else_body, fn) if s.else_body is not None else None
            out.append(replace(s, branches=branches, else_body=els))
        elif isinstance(s, ir.Select):
            cases = tuple(ir.Case(c.selectors, map_body(c.body, fn)) for c in s.cases)
            out.append(replace(s, cases=cases))
        else:
            out.append(s)
    return tuple(out)


def routine_names(r: ir.Routine) -> set[str]:
    """Every name a routine (with its contained routines) declares, is called or mentions."""
    out = {s.name for s in r.symbols} | {r.name} | set(r.args)
    for e in exprs_of_body(r.body):
        out |= names_in(e)
    for c in r.contains:
        out |= routine_names(c)
    return out
