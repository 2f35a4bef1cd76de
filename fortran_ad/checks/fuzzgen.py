"""Random valid, smooth Fortran modules for fuzzing the AD engine (issue 12).

Every program is a module with a head ``fuzz_head(n, x, y, cost)`` (x(n) input, y(n) inout,
cost out) and 0-2 helper routines it calls. Bodies mix nested DO loops with affine bounds
(``do j = i + 1, n - 1, 2``), DO WHILE counters, EXIT/CYCLE, IF/ELSE IF/SELECT CASE on
passive data and on active data far from the switch, in-place updates, scratch reuse, calls,
array sections, SUM and the supported intrinsics with domain-safe arguments.

Soundness comes from bookkeeping, not luck:
* every real variable but ``x`` and the accumulators stays in [-R, R] (intervals are tracked
  for every expression, results are rescaled or damped with TANH before they are stored);
* LOG/SQRT/** get arguments whose interval is positive, divisions denominators away from 0,
  ABS/SIGN/MAX/MIN/DIM/MOD/conditions on active data arguments at least MARGIN from their
  switch point (on both sides when the side depends on the parity of a loop index);
* integer subscripts are affine in ``n`` and checked at both ends of the supported n range.

``generate(seed)`` is deterministic; ``programs()`` is the same generator as a hypothesis
strategy (shrinks toward fewer, simpler statements). ``run_fuzz`` checks many programs with
``fortran_ad.api.check`` in parallel (``scripts/fuzz.py`` is its command line).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
}
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
    sig: list[tuple[str, str, int]] = field(default_factory=list)  # (dummy, intent, rank)
    private: bool = False


@dataclass
class Loop:
    var: str
    idx: IntEx
    is_do: bool
    label: str | None = None  # construct name


class Gen:
    """Builds one program from a Chooser; see the module docstring for the invariants."""

    def __init__(self, ch: Chooser, exclude: frozenset[str] = frozenset()) -> None:
        unknown = exclude - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown fuzz features: {', '.join(sorted(unknown))}")
        self.ch = ch
        self.exclude = exclude
        self.stmts_left = 0
        self.labels = 0
        self.loop_count = 0

    # -- integers ----------------------------------------------------------------------------
    def valid(self, e: IntEx, r: Routine, lo: int = 1, upper: Aff = Aff(0, 1)) -> bool:
        return all(e.lo.at(n) >= lo and e.hi.at(n) <= upper.at(n) for n in r.nrange)

    def subscripts(self, r: Routine, loops: list[Loop]) -> list[IntEx]:
        out = []
        for lp in reversed(loops):
            if not lp.is_do and "counter-subscript" in self.exclude:
                continue
            v = lp.idx
            for k in (0, -1, 1, -2, 2):
                out.append(shifted(v, k))
            out.append(IntEx(f"n + 1 - {v.text}", _flip(v.hi), _flip(v.lo)))
        if "integer-scratch" not in self.exclude:
            out.append(IntEx("kk", Aff(1), Aff(0, 1)))  # every assignment keeps 1 <= kk <= n
        return [s for s in out if self.valid(s, r)]

    def subscript(self, r: Routine, loops: list[Loop]) -> IntEx:
        subs = self.subscripts(r, loops)
        if subs and self.ch.chance(0.9):
            return self.ch.choice(subs[:4] if self.ch.chance(0.7) else subs)
        return const(self.ch.choice([Aff(1), Aff(2), Aff(0, 1), Aff(-1, 1), Aff(3)]))

    # -- real expressions --------------------------------------------------------------------
    def leaf(self, r: Routine, loops: list[Loop]) -> Ex:
        k = self.ch.integer(0, 9)
        arrays = [v for v in r.reals if v.rank == 1]
        scalars = [v for v in r.reals if v.rank == 0 and v.name != r.acc]
        if k <= 4 and arrays:
            v = self.ch.choice(arrays)
            return Ex(v.elem(self.subscript(r, loops).text), v.lo, v.hi)
        if k <= 6 and scalars:
            v = self.ch.choice(scalars)
            return Ex(v.name, v.lo, v.hi)
        if k == 7 and loops:
            v = self.ch.choice(loops).idx
            lo, hi = min(v.lo.at(n) for n in r.nrange), max(v.hi.at(n) for n in r.nrange)
            return scale(Ex(f"real({v.text}, dp)", lo, hi), 0.1)
        kind = "d0" if self.ch.chance(0.15) else "_dp"
        return lit(self.ch.choice([0.5, 1.5, 0.25, 2.0, 0.75, 3.0, 0.1]), kind)

    def expr(self, r: Routine, loops: list[Loop], depth: int) -> Ex:
        if depth <= 0 or self.ch.chance(0.25):
            return self.leaf(r, loops)
        k = self.ch.integer(0, 11)
        a = self.expr(r, loops, depth - 1)
        if k <= 2:
            return add(a, self.expr(r, loops, depth - 1), self.ch.choice(["+", "-"]))
        if k <= 4:
            return mul(a, self.expr(r, loops, depth - 1))
        if k == 5:
            return mul(a, self.denominator(self.expr(r, loops, depth - 1)), "/")
        if k <= 8:
            return self.unary(a)
        if k == 9:
            return self.binary(a, self.expr(r, loops, depth - 1), loops)
        if k == 10:
            return self.power(a, self.expr(r, loops, depth - 1), loops)
        return self.reduction_or_call(r, loops, a)

    def positive(self, e: Ex, floor: float = 0.1) -> Ex:
        """``e`` if it is >= floor, else 1 + e**2 (>= 1)."""
        if e.lo >= floor:
            return e
        low = 0.0 if e.lo <= 0 <= e.hi else min(e.lo**2, e.hi**2)
        sq = Ex(f"{e.wrap(1)}**2", low, e.mag**2, 1, e.arr)
        return add(lit(1.0), sq)

    def denominator(self, e: Ex) -> Ex:
        if e.lo >= 0.25 or e.hi <= -0.25:
            return e
        if self.ch.chance(0.5):
            return self.positive(e)
        s = fn("sin", [e], -1, 1)
        return add(lit(1.5), s)

    def unary(self, a: Ex) -> Ex:
        f = self.ch.choice(["tanh", "sin", "cos", "exp", "log", "sqrt", "atan", "tan", "abs"])
        if f == "tanh":
            return fn(f, [a], math.tanh(a.lo), math.tanh(a.hi))
        if f in ("sin", "cos"):
            return fn(f, [a], -1.0, 1.0)
        if f == "atan":
            return fn(f, [a], math.atan(a.lo), math.atan(a.hi))
        if f == "exp":
            a = a if a.mag <= 3 else fn("tanh", [a], -1, 1)
            return fn(f, [a], math.exp(a.lo), math.exp(a.hi))
        if f in ("log", "sqrt"):
            p = self.positive(a)
            g = math.log if f == "log" else math.sqrt
            return fn(f, [p], g(p.lo), g(p.hi))
        if f == "tan":
            a = a if a.mag <= 1.2 else fn("tanh", [a], -1, 1)
            return fn(f, [a], math.tan(a.lo), math.tan(a.hi))
        # abs: argument away from 0
        if a.lo >= MARGIN or a.hi <= -MARGIN:
            return fn(f, [a], min(abs(a.lo), abs(a.hi)), a.mag)
        b = add(a, lit(R + 1.0))  # a >= -R - epsilon... lo >= 1 after the shift when |a| <= R
        b = b if b.lo >= MARGIN else self.positive(a)
        return fn(f, [b], b.lo, b.hi)

    def switching(self, a: Ex, loops: list[Loop]) -> tuple[Ex, Ex] | None:
        """(a + K*real(mod(i, 2), dp), threshold c): below c - MARGIN for even i, above
        c + MARGIN for odd i. None outside loops."""
        if not loops:
            return None
        v = self.ch.choice(loops).idx
        width = a.hi - a.lo
        k = math.ceil(width + 2 * MARGIN + 0.5)
        c = round(a.hi + MARGIN + 0.25, 2)
        e = add(a, mul(lit(float(k)), Ex(f"real(mod({v.text}, 2), dp)", 0.0, 1.0)))
        return e, lit(c)

    def binary(self, a: Ex, b: Ex, loops: list[Loop]) -> Ex:
        f = self.ch.choice(["max", "min", "atan2", "sign", "dim", "mod"])
        if f == "atan2":
            d = self.positive(b, 0.25)
            return fn(f, [a, d], -math.pi / 2, math.pi / 2)
        if f == "mod":
            p = round(a.hi - a.lo + 2 * MARGIN + 0.5, 1)
            shift = round(MARGIN - a.lo + 0.05, 2)
            s = add(a, lit(shift)) if shift >= 0 else add(a, lit(-shift), "-")
            return fn(f, [s, lit(p)], s.lo, s.hi)
        sw = self.switching(a, loops)
        if sw is None:  # separated by a constant beyond a's interval, above or below
            up = self.ch.chance(0.5)
            sw = (a, lit(round(a.hi + MARGIN + 0.5 if up else a.lo - MARGIN - 0.5, 2)))
        e, c = sw
        if f == "max" and self.ch.chance(0.3):  # three arguments, the third far below
            low = lit(round(min(e.lo, c.lo) - MARGIN - 1.0, 1))
            return fn(f, [e, low, c], c.lo, max(e.hi, c.hi))
        if f == "max":
            return fn(f, [e, c], c.lo, max(e.hi, c.hi))
        if f == "min":
            return fn(f, [e, c], min(e.lo, c.lo), c.hi)
        if f == "dim":
            return fn(f, [e, c], 0.0, max(0.0, e.hi - c.lo))
        # sign(|b| away from 0, e - c)
        mag = self.positive(b, 0.25)
        diff = add(e, c, "-")
        return fn(f, [mag, diff], -mag.hi, mag.hi)

    def power(self, a: Ex, b: Ex, loops: Sequence[Loop] = ()) -> Ex:
        k = self.ch.integer(0, 4)
        if k == 0:
            p = self.ch.choice([2, 3])
            vals = [a.lo**p, a.hi**p] + ([0.0] if a.lo <= 0 <= a.hi else [])
            return Ex(f"{a.wrap(1)}**{p}", min(vals), max(vals), 1)
        base = self.positive(a, 0.2)
        if base.hi > 4:
            base = add(lit(1.5), fn("tanh", [a], -1, 1))
        if k == 1:
            q = self.ch.choice([0.5, 1.5, 2.5])
            return Ex(f"{base.wrap(1)}**{lit(q).text}", base.lo**q, base.hi**q, 1)
        if k == 2:  # active exponent, bounded
            ex = b if b.mag <= 2 else fn("tanh", [b], -1, 1)
            vals = [base.lo**ex.lo, base.lo**ex.hi, base.hi**ex.lo, base.hi**ex.hi]
            return Ex(f"{base.wrap(1)}**{ex.wrap(1)}", min(vals), max(vals), 1)
        if k == 4 and loops:  # integer variable exponent (a DO index: 0 <= i <= NMAX + 1)
            v = self.ch.choice(loops).var
            base = add(lit(1.0), mul(lit(0.25), fn("tanh", [a], -1, 1)))  # in [0.75, 1.25]
            top = 1.25 ** (NMAX + 1)
            return Ex(f"{base.wrap(1)}**{v}", 0.0, top, 1)
        vals = [base.lo**-2, base.hi**-2]
        return Ex(f"{base.wrap(1)}**(-2)", min(vals), max(vals), 1)

    def reduction_or_call(self, r: Routine, loops: list[Loop], a: Ex) -> Ex:
        funcs = [c for c in r.callees if c.kind == "func"]
        if funcs and self.ch.chance(0.6):
            f = self.ch.choice(funcs)
            args = self.call_args(r, loops, f, None)
            if args is not None and "literal-function-argument" in self.exclude:
                args = [f"({a})" if re.fullmatch(r"[\d.]+(_dp|d0)", a) else a for a in args]
            if args is not None:
                return Ex(f"{f.name}({', '.join(args)})", -R, R)
        arrays = [v for v in r.reals if v.rank == 1]
        if not arrays:
            return a
        sec = self.section(r)
        body = self.array_expr(r, sec, 1)
        count = max(n - sec[1] for n in r.nrange)
        lo, hi = min(0.0, count * body.lo), max(0.0, count * body.hi)
        return fit(fn("sum", [body], lo, hi), R)

    # -- array sections ----------------------------------------------------------------------
    def section(self, r: Routine) -> tuple[int, int, int]:
        """(offset, shrink, step): the section 1 + offset : n - shrink + offset : step (all
        operands of one statement share shrink and step, so they conform)."""
        shrink = self.ch.choice([0, 0, 1, 2])
        step = 2 if self.ch.chance(0.15) else 1
        return (self.ch.integer(0, shrink), shrink, step)

    def sec_text(self, v: Var, off: int, shrink: int, step: int, whole_ok: bool = True) -> str:
        if shrink == 0 and step == 1 and whole_ok:
            return v.sec()
        rng = f"{1 + off}:{aff_text(Aff(off - shrink, 1))}" + (f":{step}" if step != 1 else "")
        return v.sec(rng)

    def array_expr(self, r: Routine, sec: tuple[int, int, int], depth: int, avoid: str = "") -> Ex:
        """An array expression conforming to a section of length n - shrink."""
        e = self._array_expr(r, sec, depth, avoid)
        if e.arr:
            return e
        v = self.ch.choice([v for v in r.reals if v.rank == 1 and v.name != avoid])
        off = self.ch.integer(0, sec[1])
        text = self.sec_text(v, off, sec[1], sec[2], off == sec[0])
        return mul(e, Ex(text, v.lo, v.hi, arr=True))

    def _array_expr(self, r: Routine, sec: tuple[int, int, int], depth: int, avoid: str = "") -> Ex:
        _, shrink, step = sec
        arrays = [v for v in r.reals if v.rank == 1 and v.name != avoid]
        if depth <= 0 or self.ch.chance(0.3):
            if arrays and self.ch.chance(0.8):
                v = self.ch.choice(arrays)
                off = self.ch.integer(0, shrink)
                text = self.sec_text(v, off, shrink, step, off == sec[0])
                return Ex(text, v.lo, v.hi, arr=True)
            scalars = [v for v in r.reals if v.rank == 0 and v.name != r.acc]
            if scalars and self.ch.chance(0.5):
                v = self.ch.choice(scalars)
                return Ex(v.name, v.lo, v.hi)
            return lit(self.ch.choice([0.5, 0.25, 1.5]))
        a = self._array_expr(r, sec, depth - 1, avoid)
        k = self.ch.integer(0, 4)
        if k == 0:
            return add(a, self._array_expr(r, sec, depth - 1, avoid), self.ch.choice(["+", "-"]))
        if k == 1:
            return mul(a, self._array_expr(r, sec, depth - 1, avoid))
        if k == 2:
            return mul(a, self.denominator(self._array_expr(r, sec, depth - 1, avoid)), "/")
        return self.unary(a)

    # -- statements --------------------------------------------------------------------------
    def block(self, r: Routine, loops: list[Loop], depth: int, ind: int, lo: int, hi: int):
        out: list[str] = []
        for _ in range(self.ch.integer(lo, hi)):
            if self.stmts_left <= 0:
                break
            self.stmts_left -= 1
            out += self.stmt(r, loops, depth, ind)
        if not out:
            out += self.assign(r, loops, ind)
        return out

    def stmt(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        kinds = ["assign", "assign", "update", "acc"]
        if depth > 0:
            kinds += ["do", "do", "if", "select", "while"]
        kinds += ["array", "sum"]
        if r.callees:
            kinds += ["call", "call"]
        if loops and loops[-1].is_do:
            kinds += ["jump"]
        if "integer-scratch" not in self.exclude:
            kinds += ["int"]
        k = self.ch.choice(kinds)
        if k == "int":
            return ["  " * ind + self.integer_scratch(loops)]
        if k == "assign":
            return self.assign(r, loops, ind)
        if k == "update":
            return self.update(r, loops, ind)
        if k == "acc":
            e = self.expr(r, loops, 2)
            return [f"{'  ' * ind}{r.acc} = {r.acc} + {fit(e, 1.0).wrap(3)}"]
        if k == "do":
            return self.do(r, loops, depth, ind)
        if k == "while":
            return self.while_(r, loops, depth, ind)
        if k == "if":
            return self.if_(r, loops, depth, ind)
        if k == "select":
            return self.select(r, loops, depth, ind)
        if k == "array":
            return self.array_assign(r, loops, ind)
        if k == "sum":
            sec = self.section(r)
            body = self.array_expr(r, sec, 2)
            ts = [v for v in r.reals if v.rank == 0 and v.writable and v.name != r.acc]
            t = self.ch.choice(ts) if ts else None
            count = NMAX
            s = fn("sum", [body], min(0.0, count * body.lo), max(0.0, count * body.hi))
            if t is None or self.ch.chance(0.3):
                return [f"{'  ' * ind}{r.acc} = {r.acc} + {fit(s, 1.0).wrap(3)}"]
            return [f"{'  ' * ind}{t.name} = {fit(s).text}"]
        if k == "call":
            return self.call(r, loops, ind)
        return self.jump(r, loops, ind)

    def target(self, r: Routine, loops: list[Loop]) -> str | None:
        ws = [v for v in r.reals if v.writable and v.name != r.acc]
        if not ws:
            return None
        v = self.ch.choice(ws)
        return v.name if v.rank == 0 else v.elem(self.subscript(r, loops).text)

    def assign(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        t = self.target(r, loops)
        e = self.expr(r, loops, 3)
        if t is None:
            return [f"{'  ' * ind}{r.acc} = {r.acc} + {fit(e, 1.0).wrap(3)}"]
        return [f"{'  ' * ind}{t} = {fit(e).text}"]

    def update(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        t = self.target(r, loops)
        if t is None:
            return self.assign(r, loops, ind)
        old = Ex(t, -R, R)
        e = self.expr(r, loops, 2)
        form = self.ch.integer(0, 2)
        if form == 0:
            new = add(scale(old, self.ch.choice([0.5, 0.9, 0.25])), fit(e, 1.0))
        elif form == 1:
            new = mul(old, fn("tanh", [e], -1, 1))
        else:
            new = add(old, mul(lit(0.5), fn("sin", [mul(old, e)], -1, 1)))
        return [f"{'  ' * ind}{t} = {fit(new).text}"]

    def array_assign(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        ws = [v for v in r.reals if v.writable and v.rank == 1]
        if not ws:
            return self.assign(r, loops, ind)
        v = self.ch.choice(ws)
        sec = self.section(r)
        if self.ch.chance(0.4):  # in place: the target's own section on the right
            own = Ex(self.sec_text(v, *sec), v.lo, v.hi)
            rhs = add(scale(own, 0.5), fit(self.array_expr(r, sec, 2, v.name), 1.0))
        else:
            rhs = self.array_expr(r, sec, 2, v.name)
        return [f"{'  ' * ind}{self.sec_text(v, *sec)} = {fit(rhs).text}"]

    def bounds(self, r: Routine, loops: list[Loop]) -> tuple[str, IntEx, int] | None:
        """(bounds text, index range, step) of a new loop, or None if none fits."""
        outer = loops[-1].idx if loops and self.ch.chance(0.5) else None
        starts = [const(Aff(1)), const(Aff(2)), const(Aff(3))]
        stops = [const(Aff(0, 1)), const(Aff(-1, 1)), const(Aff(-2, 1))]
        if outer is not None:
            starts += [outer, shifted(outer, 1)]
            stops += [outer, shifted(outer, -1)]
        for _ in range(8):
            a, b = self.ch.choice(starts), self.ch.choice(stops)
            step = self.ch.choice([1, 1, 1, 2, 3, -1, -2])
            if step < 0:
                a, b = b, a
            idx = IntEx("", a.lo, b.hi) if step > 0 else IntEx("", b.lo, a.hi)
            never_empty = all(
                (a.hi.at(n) <= b.lo.at(n)) if step > 0 else (a.lo.at(n) >= b.hi.at(n))
                for n in r.nrange
            )
            if abs(step) > 1 and "empty-strided-loop" in self.exclude and not never_empty:
                continue
            if self.valid(idx, r, 0, Aff(1, 1)):
                text = f"{a.text}, {b.text}" + (f", {step}" if step != 1 else "")
                return text, idx, step
        return None

    def loop_var(self, loops: list[Loop]) -> str:
        if "loop-index-reuse" in self.exclude:
            self.loop_count += 1
            return f"i{self.loop_count}"
        used = {lp.var for lp in loops}
        return next(v for v in ("i", "j", "k", "l") if v not in used)

    def do(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        b = self.bounds(r, loops)
        if b is None or len(loops) >= 3:
            return self.assign(r, loops, ind)
        text, rng, _ = b
        var = self.loop_var(loops)
        label = None
        if "named-loop" not in self.exclude and self.ch.chance(0.15):
            self.labels += 1
            label = f"loop{self.labels}"
        inner = [*loops, Loop(var, IntEx(var, rng.lo, rng.hi), True, label)]
        body = self.block(r, inner, depth - 1, ind + 1, 1, 4)
        name = f"{label}: " if label else ""
        out = ["  " * ind + f"{name}do {var} = {text}", *body, "  " * ind + f"end do {label or ''}"]
        out[-1] = out[-1].rstrip()
        ts = [v for v in r.reals if v.rank == 0 and v.writable and v.name != r.acc]
        if ts and self.ch.chance(0.15):  # the index after the loop: last value + step, or EXIT's
            t = self.ch.choice(ts).name
            out.append("  " * ind + f"{t} = 0.5_dp*{t} + 0.01_dp*real({var}, dp)")
        return out

    def while_(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        if len(loops) >= 3:
            return self.assign(r, loops, ind)
        c = self.ch.integer(2, 4)
        inner = [*loops, Loop("m", IntEx("m", Aff(1), Aff(c)), False)]
        if any(lp.var == "m" for lp in loops):
            return self.assign(r, loops, ind)
        cond = f"m < {c}"
        if self.ch.chance(0.3):  # and an active condition (m < c still bounds the trips)
            cond += f" .and. {self.active_cond(r, loops)}"
        body = self.block(r, inner, depth - 1, ind + 1, 1, 3)
        return [
            "  " * ind + "m = 0",
            "  " * ind + f"do while ({cond})",
            "  " * (ind + 1) + "m = m + 1",
            *body,
            "  " * ind + "end do",
        ]

    def integer_scratch(self, loops: list[Loop]) -> str:
        """An update of kk that keeps 1 <= kk <= n (loop indices are >= 0)."""
        forms = ["kk = n + 1 - kk", "kk = mod(kk, n) + 1", "kk = mod(2*kk + 1, n) + 1"]
        if loops:
            v = self.ch.choice(loops).var
            forms += [f"kk = mod(3*{v} + 1, n) + 1", f"kk = mod({v} + kk, n) + 1"]
        return self.ch.choice(forms)

    def passive_cond(self, loops: list[Loop]) -> str:
        if not loops:
            return self.ch.choice(["n > 6", "n <= 8", "mod(n, 2) == 0"])
        v = self.ch.choice(loops).var
        return self.ch.choice(
            [
                f"mod({v}, 2) == 0",
                f"{v} > n/2",
                f"{v} <= 3",
                f"{v} == 2",
                f"mod({v} + 1, 3) /= 0",
                f"{v} > 1 .and. {v} < n - 1",
            ]
        )

    def active_cond(self, r: Routine, loops: list[Loop]) -> str:
        a = self.expr(r, loops, 1)
        sw = self.switching(a, loops)
        if sw is not None and self.ch.chance(0.7):
            e, c = sw
            return f"{e.text} > {c.text}" if self.ch.chance(0.5) else f"{c.text} < {e.text}"
        c = round(a.lo - MARGIN - 1.0, 1) if self.ch.chance(0.5) else round(a.hi + MARGIN + 1, 1)
        op = ">" if c < a.lo else "<"
        return f"{a.text} {op} {lit(c).wrap(3)}"

    def cond(self, r: Routine, loops: list[Loop]) -> str:
        return self.active_cond(r, loops) if self.ch.chance(0.4) else self.passive_cond(loops)

    def if_(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        out = ["  " * ind + f"if ({self.cond(r, loops)}) then"]
        out += self.block(r, loops, depth - 1, ind + 1, 1, 3)
        for _ in range(self.ch.integer(0, 1)):
            out.append("  " * ind + f"else if ({self.cond(r, loops)}) then")
            out += self.block(r, loops, depth - 1, ind + 1, 1, 2)
        if self.ch.chance(0.5):
            out.append("  " * ind + "else")
            out += self.block(r, loops, depth - 1, ind + 1, 1, 2)
        return [*out, "  " * ind + "end if"]

    def select(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        sel = f"mod({self.ch.choice(loops).var}, 3)" if loops else "mod(n, 3)"
        cases = self.ch.choice([["0", "1"], ["1:2"], ["0", "2"], ["2"]])
        if loops and self.ch.chance(0.3):  # the index itself, with open ranges
            sel = self.ch.choice(loops).var
            cases = self.ch.choice([[":2", "3:4"], ["5:"], ["1", "2:3", "6:"]])
        out = ["  " * ind + f"select case ({sel})"]
        for case in cases:
            out.append("  " * (ind + 1) + f"case ({case})")
            out += self.block(r, loops, depth - 1, ind + 2, 1, 2)
        if self.ch.chance(0.6):
            out.append("  " * (ind + 1) + "case default")
            out += self.block(r, loops, depth - 1, ind + 2, 1, 2)
        return [*out, "  " * ind + "end select"]

    def jump(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        word = self.ch.choice(["cycle", "exit"])
        v, label = loops[-1].var, loops[-1].label
        if label and self.ch.chance(0.7):
            word += f" {label}"
        cond = self.ch.choice([f"{v} == 3", f"mod({v}, 4) == 0", f"{v} > n - 2"])
        return ["  " * ind + f"if ({cond}) {word}"]

    # -- calls -------------------------------------------------------------------------------
    def call_args(
        self, r: Routine, loops: list[Loop], callee: Routine, written: set[str] | None
    ) -> list[str] | None:
        """Actual arguments for ``callee``; ``written`` collects bases the call may write."""
        short = self.ch.chance(0.3) and r.nrange[0] - 1 >= callee.nrange[0]
        args = ["n - 1" if short else "n"]
        taken: set[str] = set()
        outs = {d for d, intent, _ in callee.sig if intent != "in"}
        # writable actuals first, so inputs can avoid them (no aliasing)
        chosen: dict[str, str] = {}
        for d, _intent, rank in callee.sig:
            if d not in outs:
                continue
            cands = [v for v in r.reals if v.writable and v.rank == rank and v.name != r.acc]
            cands = [v for v in cands if v.name not in taken]
            if not cands:
                return None
            v = self.ch.choice(cands)
            taken.add(v.name)
            chosen[d] = v.name if rank == 0 else self.actual_array(v, short)
        for d, _intent, rank in callee.sig:
            if d in outs:
                continue
            if rank == 1:
                cands = [v for v in r.reals if v.rank == 1 and v.name not in taken]
                if not cands:
                    return None
                chosen[d] = self.actual_array(self.ch.choice(cands), short)
            else:
                chosen[d] = fit(self.scalar_actual(r, loops, taken)).text
        if written is not None:
            written |= taken
        return args + [chosen[d] for d, _, _ in callee.sig]

    def scalar_actual(self, r: Routine, loops: list[Loop], taken: set[str]) -> Ex:
        """An expression for an intent(in) scalar dummy that reads no variable the call writes
        (no aliasing)."""
        e = self.expr(r, loops, 1)
        for _ in range(5):
            words = set(re.findall(r"[a-z]\w*", e.text))
            if not (taken & words or ("sum-in-actual" in self.exclude and "sum" in words)):
                return e
            e = self.leaf(r, loops)
        return lit(0.5)

    def actual_array(self, v: Var, short: bool) -> str:
        """A whole array, or for a dummy of size n - 1 a section or (sequence association) the
        element the sequence starts at."""
        if not short:
            return v.sec()
        forms = [v.sec("2:n"), v.sec("1:n - 1")]
        if "sequence-association" not in self.exclude:
            forms.append(v.elem("2"))
        return self.ch.choice(forms)

    def call(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        subs = [c for c in r.callees if c.kind == "sub"]
        if not subs:
            return self.assign(r, loops, ind)
        c = self.ch.choice(subs)
        args = self.call_args(r, loops, c, set())
        if args is None:
            return self.assign(r, loops, ind)
        return ["  " * ind + f"call {c.name}({', '.join(args)})"]

    # -- routines ----------------------------------------------------------------------------
    def helper(self, name: str, callees: list[Routine]) -> Routine:
        func = self.ch.chance(0.4)
        sig: list[tuple[str, str, int]] = [("a", "in", 1)]
        if not func:
            sig.append(("b", self.ch.choice(["inout", "inout", "out"]), 1))
        if self.ch.chance(0.6):
            sig.append(("c", "in", 0))
        if not func and self.ch.chance(0.6):
            sig.append(("s", self.ch.choice(["out", "out", "inout"]), 0))
        reals = [Var(d, rank, writable=intent != "in") for d, intent, rank in sig]
        reals += [Var("t", 0), Var("acc", 0)]
        if self.ch.chance(0.5):
            reals.append(Var("w", 1))
        r = Routine(
            name,
            "func" if func else "sub",
            ["n"] + [d for d, _, _ in sig],
            reals,
            (NMIN - 1, NMAX),
            "acc",
            callees=callees,
            sig=sig,
            private=self.ch.chance(0.2) and "private-helper" not in self.exclude,
        )
        if func:
            r.result = self.ch.choice([name, "res"])
        return r

    def body(self, r: Routine, budget: int) -> None:
        intents = {d: intent for d, intent, _ in r.sig}
        defined = [
            v.name for v in r.reals if v.rank == 1 and intents.get(v.name) in ("in", "inout")
        ]
        init = []
        for v in r.reals:
            if intents.get(v.name) in ("in", "inout"):
                continue  # defined on entry
            if v.name == r.acc:
                init.append(f"{v.name} = 0.0_dp")
            elif v.rank == 1:
                src = Ex(self.ch.choice(defined), -R, R)
                e = fn("tanh", [src], -1, 1) if self.ch.chance(0.5) else src
                init.append(f"{v.sec()} = {scale(e, 0.5).text}")
            else:
                init.append(f"{v.name} = {lit(self.ch.choice([0.5, 0.25, 1.0])).text}")
        if "integer-scratch" not in self.exclude:
            init.append("kk = 1")
        self.stmts_left = budget
        self.loop_count = 0
        lines = [*init, *self.block(r, [], 3, 0, 2, 6)]
        # every output depends on the body: fold the accumulator in at the end
        res = r.result or next((d for d, i, k in r.sig if i == "out" and k == 0), None)
        if r.kind == "head":
            rest = [v.name if v.rank == 0 else f"sum({v.sec()})" for v in r.reals[3:]]
            rest.append(self.ch.choice(["0.1_dp*sum(y**2)", "0.1_dp*sum(y)", "y(1)"]))
            if "independent-output" in self.exclude:  # every output depends on every input
                rest.append("0.01_dp*sum(x)")
                lines.append("y(1) = y(1) + 0.01_dp*x(n)")
            lines.append(" + ".join([f"{r.acc} = {r.acc}", *rest]))
        elif res is not None:
            lines.append(f"{res} = tanh({r.acc})")
        else:
            outs = [d for d, i, k in r.sig if i != "in" and k == 1]
            lines.append(f"{outs[0]}(1) = {outs[0]}(1) + 0.1_dp*tanh({r.acc})")
        r.lines = lines


def _flip(a: Aff) -> Aff:
    """n + 1 - a."""
    return Aff(1 - a.c0, 1 - a.c1)


# -- rendering -----------------------------------------------------------------------------
def _decls(r: Routine) -> list[str]:
    out = ["integer, intent(in) :: n"]
    for d, intent, rank in r.sig:
        out.append(f"real(dp), intent({intent}) :: {d}{'(n)' if rank else ''}")
    locals_ = [v for v in r.reals if v.name not in r.args]
    scal = [v.name for v in locals_ if v.rank == 0]
    arr = list(
        dict.fromkeys(
            f"{v.name}(n, 2)" if v.col else f"{v.name}(n)" for v in locals_ if v.rank == 1
        )
    )
    if scal or arr:
        out.append(f"real(dp) :: {', '.join(scal + arr)}")
    ints = sorted({v for line in r.lines for v in re.findall(r"\bdo (\w+) =", line)})
    ints += [v for v in ("m", "kk") if _uses(r.lines, v)]
    if ints:
        out.append(f"integer :: {', '.join(ints)}")
    return out


def _uses(lines: list[str], var: str) -> bool:
    pat = re.compile(rf"\b{var}\b")
    return any(pat.search(line) for line in lines)


def _wrap(line: str, width: int = 100) -> list[str]:
    """Free-form continuation lines (gfortran's limit is 132 columns), split at spaces."""
    indent = line[: len(line) - len(line.lstrip())] + "    "
    out: list[str] = []
    while len(line) > width:
        cut = line.rfind(" ", len(indent) + 10, width)
        if cut < 0:
            cut = line.find(" ", width)
            if cut < 0:
                break
        out.append(line[:cut] + " &")
        line = indent + "& " + line[cut + 1 :]
    return [*out, line]


def _render(r: Routine) -> list[str]:
    args = ", ".join(r.args)
    if r.kind == "func":
        res = f" result({r.result})" if r.result != r.name else ""
        head = f"function {r.name}({args}){res}"
        decls = [*_decls(r), f"real(dp) :: {r.result}"]
        end = f"end function {r.name}"
    else:
        head = f"subroutine {r.name}({args})"
        decls = _decls(r)
        end = f"end subroutine {r.name}"
    body = [w for line in r.lines for w in _wrap("    " + line)]
    return ["  " + head, *("    " + d for d in decls), *body, "  " + end]


@dataclass(frozen=True)
class FuzzProgram:
    """One generated program and the check to run on it (names end in ``suffix``)."""

    seed: int
    routines: str  # the module procedures, as text
    n: int
    suffix: str = ""
    private: tuple[str, ...] = ()
    wrt: tuple[str, ...] = ("x", "y")
    of: tuple[str, ...] = ("y", "cost")

    @property
    def source(self) -> str:
        """The whole module."""
        lines = [
            f"! fortran-ad fuzz program, seed {self.seed}: fortran-ad check THIS_FILE",
            f"!   --head {self.head} --wrt {','.join(self.wrt)} --of {','.join(self.of)} "
            f"--size n={self.n}",
            f"module {self.module}",
            *_module_spec(self.private),
            self.routines,
            f"end module {self.module}",
        ]
        return "\n".join(lines) + "\n"

    @property
    def head(self) -> str:
        return HEAD + self.suffix

    @property
    def module(self) -> str:
        return "fuzz_mod" + self.suffix

    @property
    def sizes(self) -> dict[str, int]:
        return {"n": self.n}

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        return {"x": X_RANGE, "y": X_RANGE}

    @property
    def stem(self) -> str:
        return f"fuzz_{self.seed}"

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.stem}.f90"
        path.write_text(self.source)
        return path

    def cli_args(self, path: str, modes: Sequence[str] = ("reverse", "forward")) -> list[str]:
        """Arguments of ``python -m fortran_ad check`` for this program (the default input
        range of the check, [0.5, 1.5], is X_RANGE)."""
        return [
            "check",
            path,
            "--head",
            self.head,
            "--wrt",
            ",".join(self.wrt),
            "--of",
            ",".join(self.of),
            "--size",
            f"n={self.n}",
            "--modes",
            ",".join(modes),
        ]


