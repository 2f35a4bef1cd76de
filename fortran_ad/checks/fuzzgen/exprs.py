"""Random expressions (real and integer) with tracked intervals: the first half of Gen."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

from fortran_ad.checks.fuzzgen.base import (
    AFF_N,
    FEATURES,
    MARGIN,
    NMAX,
    OPT_IN,
    Aff,
    Chooser,
    Ex,
    IntEx,
    Loop,
    R,
    Routine,
    Var,
    _flip,
    add,
    aff_text,
    const,
    fit,
    fn,
    lit,
    mul,
    scale,
    shifted,
)
from fortran_ad.checks.fuzzgen.intrinsics import binary as other_binary
from fortran_ad.checks.fuzzgen.intrinsics import spelled
from fortran_ad.checks.fuzzgen.intrinsics import unary as other_unary


class ExprGen:
    """Expressions of one program from a Chooser; see the package docstring for the invariants."""

    def __init__(
        self, ch: Chooser, exclude: frozenset[str] = frozenset(), include=frozenset()
    ) -> None:
        unknown = (exclude | include) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown fuzz features: {', '.join(sorted(unknown))}")
        self.ch = ch
        self.exclude = exclude | (OPT_IN - include)
        self.stmts_left = 0
        self.labels = 0
        self.loop_count = 0
        self.state = ""  # the module variable's name (feature module-state), set per program
        self.sequence_associated = False  # the last call_args passed an element for an array

    # -- integers ----------------------------------------------------------------------------
    def valid(self, e: IntEx, r: Routine, lo: int = 1, upper: Aff = AFF_N) -> bool:
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
        if k == 8 and "int-intrinsic" not in self.exclude and self.ch.chance(0.5):
            return scale(self.int_intrinsic(r, loops), 0.1)
        kind = "d0" if self.ch.chance(0.15) else "_dp"
        return lit(self.ch.choice([0.5, 1.5, 0.25, 2.0, 0.75, 3.0, 0.1]), kind)

    def int_intrinsic(self, r: Routine, loops: list[Loop], positive: bool = False) -> Ex:
        """An integer intrinsic's value (passive, no switch near the inputs) as an Ex whose
        text is an integer expression: size/lbound/ubound of an array, maxloc/minloc/count
        over integers and loop indices, int/nint of a passive real."""
        arrays = [v for v in r.reals if v.rank == 1]
        nlo, nhi = min(r.nrange), max(r.nrange)
        idx = self.ch.choice(loops).var if loops else "n"
        forms: list[tuple[str, float, float]] = [
            (f"nint(0.37_dp*real({idx}, dp))", 0, round(0.37 * 3 * NMAX) + 1),
            ("int(0.5_dp*real(n, dp))", nlo // 2, nhi // 2),
            (f"count([{idx} > 2, n > 6, .true.])", 1, 3),
        ]
        if "loc-intrinsic" not in self.exclude:
            forms += [(f"maxloc([2, {idx}, 3], 1)", 1, 3), (f"minloc([{idx}, 1, 2], 1)", 1, 3)]
        if arrays:
            v = self.ch.choice(arrays)
            forms += [
                (f"size({v.name}, 1)", nlo, nhi),
                (f"ubound({v.name}, 1)", nlo, nhi),
                (f"lbound({v.name}, 1)", 1, 1),
            ]
        if positive:
            forms = [f for f in forms if f[1] > 0]
        text, lo, hi = self.ch.choice(forms)
        return Ex(text, lo, hi)

    def expr(self, r: Routine, loops: list[Loop], depth: int) -> Ex:
        if depth <= 0 or self.ch.chance(0.25):
            return self.leaf(r, loops)
        k = self.ch.integer(0, 11)
        a = self.expr(r, loops, depth - 1)
        if k <= 2:
            return add(a, self.expr(r, loops, depth - 1), self.ch.choice(["+", "-"]))
        if k <= 4:
            return mul(a, self.expr(r, loops, depth - 1))
        if k == 5 and "int-divisor" not in self.exclude and self.ch.chance(0.4):
            d = self.int_intrinsic(r, loops, positive=True)
            if self.ch.chance(0.5):  # integer division inside the divisor
                d = Ex(f"({d.text}/2 + 1)", d.lo // 2 + 1, d.hi // 2 + 1)
            return mul(a, d, "/")
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
        if "all-intrinsics" not in self.exclude and self.ch.chance(0.3):
            return other_unary(self.ch, a)
        f = self.ch.choice(["tanh", "sin", "cos", "exp", "log", "sqrt", "atan", "tan", "abs"])
        e = self._unary(f, a)
        if "all-intrinsics" in self.exclude:
            return e
        return replace(e, text=spelled(self.ch, f) + e.text[len(f) :])

    def _unary(self, f: str, a: Ex) -> Ex:
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
        if "all-intrinsics" in self.exclude:
            return self._binary(a, b, loops)
        if self.ch.chance(0.3):
            return other_binary(self.ch, a, b, loops)
        e = self._binary(a, b, loops)
        f = e.text.partition("(")[0]
        return replace(e, text=spelled(self.ch, f) + e.text[len(f) :])

    def _binary(self, a: Ex, b: Ex, loops: list[Loop]) -> Ex:
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
        if "stmt-function" not in self.exclude and self.ch.chance(0.6):
            from fortran_ad.checks.fuzzgen.storage import stmt_function

            return stmt_function(self, a, self.expr(r, loops, 1))
        funcs = [c for c in r.callees if c.kind == "func" and not c.effects]
        if funcs and self.ch.chance(0.6):
            f = self.ch.choice(funcs)
            args = self.call_args(r, loops, f, None)
            if args is not None and "literal-function-argument" in self.exclude:
                args = [f"({a})" if re.fullmatch(r"[\d.]+(_dp|d0)", a) else a for a in args]
            name = self.called(f)
            if args is not None and f.result_rank:  # the sum of an array result
                return Ex(f"sum({name}({', '.join(args)}))", -0.6 * NMAX, 0.6 * NMAX)
            if args is not None:
                return Ex(f"{name}({', '.join(args)})", -R, R)
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
            whole = (
                [f for f in r.callees if f.result_rank and not f.effects]
                if sec == (0, 0, 1)
                else []
            )
            if whole and self.ch.chance(0.3):  # an array-valued function of size n
                f = self.ch.choice(whole)
                args = self.call_args(r, [], f, None, full=True)
                if args is not None:
                    return Ex(f"{self.called(f)}({', '.join(args)})", -0.6, 0.6, arr=True)
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
