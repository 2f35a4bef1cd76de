"""Building blocks of the fuzz generator: choosers, expressions with interval bounds, affine
subscripts, variables, routines and loops."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
#: Constructs that can be left out (``exclude=``), e.g. while a bug they trigger is open.
FEATURES = {
    "sequence-association": "pass an array element y(2) to an explicit-shape array dummy",
    "empty-strided-loop": "DO loops with |step| > 1 whose trip count can be zero",
    "sum-in-actual": "SUM inside an expression passed as an actual argument",
    "literal-function-argument": "a real literal as an actual argument of a user function",
    "named-loop": "DO constructs with a name (loop1: do ...), EXIT/CYCLE naming it",
    "loop-index-reuse": "sibling DO loops share index variables (i, j, ...)",
    "counter-subscript": "DO WHILE counters as subscripts",
    "private-helper": "helpers declared PRIVATE in the module",
    "independent-output": "outputs that may not depend on every --wrt input",
    "integer-scratch": "an integer kk (kk = mod(3*i + 1, n) + 1, kk = n + 1 - kk) as subscript",
    "input-counter": "kk read before an inner loop that bumps it and after it (input counters)",
    "int-intrinsic": "size, lbound, ubound, int, nint, count in real expressions",
    "loc-intrinsic": "maxloc/minloc(.., 1) in real expressions",
    "int-divisor": "integer intrinsics as divisors, and integer division of them",
    "kernels": "stencils, private temporaries, IF/ELSE arms, reductions (the loop rewrites)",
    "index-argument": "helpers take the caller's kk as an integer inout argument, read it as a "
    "subscript and change it; the caller reads kk after the call",
    "rewrite-kernels": "loop shapes for block_local, distinct, handoff, count_up",
    "element-actual": "an array element as the actual of an inout/out scalar dummy",
    "module-state": "a real module variable the head sets and helpers read and update "
    "(functions only read it; never an actual argument)",
    "nests": "2-D nests: a matrix filled from two arrays, then a five-point stencil or "
    "products matmul(g2, v) (gather_nest, column_updates)",
    "indirect": "an integer index array ix(n) (repeated targets or a permutation) as subscript: "
    "gathers (also parallel), serial scatters, !$omp atomic increments",
    "openmp": "loops with independent iterations under !$omp parallel do or as DO CONCURRENT",
    "array-function": "functions returning an array of size n, used whole in array "
    "expressions and summed in scalar ones",
    "generic": "helpers also reached through a generic interface of their own",
    "pointer-alias": "a local POINTER associated with a local TARGET array of the head (or "
    "the section of all of it), read "
    "and written beside it (never an actual argument)",
    "stmt-function": "statement functions, one declared after another's definition",
    "associate": "ASSOCIATE of an element, a section or an expression",
    "side-effect-function": "functions that change an INOUT array argument, referenced "
    "alone in a statement: in an accumulation and in an IF condition (a passive result)",
    "save-state": "SAVE locals: a table filled on the first call from constants, a scalar "
    "written before it is read",
    "allocatable": "allocatable and pointer local arrays: ALLOCATE, assignment (also "
    "allocation on assignment), DEALLOCATE",
    "derived-type": "a local of derived type in the head (a real scalar and an allocatable "
    "array component), read and written like other locals, components passed as actuals",
    "type-actual": "a helper subroutine taking the head's derived-type local whole "
    "(INTENT(INOUT)), reading and writing its components",
    "type-bound": "that helper also a type-bound procedure of the type (pass(st), a CLASS "
    "dummy), called as call st%hb(...)",
    "all-intrinsics": "the rest of the rule table (log10, asin, acos, sinh, cosh, asinh, acosh, "
    "atanh, erf, erfc, hypot, modulo, merge), specific names (dsqrt, dmax1, ...), real/dble, "
    "and aint, anint, floor of active data",
}
#: Features left out unless asked for (``include=``): new ones, until they passed 50+ programs
#: in every mode. Empty now: int-divisor and loc-intrinsic went on after 160 programs,
#: module-state after 110, index-argument, element-actual and rewrite-kernels after 3,400;
#: nests, openmp, stmt-function, associate, allocatable, array-function and generic after
#: 60-280 programs using each in reverse and forward mode, 35-97 in the vector modes
#: (array-function: not there, VECTOR_UNSUPPORTED); pointer-alias after 78 and 29;
#: save-state after 1,040 programs (442 using it) and 60 in the vector modes (15);
#: side-effect-function after 2,450 programs and 100 in the vector modes (17); all-intrinsics
#: after 300 programs (250 using it) and 60 in the vector modes; derived-type after 260 (~100);
#: indirect after 1,300 programs (~500 using it) and 200 in the vector modes (69); type-actual
#: after 1,100 (~140 using it), type-bound after 660 (96 using it).
OPT_IN: frozenset[str] = frozenset()
#: Features whose programs the vector modes refuse with a located error (array results, whole
#: array components as actual arguments).
VECTOR_UNSUPPORTED = frozenset({"array-function", "derived-type", "type-actual", "type-bound"})


def excluded(exclude: frozenset[str], modes) -> frozenset[str]:
    """``exclude`` and, when a vector mode is checked, what those modes do not support."""
    vector = any(m.startswith("vector") for m in modes)
    return exclude | VECTOR_UNSUPPORTED if vector else exclude


R = 2.0  # bound of every state variable
MARGIN = 0.3  # distance from switch points of nonsmooth intrinsics and active conditions
NMIN, NMAX = 5, 12  # the head is valid for these n; helpers also for n - 1
HEAD = "fuzz_head"
X_RANGE = (0.5, 1.5)


# -- choices: random.Random (seeded) or hypothesis draws ----------------------------------------
class Chooser(Protocol):
    def integer(self, lo: int, hi: int) -> int: ...
    def choice(self, items: Sequence[T]) -> T: ...
    def chance(self, p: float) -> bool: ...


class RandomChooser:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


class DrawChooser:
    """Hypothesis draws; every choice shrinks toward its first/smallest/False option."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st

        return int(self.draw(st.integers(lo, hi)))

    def choice(self, items: Sequence[T]) -> T:
        return items[self.integer(0, len(items) - 1)]

    def chance(self, p: float) -> bool:
        return self.integer(0, 99) >= 100 - round(100 * p)