def _module_spec(private: Sequence[str]) -> list[str]:
    out = ["  implicit none", "  integer, parameter :: dp = kind(1.0d0)"]
    out += _wrap(f"  private :: {', '.join(private)}") if private else []
    return [*out, "contains"]


def build_program(
    ch: Chooser, seed: int = 0, suffix: str = "", exclude: frozenset[str] = frozenset()
) -> FuzzProgram:
    """A program drawn from ``ch`` (see the module docstring); routine and module names end
    in ``suffix`` so that several programs can be linked together."""
    g = Gen(ch, exclude)
    helpers: list[Routine] = []
    for k in range(ch.integer(0, 2)):
        callees = helpers[:] if helpers and ch.chance(0.5) else []
        h = g.helper(f"fuzz_h{k + 1}{suffix}", callees)
        g.body(h, ch.integer(2, 6))
        helpers.append(h)
    reals = [Var("x", 1, *X_RANGE, writable=False), Var("y", 1), Var("cost", 0)]
    reals += [Var(f"t{k}", 0) for k in range(1, ch.integer(1, 3) + 1)]
    reals += [Var(f"w{k}", 1) for k in range(1, ch.integer(0, 2) + 1)]
    if ch.chance(0.3):
        reals += [Var("z", 1, col=1), Var("z", 1, col=2)]
    sig = [("x", "in", 1), ("y", "inout", 1), ("cost", "out", 0)]
    head = Routine(
        HEAD + suffix,
        "head",
        ["n", "x", "y", "cost"],
        reals,
        (NMIN, NMAX),
        "cost",
        callees=helpers,
        sig=sig,
    )
    g.body(head, ch.integer(3, 14))
    routines: list[str] = []
    for r in [*helpers, head]:
        routines += ["", *_render(r)]
    n = ch.integer(NMIN, min(NMAX, 9))
    private = tuple(h.name for h in helpers if h.private)
    wrt = ch.choice([("x", "y"), ("x", "y"), ("x",), ("y",)])
    of = ch.choice([("y", "cost"), ("y", "cost"), ("cost",), ("y",)])
    return FuzzProgram(seed, "\n".join(routines), n, suffix, private, wrt, of)


