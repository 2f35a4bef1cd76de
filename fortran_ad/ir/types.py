"""The type, kind and rank of every expression, by the standard's rules. The one typer.

``Typer(lookup, functions).of(e)`` gives an ``ExprType`` (a ``TypeSpec`` as the program spells it,
and a rank) or None where the type is not knowable here (an opaque expression, an unknown function,
a defined operator on derived types). Designators take their declared type (component paths
``s%p%c`` through ``lookup``); sections count their triplets and vector subscripts; literals their
kind suffix; intrinsics follow ``ir/intrinsic_table.py`` (KIND= arguments included); functions of
the program their result's declaration (``functions``). Arithmetic promotes integer < real < complex
and takes the larger kind; an integer divided by an integer is an integer. Kinds are compared by
value (``kind_number``: ``dp`` → 8 through PARAMETERs), and spelled as written. Every pass asks this
module: the AD's typed constants and invariant (``ad/invariants/type_check.py``), normalization's
temporaries, generic and operator resolution, the C back end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.intrinsic_table import Intrinsic
from fortran_ad.ir.intrinsic_table import lookup as intrinsic

Lookup = Callable[[str], "ir.Symbol | None"]

_RELATIONAL = frozenset("== /= < <= > >= .eq. .ne. .lt. .le. .gt. .ge.".split())
_LOGICAL = frozenset(".and. .or. .eqv. .neqv.".split())
_ARITHMETIC = frozenset("+ - * / **".split())
_NUMERIC = ("integer", "real", "complex")
_NAMED_KINDS = {
    "real32": 4, "real64": 8, "real128": 16, "int8": 1, "int16": 2, "int32": 4, "int64": 8,
    "c_double": 8, "c_float": 4, "c_int": 4, "c_int32_t": 4, "c_int64_t": 8, "c_long": 8,
    "c_long_long": 8, "c_bool": 1, "c_size_t": 8,
}  # fmt: skip


def family(t: ir.TypeSpec) -> str:
    """real, integer, complex, logical, character, or the derived ``type(name)``."""
    if t.base == "double precision":
        return "real"
    if t.base == "double complex":
        return "complex"
    return t.base


@dataclass(frozen=True)
class ExprType:
    spec: ir.TypeSpec
    rank: int

    @property
    def base(self) -> str:
        return family(self.spec)

    @property
    def is_real(self) -> bool:
        return self.base == "real"

    @property
    def is_integer(self) -> bool:
        return self.base == "integer"


class Typer:
    """Types expressions of one scope. ``functions(name)`` gives the result symbol of a
    function of the program (None for others)."""

    def __init__(self, lookup: Lookup, functions: Lookup | None = None) -> None:
        self.lookup = lookup
        self.functions = functions
        # memos: kinds by type spec; expression types by identity (the node is kept with its
        # type, so an id is never reused while its entry lives; IR nodes are immutable)
        self._kinds: dict[ir.TypeSpec, int | None] = {}
        self._types: dict[int, tuple[ir.Expr, ExprType | None]] = {}

    # -- kinds -------------------------------------------------------------------------------
    def kind_number(self, t: ir.TypeSpec) -> int | None:
        """The kind value of a type (default kinds: 4; double precision: 8), None if unknown."""
        if t not in self._kinds:
            self._kinds[t] = self._kind_number(t)
        return self._kinds[t]

    def _kind_number(self, t: ir.TypeSpec) -> int | None:
        if t.base in ("double precision", "double complex"):
            return 8
        if t.kind is None:
            return 1 if t.base == "character" else 4
        if t.base == "complex" and t.kind.startswith("*"):  # complex*16 is complex(8)
            n = self._kind_text(t.kind, 0)
            return n // 2 if n is not None else None
        return self._kind_text(t.kind, 0)

    def _kind_text(self, text: str, depth: int) -> int | None:
        text = text.strip().lower().replace("kind=", "").lstrip("*")
        if text.isdigit():
            return int(text)
        if text in _NAMED_KINDS:
            return _NAMED_KINDS[text]
        if text.isidentifier():
            return self._kind_expr(ir.Name(text), depth + 1)
        m = re.fullmatch(r"(\w+)\s*\((.*)\)", text)
        if m is None:
            return None
        args = [a.split("=")[-1].strip() for a in m.group(2).split(",")]
        if m.group(1) == "kind" and len(args) == 1:
            return _literal_kind_number(args[0]) or self._kind_text(args[0], depth + 1)
        if m.group(1) in ("selected_real_kind", "selected_int_kind") and all(
            a.isdigit() for a in args
        ):
            return _selected(m.group(1), [int(a) for a in args])
        return None

    def _kind_expr(self, e: ir.Expr, depth: int = 0) -> int | None:
        if depth > 20:
            return None
        if isinstance(e, ir.Literal) and e.type == "integer":
            return int(e.text.split("_")[0])
        if isinstance(e, ir.Paren | ir.Keyword):
            return self._kind_expr(e.expr if isinstance(e, ir.Paren) else e.value, depth + 1)
        if isinstance(e, ir.OpaqueExpr):
            return self._kind_text(e.text, depth + 1)
        if isinstance(e, ir.Name):
            if e.name in _NAMED_KINDS:
                return _NAMED_KINDS[e.name]
            sym = self.lookup(e.name)
            if sym is not None and "parameter" in sym.attrs and sym.init is not None:
                return self._kind_expr(sym.init, depth + 1)
            return None
        if isinstance(e, ir.Call):
            args = [a.value if isinstance(a, ir.Keyword) else a for a in e.args]
            if e.name == "kind" and len(args) == 1:
                t = self.of(args[0])
                return self.kind_number(t.spec) if t is not None else None
            if e.name in ("selected_real_kind", "selected_int_kind"):
                values = [self._int_value(a) for a in args]
                if None not in values:
                    return _selected(e.name, values)  # type: ignore[arg-type]
        return None

    def _int_value(self, e: ir.Expr) -> int | None:
        if isinstance(e, ir.Literal) and e.type == "integer":
            return int(e.text.split("_")[0])
        if isinstance(e, ir.Name):
            sym = self.lookup(e.name)
            if sym is not None and "parameter" in sym.attrs and sym.init is not None:
                return self._int_value(sym.init)
        return None

    def join(self, a: ExprType, b: ExprType) -> ExprType | None:
        """The type of ``a op b`` for a numeric operator (None for non-numeric operands)."""
        if a.base not in _NUMERIC or b.base not in _NUMERIC:
            return None
        rank = max(a.rank, b.rank)
        ia, ib = _NUMERIC.index(a.base), _NUMERIC.index(b.base)
        if ia != ib:
            hi, lo = (a, b) if ia > ib else (b, a)
            spec = hi.spec
            if hi.base == "complex" and lo.base == "real" and self._wider(lo.spec, hi.spec):
                spec = ir.TypeSpec("complex", lo.spec.kind or "8")
            return ExprType(spec, rank)
        return ExprType(b.spec if self._wider(b.spec, a.spec) else a.spec, rank)

    def _wider(self, x: ir.TypeSpec, y: ir.TypeSpec) -> bool:
        kx, ky = self.kind_number(x), self.kind_number(y)
        if kx is None or ky is None:  # unknown: a kind spelled out beats the default
            return kx is None and ky == 4 and y.kind is None
        return kx > ky

    # -- expressions -------------------------------------------------------------------------
    def of(self, e: ir.Expr) -> ExprType | None:
        """The type and rank of ``e`` (None: not known, e.g. a defined operator)."""
        hit = self._types.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        t = self._of(e)
        self._types[id(e)] = (e, t)
        return t

    def _of(self, e: ir.Expr) -> ExprType | None:
        if isinstance(e, ir.Literal):
            return ExprType(literal_spec(e), 0)
        if isinstance(e, ir.Name | ir.ArrayRef):
            return self._designator(e)
        if isinstance(e, ir.Paren):
            return self.of(e.expr)
        if isinstance(e, ir.Keyword):
            return self.of(e.value)
        if isinstance(e, ir.UnOp):
            t = self.of(e.operand)
            if e.op == ".not.":
                return ExprType(ir.TypeSpec("logical"), t.rank) if t is not None else None
            return t if t is not None and t.base in _NUMERIC else None
        if isinstance(e, ir.BinOp):
            return self._binop(e)
        if isinstance(e, ir.Call):
            return self._call(e)
        if isinstance(e, ir.ArrayCtor):
            if not e.items:
                return None
            first = e.items[0]
            t = self.of(first.items[0] if isinstance(first, ir.ImpliedDo) else first)
            return ExprType(t.spec, 1) if t is not None else None
        return None  # OpaqueExpr, Range, ImpliedDo

    def _designator(self, e: ir.Name | ir.ArrayRef) -> ExprType | None:
        sym = self.lookup(e.name)
        if sym is None and isinstance(e, ir.ArrayRef) and self.functions is not None:
            res = self.functions(e.name)  # f(x) that the frontend could not tell from a(i)
            return ExprType(res.type, res.rank) if res is not None and res.type else None
        if sym is None or sym.type is None:
            return None
        if isinstance(e, ir.Name) or sym.rank == 0:
            return ExprType(sym.type, sym.rank)  # (a character substring has rank 0)
        rank = max(0, sym.rank - len(e.subs))  # cs(i)%q: the component's own dimensions
        for s in e.subs:
            if isinstance(s, ir.Range):
                rank += 1
            else:
                t = self.of(s)
                if t is None:
                    return None
                rank += t.rank  # a vector subscript
        return ExprType(sym.type, rank)

    def _binop(self, e: ir.BinOp) -> ExprType | None:
        a, b = self.of(e.left), self.of(e.right)
        if a is None or b is None:
            return None
        rank = max(a.rank, b.rank)
        if e.op in _RELATIONAL or e.op in _LOGICAL:
            want = ("logical",) if e.op in _LOGICAL else (*_NUMERIC, "character")
            if a.base not in want or b.base not in want:
                return None  # a defined operator
            return ExprType(ir.TypeSpec("logical"), rank)
        if e.op == "//":
            ok = a.base == b.base == "character"
            return ExprType(ir.TypeSpec("character"), rank) if ok else None
        if e.op in _ARITHMETIC:
            return self.join(a, b)
        return None

    def _call(self, e: ir.Call) -> ExprType | None:
        if self.functions is not None:
            res = self.functions(e.name)
            if res is not None:
                return ExprType(res.type, res.rank) if res.type is not None else None
        info = intrinsic(e.name)
        if info is not None:
            return self._intrinsic(e, info)
        sym = self.lookup(e.name)  # an external function with a declared type
        if sym is not None and sym.type is not None:
            return ExprType(sym.type, sym.rank)
        return None

    def actuals(self, e: ir.Call, info: Intrinsic) -> dict[str, ir.Expr]:
        """Actual arguments by dummy name; a logical second argument of a reduction or of
        MAXLOC/MINLOC is the MASK (``sum(x, x > 0)``), not the DIM."""
        out: dict[str, ir.Expr] = {}
        names = list(info.args)
        for i, a in enumerate(e.args):
            if isinstance(a, ir.Keyword):
                out[a.name] = a.value
            elif i < len(names):
                if names[i] == "dim" and "mask" in names and info.rank in ("reduce", "loc"):
                    t = self.of(a)
                    if t is not None and t.base == "logical":
                        out["mask"] = a
                        continue
                out[names[i]] = a
            else:
                out[f"#{i}"] = a
        return out

    def _intrinsic(self, e: ir.Call, info: Intrinsic) -> ExprType | None:
        given = self.actuals(e, info)
        values = [a.value if isinstance(a, ir.Keyword) else a for a in e.args]
        first_expr = given.get(info.args[0]) if info.args else None
        if first_expr is None and values:
            first_expr = values[0]
        first = self.of(first_expr) if first_expr is not None else None
        kind = self._kind_spelling(given["kind"]) if "kind" in given else None
        spec = self._result_spec(info, first, [v for k, v in given.items() if k != "kind"],
                                 kind, given)  # fmt: skip
        if spec is None:
            return None
        rank = self._result_rank(info, first, given, values)
        return ExprType(spec, rank) if rank is not None else None

    def _result_spec(self, info, first, operands, kind, given) -> ir.TypeSpec | None:
        r = info.result
        if r == "arg":
            if first is None:
                return None
            return replace(first.spec, kind=kind) if kind is not None else first.spec
        if r == "join":
            types = [self.of(v) for v in operands]
            if not types or None in types:
                return None
            t = types[0]
            for u in types[1:]:
                t = self.join(t, u) if t is not None else None
            return t.spec if t is not None else None
        if r == "absval":
            if first is None:
                return None
            return ir.TypeSpec("real", _complex_kind(first.spec)) if first.base == "complex" \
                else first.spec  # fmt: skip
        if r == "real":
            if kind is None and first is not None and first.base == "complex":
                return ir.TypeSpec("real", _complex_kind(first.spec))
            return ir.TypeSpec("real", kind)
        if r == "double":
            return ir.TypeSpec("double precision")
        if r == "dcomplex":
            return ir.TypeSpec("complex", "8")
        if r in ("integer", "logical", "character", "complex"):
            return ir.TypeSpec(r, kind)
        if r == "mold":
            t = self.of(given["mold"]) if "mold" in given else None
            return t.spec if t is not None else None
        return None

    def _result_rank(self, info: Intrinsic, first, given, values) -> int | None:
        rule = info.rank
        if rule == "scalar":
            return 0
        if rule == "one":
            return 1
        if rule == "two":
            return 2
        if rule == "bounds":
            return 0 if "dim" in given else 1
        if rule == "elemental":
            ranks = [self.of(v) for v in values]
            return max((t.rank for t in ranks if t is not None), default=0)
        if first is None:
            return None
        if rule == "arg":
            return first.rank
        if rule in ("reduce", "loc"):
            if "dim" in given:
                return max(first.rank - 1, 0)
            return 0 if rule == "reduce" else 1
        if rule == "spread":
            return first.rank + 1
        if rule == "matmul":
            b = self.of(given["matrix_b"]) if "matrix_b" in given else None
            return first.rank + b.rank - 2 if b is not None else None
        if rule == "unpack":
            m = self.of(given["mask"]) if "mask" in given else None
            return m.rank if m is not None else None
        if rule == "reshape":
            shape = given.get("shape")
            if isinstance(shape, ir.ArrayCtor) and not any(
                isinstance(i, ir.ImpliedDo) for i in shape.items
            ):
                return len(shape.items)
            return None
        if rule == "transfer":
            if "size" in given:
                return 1
            m = self.of(given["mold"]) if "mold" in given else None
            return (1 if m.rank else 0) if m is not None else None
        return None

    def _kind_spelling(self, e: ir.Expr) -> str | None:
        """A KIND= actual as the kind text of a TypeSpec (``8``, ``dp``; ``kind(y)`` → the
        kind of y's type as declared)."""
        if isinstance(e, ir.Literal) and e.type == "integer":
            return e.text
        if isinstance(e, ir.Name):
            return e.name
        if isinstance(e, ir.Call) and e.name == "kind" and len(e.args) == 1:
            t = self.of(e.args[0])
            if t is not None:
                if t.spec.base in ("double precision", "double complex"):
                    return "8"
                return t.spec.kind or "4"
        if isinstance(e, ir.OpaqueExpr):
            return e.text
        n = self._kind_expr(e)
        return str(n) if n is not None else None


def literal_spec(e: ir.Literal) -> ir.TypeSpec:
    text = e.text.lower()
    if e.type in ("real", "integer", "logical") and "_" in text and not text.startswith(("'", '"')):
        return ir.TypeSpec(e.type, text.rsplit("_", 1)[1])
    if e.type == "real" and "d" in text:
        return ir.TypeSpec("double precision")
    if e.type == "complex" and "d" in text:
        return ir.TypeSpec("complex", "8")
    return ir.TypeSpec(e.type)


def _literal_kind_number(text: str) -> int | None:
    """KIND of a literal spelled in a kind expression: ``kind(1.0d0)`` → 8, ``kind(1.0)`` → 4."""
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)(d[+-]?\d+)", text):
        return 8
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", text) or text.isdigit():
        return 4
    return None


