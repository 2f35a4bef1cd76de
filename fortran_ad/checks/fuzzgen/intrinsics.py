"""The rest of the derivative rule table in random expressions (feature ``all-intrinsics``).

``exprs.py`` draws the common elemental functions; this module draws every other intrinsic
``ad/core/rules.py`` differentiates, the double-precision specific names (DSQRT, DMAX1, ...),
type conversions of active data and piecewise constants (AINT, ANINT, FLOOR) on active data,
whose derivative is zero. Each argument is first mapped into the function's domain, away from
its singular and switch points by ``MARGIN``, so that finite differences stay valid."""

from __future__ import annotations

import math
from collections.abc import Sequence

from fortran_ad.checks.fuzzgen.base import MARGIN, Chooser, Ex, Loop, add, fn, lit, mul

#: generic name -> double-precision specific name (arguments are real(dp))
SPECIFIC = {
    "sqrt": "dsqrt",
    "exp": "dexp",
    "log": "dlog",
    "sin": "dsin",
    "cos": "dcos",
    "tan": "dtan",
    "tanh": "dtanh",
    "atan": "datan",
    "abs": "dabs",
    "max": "dmax1",
    "min": "dmin1",
    "sign": "dsign",
    "dim": "ddim",
    "mod": "dmod",
    "atan2": "datan2",
}
UNARY = ("log10", "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc")
UNARY_PASSIVE = ("aint", "anint", "floor", "convert")
BINARY = ("hypot", "modulo", "merge")


def spelled(ch: Chooser, name: str) -> str:
    """``name`` or, now and then, its double-precision specific name."""
    return SPECIFIC[name] if name in SPECIFIC and ch.chance(0.25) else name


def _bounded(a: Ex, limit: float) -> Ex:
    """``a`` if |a| <= limit, else ``limit*tanh(a)`` (strictly inside (-limit, limit))."""
    if a.mag <= limit:
        return a
    return mul(lit(limit), fn("tanh", [a], math.tanh(a.lo), math.tanh(a.hi)))


def _positive(a: Ex) -> Ex:
    """``a`` if it is >= 0.1, else ``1 + a**2``."""
    if a.lo >= 0.1:
        return a
    low = 0.0 if a.lo <= 0 <= a.hi else min(a.lo**2, a.hi**2)
    return add(lit(1.0), Ex(f"{a.wrap(1)}**2", low, a.mag**2, 1, a.arr))


def unary(ch: Chooser, a: Ex) -> Ex:
    """One of UNARY or UNARY_PASSIVE applied to (a function of) ``a``."""
    f = ch.choice([*UNARY, *UNARY_PASSIVE])
    if f == "log10":
        p = _positive(a)
        return fn(f, [p], math.log10(p.lo), math.log10(p.hi))
    if f in ("asin", "acos", "atanh"):  # singular at +-1
        b = _bounded(a, 0.8)
        g = {"asin": math.asin, "acos": math.acos, "atanh": math.atanh}[f]
        vals = [g(b.lo), g(b.hi)]
        return fn(f, [b], min(vals), max(vals))
    if f in ("sinh", "cosh"):
        b = _bounded(a, 2.0)
        if f == "sinh":
            return fn(f, [b], math.sinh(b.lo), math.sinh(b.hi))
        low = 1.0 if b.lo <= 0 <= b.hi else min(math.cosh(b.lo), math.cosh(b.hi))
        return fn(f, [b], low, math.cosh(b.mag))
    if f == "asinh":
        return fn(f, [a], math.asinh(a.lo), math.asinh(a.hi))
    if f == "acosh":  # singular at 1: the argument is >= 1.3
        p = add(lit(1.2), _positive(a))
        return fn(f, [p], math.acosh(p.lo), math.acosh(p.hi))
    if f == "erf":
        return fn(f, [a], math.erf(a.lo), math.erf(a.hi))
    if f == "erfc":  # decreasing
        return fn(f, [a], math.erfc(a.hi), math.erfc(a.lo))
    if f == "convert":  # real(a, dp) or dble(a): the identity on real(dp) data
        return fn("dble", [a], a.lo, a.hi) if ch.chance(0.5) else _real_dp(a)
    # piecewise constants: 0.4*tanh(a) + c stays inside one step, so the value is constant
    k = ch.integer(-2, 2)
    inner = _bounded(a, 0.4)
    centre = float(k) if f == "anint" else k + 0.5  # ANINT switches at k + 0.5
    s = add(inner, lit(centre)) if centre >= 0 else add(inner, lit(-centre), "-")
    value = float(math.trunc(centre)) if f == "aint" else float(k)  # AINT truncates to 0
    if f == "floor":
        return Ex(f"real(floor({s.text}), dp)", value, value, 0, s.arr)
    return fn(f, [s], value, value)


def _real_dp(a: Ex) -> Ex:
    return Ex(f"real({a.text}, dp)", a.lo, a.hi, 0, a.arr)


def binary(ch: Chooser, a: Ex, b: Ex, loops: Sequence[Loop]) -> Ex:
    """HYPOT, MODULO (of a negative argument, where it differs from MOD) or MERGE."""
    f = ch.choice(BINARY)
    if f == "hypot":  # singular at (0, 0): the second argument is >= 0.1
        p = _positive(b)
        return fn(f, [a, p], p.lo, math.hypot(a.mag, p.hi))
    if f == "modulo":  # s in [-(width + MARGIN), -MARGIN], p beyond: modulo(s, p) = s + p
        width = a.hi - a.lo
        p = round(width + 2 * MARGIN + 0.5, 1)
        s = add(a, lit(round(a.hi + MARGIN + 0.05, 2)), "-")
        return fn(f, [s, lit(p)], s.lo + p, s.hi + p)
    # merge(a, b, mask): the mask is passive (a loop index's parity, or n)
    mask = f"mod({ch.choice(loops).var}, 2) == 0" if loops else ch.choice(["n > 7", "n <= 8"])
    arr = a.arr or b.arr
    return Ex(f"merge({a.text}, {b.text}, {mask})", min(a.lo, b.lo), max(a.hi, b.hi), 0, arr)
