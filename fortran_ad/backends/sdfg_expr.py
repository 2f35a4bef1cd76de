"""Expressions of the IR as DaCe text: symbolic integers (loop bounds, subscripts, interstate
conditions) and Python tasklet code whose data reads become connectors with memlets.

Arrays keep Fortran's column-major layout (strides set on the descriptor), so a Fortran element
``a(i, j)`` with lower bounds 1 is the memlet ``a[i - 1, j - 1]``. Real scalars are arrays of
one element (the Fortran caller passes them by reference); integer scalars are SDFG symbols.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir

REL = {
    "==": "==",
    "/=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    ".eq.": "==",
    ".ne.": "!=",
    ".lt.": "<",
    ".le.": "<=",
    ".gt.": ">",
    ".ge.": ">=",
    ".eqv.": "==",
    ".neqv.": "!=",
}
LOGIC = {".and.": "and", ".or.": "or"}
# intrinsics a tasklet can call under the same name (dace maps them to dace::math)
MATH = {
    "sqrt",
    "exp",
    "log",
    "log10",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "abs",
    "min",
    "max",
}
ALIASES = {"dsqrt": "sqrt", "dexp": "exp", "dlog": "log", "dabs": "abs", "dmin1": "min"}
ALIASES |= {"dmax1": "max", "amax1": "max", "amin1": "min", "dsin": "sin", "dcos": "cos"}
ALIASES |= {"dtanh": "tanh", "alog": "log"}
_NUM = re.compile(r"^([0-9]*\.?[0-9]*)(?:([eEdD])([+-]?[0-9]+))?(?:_\w+)?$")


def number(lit: ir.Literal, loc: ir.SourceLoc) -> str:
    """A numeric literal without its kind (``0.1d0`` -> ``0.1e0``, ``2_8`` -> ``2``)."""
    text = lit.text.lstrip("+")
    sign = "-" if text.startswith("-") else ""
    m = _NUM.match(text.lstrip("-"))
    if lit.type not in ("real", "integer") or m is None or not m.group(1).strip("."):
        raise FortranADError(loc, f"the SDFG back end cannot use the literal '{lit.text}'")
    mant = m.group(1)
    if lit.type == "real" and "." not in mant:
        mant += ".0"
    if mant.startswith("."):
        mant = "0" + mant
    if mant.endswith("."):
        mant += "0"
    exp = f"e{m.group(3)}" if m.group(3) else ""
    return f"{sign}{mant}{exp}"


@dataclass
class Access:
    """One element a tasklet reads or writes: the data name and its 0-based subset text."""

    data: str
    subset: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.data, self.subset)


@dataclass
class Tasklet:
    """Inputs gathered while translating; ``code`` statements in order."""

    inputs: dict[tuple[str, str], str] = field(default_factory=dict)  # access key -> connector
    local: dict[tuple[str, str], str] = field(default_factory=dict)  # element written before
    code: list[str] = field(default_factory=list)

    def connector(self, acc: Access) -> str:
        if acc.key in self.local:
            return self.local[acc.key]
        if acc.key not in self.inputs:
            self.inputs[acc.key] = f"__in{len(self.inputs)}"
        return self.inputs[acc.key]


class Exprs:
    """Translates expressions of one routine; ``kind_of(name)`` says what a name is:
    "symbol" (integer scalar), "scalar" (real scalar, 1-element array), "array", "constant"."""

    def __init__(
        self,
        kind_of: Callable[[str], str],
        lower_bounds: Callable[[str], tuple[str, ...]],
        is_int: Callable[[str], bool],
        extents: Callable[[str], list[str]],
    ) -> None:
        self.kind_of = kind_of
        self.lower_bounds = lower_bounds
        self.is_int = is_int
        self.extents = extents

    # ---- symbolic integers ---------------------------------------------------------------
    def sym(self, e: ir.Expr, loc: ir.SourceLoc) -> str:
        if isinstance(e, ir.Literal) and e.type == "integer":
            return number(e, loc)
        if isinstance(e, ir.Name) and self.kind_of(e.name) in ("symbol", "constant"):
            return e.name
        if isinstance(e, ir.Paren):
            return f"({self.sym(e.expr, loc)})"
        if isinstance(e, ir.UnOp) and e.op in "+-":
            return f"({e.op}{self.sym(e.operand, loc)})"
        if isinstance(e, ir.BinOp) and e.op in ("+", "-", "*"):
            return f"({self.sym(e.left, loc)} {e.op} {self.sym(e.right, loc)})"
        if isinstance(e, ir.BinOp) and e.op == "/":
            return f"int_floor({self.sym(e.left, loc)}, {self.sym(e.right, loc)})"
        if isinstance(e, ir.Call) and e.name in ("min", "max") and len(e.args) == 2:
            a, b = (self.sym(x, loc) for x in e.args)
            return f"{e.name}({a}, {b})"
        if isinstance(e, ir.Call) and e.name == "mod" and len(e.args) == 2:
            a, b = (self.sym(x, loc) for x in e.args)
            return f"(({a}) % ({b}))"  # Fortran MOD: equal to % for the positive operands
        if isinstance(e, ir.Call) and e.name == "size" and isinstance(e.args[0], ir.Name):
            ext = self.extents(e.args[0].name)
            if len(e.args) == 1:
                return "(" + " * ".join(f"({x})" for x in ext) + ")"
            dim = e.args[1].value if isinstance(e.args[1], ir.Keyword) else e.args[1]
            if isinstance(dim, ir.Literal) and dim.text.isdigit() and int(dim.text) <= len(ext):
                return f"({ext[int(dim.text) - 1]})"
        raise self.unsupported(e, loc, "an integer expression of loop bounds and subscripts")

    def subset(self, name: str, subs: tuple[ir.Expr, ...], loc: ir.SourceLoc) -> str:
        los = self.lower_bounds(name)
        if len(subs) != len(los):
            raise FortranADError(loc, f"'{name}' needs {len(los)} subscripts in the SDFG back end")
        parts = []
        for s, lo in zip(subs, los, strict=True):
            if isinstance(s, ir.Range):
                raise FortranADError(loc, f"array sections of '{name}' are not supported (SDFG)")
            parts.append(f"{self.sym(s, loc)} - ({lo})" if lo != "1" else f"{self.sym(s, loc)} - 1")
        return ", ".join(parts)

    def access(self, e: ir.Expr, loc: ir.SourceLoc) -> Access | None:
        """The element ``e`` denotes when it is data (an array element or a real scalar)."""
        if isinstance(e, ir.ArrayRef) and self.kind_of(e.name) == "array":
            return Access(e.name, self.subset(e.name, e.subs, loc))
        if isinstance(e, ir.Name) and self.kind_of(e.name) == "scalar":
            return Access(e.name, "0")
        return None

    # ---- interstate conditions (data reads allowed as subscripted arrays) ----------------
    def cond(self, e: ir.Expr, loc: ir.SourceLoc) -> str:
        return self._py(e, loc, None)

    # ---- tasklet code --------------------------------------------------------------------
    def tasklet(self, e: ir.Expr, loc: ir.SourceLoc, t: Tasklet) -> str:
        return self._py(e, loc, t)

    def _py(self, e: ir.Expr, loc: ir.SourceLoc, t: Tasklet | None) -> str:
        acc = self.access(e, loc)
        if acc is not None:
            return t.connector(acc) if t is not None else f"{acc.data}[{acc.subset}]"
        if isinstance(e, ir.Literal):
            if e.type == "logical":
                return "True" if e.text.lower().startswith(".t") else "False"
            return number(e, loc)
        if isinstance(e, ir.Name):
            if self.kind_of(e.name) in ("symbol", "constant"):
                return e.name
            raise self.unsupported(e, loc, "a name the SDFG back end can map")
        if isinstance(e, ir.Paren):
            return f"({self._py(e.expr, loc, t)})"
        if isinstance(e, ir.UnOp):
            op = "not " if e.op == ".not." else e.op
            return f"({op}{self._py(e.operand, loc, t)})"
        if isinstance(e, ir.BinOp):
            a, b = self._py(e.left, loc, t), self._py(e.right, loc, t)
            if e.op in REL:
                return f"({a} {REL[e.op]} {b})"
            if e.op in LOGIC:
                return f"({a} {LOGIC[e.op]} {b})"
            if e.op == "/" and self._integer(e.left) and self._integer(e.right):
                return f"int({a} / {b})"  # Fortran truncates toward zero
            if e.op in ("+", "-", "*", "/", "**"):
                return f"({a} {e.op} {b})"
        if isinstance(e, ir.Call):
            return self._call(e, loc, t)
        raise self.unsupported(e, loc, "an expression the SDFG back end can map")

    def _call(self, e: ir.Call, loc: ir.SourceLoc, t: Tasklet | None) -> str:
        name = ALIASES.get(e.name, e.name)
        if name in ("dble", "real", "float", "dfloat", "int", "nint") and e.args:
            e = ir.Call(e.name, e.args[:1])  # the kind argument: C++ types come from the data
        args = [self._py(a, loc, t) for a in e.args if not isinstance(a, ir.Keyword)]
        if len(args) != len(e.args):
            raise FortranADError(loc, f"keyword arguments of '{e.name}' are not supported (SDFG)")
        if name in MATH and args:
            if name in ("min", "max") and len(args) > 2:
                out = args[0]
                for a in args[1:]:
                    out = f"{name}({out}, {a})"
                return out
            return f"{name}({', '.join(args)})"
        if name in ("dble", "real", "float", "dfloat") and len(args) == 1:
            return f"(1.0 * {args[0]})"
        if name == "sign" and len(args) == 2:
            return f"(abs({args[0]}) if {args[1]} >= 0 else -abs({args[0]}))"
        if name == "merge" and len(args) == 3:
            return f"({args[0]} if {args[2]} else {args[1]})"
        if name in ("int", "nint") and len(args) == 1:
            return f"int({args[0]})" if name == "int" else f"int(round({args[0]}))"
        if name == "mod" and len(args) == 2:
            return f"({args[0]} - int({args[0]} / {args[1]}) * {args[1]})"
        raise FortranADError(
            loc, f"the SDFG back end cannot call '{e.name}' (intrinsic or function not mapped)"
        )

    def _integer(self, e: ir.Expr) -> bool:
        if isinstance(e, ir.Literal):
            return e.type == "integer"
        if isinstance(e, ir.Name):
            return self.is_int(e.name)
        if isinstance(e, ir.Paren):
            return self._integer(e.expr)
        if isinstance(e, ir.UnOp):
            return self._integer(e.operand)
        if isinstance(e, ir.BinOp) and e.op in ("+", "-", "*", "/"):
            return self._integer(e.left) and self._integer(e.right)
        return False

    @staticmethod
    def unsupported(e: ir.Expr, loc: ir.SourceLoc, what: str) -> FortranADError:
        from fortran_ad.ir.printer import expr

        return FortranADError(loc, f"'{expr(e)}' is not {what}")
