"""The IR's leaves: source locations, expressions, types and symbols (``ir/nodes.py`` builds
specification items, statements and program units on them and is the namespace passes import:
``from fortran_ad.ir import nodes as ir``)."""

from __future__ import annotations

from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------------
# Locations


@dataclass(frozen=True)
class SourceLoc:
    """A place in the user's sources (1-based line and column)."""

    file: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = SourceLoc("<generated>", 0, 0)

# --------------------------------------------------------------------------------------------
# Expressions


class Expr:
    """Base class of expressions."""


@dataclass(frozen=True)
class Name(Expr):
    """A variable, or a derived-type component path ``s%p%c`` (no subscripts before the last
    part; ``ir.walk.var_of`` gives the variable ``s``). ArrayRef names may be paths too."""

    name: str


@dataclass(frozen=True)
class Literal(Expr):
    """A constant exactly as written: ``0.1d0``, ``1.0_dp``, ``2``, ``.true.``, ``'abc'``."""

    text: str
    type: str  # "real" | "integer" | "logical" | "character" | "complex"


@dataclass(frozen=True)
class Range(Expr):
    """A subscript triplet ``lo:hi:step``; any part may be absent."""

    lo: Expr | None = None
    hi: Expr | None = None
    step: Expr | None = None


@dataclass(frozen=True)
class ArrayRef(Expr):
    """An array element or section ``a(i, 2:n)``. ``head`` subscripts (the first ones) belong
    to the variable when it is an array of derived type: ``cs(i)%q(k)`` is
    ``ArrayRef("cs%q", (i, k), head=1)``, ``cs(:)%h`` is ``ArrayRef("cs%h", (:,), head=1)``."""

    name: str
    subs: tuple[Expr, ...]
    head: int = 0


@dataclass(frozen=True)
class Keyword(Expr):
    """A keyword actual argument ``dim=1`` (only inside Call args)."""

    name: str
    value: Expr


@dataclass(frozen=True)
class Call(Expr):
    """A function reference, intrinsic or user-defined."""

    name: str
    args: tuple[Expr, ...]
    spelled: Spelling | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Spelling:
    """How the source named a call resolved to ``specific``: through a generic interface
    (``name`` the generic) or a type binding (``name`` "%binding", the passed object the
    actual argument at ``passed``; a NOPASS binding: ``name`` "obj%binding", ``passed`` -1).
    Primal calls are emitted so spelled (the specific may be private to its module); a call
    renamed to another procedure (a derivative) ignores it."""

    specific: str
    name: str
    passed: int = -1


@dataclass(frozen=True)
class BinOp(Expr):
    """Binary operation; ``op`` is one of OPS_BINARY (relational ops in their symbolic form)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnOp(Expr):
    op: str  # "-", "+", ".not."
    operand: Expr


@dataclass(frozen=True)
class Paren(Expr):
    """Parentheses as the user wrote them (they fix evaluation order, so we keep them)."""

    expr: Expr


@dataclass(frozen=True)
class ArrayCtor(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ImpliedDo(Expr):
    """An implied DO inside an array constructor: ``(items, var = lo, hi[, step])``."""

    items: tuple[Expr, ...]
    var: str
    lo: Expr
    hi: Expr
    step: Expr | None = None


@dataclass(frozen=True)
class OpaqueExpr(Expr):
    """An expression we do not model (kept verbatim; an error where it could be active)."""

    text: str
    names: tuple[str, ...] = ()  # variables it mentions, for the analyses
    base: str | None = None  # the variable a designator like ``s%a(i)`` refers to


# --------------------------------------------------------------------------------------------
# Types and symbols


@dataclass(frozen=True)
class TypeSpec:
    """``base`` is real, integer, logical, character, complex, double precision or type(name).

    ``kind`` is the kind text as written (``dp``, ``8``, ``kind(1.0d0)``) or None.
    """

    base: str
    kind: str | None = None
    length: str | None = None  # CHARACTER length as written

    @property
    def is_real(self) -> bool:
        return self.base in ("real", "double precision")


@dataclass(frozen=True)
class Dim:
    """One dimension of an array declaration.

    ``kind``: "explicit" (lo:hi, lo may be None for 1), "assumed" (``:`` or ``lo:``),
    "deferred" (allocatable/pointer ``:``), "assumed_size" (``*`` or ``lo:*``).
    """

    kind: str
    lo: Expr | None = None
    hi: Expr | None = None


@dataclass(frozen=True)
class Symbol:
    name: str
    type: TypeSpec | None  # None: implicitly typed (resolved by ir.symbols.implicit_type)
    dims: tuple[Dim, ...] = ()
    intent: str | None = None  # "in" | "out" | "inout"
    attrs: frozenset[str] = frozenset()  # parameter save allocatable pointer target optional ...
    init: Expr | None = None
    loc: SourceLoc = NOWHERE

    @property
    def rank(self) -> int:
        return len(self.dims)