# -- values: real expressions with intervals, integer expressions affine in n --------------------
@dataclass(frozen=True)
class Ex:
    """Fortran text, value interval, precedence (0 primary, 1 power, 2 product, 3 sum/neg)."""

    text: str
    lo: float
    hi: float
    prec: int = 0
    arr: bool = False  # has an array-valued operand (array statements and SUM need one)

    @property
    def mag(self) -> float:
        return max(abs(self.lo), abs(self.hi))

    def wrap(self, limit: int) -> str:
        return f"({self.text})" if self.prec >= limit else self.text


def lit(v: float, kind: str = "_dp") -> Ex:
    v = round(v, 2) + 0.0  # + 0.0: no "-0.0"
    text = f"{v:.2f}".rstrip("0")
    text = (text + "0" if text.endswith(".") else text) + kind
    return Ex(text, v, v, 3 if text.startswith("-") else 0)


def add(a: Ex, b: Ex, op: str = "+") -> Ex:
    lo, hi = (a.lo + b.lo, a.hi + b.hi) if op == "+" else (a.lo - b.hi, a.hi - b.lo)
    return Ex(f"{a.text} {op} {b.wrap(3)}", lo, hi, 3, a.arr or b.arr)


def mul(a: Ex, b: Ex, op: str = "*") -> Ex:
    if op == "/":
        assert b.lo > 0 or b.hi < 0, b
        cands = [a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi]
    else:
        cands = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
    return Ex(f"{a.wrap(3)}{op}{b.wrap(2)}", min(cands), max(cands), 2, a.arr or b.arr)


def fn(name: str, args: Sequence[Ex], lo: float, hi: float) -> Ex:
    arr = name != "sum" and any(a.arr for a in args)
    return Ex(f"{name}({', '.join(a.text for a in args)})", lo, hi, 0, arr)


def scale(e: Ex, c: float) -> Ex:
    return mul(lit(c), e)


