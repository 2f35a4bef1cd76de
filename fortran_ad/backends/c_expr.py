"""Expressions for the C back end: Fortran operators and intrinsics with Fortran semantics.

``ExprPrinter.expr(e)`` returns C text. Operator precedence is C's (parentheses only where C
needs them, plus the user's own). Integer powers, SIGN, MODULO, MIN/MAX, DIM and NINT go
through the typed helpers of ``runtime/fadc.h``; math functions map to <math.h> (``sqrtf``
for real(4)). Array elements use the per-array column-major macro ``NAME_(i, j)`` that
``backends/c.py`` defines at the top of each function.
"""

from __future__ import annotations

from fortran_ad.backends.c_types import (
    DOUBLE,
    LOGICAL,
    CType,
    join,
    kind_value,
    literal_type,
    type_of,
    unsupported,
)
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir

# C precedence, higher binds tighter
ATOM, UNARY, MUL, ADD, REL, EQ, AND, OR, COND = 16, 15, 13, 12, 10, 9, 5, 4, 3
_BIN = {
    "*": ("*", MUL),
    "/": ("/", MUL),
    "+": ("+", ADD),
    "-": ("-", ADD),
    "<": ("<", REL),
    "<=": ("<=", REL),
    ">": (">", REL),
    ">=": (">=", REL),
    ".lt.": ("<", REL),
    ".le.": ("<=", REL),
    ".gt.": (">", REL),
    ".ge.": (">=", REL),
    "==": ("==", EQ),
    "/=": ("!=", EQ),
    ".eq.": ("==", EQ),
    ".ne.": ("!=", EQ),
    ".eqv.": ("==", EQ),
    ".neqv.": ("!=", EQ),
    ".and.": ("&&", AND),
    ".or.": ("||", OR),
}
_MATH = {
    **{n: n for n in "sqrt exp log log10 sin cos tan asin acos atan atan2 sinh cosh tanh".split()},
    **{n: n for n in "asinh acosh atanh erf erfc hypot".split()},
    **{"d" + n: n for n in "sqrt exp log log10 sin cos tan asin acos atan atan2 sinh cosh".split()},
    "dtanh": "tanh",
    "alog": "log",
    "alog10": "log10",
    "aint": "trunc",
    "dint": "trunc",
    "anint": "round",
    "dnint": "round",
}
_MAX = {"max", "dmax1", "amax1", "max0"}
_MIN = {"min", "dmin1", "amin1", "min0"}


def c_real_literal(text: str, t: CType) -> str:
    """``1.0_dp`` → ``1.0``, ``1.5d-3`` → ``1.5e-3``, a default real ``0.1`` → ``0.1f``."""
    mantissa = text.lower().partition("_")[0].replace("d", "e")
    if not any(c in mantissa for c in ".e"):
        mantissa += "."
    return mantissa + ("f" if t.kind == 4 else "")


