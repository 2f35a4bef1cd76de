"""Indirect addressing (feature ``indirect``): an integer index array ``ix(n)`` filled from
``mod(a*i + b, n) + 1`` (repeated targets) or ``n + 1 - i`` (a permutation), then read as a
subscript. Where the adjoint's hard cases live: a gather ``w(i) = f(u(ix(i)))`` whose adjoint
scatters into ``ub(ix(i))`` (under ``!$omp parallel do``: per-thread partial arrays or atomics),
a serial scatter ``w(ix(i)) = 0.5 w(ix(i)) + c u(i)`` whose iterations depend on each other
through repeated targets, and an ``!$omp atomic`` increment ``w(ix(i)) = w(ix(i)) + ...``.

Values stay in [-R, R]: the atomic increments are bounded by ``0.5/n`` each after ``w`` is
scaled by 0.75 (|w| <= 0.75 R + n (0.5/n) = R for R = 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.checks.fuzzgen.base import Ex, Loop, R, Routine, add, fit, fn, lit, mul
from fortran_ad.checks.fuzzgen.nests import parallel_do

if TYPE_CHECKING:
    from fortran_ad.checks.fuzzgen.stmts import Gen


def fill(g: Gen, i: str, pad: str) -> list[str]:
    """The passive loop that fills ``ix``."""
    if g.ch.chance(0.25):
        value = f"n + 1 - {i}"
    else:
        a, b = g.ch.choice([2, 3, 5]), g.ch.integer(0, 3)
        value = f"mod({a}*{i}{f' + {b}' if b else ''}, n) + 1"
    return [f"{pad}do {i} = 1, n", f"{pad}  ix({i}) = {value}", f"{pad}end do"]


def indirect_kernel(g: Gen, r: Routine, loops: list[Loop], ind: int) -> list[str]:
    arrays = [v for v in r.reals if v.rank == 1]
    ws = [v for v in arrays if v.writable]
    if not ws or len(loops) >= 2:
        return g.assign(r, loops, ind)
    w = g.ch.choice(ws)
    i = g.loop_var(loops)
    pad, body = "  " * ind, "  " * (ind + 1)
    out = fill(g, i, pad)
    kind = g.ch.choice(["gather", "gather", "scatter", "atomic"])
    if kind == "gather":
        srcs = [a for a in arrays if not a.shares(w)]
        if not srcs:
            return out + g.assign(r, loops, ind)
        u, v = g.ch.choice(srcs), g.ch.choice(arrays)
        ui = Ex(u.elem(f"ix({i})"), u.lo, u.hi)
        vi = Ex(v.elem(i), v.lo, v.hi)
        c = g.ch.choice([0.5, 0.3, 0.7])
        e = add(mul(lit(c), ui), mul(mul(lit(0.4), vi), fn("cos", [ui], -1, 1)))
        out += parallel_do(g, pad, i, "1", "n")
        return [*out, f"{body}{w.elem(i)} = {fit(e).text}", f"{pad}end do"]
    srcs = arrays if kind == "scatter" else [a for a in arrays if not a.shares(w)]
    if not srcs:  # the atomic loop is parallel: it reads no array it writes
        return out + g.assign(r, loops, ind)
    u = g.ch.choice(srcs)
    ui = Ex(u.elem(i), u.lo, u.hi)
    wi = Ex(w.elem(f"ix({i})"), w.lo, w.hi)
    if kind == "scatter":
        e = add(mul(lit(0.5), wi), mul(lit(0.3), fn("sin", [ui], -1, 1)))
        return [*out, f"{pad}do {i} = 1, n", f"{body}{wi.text} = {fit(e).text}", f"{pad}end do"]
    assert R == 2.0  # the bound in the module docstring
    inc = mul(lit(0.5), fn("tanh", [mul(ui, ui)], 0, 1))
    omp = [f"{pad}!$omp parallel do"] if "openmp" not in g.exclude else []
    return [
        *out,
        f"{pad}{w.sec()} = 0.75_dp*{w.sec()}",
        *omp,
        f"{pad}do {i} = 1, n",
        *([f"{body}!$omp atomic"] if omp else []),
        f"{body}{wi.text} = {wi.text} + ({inc.text})/n",
        f"{pad}end do",
    ]