def fit(e: Ex, bound: float = R) -> Ex:
    """``e`` scaled or damped into [-bound, bound]."""
    if e.mag <= bound:
        return e
    if e.mag <= 25 * bound:
        c = math.floor(100 * bound / e.mag) / 100
        return scale(e, c) if c > 0 else scale(fn("tanh", [e], -1, 1), bound)
    return scale(fn("tanh", [e], -1.0, 1.0), bound)


@dataclass(frozen=True)
class Aff:
    """c0 + c1*n."""

    c0: int
    c1: int = 0

    def at(self, n: int) -> int:
        return self.c0 + self.c1 * n

    def __add__(self, k: int) -> Aff:
        return Aff(self.c0 + k, self.c1)


@dataclass(frozen=True)
class IntEx:
    """An integer expression whose value lies in [lo, hi] (affine in n)."""

    text: str
    lo: Aff
    hi: Aff


def aff_text(a: Aff) -> str:
    if a.c1 == 0:
        return str(a.c0)
    base = "n" if a.c1 == 1 else f"{a.c1}*n"
    return base if a.c0 == 0 else f"{base} {'+' if a.c0 > 0 else '-'} {abs(a.c0)}"


def const(a: Aff) -> IntEx:
    return IntEx(aff_text(a), a, a)


def shifted(v: IntEx, k: int) -> IntEx:
    if k == 0:
        return v
    return IntEx(f"{v.text} {'+' if k > 0 else '-'} {abs(k)}", v.lo + k, v.hi + k)


# -- routines and scopes -------------------------------------------------------------------
@dataclass
class Var:
    """A real variable; rank 1 with ``col`` > 0 is column ``col`` of a local ``name(n, 2)``."""

    name: str
    rank: int  # 0 or 1 (size n)
    lo: float = -R
    hi: float = R
    writable: bool = True
    col: int = 0
    glob: bool = False  # a module variable (declared in the module, not the routine)
    alias: str = ""  # a POINTER associated with this local TARGET array (feature pointer-alias)

    def shares(self, other: Var) -> bool:
        """Same storage: the same variable, or a pointer and its target."""
        names = {self.name, self.alias} - {""}
        return bool(names & {other.name, other.alias})

    def elem(self, sub: str) -> str:
        return f"{self.name}({sub}, {self.col})" if self.col else f"{self.name}({sub})"

    def sec(self, rng: str | None = None) -> str:
        """The section ``rng`` ("2:n"), or the whole array (column) for None."""
        if self.col:
            return f"{self.name}({rng or ':'}, {self.col})"
        return f"{self.name}({rng})" if rng else self.name


@dataclass
class Routine:
    name: str
    kind: str  # "head" | "sub" | "func"
    args: list[str]
    reals: list[Var]
    nrange: tuple[int, int]
    acc: str  # accumulator: written only by acc = acc + ..., never read elsewhere
    lines: list[str] = field(default_factory=list)
    callees: list[Routine] = field(default_factory=list)
    result: str | None = None
    result_rank: int = 0  # 1: the function returns an array of size n (feature array-function)
    generic: str = ""  # a generic interface naming it alone (feature generic)
    sig: list[tuple[str, str, int]] = field(default_factory=list)  # (dummy, intent, rank)
    private: bool = False
    effects: bool = False  # a function that changes its INOUT array b (side-effect-function)
    int_arg: bool = False  # takes the caller's kk: ``(n, kk, ...)``, integer intent(inout)
    dtype: str = ""  # the type of its local ``st`` (feature derived-type; reals st%s, st%v)
    type_arg: bool = False  # ``st`` is its last dummy, INTENT(INOUT) (feature type-actual)
    bound: str = ""  # also the binding ``bound`` of st's type, pass(st) (feature type-bound)


@dataclass
class Loop:
    var: str
    idx: IntEx
    is_do: bool
    label: str | None = None  # construct name


def _flip(a: Aff) -> Aff:
    """n + 1 - a."""
    return Aff(1 - a.c0, 1 - a.c1)


AFF_N = Aff(0, 1)  # the affine expression n
