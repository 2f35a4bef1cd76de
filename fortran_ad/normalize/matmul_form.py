"""The MATMUL statement forms fortran-ad keeps as library calls (rules: ad/constructs/matmul.py).

An assignment whose right-hand side is a sum of scalar multiples of ``matmul(x, y)`` and of
the target itself, with ``x``, ``y`` whole arrays, sections or ``transpose(...)`` of them (rank
2x2, 2x1 or 1x2), none of them the target's variable, and scalar coefficients that do not
mention it. normalize/scalarize.py asks :func:`match` (ranks from its shapes) whether to keep a
statement; the derivative transforms ask it again (ranks from the symbols) for the parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import mul, neg, wrap_sum
from fortran_ad.ir.walk import base_name, subexprs

RankOf = Callable[[ir.Expr], int | None]  # rank of a designator; None: not modelled here
ONE = ir.Literal("1", "integer")


@dataclass(frozen=True)
class Operand:
    ref: ir.Expr  # a designator: Name or ArrayRef
    transposed: bool
    rank: int  # as used (after TRANSPOSE)

    def expr(self, ref: ir.Expr | None = None, flip: bool = False) -> ir.Expr:
        r = self.ref if ref is None else ref
        return ir.Call("transpose", (r,)) if self.transposed != flip else r


@dataclass(frozen=True)
class Product:
    coef: ir.Expr | None  # None: 1
    x: Operand
    y: Operand

    def value(self) -> ir.Expr:
        return ir.Call("matmul", (self.x.expr(), self.y.expr()))


@dataclass(frozen=True)
class Form:
    products: tuple[Product, ...]
    keeps: bool  # the target is on the right-hand side too
    self_coef: ir.Expr | None = None


def has_matmul(e: ir.Expr) -> bool:
    return any(isinstance(x, ir.Call) and x.name == "matmul" for x in subexprs(e))


def kept(s: ir.Stmt) -> bool:
    """An assignment normalization left with its MATMUL (only kept forms survive it)."""
    return isinstance(s, ir.Assign) and has_matmul(s.value)


# -- recognition --------------------------------------------------------------------------
def match(s: ir.Assign, rank_of: RankOf, is_real: Callable[[ir.Expr], bool]) -> Form | None:
    tgt = s.target
    if not isinstance(tgt, ir.Name | ir.ArrayRef) or "%" in tgt.name or not has_matmul(s.value):
        return None
    rt = rank_of(tgt)
    terms = _terms(s.value, None, tgt)
    if rt is None or terms is None or not is_real(tgt):
        return None
    base = base_name(tgt)
    products: list[Product] = []
    selfs: list[ir.Expr | None] = []
    for leaf, coef in terms:
        if coef is not None and not _scalar(coef, base, rank_of):
            return None
        if leaf == tgt:
            selfs.append(coef)
            continue
        if not (isinstance(leaf, ir.Call) and leaf.name == "matmul" and len(leaf.args) == 2):
            return None
        x, y = (_operand(a, rank_of) for a in leaf.args)
        if x is None or y is None or (x.rank, y.rank) not in ((2, 2), (2, 1), (1, 2)):
            return None
        if x.rank + y.rank - 2 != rt or base in (base_name(x.ref), base_name(y.ref)):
            return None
        if not (is_real(x.ref) and is_real(y.ref)):
            return None
        products.append(Product(coef, x, y))
    if not products or len(selfs) > 1:
        return None
    return Form(tuple(products), bool(selfs), selfs[0] if selfs else None)


def _terms(
    e: ir.Expr, coef: ir.Expr | None, tgt: ir.Expr
) -> list[tuple[ir.Expr, ir.Expr | None]] | None:
    """``e`` as Σ coefficient·leaf, scalar factors distributed over parenthesized sums."""
    if isinstance(e, ir.Paren):
        return _terms(e.expr, coef, tgt)
    if isinstance(e, ir.UnOp) and e.op in "+-":
        return _terms(e.operand, neg(coef) if e.op == "-" else coef, tgt)
    if isinstance(e, ir.BinOp) and e.op in ("+", "-"):
        left = _terms(e.left, coef, tgt)
        right = _terms(e.right, neg(coef) if e.op == "-" else coef, tgt)
        return None if left is None or right is None else left + right
    if isinstance(e, ir.BinOp) and e.op == "*":
        if _holds(e.left, tgt):
            return _terms(e.left, mul(coef, e.right), tgt)
        return _terms(e.right, mul(e.left, coef), tgt)
    if isinstance(e, ir.BinOp) and e.op == "/":
        one = ir.Literal("1", "integer") if coef is None else coef
        return _terms(e.left, ir.BinOp("/", wrap_sum(one), wrap(e.right)), tgt)
    if isinstance(e, ir.Call | ir.Name | ir.ArrayRef):
        return [(e, coef)]
    return None


def _holds(e: ir.Expr, tgt: ir.Expr) -> bool:
    """Does ``e`` hold a leaf (a MATMUL or the target) rather than a scalar factor?"""
    return any((isinstance(x, ir.Call) and x.name == "matmul") or x == tgt for x in subexprs(e))


def _designator(e: ir.Expr) -> bool:
    return isinstance(e, ir.Name | ir.ArrayRef)


def wrap(e: ir.Expr) -> ir.Expr:
    return ir.Paren(e) if isinstance(e, ir.BinOp | ir.UnOp) else e


def _scalar(e: ir.Expr, base: str | None, rank_of: RankOf) -> bool:
    for x in subexprs(e):
        if isinstance(x, ir.Call) and x.name in ("matmul", "transpose"):
            return False
        if isinstance(x, ir.Range | ir.ArrayCtor | ir.OpaqueExpr):
            return False
        if _designator(x) and (base_name(x) == base or rank_of(x) != 0):
            return False
    return True


def _operand(a: ir.Expr, rank_of: RankOf) -> Operand | None:
    if isinstance(a, ir.Keyword):
        return None
    flip = isinstance(a, ir.Call) and a.name == "transpose" and len(a.args) == 1
    ref = a.args[0] if flip else a  # type: ignore[union-attr]
    if not _designator(ref) or "%" in ref.name:  # type: ignore[union-attr]
        return None
    r = rank_of(ref)
    if r not in (1, 2) or (flip and r != 2):
        return None
    return Operand(ref, flip, r)
