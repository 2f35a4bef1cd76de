"""Invariant: every assignment of a generated routine is well typed (by ir/types.py).

Before a derivative routine is written, each of its assignments is re-typed:
  * ranks agree: the value is a scalar or has the rank of the target (an array value assigned
    to a scalar, or ranks that differ, is a lost sum or a wrong index);
  * no integer division where the primal divided reals: an integer-by-integer division that is
    an operand of real arithmetic (or the whole value of a real target) must be one the primal
    wrote itself (compared with names abstracted, so renamed or recomputed copies pass). A
    derivative rule that forms ``1/size(x)`` would be zero.
A violation is a located internal error naming the source statement, never output. Statements
whose types are not knowable here (opaque text, variables of other modules) are not judged.
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import component
from fortran_ad.ir.types import Typer
from fortran_ad.ir.walk import children, exprs_of_body, subexprs, walk_stmts

_ARITHMETIC = frozenset("+ - * / **".split())
_V = ir.Name("v")


def check_generated(t, body: list[ir.Stmt] | tuple[ir.Stmt, ...]) -> None:
    """Raise a located FortranADError at the first ill-typed assignment of ``body``, the
    statements of the derivative of ``t.routine`` (``t``: an ad.core.common.RoutineAD)."""
    typer = Typer(_scope(t), t.program.function_result)
    primal = {
        _skeleton(x)
        for e in exprs_of_body(t.routine.body)
        for x in subexprs(e)
        if _integer_division(typer, x)
    }
    loc = t.routine.loc  # the source statement the generated ones stand for
    for s in walk_stmts(tuple(body)):
        if getattr(s, "loc", ir.NOWHERE).line > 0:
            loc = s.loc  # (the backward sweep's "adjoint of" notes carry it)
        if isinstance(s, ir.Assign):
            _check(typer, s, primal, loc)


def _scope(t):
    """Lookup of the routine's names, its derivatives and its generated temporaries."""
    extra: dict[str, ir.Symbol] = {s.name: s for s in t.temps}
    for sym in t.routine.symbols:
        if sym.name in t.active:
            extra.setdefault(t.namer.derivative(sym.name), t._vector_sym(sym))

    def lookup(name: str) -> ir.Symbol | None:
        if name in extra:
            return extra[name]
        if "%" in name:
            base, *parts = name.split("%")
            if base in extra:
                return component(extra[base], parts, t.info.scope.types)
        return t.lookup(name)

    return lookup


def _integer_division(typer: Typer, e: ir.Expr) -> bool:
    if not (isinstance(e, ir.BinOp) and e.op == "/"):
        return False
    a, b = typer.of(e.left), typer.of(e.right)
    return a is not None and b is not None and a.is_integer and b.is_integer


def _skeleton(e: ir.Expr) -> ir.Expr:
    """``e`` with every variable replaced by one placeholder (copies under other names)."""
    from fortran_ad.ir.walk import map_expr

    return map_expr(e, lambda x: _V if isinstance(x, ir.Name | ir.ArrayRef) else None)


def _check(typer: Typer, s: ir.Assign, primal: set[ir.Expr], loc: ir.SourceLoc) -> None:
    from fortran_ad.ir.printer import expr

    target, value = typer.of(s.target), typer.of(s.value)
    if target is not None and value is not None and value.rank not in (0, target.rank):
        raise FortranADError(
            loc,
            f"internal error: generated assignment '{expr(s.target)} = {expr(s.value)}' "
            f"assigns a rank-{value.rank} value to a rank-{target.rank} target",
            "please report this with the source",
        )
    real_target = target is not None and target.base in ("real", "complex")

    def visit(e: ir.Expr, in_real: bool) -> None:
        if in_real and _integer_division(typer, e) and _skeleton(e) not in primal:
            raise FortranADError(
                loc,
                f"internal error: generated assignment '{expr(s.target)} = {expr(s.value)}' "
                f"divides integers ('{expr(e)}') where the source divides reals",
                "please report this with the source",
            )
        if isinstance(e, ir.BinOp) and e.op in _ARITHMETIC:
            t = typer.of(e)
            real = t is not None and t.base in ("real", "complex")
            visit(e.left, real)
            visit(e.right, real)
        elif isinstance(e, ir.Paren | ir.UnOp):
            visit(e.expr if isinstance(e, ir.Paren) else e.operand, in_real)
        else:
            for c in children(e):
                visit(c, False)

    visit(s.value, real_target)
