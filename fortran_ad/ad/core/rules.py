"""Derivative rules: one entry per intrinsic (with all its aliases), both modes derived from it.

``linearize(e)`` returns the list of (active reference, coefficient) pairs such that
  tangent  ė = Σ coefficient · ṙef          (ad/core/tangent.py)
  adjoint  r̄ef += coefficient · ē           (ad/core/adjoint.py)
Coefficients are IR expressions evaluated at the primal values. Non-differentiable intrinsics
are declared in NONDIFF; an active argument to anything unlisted is a located error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import (
    ONE,
    TWO,
    add,
    call,
    div,
    mul,
    neg,
    sq,
    sub,
    wrap,
)
from fortran_ad.ir.intrinsic_table import NONDIFF
from fortran_ad.ir.nodes import BinOp, Call, Literal, Paren, UnOp
from fortran_ad.ir.types import real_literal

# ------------------------------------------------------------------------------------------
# Typed constants: 1 and 0 in the kind of an operand (ir/types.py spells them).


@dataclass(frozen=True)
class RuleCtx:
    """What rules may ask: the real type of an argument (for typed literals)."""

    type_of: Callable[[ir.Expr], ir.TypeSpec | None]

    def one(self, x: ir.Expr) -> ir.Expr:
        return real_literal("1.0", self.type_of(x))

    def zero(self, x: ir.Expr) -> ir.Expr:
        return real_literal("0.0", self.type_of(x))

    def indicator(self, cond: ir.Expr, x: ir.Expr) -> ir.Expr:
        """1 where cond holds, else 0, in the type of x."""
        return Call("merge", (self.one(x), self.zero(x), cond))


Partials = tuple[ir.Expr | None, ...]  # per argument; None = not differentiable there
Rule = Callable[..., Partials]


def _minmax(op: str) -> Rule:
    """MAX/MIN: the derivative follows the first argument attaining the extremum."""

    def rule(c: RuleCtx, *xs: ir.Expr) -> Partials:
        out = []
        strict, loose = (">", ">=") if op == "max" else ("<", "<=")
        for i, x in enumerate(xs):
            conds = [BinOp(strict, x, y) for y in xs[:i]] + [
                BinOp(loose, x, y) for y in xs[i + 1 :]
            ]
            cond = conds[0]
            for more in conds[1:]:
                cond = BinOp(".and.", cond, more)
            out.append(c.indicator(cond, x))
        return tuple(out)

    return rule


def _gauss(c: RuleCtx, x: ir.Expr) -> ir.Expr:
    """2/sqrt(pi) exp(-x**2), the derivative of ERF, in the kind of ``x``."""
    pi = call("acos", neg(c.one(x)))
    return div(mul(TWO, call("exp", neg(sq(x)))), call("sqrt", pi))


_RULES: dict[tuple[str, ...], Rule] = {
    ("sqrt", "dsqrt"): lambda c, x: (div(ONE, mul(TWO, call("sqrt", x))),),
    ("exp", "dexp"): lambda c, x: (call("exp", x),),
    ("log", "alog", "dlog"): lambda c, x: (div(ONE, x),),
    ("log10", "alog10", "dlog10"): lambda c, x: (
        div(ONE, mul(x, call("log", real_literal("10.0", c.type_of(x))))),
    ),
    ("sin", "dsin"): lambda c, x: (call("cos", x),),
    ("cos", "dcos"): lambda c, x: (neg(call("sin", x)),),
    ("tan", "dtan"): lambda c, x: (add(ONE, sq(call("tan", x))),),
    ("asin", "dasin"): lambda c, x: (div(ONE, call("sqrt", sub(ONE, sq(x)))),),
    ("acos", "dacos"): lambda c, x: (neg(div(ONE, call("sqrt", sub(ONE, sq(x))))),),
    ("atan", "datan"): lambda c, x: (div(ONE, add(ONE, sq(x))),),
    ("atan2", "datan2"): lambda c, y, x: (
        div(x, add(sq(x), sq(y))),
        neg(div(y, add(sq(x), sq(y)))),
    ),
    ("asinh",): lambda c, x: (div(ONE, call("sqrt", add(sq(x), ONE))),),
    ("acosh",): lambda c, x: (div(ONE, call("sqrt", sub(sq(x), ONE))),),
    ("atanh",): lambda c, x: (div(ONE, sub(ONE, sq(x))),),
    # erf'(x) = 2/sqrt(pi) exp(-x**2); pi = acos(-1) in the kind of x
    ("erf",): lambda c, x: (_gauss(c, x),),
    ("erfc",): lambda c, x: (neg(_gauss(c, x)),),
    ("hypot",): lambda c, x, y: (div(x, call("hypot", x, y)), div(y, call("hypot", x, y))),
    ("sinh", "dsinh"): lambda c, x: (call("cosh", x),),
    ("cosh", "dcosh"): lambda c, x: (call("sinh", x),),
    ("tanh", "dtanh"): lambda c, x: (sub(ONE, sq(call("tanh", x))),),
    ("abs", "dabs"): lambda c, x: (call("sign", c.one(x), x),),
    ("sign", "dsign"): lambda c, a, b: (
        mul(call("sign", c.one(a), a), call("sign", c.one(a), b)),
        None,
    ),
    ("max", "dmax1", "amax1"): _minmax("max"),
    ("min", "dmin1", "amin1"): _minmax("min"),
    ("mod", "amod", "dmod"): lambda c, a, p: (ONE, neg(call("aint", div(a, p)))),
    ("modulo",): lambda c, a, p: (
        ONE,
        neg(call("real", call("floor", div(a, p)), ir.Keyword("kind", call("kind", a)))),
    ),
    ("dim", "ddim"): lambda c, a, b: (
        c.indicator(BinOp(">", a, b), a),
        neg(c.indicator(BinOp(">", a, b), a)),
    ),
    ("real", "dble", "float", "sngl", "dreal"): lambda c, x, *kind: (ONE, *(None for _ in kind)),
    # MERGE(t, f, mask): the derivative follows the selected value (EOSHIFT lowers to it)
    ("merge",): lambda c, t, f, mask: (
        c.indicator(mask, t),
        c.indicator(UnOp(".not.", wrap(mask)), f),
        None,
    ),
}

RULES: dict[str, Rule] = {alias: rule for names, rule in _RULES.items() for alias in names}

# ------------------------------------------------------------------------------------------


def linearize(
    e: ir.Expr,
    is_active: Callable[[ir.Expr], bool],
    ctx: RuleCtx,
    loc: ir.SourceLoc,
    coeff: ir.Expr | None = None,
) -> list[tuple[ir.Expr, ir.Expr | None]]:
    """(active reference, coefficient) pairs of ``e`` (coefficient None means 1)."""
    if isinstance(e, ir.Name | ir.ArrayRef):
        return [(e, coeff)] if is_active(e) else []
    if isinstance(e, ir.Literal):
        return []
    if isinstance(e, Paren):
        return linearize(e.expr, is_active, ctx, loc, coeff)
    if not _mentions_active(e, is_active):
        return []
    if isinstance(e, UnOp):
        if e.op == "+":
            return linearize(e.operand, is_active, ctx, loc, coeff)
        return linearize(e.operand, is_active, ctx, loc, neg(coeff) if coeff else neg(None))
    if isinstance(e, BinOp):
        return _binop(e, is_active, ctx, loc, coeff)
    if isinstance(e, Call):
        return _call(e, is_active, ctx, loc, coeff)
    if isinstance(e, ir.OpaqueExpr):
        raise FortranADError(
            loc,
            f"cannot differentiate '{e.text}' (active data in a construct "
            "fortran-ad does not model yet)",
        )
    raise FortranADError(loc, f"cannot differentiate expression of kind {type(e).__name__}")


def _mentions_active(e: ir.Expr, is_active: Callable[[ir.Expr], bool]) -> bool:
    from fortran_ad.ir.walk import subexprs

    for s in subexprs(e):
        if isinstance(s, ir.Name | ir.ArrayRef) and is_active(s):
            return True
        if isinstance(s, ir.OpaqueExpr) and any(is_active(ir.Name(n)) for n in s.names):
            return True  # linearize() then refuses it with its location
    return False


def _binop(e: BinOp, is_active, ctx: RuleCtx, loc, coeff) -> list:
    a, b = e.left, e.right
    if e.op == "+":
        pa, pb = None, None
    elif e.op == "-":
        pa, pb = None, neg(None)
    elif e.op == "*":
        pa, pb = b, a
    elif e.op == "/":
        # 1/b with an integer b would be integer division: then 1 in the kind of a
        one = ONE if ctx.type_of(b) is not None else ctx.one(a)
        pa, pb = div(one, b), neg(div(a, sq(b)))
    elif e.op == "**":
        if isinstance(b, Literal) and b.type == "integer":
            n = int(b.text.split("_")[0])
            if n == 0:  # a**0 is constant: no term (0*a**(-1) would be NaN at a = 0)
                return []
            if n == 1:
                pa = None
            elif n == 2:
                pa = mul(TWO, a)
            else:
                pa = BinOp("*", b, BinOp("**", wrap(a), Literal(str(n - 1), "integer")))
        else:
            pa = mul(b, BinOp("**", wrap(a), wrap(sub(b, ONE))))
        # log needs a real argument: an integer base (2**x) is converted to the kind of b
        base = (
            a
            if ctx.type_of(a) is not None
            else call("real", a, ir.Keyword("kind", call("kind", b)))
        )
        pb = mul(BinOp("**", wrap(a), wrap(b)), call("log", base))
    else:  # relational and logical operators carry no derivative
        return []
    return linearize(a, is_active, ctx, loc, mul(coeff, pa)) + linearize(
        b, is_active, ctx, loc, mul(coeff, pb)
    )


def _call(e: Call, is_active, ctx: RuleCtx, loc, coeff) -> list:
    if e.name in NONDIFF:
        return []
    rule = RULES.get(e.name)
    if rule is None:
        raise FortranADError(
            loc,
            f"no derivative rule for '{e.name}' applied to active data",
            "fortran-ad knows the intrinsics in fortran_ad/ad/core/rules.py; user functions are "
            "differentiated when their source is given",
        )
    args = tuple(a.value if isinstance(a, ir.Keyword) else a for a in e.args)
    partials = rule(ctx, *args)
    out = []
    for arg, p in zip(args, partials, strict=False):
        if p is None:
            continue
        out.extend(linearize(arg, is_active, ctx, loc, mul(coeff, p)))
    return out


def signed_sum(terms: list[ir.Expr]) -> ir.Expr | None:
    """``t1 + t2 - t3 ...``: a negated term is subtracted (None for no terms)."""
    total: ir.Expr | None = None
    for term in terms:
        if total is None:
            total = term
        elif isinstance(term, ir.UnOp) and term.op == "-":
            total = ir.BinOp("-", total, term.operand)
        else:
            total = ir.BinOp("+", total, term)
    return total


def increment(target: ir.Expr, coeffs: list[ir.Expr | None], seed: ir.Expr) -> ir.Expr:
    """``target + sum(coeff*seed)`` (``target - ...`` when the sum is a negation)."""
    total = signed_sum([mul(c, seed) for c in coeffs])
    assert total is not None
    if isinstance(total, ir.UnOp) and total.op == "-":
        return ir.BinOp("-", target, total.operand)
    if len(coeffs) > 1:
        total = ir.Paren(total)
    return ir.BinOp("+", target, total)
