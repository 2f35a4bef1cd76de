"""The fortran-ad IR: Fortran-shaped, structured, frozen, and located.

Every pass takes an IR and returns a new one; nobody mutates a tree (frozen dataclasses and
tuples enforce it). Names are lower case. Literals keep their text (and so their kind) as written.
The frontend (``frontend/lower.py``) is the only producer from source; ``ir/types.py`` types
its expressions; ``ir/printer.py`` prints it back. Leaves (locations, expressions, types,
symbols) live in ``ir/exprs.py``; this module adds statements and units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fortran_ad.ir.exprs import (
    NOWHERE as NOWHERE,
)
from fortran_ad.ir.exprs import (  # re-exported: the IR is one namespace
    ArrayCtor as ArrayCtor,
)
from fortran_ad.ir.exprs import (
    ArrayRef as ArrayRef,
)
from fortran_ad.ir.exprs import (
    BinOp as BinOp,
)
from fortran_ad.ir.exprs import (
    Call as Call,
)
from fortran_ad.ir.exprs import (
    Dim as Dim,
)
from fortran_ad.ir.exprs import (
    Expr as Expr,
)
from fortran_ad.ir.exprs import (
    ImpliedDo as ImpliedDo,
)
from fortran_ad.ir.exprs import (
    Keyword as Keyword,
)
from fortran_ad.ir.exprs import (
    Literal as Literal,
)
from fortran_ad.ir.exprs import (
    Name as Name,
)
from fortran_ad.ir.exprs import (
    OpaqueExpr as OpaqueExpr,
)
from fortran_ad.ir.exprs import (
    Paren as Paren,
)
from fortran_ad.ir.exprs import (
    Range as Range,
)
from fortran_ad.ir.exprs import (
    SourceLoc as SourceLoc,
)
from fortran_ad.ir.exprs import (
    Spelling as Spelling,
)
from fortran_ad.ir.exprs import (
    Symbol as Symbol,
)
from fortran_ad.ir.exprs import (
    TypeSpec as TypeSpec,
)
from fortran_ad.ir.exprs import (
    UnOp as UnOp,
)

# --------------------------------------------------------------------------------------------
# Specification items (kept in order for faithful re-emission)


class SpecItem:
    loc: SourceLoc


@dataclass(frozen=True)
class Use(SpecItem):
    module: str
    only: tuple[tuple[str, str], ...] | None = None  # (local, remote); None: whole module
    renames: tuple[tuple[str, str], ...] = ()  # for USE without ONLY
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True)
class Implicit(SpecItem):
    """``implicit none`` (rules == ()) or rules like ('double precision', 'a-h')."""

    rules: tuple[tuple[str, str], ...] = ()
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True)
class Entity:
    name: str
    dims: tuple[Dim, ...] = ()
    init: Expr | None = None
    length: str | None = None  # character*len on the entity


@dataclass(frozen=True)
class TypeDecl(SpecItem):
    type: TypeSpec
    attrs: tuple[str, ...]  # as text, e.g. "intent(in)", "parameter", "dimension(n)"
    entities: tuple[Entity, ...]
    dims: tuple[Dim, ...] = ()  # from a DIMENSION(...) attribute, for entities without their own
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True)
class AttrStmt(SpecItem):
    """An attribute statement (DIMENSION, PARAMETER, INTENT, SAVE, ...), re-emitted verbatim.

    ``targets`` gives each named entity its dims/init; ``attr`` is "dimension", "parameter",
    "intent(in)", "save", ...
    """

    text: str
    attr: str
    targets: tuple[Entity, ...]
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True)
class Common(SpecItem):
    block: str  # "" for blank common
    members: tuple[Entity, ...]
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True)
class OpaqueSpec(SpecItem):
    """A specification statement kept verbatim (DATA, EQUIVALENCE, interface blocks, ...)."""

    text: str
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True)
class TypeDef(OpaqueSpec):
    """A derived-type definition: re-emitted verbatim (``text``), its data components known as
    Symbols so that component paths (``s%p%c``) resolve to a type, rank and attributes."""

    name: str = ""
    components: tuple[Symbol, ...] = ()  # a PRIVATE one carries the attribute "private"
    parent: str | None = None  # EXTENDS(parent): its components and bindings are inherited
    bindings: tuple[Binding, ...] = ()  # the type-bound procedure part

    def component(self, name: str) -> Symbol | None:
        return next((c for c in self.components if c.name == name), None)

    def binding(self, name: str) -> Binding | None:
        return next((b for b in self.bindings if b.name == name), None)


@dataclass(frozen=True)
class Binding:
    """One type-bound procedure: ``procedure[, pass(p) | nopass] :: name => procedure`` (a
    specific: ``procedure`` set, ``specifics`` empty) or ``generic :: name => b1, b2`` (its
    specifics are binding names of the same type). ``passed``: the passed-object dummy's name,
    "" for the first dummy, None for NOPASS. ``deferred``: no procedure of its own."""

    name: str
    procedure: str | None = None
    specifics: tuple[str, ...] = ()
    passed: str | None = ""
    deferred: bool = False
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True)
class Interface(OpaqueSpec):
    """An interface block, re-emitted verbatim (``text``). ``name`` is the generic name (None
    for a plain block of external interfaces); ``procedures`` the specifics it names (MODULE
    PROCEDURE or bodies); ``bodies`` the routine names whose interfaces the block declares."""

    name: str | None = None
    procedures: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommentSpec(SpecItem):
    text: str
    loc: SourceLoc = NOWHERE


# --------------------------------------------------------------------------------------------
# Statements


class Stmt:
    loc: SourceLoc
    label: str | None


@dataclass(frozen=True)
class Assign(Stmt):
    target: Expr
    value: Expr
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class PointerAssign(Stmt):
    """``p => t`` (``value`` a designator or ``null()``); NULLIFY(p) is ``p => null()``."""

    target: Expr
    value: Expr
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class CallStmt(Stmt):
    name: str
    args: tuple[Expr, ...]
    loc: SourceLoc = NOWHERE
    label: str | None = None
    spelled: Spelling | None = field(default=None, compare=False)  # see Call


@dataclass(frozen=True)
class Parallel:
    """How a loop runs in parallel: an OpenMP worksharing loop or DO CONCURRENT.

    ``kind``: "parallel do" (``!$omp parallel do``), "do" (an orphaned ``!$omp do``) or
    "concurrent". Clause lists hold lower-case names; ``reduction`` pairs an operator with its
    names; ``other`` keeps clauses fortran-ad does not interpret (``nowait``, ``if(...)``)
    verbatim. For DO CONCURRENT ``private`` is LOCAL, ``firstprivate`` LOCAL_INIT.
    """

    kind: str
    private: tuple[str, ...] = ()
    firstprivate: tuple[str, ...] = ()
    lastprivate: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    reduction: tuple[tuple[str, tuple[str, ...]], ...] = ()
    schedule: str | None = None
    collapse: int = 1
    default: str | None = None
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class Do(Stmt):
    """A counted DO loop. ``end_label`` set for ``DO 10 i = ...`` (ends at ``10 CONTINUE``)."""

    var: str
    start: Expr
    stop: Expr
    step: Expr | None
    body: tuple[Stmt, ...]
    name: str | None = None  # construct name
    end_label: str | None = None
    directives: tuple[str, ...] = ()  # e.g. OpenMP lines kept with the loop
    loc: SourceLoc = NOWHERE
    label: str | None = None
    parallel: Parallel | None = None  # OpenMP / DO CONCURRENT (frontend/omp.py)


@dataclass(frozen=True)
class DoWhile(Stmt):
    cond: Expr | None  # None: endless ``do`` (left by EXIT)
    body: tuple[Stmt, ...]
    name: str | None = None
    end_label: str | None = None
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class If(Stmt):
    """IF construct: branches (cond, body) in order, then an optional ELSE body.

    ``inline`` marks a logical IF statement (one branch, one simple statement).
    """

    branches: tuple[tuple[Expr, tuple[Stmt, ...]], ...]
    else_body: tuple[Stmt, ...] | None = None
    name: str | None = None
    inline: bool = False
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Case:
    """One CASE: selectors are Exprs or Ranges (``lo:hi``); empty tuple means DEFAULT."""

    selectors: tuple[Expr, ...]
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class Select(Stmt):
    expr: Expr
    cases: tuple[Case, ...]
    name: str | None = None
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Return(Stmt):
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Exit(Stmt):
    name: str | None = None
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Cycle(Stmt):
    name: str | None = None
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Stop(Stmt):
    code: str | None = None  # as written
    error: bool = False  # ERROR STOP
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Continue(Stmt):
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Goto(Stmt):
    """``GO TO l`` (no ``index``); computed ``GO TO (l1, l2, ...) index``; or, with
    ``arithmetic``, ``IF (index) l1, l2, l3`` (negative, zero, positive). normalize/goto.py
    turns them into structured control flow before differentiation."""

    targets: tuple[str, ...]
    index: Expr | None = None
    arithmetic: bool = False
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Comment(Stmt):
    text: str  # including the leading "!"
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Opaque(Stmt):
    """A statement kept verbatim (I/O, ALLOCATE of passive data, ...).

    ``reads``/``writes`` name the variables it touches so analyses stay sound.
    """

    text: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Where(Stmt):
    """WHERE construct (or statement): (mask, body) per WHERE / masked ELSEWHERE, then an
    optional ELSEWHERE body. Bodies hold array assignments and nested WHEREs."""

    branches: tuple[tuple[Expr, tuple[Stmt, ...]], ...]
    else_body: tuple[Stmt, ...] | None = None
    name: str | None = None
    inline: bool = False  # a WHERE statement
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Forall(Stmt):
    """FORALL construct (or statement): index triplets (var, lo, hi, step), optional mask."""

    specs: tuple[tuple[str, Expr, Expr, Expr | None], ...]
    mask: Expr | None
    body: tuple[Stmt, ...]
    name: str | None = None
    inline: bool = False
    loc: SourceLoc = NOWHERE
    label: str | None = None


@dataclass(frozen=True)
class Associate(Stmt):
    """ASSOCIATE construct: (associate name, selector) pairs and the block."""

    assocs: tuple[tuple[str, Expr], ...]
    body: tuple[Stmt, ...]
    name: str | None = None
    loc: SourceLoc = NOWHERE
    label: str | None = None


# --------------------------------------------------------------------------------------------
# Program units


@dataclass(frozen=True)
class Routine:
    name: str
    kind: str  # "subroutine" | "function" | "program"
    args: tuple[str, ...]
    spec: tuple[SpecItem, ...]
    body: tuple[Stmt, ...]
    symbols: tuple[Symbol, ...]  # every declared or implicitly typed local/dummy, in order
    result: str | None = None  # function result variable (the function name if no RESULT)
    result_clause: bool = False  # RESULT(...) was written
    prefix: tuple[str, ...] = ()  # pure, elemental, recursive, or a type for functions
    contains: tuple[Routine, ...] = ()  # internal procedures
    comments: tuple[str, ...] = ()  # comments preceding the unit
    loc: SourceLoc = NOWHERE
    # the name as written when ``name`` was made unique (same-named procedures of two modules,
    # normalize/scoping.py); primal code refers to it so
    source_name: str | None = None

    @property
    def written_name(self) -> str:
        return self.source_name or self.name

    def symbol(self, name: str) -> Symbol | None:
        for s in self.symbols:
            if s.name == name:
                return s
        return None


@dataclass(frozen=True)
class Module:
    name: str
    spec: tuple[SpecItem, ...]
    symbols: tuple[Symbol, ...]
    routines: tuple[Routine, ...]
    comments: tuple[str, ...] = ()
    loc: SourceLoc = NOWHERE

    def symbol(self, name: str) -> Symbol | None:
        for s in self.symbols:
            if s.name == name:
                return s
        return None

    def routine(self, name: str) -> Routine | None:
        for r in self.routines:
            if r.name == name:
                return r
        return None


@dataclass(frozen=True)
class OpaqueUnit:
    """A program unit kept verbatim (BLOCK DATA, ...)."""

    text: str
    loc: SourceLoc = NOWHERE


Unit = Module | Routine | OpaqueUnit


@dataclass(frozen=True)
class SourceFile:
    path: str
    units: tuple[Unit, ...]
    fixed_form: bool = False
    trailing_comments: tuple[str, ...] = field(default=())