def _selected(name: str, args: list[int]) -> int | None:
    if name == "selected_int_kind":
        r = args[0] if args else 0
        return 1 if r <= 2 else 2 if r <= 4 else 4 if r <= 9 else 8 if r <= 18 else None
    p = args[0] if args else 0
    r = args[1] if len(args) > 1 else 0
    return 4 if p <= 6 and r <= 37 else 8 if p <= 15 and r <= 307 else 16


def _complex_kind(t: ir.TypeSpec) -> str | None:
    if t.base == "double complex":
        return "8"
    if t.kind is not None and t.kind.startswith("*"):  # complex*16 → 8
        return str(int(t.kind[1:]) // 2)
    return t.kind


def type_of(e: ir.Expr, lookup: Lookup, functions: Lookup | None = None) -> ExprType | None:
    """The type and rank of ``e`` in a scope (see Typer)."""
    return Typer(lookup, functions).of(e)


# Typed constants: 1 and 0 in the kind of an operand, spelled as the user would.
def real_literal(value: str, t: ir.TypeSpec | None) -> ir.Expr:
    """``value`` ("1.0"/"0.0") in type ``t``: 1.0d0, 1.0_dp, 1.0_8, or real(1, kind=...)."""
    if t is None or (t.base == "real" and t.kind is None):
        return ir.Literal(value, "real")
    if t.base == "double precision" or t.kind == "*8":
        return ir.Literal(value.replace(".0", ".0d0"), "real")
    if t.kind == "*4":
        return ir.Literal(value, "real")
    kind = (t.kind or "").replace("kind=", "")
    if kind.isidentifier() or kind.isdigit():
        return ir.Literal(f"{value}_{kind}", "real")
    return ir.Call("real", (ir.Literal(value, "real"), ir.Keyword("kind", ir.OpaqueExpr(kind))))