def generate(seed: int, exclude: frozenset[str] = frozenset(), suffix: str = "") -> FuzzProgram:
    """The program for ``seed`` (same seed, same bytes)."""
    return build_program(RandomChooser(seed), seed, suffix, exclude)


def programs(exclude: frozenset[str] = frozenset()) -> Any:
    """Hypothesis strategy of FuzzProgram; shrinking simplifies the program."""
    from hypothesis import strategies as st

    @st.composite
    def _programs(draw: Callable[[Any], Any]) -> FuzzProgram:
        return build_program(DrawChooser(draw), exclude=exclude)

    return _programs()


# -- batches: several programs behind one head, checked with one build ------------------------
@dataclass(frozen=True)
class Batch:
    """Programs (names suffixed ``_<seed>``) called one after the other by ``fuzz_batch``."""

    programs: tuple[FuzzProgram, ...]

    def var(self, name: str, p: FuzzProgram) -> str:
        return f"{name}_{p.seed}"

    @property
    def wrt(self) -> list[str]:
        return [self.var(v, p) for p in self.programs for v in p.wrt]

    @property
    def of(self) -> list[str]:
        return [self.var(v, p) for p in self.programs for v in p.of]

    @property
    def sizes(self) -> dict[str, int]:
        return {self.var("n", p): p.n for p in self.programs}

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        return {self.var(v, p): r for p in self.programs for v, r in p.ranges.items()}

    def source(self) -> str:
        """One module: every program's routines, then ``fuzz_batch`` calling each head."""
        ps = self.programs
        args = [self.var(v, p) for p in ps for v in ("n", "x", "y", "cost")]
        lines = ["module fuzz_batch_mod", *_module_spec([h for p in ps for h in p.private])]
        lines += [p.routines for p in ps]
        lines += ["", *_wrap(f"  subroutine fuzz_batch({', '.join(args)})")]
        for p in ps:
            n, x, y, c = (self.var(v, p) for v in ("n", "x", "y", "cost"))
            lines += [
                f"    integer, intent(in) :: {n}",
                f"    real(dp), intent(in) :: {x}({n})",
                f"    real(dp), intent(inout) :: {y}({n})",
                f"    real(dp), intent(out) :: {c}",
            ]
        for p in ps:
            lines.append(
                f"    call {p.head}({', '.join(self.var(v, p) for v in ('n', 'x', 'y', 'cost'))})"
            )
        lines += ["  end subroutine fuzz_batch", "end module fuzz_batch_mod"]
        return "\n".join(lines) + "\n"


