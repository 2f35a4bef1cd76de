"""Reductions of a simd loop with their loop-invariant factors taken out and shared sums
computed once.

The adjoint of ``c(i, j) = c(i, j) + alpha*a(i, k)*a(j, k)`` over ``i`` has two reductions
over the same products::

    alphab = alphab + a(j, k)*a(i, k)*cb(i, j)
    ab(j, k) = ab(j, k) + alpha*a(i, k)*cb(i, j)

Each term of a reduction is a product; its factors that do not change in the loop (they
mention neither the loop index nor anything the loop writes) leave the sum: the loop computes
``s = sum(a(i, k)*cb(i, j))`` once and after it ``alphab = alphab + a(j, k)*s`` and
``ab(j, k) = ab(j, k) + alpha*s``. One accumulator per distinct product of the remaining
factors (and real kind), so two reductions of one product read its operands once. Terms with
no factor that changes are left alone (the whole reduction then keeps its form).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.types import real_literal
from fortran_ad.ir.walk import names_in

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

Term = tuple[int, list[ir.Expr]]  # (sign, factors)


def _terms(e: ir.Expr, sign: int = 1) -> list[Term]:
    if isinstance(e, ir.Paren):
        return _terms(e.expr, sign)
    if isinstance(e, ir.UnOp) and e.op == "-":
        return _terms(e.operand, -sign)
    if isinstance(e, ir.BinOp) and e.op in "+-":
        return _terms(e.left, sign) + _terms(e.right, sign if e.op == "+" else -sign)
    return [(sign, _factors(e))]


def _factors(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, ir.Paren) and isinstance(e.expr, ir.BinOp) and e.expr.op == "*":
        return _factors(e.expr)
    if isinstance(e, ir.BinOp) and e.op == "*":
        return _factors(e.left) + _factors(e.right)
    return [e]


def _product(fs: list[ir.Expr]) -> ir.Expr:
    from fortran_ad.ir.build import mul

    out: ir.Expr | None = None
    for f in fs:
        out = mul(out, f)
    assert out is not None
    return out


def factor(
    t: Reverse, assigns: list[ir.Assign], targets: list[ir.Expr], changing: set[str], types
) -> tuple[dict[int, list[ir.Stmt]], list[ir.Name], list[ir.Stmt], list[ir.Stmt]] | None:
    """For the reduction statements of ``assigns`` (into ``targets``): (statement id ->
    its replacement statements, accumulators, statements before, statements after), or None
    when some term has no changing factor. ``types(d)`` is the real type of target ``d``."""
    from fortran_ad.ir.printer import expr

    sums: dict[tuple, ir.Name] = {}
    body: dict[int, list[ir.Stmt]] = {}
    pre: list[ir.Stmt] = []
    post: list[ir.Stmt] = []
    for s in assigns:
        if s.target not in targets:
            continue
        assert isinstance(s.value, ir.BinOp)
        typ = types(s.target)
        if typ is None:
            return None
        sign = 1 if s.value.op == "+" else -1
        total: ir.Expr = s.target
        new: list[ir.Stmt] = []
        for sg, fs in _terms(s.value.right, sign):
            var = [f for f in fs if names_in(f) & changing]
            inv = [f for f in fs if not names_in(f) & changing]
            if not var:
                return None
            key = (typ.kind, tuple(sorted(expr(f) for f in var)))
            if key not in sums:
                acc = sums[key] = ir.Name(t.temp("acc", typ))
                pre.append(ir.Assign(acc, real_literal("0.0", typ), s.loc))
                new.append(ir.Assign(acc, ir.BinOp("+", acc, _product(var)), s.loc))
            part = _product([*inv, sums[key]])
            total = ir.BinOp("+" if sg > 0 else "-", total, part)
        post.append(ir.Assign(s.target, total, s.loc))
        body[id(s)] = new
    return body, list(sums.values()), pre, post
