"""Small expression builders with the algebraic simplifications that keep generated code
readable (``mul(None, x)`` is ``x``, ``neg(neg(x))`` is ``x``): used by the derivative rules
(ad/core/rules.py), the transforms and the normalizations."""

from __future__ import annotations

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.nodes import BinOp, Call, Literal, Paren, UnOp

ONE = Literal("1", "integer")
TWO = Literal("2", "integer")


def is_one(e: ir.Expr | None) -> bool:
    return e is None or (isinstance(e, Literal) and e.text in ("1", "1.0", "1.0d0", "1.d0"))


def wrap(e: ir.Expr) -> ir.Expr:
    """Parenthesize compound operands so printing never changes meaning or order."""
    if isinstance(e, BinOp | UnOp):
        return Paren(e)
    return e


def mul(a: ir.Expr | None, b: ir.Expr | None) -> ir.Expr | None:
    """a*b where None means 1."""
    if is_one(a):
        return b
    if is_one(b):
        return a
    assert a is not None and b is not None
    if isinstance(a, UnOp) and a.op == "-":
        return neg(mul(a.operand, b))
    if isinstance(b, UnOp) and b.op == "-":
        return neg(mul(a, b.operand))
    return BinOp("*", wrap_sum(a), wrap_sum(b))


def wrap_sum(e: ir.Expr) -> ir.Expr:
    if isinstance(e, BinOp) and e.op in ("+", "-") or isinstance(e, UnOp):
        return Paren(e)
    return e


def neg(a: ir.Expr | None) -> ir.Expr:
    if a is None:
        return UnOp("-", ONE)
    if isinstance(a, UnOp) and a.op == "-":
        return a.operand
    return UnOp("-", wrap_sum(a))


def div(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return BinOp("/", wrap_sum(a), wrap(b))


def add(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return BinOp("+", a, b)


def sub(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return BinOp("-", a, wrap_sum(b))


def call(name: str, *args: ir.Expr) -> ir.Expr:
    return Call(name, tuple(args))


def sq(a: ir.Expr) -> ir.Expr:
    return BinOp("**", wrap(a), TWO)