# -- running checks --------------------------------------------------------------------------
@dataclass(frozen=True)
class FuzzResult:
    """Outcome of checking one program: status "passed" | "failed" | "error"."""

    seed: int
    status: str
    detail: str  # the check table, the tool's error message or a traceback
    seconds: float


MODES = ("reverse", "forward")


def _check(
    sources: list[Path], head: str, wrt, of, sizes, ranges, modes: Sequence[str] = MODES
) -> tuple[str, str]:
    """(status, detail) of ``fortran_ad.api.check`` in ``modes``; never raises."""
    import traceback

    from fortran_ad import api
    from fortran_ad.errors import FortranADError

    try:
        report = api.check(
            sources,
            wrt=wrt,
            of=of,
            head=head,
            sizes=sizes,
            ranges=ranges,
            modes=tuple(modes),
        )
    except FortranADError as exc:
        return "error", f"fortran-ad refused a valid program:\n{exc.render()}"
    except Exception:  # noqa: BLE001 - a crash of the tool is a finding: report it, go on
        return "error", f"fortran-ad crashed:\n{traceback.format_exc()}"
    if report.ok:
        return "passed", report.table()
    return ("error" if report.error else "failed"), report.table()


def check_program(program: FuzzProgram, folder: Path, modes: Sequence[str] = MODES) -> FuzzResult:
    """Write ``program`` into ``folder`` and check it with ``fortran_ad.api.check``.

    "failed": a derivative check row failed; "error": the tool refused the (valid) program,
    crashed, or its generated code did not compile or run.
    """
    import time

    start = time.perf_counter()
    path = program.write(folder)
    p = program
    status, detail = _check([path], p.head, p.wrt, p.of, p.sizes, p.ranges, modes)
    return FuzzResult(p.seed, status, detail, time.perf_counter() - start)


