"""Fortran types and kinds as C sees them, for the C back end (backends/c.py).

Kinds are evaluated to byte counts (``dp = selected_real_kind(12, 200)`` → 8) by following
PARAMETER initializers through the scope; the C type follows: real(8)/double precision →
double, real(4) → float, integer(4|8) → int32_t|int64_t, logical → int. Expression types come
from the one typer (ir/types.py), so the printer can pick ``fmod`` or ``%``, ``fabs`` or
``abs``, and typed helpers for ``**``, SIGN, MODULO, MIN and MAX.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.types import Typer

Lookup = Callable[[str], "ir.Symbol | None"]

_NAMED_KINDS = {
    "real32": 4,
    "real64": 8,
    "int8": 1,
    "int16": 2,
    "int32": 4,
    "int64": 8,
    "c_double": 8,
    "c_float": 4,
    "c_int": 4,
    "c_int32_t": 4,
    "c_int64_t": 8,
    "c_long": 8,
    "c_long_long": 8,
    "c_bool": 1,
}


@dataclass(frozen=True)
class CType:
    """A scalar type: base "real" | "integer" | "logical" and its kind in bytes."""

    base: str
    kind: int

    @property
    def c(self) -> str:
        if self.base == "real":
            return {4: "float", 8: "double"}[self.kind]
        if self.base == "integer":
            return f"int{8 * self.kind}_t"
        return {1: "int8_t", 2: "int16_t", 4: "int", 8: "int64_t"}[self.kind]

    @property
    def tag(self) -> str:
        """Suffix of the typed helpers in fadc.h and of the tape stacks."""
        if self.base == "real":
            return f"r{self.kind}"
        if self.base == "integer":
            return f"i{self.kind}"
        return "l"

    @property
    def is_real(self) -> bool:
        return self.base == "real"


DOUBLE = CType("real", 8)
FLOAT = CType("real", 4)
INT = CType("integer", 4)
INT8 = CType("integer", 8)
LOGICAL = CType("logical", 4)


def unsupported(loc: ir.SourceLoc | None, what: str) -> FortranADError:
    return FortranADError(
        loc,
        f"the C back end does not support {what}",
        "use the Fortran back end (--emit fortran) for this code",
    )


def kind_value(e: ir.Expr | str | None, lookup: Lookup, loc=None, default: int = 4) -> int:
    """Bytes of a kind expression (``8``, ``dp``, ``kind(1.0d0)``, ``selected_real_kind(12)``)."""
    if e is None:
        return default
    if isinstance(e, str):
        text = e.strip().lower().replace("kind=", "").lstrip("*")
        if text.isdigit():
            return int(text)
        if text in _NAMED_KINDS:
            return _NAMED_KINDS[text]
        if text.isidentifier():
            return kind_value(ir.Name(text), lookup, loc, default)
        return kind_value(_parse_kind_text(text), lookup, loc, default)
    if isinstance(e, ir.Keyword):
        return kind_value(e.value, lookup, loc, default)
    if isinstance(e, ir.Paren):
        return kind_value(e.expr, lookup, loc, default)
    if isinstance(e, ir.OpaqueExpr):
        return kind_value(e.text, lookup, loc, default)
    if isinstance(e, ir.Literal) and e.type == "integer":
        return int(e.text.split("_")[0])
    if isinstance(e, ir.Name):
        if e.name in _NAMED_KINDS:
            return _NAMED_KINDS[e.name]
        sym = lookup(e.name)
        if sym is not None and "parameter" in sym.attrs and sym.init is not None:
            return kind_value(sym.init, lookup, loc, default)
    if isinstance(e, ir.Call):
        args = [a.value if isinstance(a, ir.Keyword) else a for a in e.args]
        if e.name == "kind" and args:
            return type_of(args[0], lookup, loc).kind
        if e.name == "selected_real_kind":
            p = int_value(args[0], lookup) if args else 0
            r = int_value(args[1], lookup) if len(args) > 1 else 0
            if p <= 6 and r <= 37:
                return 4
            if p <= 15 and r <= 307:
                return 8
            raise unsupported(loc, f"real kinds beyond double precision ({ir_text(e)})")
        if e.name == "selected_int_kind":
            r = int_value(args[0], lookup) if args else 0
            return 1 if r <= 2 else 2 if r <= 4 else 4 if r <= 9 else 8
    raise unsupported(loc, f"the kind '{ir_text(e)}' (cannot evaluate it)")


def _parse_kind_text(text: str) -> ir.Expr:
    """The few kind expressions written as text in declarations: ``kind(1.0d0)``,
    ``selected_real_kind(12, 200)``, ``selected_int_kind(9)``."""
    m = re.fullmatch(r"(\w+)\s*\((.*)\)", text)
    if m is None:
        return ir.OpaqueExpr(text) if not text.isidentifier() else ir.Name(text)
    args: list[ir.Expr] = []
    for part in m.group(2).split(","):
        part = part.strip().split("=")[-1].strip()
        if re.fullmatch(r"[+-]?\d+", part):
            args.append(ir.Literal(part, "integer"))
        elif re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([ed][+-]?\d+)?(_\w+)?", part):
            args.append(ir.Literal(part, "real"))
        else:
            args.append(ir.Name(part))
    return ir.Call(m.group(1), tuple(args))


def int_value(e: ir.Expr, lookup: Lookup) -> int:
    """The value of an integer constant expression (literals, parameters, + - * /)."""
    if isinstance(e, ir.Literal) and e.type == "integer":
        return int(e.text.split("_")[0])
    if isinstance(e, ir.Paren):
        return int_value(e.expr, lookup)
    if isinstance(e, ir.UnOp) and e.op in "+-":
        v = int_value(e.operand, lookup)
        return -v if e.op == "-" else v
    if isinstance(e, ir.BinOp) and e.op in ("+", "-", "*", "/"):
        a, b = int_value(e.left, lookup), int_value(e.right, lookup)
        return {"+": a + b, "-": a - b, "*": a * b, "/": int(a / b) if b else 0}[e.op]
    if isinstance(e, ir.Name):
        sym = lookup(e.name)
        if sym is not None and "parameter" in sym.attrs and sym.init is not None:
            return int_value(sym.init, lookup)
    raise unsupported(None, f"the non-constant integer expression '{ir_text(e)}' here")


def ir_text(e: ir.Expr) -> str:
    from fortran_ad.ir.printer import expr

    return expr(e)


def ctype_of_spec(t: ir.TypeSpec | None, lookup: Lookup, loc=None) -> CType:
    """The C type of a declared Fortran type."""
    if t is None:
        raise unsupported(loc, "variables without a type")
    if t.base == "double precision":
        return DOUBLE
    if t.base not in ("real", "integer", "logical"):
        raise unsupported(loc, f"{t.base} variables")
    kind = kind_value(t.kind, lookup, loc)
    if t.base == "real" and kind not in (4, 8):
        raise unsupported(loc, f"real({kind})")
    if t.base == "integer" and kind not in (1, 2, 4, 8):
        raise unsupported(loc, f"integer({kind})")
    return CType(t.base, kind)


def literal_type(lit: ir.Literal, lookup: Lookup, loc=None) -> CType:
    text = lit.text.lower()
    if lit.type == "logical":
        return LOGICAL
    if lit.type == "integer":
        _, _, k = text.partition("_")
        return CType("integer", kind_value(k, lookup, loc) if k else 4)
    if lit.type == "real":
        mantissa, _, k = text.partition("_")
        if k:
            return CType("real", kind_value(k, lookup, loc))
        return DOUBLE if "d" in mantissa else FLOAT
    raise unsupported(loc, f"{lit.type} constants ({lit.text})")


def join(a: CType, b: CType) -> CType:
    """Fortran's type of a mixed binary operation."""
    if a.base == "logical" or b.base == "logical":
        return LOGICAL
    if a.is_real != b.is_real:
        return a if a.is_real else b
    return a if a.kind >= b.kind else b


def type_of(e: ir.Expr, lookup: Lookup, loc=None, functions: Lookup | None = None) -> CType:
    """Fortran's type of an expression as C sees it (elements of arrays: the element type),
    by the one typer (ir/types.py)."""
    t = Typer(lookup, functions).of(e)
    if t is not None:
        if t.base == "logical":
            return LOGICAL
        return ctype_of_spec(t.spec, lookup, loc)
    if isinstance(e, ir.Name | ir.ArrayRef) and lookup(e.name) is None:
        raise FortranADError(loc, f"the C back end cannot find the type of '{e.name}'")
    if isinstance(e, ir.Call):
        raise unsupported(loc, f"the intrinsic or function '{e.name}'")
    raise unsupported(loc, f"the expression '{ir_text(e)}'")