class ExprPrinter:
    """Needs from its host: ``lookup(name)`` (Symbol), ``ref(name)`` (C text of a scalar
    variable), ``element(name, subs)`` (C text of an array element), ``extent(name, dim)``,
    ``lower(name, dim)``, ``size_text(name)``, ``call_function(call)`` and ``functions(name)``
    (the result symbol of a user function, else None), ``loc`` (for errors)."""

    loc: ir.SourceLoc | None = None

    def ctype(self, e: ir.Expr) -> CType:
        return type_of(e, self.lookup, self.loc, self.functions)

    def expr(self, e: ir.Expr) -> str:
        return self._expr(e)[0]

    def cast(self, e: ir.Expr, t: CType) -> str:
        """``e`` converted to ``t`` (no cast when the types agree)."""
        if self.ctype(e) == t:
            return self.expr(e)
        return f"({t.c})" + self._wrap(e, UNARY)

    def _wrap(self, e: ir.Expr, need: int) -> str:
        text, p = self._expr(e)
        return f"({text})" if p < need else text

    def _expr(self, e: ir.Expr) -> tuple[str, int]:
        if isinstance(e, ir.Literal):
            return self._literal(e), ATOM
        if isinstance(e, ir.Name):
            return self.ref(e.name), ATOM
        if isinstance(e, ir.ArrayRef):
            if any(isinstance(s, ir.Range) for s in e.subs):
                raise unsupported(self.loc, f"the array section '{e.name}(...)' in an expression")
            return self.element(e.name, e.subs), ATOM
        if isinstance(e, ir.Paren):
            return f"({self.expr(e.expr)})", ATOM
        if isinstance(e, ir.UnOp):
            if e.op == ".not.":
                return "!" + self._wrap(e.operand, UNARY), UNARY
            inner = self._wrap(e.operand, UNARY)
            if e.op == "+":
                return inner, UNARY
            return ("- " if inner.startswith("-") else "-") + inner, UNARY
        if isinstance(e, ir.BinOp):
            return self._binop(e)
        if isinstance(e, ir.Call):
            return self._call(e), ATOM
        raise unsupported(self.loc, f"the expression '{type(e).__name__}'")

    def _literal(self, e: ir.Literal) -> str:
        t = literal_type(e, self.lookup, self.loc)
        if e.type == "logical":
            return "1" if "true" in e.text.lower() else "0"
        if e.type == "integer":
            digits = e.text.partition("_")[0]
            return f"INT64_C({digits})" if t.kind == 8 else digits
        return c_real_literal(e.text, t)

    def _binop(self, e: ir.BinOp) -> tuple[str, int]:
        if e.op == "**":
            return self._power(e), ATOM
        if e.op == "//":
            raise unsupported(self.loc, "character concatenation (//)")
        op, p = _BIN[e.op]
        if e.op in (".eqv.", ".neqv."):
            left, right = "!!" + self._wrap(e.left, UNARY), "!!" + self._wrap(e.right, UNARY)
        else:
            left = self._wrap(e.left, p)
            right = self._wrap(e.right, p + 1)
        return f"{left} {op} {right}", p

    def _power(self, e: ir.BinOp) -> str:
        base, expo = self.ctype(e.left), self.ctype(e.right)
        t = join(base, expo)
        if not expo.is_real:
            if isinstance(e.right, ir.Literal) and base.is_real:
                n = int(e.right.text.partition("_")[0])
                if n in (2, 3):
                    return f"fad_{'sq' if n == 2 else 'cube'}_{base.tag}({self.expr(e.left)})"
            if base.is_real:
                return f"fad_powi_{base.tag}({self.expr(e.left)}, {self.expr(e.right)})"
            return f"fad_ipow_{t.tag}({self.cast(e.left, t)}, {self.expr(e.right)})"
        fn = "pow" if t == DOUBLE else "powf"
        return f"{fn}({self.cast(e.left, t)}, {self.cast(e.right, t)})"

    # ---------------------------------------------------------------------------------------
    # function references

    def _call(self, e: ir.Call) -> str:
        if self.functions(e.name) is not None:
            return self.call_function(e)
        name = e.name
        pos = [a for a in e.args if not isinstance(a, ir.Keyword)]
        kw = {a.name: a.value for a in e.args if isinstance(a, ir.Keyword)}
        t = self.ctype(e)
        if name in _MATH:
            fn = _MATH[name] + ("f" if t.kind == 4 else "")
            return f"{fn}({', '.join(self.cast(a, t) for a in pos)})"
        if name in ("abs", "dabs", "iabs"):
            if t.is_real:
                return f"{'fabs' if t.kind == 8 else 'fabsf'}({self.expr(pos[0])})"
            return f"fad_abs_{t.tag}({self.expr(pos[0])})"
        if name in ("sign", "dsign", "isign"):
            a, b = (self.cast(x, t) for x in pos[:2])
            if t.is_real:
                fabs, copysign = ("fabs", "copysign") if t.kind == 8 else ("fabsf", "copysignf")
                return f"{copysign}({fabs}({a}), {b})"
            return f"fad_sign_{t.tag}({a}, {b})"
        if name in _MAX | _MIN:
            fn = f"fad_{'max' if name in _MAX else 'min'}_{t.tag}"
            text = self.cast(pos[0], t)
            for a in pos[1:]:
                text = f"{fn}({text}, {self.cast(a, t)})"
            return text
        if name in ("mod", "amod", "dmod"):
            if t.is_real:
                fn = "fmod" if t.kind == 8 else "fmodf"
                return f"{fn}({self.cast(pos[0], t)}, {self.cast(pos[1], t)})"
            return f"{self._wrap(pos[0], MUL)} % {self._wrap(pos[1], MUL + 1)}"
        if name in ("modulo", "dim", "ddim", "idim"):
            fn = "modulo" if name == "modulo" else "dim"
            return f"fad_{fn}_{t.tag}({self.cast(pos[0], t)}, {self.cast(pos[1], t)})"
        if name in ("real", "dble", "float", "sngl", "dfloat", "int", "idint", "ifix"):
            return f"({t.c})" + self._wrap(pos[0], UNARY)
        if name in ("nint", "idnint"):
            src = self.ctype(pos[0])
            return f"({t.c}){'lround' if src.kind == 8 else 'lroundf'}({self.expr(pos[0])})"
        if name in ("floor", "ceiling"):
            src = self.ctype(pos[0])
            fn = name if name == "floor" else "ceil"
            return f"({t.c}){fn}{'' if src.kind == 8 else 'f'}({self.expr(pos[0])})"
        if name == "merge":
            return f"({self._wrap(pos[2], OR)} ? {self.cast(pos[0], t)} : {self.cast(pos[1], t)})"
        if name in ("epsilon", "huge", "tiny"):
            return self._numeric_inquiry(name, self.ctype(pos[0]))
        if name == "kind":
            return str(self.ctype(pos[0]).kind)
        if name in ("size", "lbound", "ubound"):
            return self._inquiry(name, pos, kw)
        if name == "allocated":
            return f"({self.expr_array_base(pos[0])} != NULL)"
        if name in ("selected_real_kind", "selected_int_kind"):
            return str(kind_value(e, self.lookup, self.loc))
        raise unsupported(self.loc, f"the intrinsic or function '{name}'")

    def _numeric_inquiry(self, name: str, t: CType) -> str:
        if t.is_real:
            prefix = "DBL" if t.kind == 8 else "FLT"
            return f"{prefix}_{ {'epsilon': 'EPSILON', 'huge': 'MAX', 'tiny': 'MIN'}[name] }"
        if name == "huge":
            return f"INT{8 * t.kind}_MAX"
        raise unsupported(self.loc, f"{name} of an integer")

    def _inquiry(self, name: str, pos: list[ir.Expr], kw: dict[str, ir.Expr]) -> str:
        arr = pos[0]
        if not isinstance(arr, ir.Name):
            raise unsupported(self.loc, f"{name} of an expression (only of a whole array)")
        dim = kw.get("dim", pos[1] if len(pos) > 1 else None)
        if dim is None:
            if name != "size":
                raise unsupported(self.loc, f"{name} without DIM (an array result)")
            return self.size_text(arr.name)
        if not isinstance(dim, ir.Literal):
            raise unsupported(self.loc, f"{name} with a variable DIM")
        d = int(dim.text)
        if name == "size":
            return self.extent(arr.name, d)
        if name == "lbound":
            return self.lower(arr.name, d)
        return f"({self.lower(arr.name, d)} + {self.extent(arr.name, d)} - 1)"

    def expr_array_base(self, e: ir.Expr) -> str:
        if not isinstance(e, ir.Name):
            raise FortranADError(self.loc, "ALLOCATED needs an array name")
        return self.ref(e.name, whole=True)

    # the host provides these -----------------------------------------------------------------
    def lookup(self, name: str) -> ir.Symbol | None:  # pragma: no cover - interface
        raise NotImplementedError

    def functions(self, name: str) -> ir.Symbol | None:  # pragma: no cover - interface
        raise NotImplementedError

    def ref(self, name: str, whole: bool = False) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def element(self, name: str, subs: tuple[ir.Expr, ...]) -> str:  # pragma: no cover
        raise NotImplementedError

    def extent(self, name: str, dim: int) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def lower(self, name: str, dim: int) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def size_text(self, name: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def call_function(self, e: ir.Call) -> str:  # pragma: no cover - interface
        raise NotImplementedError


__all__ = ["LOGICAL", "ExprPrinter", "c_real_literal"]