def check_batch(
    seeds: Sequence[int],
    folder: Path,
    exclude: frozenset[str] = frozenset(),
    modes: Sequence[str] = MODES,
) -> list[FuzzResult]:
    """Check the programs of ``seeds`` with one build; if that fails, check each alone
    (with its standalone names) to find the culprits. A batch that fails while every program
    passes alone is reported as a failure of its first program, with the batch's table."""
    import time

    start = time.perf_counter()
    batch = Batch(tuple(generate(s, exclude, f"_{s}") for s in seeds))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fuzz_batch.f90"
    path.write_text(batch.source())
    b = batch
    status, detail = _check([path], "fuzz_batch", b.wrt, b.of, b.sizes, b.ranges, modes)
    each = (time.perf_counter() - start) / len(seeds)
    if status == "passed":
        return [FuzzResult(s, status, "", each) for s in seeds]
    alone = [check_program(generate(s, exclude), folder / f"alone_{s}", modes) for s in seeds]
    if all(r.status == "passed" for r in alone):
        why = f"the batch of seeds {', '.join(map(str, seeds))} failed, each alone passes:\n"
        alone[0] = FuzzResult(seeds[0], status, why + detail, alone[0].seconds)
    return alone


@dataclass
class FuzzSummary:
    results: list[FuzzResult]
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def ok(self) -> bool:
        return all(r.status == "passed" for r in self.results)

    @property
    def failures(self) -> list[FuzzResult]:
        return [r for r in self.results if r.status != "passed"]

    def line(self) -> str:
        return (
            f"programs {len(self.results)}, passed {self.count('passed')}, "
            f"failed {self.count('failed')}, errors {self.count('error')} "
            f"({self.seconds:.0f} s)"
        )


