"""Index algebra shared by the scalarizer and the array intrinsics: looped spans and the
integer folding that keeps generated subscripts readable."""

from __future__ import annotations

from dataclasses import dataclass

from fortran_ad.ir import nodes as ir

INT1 = ir.Literal("1", "integer")


@dataclass(frozen=True)
class Span:
    """One looped dimension: lo:hi:step (step None = 1)."""

    lo: ir.Expr
    hi: ir.Expr
    step: ir.Expr | None = None

    def extent(self) -> ir.Expr:
        if is_unit(self.step):
            return fold(ir.BinOp("+", ir.BinOp("-", self.hi, wrap(self.lo)), INT1))
        assert self.step is not None
        n = ir.BinOp("+", ir.BinOp("-", self.hi, wrap(self.lo)), wrap(self.step))
        return ir.Call(
            "max", (ir.Literal("0", "integer"), ir.BinOp("/", ir.Paren(n), wrap(self.step)))
        )


# one looped dimension of an iteration: its span and the index expression that runs over it
Iter = list[tuple[Span, ir.Expr]]


def fold(e: ir.Expr) -> ir.Expr:
    """Fold ``x + c1 - c2`` style integer constants (keeps generated indices readable)."""
    if isinstance(e, ir.BinOp) and e.op in ("+", "-"):
        c = int_value(e.right)
        if c is not None:
            c = c if e.op == "+" else -c
            inner = e.left
            if isinstance(inner, ir.BinOp) and inner.op in ("+", "-") and int_value(inner.right):
                c2 = int_value(inner.right) or 0
                c += c2 if inner.op == "+" else -c2
                inner = inner.left
            if c == 0:
                return inner
            return ir.BinOp("+" if c > 0 else "-", inner, ir.Literal(str(abs(c)), "integer"))
    return e


def wrap(e: ir.Expr) -> ir.Expr:
    return ir.Paren(e) if isinstance(e, ir.BinOp) else e


def is_unit(e: ir.Expr | None) -> bool:
    return e is None or (isinstance(e, ir.Literal) and e.text == "1")


def int_value(e: ir.Expr | None) -> int | None:
    if isinstance(e, ir.Literal) and e.type == "integer" and e.text.lstrip("-").isdigit():
        return int(e.text)
    return None