def _run_batch(
    task: tuple[tuple[int, ...], str, frozenset[str], tuple[str, ...]],
) -> list[FuzzResult]:
    seeds, folder, exclude, modes = task
    return check_batch(seeds, Path(folder) / f"batch_{seeds[0]}", exclude, modes)


def run_fuzz(
    count: int,
    seed: int = 0,
    jobs: int = 1,
    batch: int = 5,
    exclude: frozenset[str] = frozenset(),
    progress: Callable[[FuzzResult], None] | None = None,
    modes: Sequence[str] = MODES,
) -> FuzzSummary:
    """Check the programs of seeds ``seed .. seed + count - 1``: ``batch`` programs per build,
    ``jobs`` builds at a time. Results come in seed order."""
    import tempfile
    import time
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    seeds = list(range(seed, seed + count))
    results: list[FuzzResult] = []
    with tempfile.TemporaryDirectory(prefix="fortran-ad-fuzz-") as tmp:
        tasks = [
            (tuple(seeds[k : k + batch]), tmp, exclude, tuple(modes))
            for k in range(0, count, batch)
        ]
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            for rs in pool.map(_run_batch, tasks):
                for r in rs:
                    results.append(r)
                    if progress is not None:
                        progress(r)
    return FuzzSummary(results, time.perf_counter() - start)
