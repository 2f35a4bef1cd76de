"""Loop shapes the adjoint's loop rewrites act on (fortran_ad/ad/rewrites/__init__.py), so the
fuzzer reaches them: stencils (gather, fission), private temporaries (recompute, block_local),
IF/ELSE arms assigning the same element (common_record) and reductions into the accumulator (simd,
reduce). Each reads arrays the loop does not write and stays in [-R, R]."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.checks.fuzzgen.base import (
    AFF_N,
    Aff,
    Ex,
    IntEx,
    Loop,
    R,
    Routine,
    Var,
    add,
    fit,
    fn,
    lit,
    mul,
)
from fortran_ad.checks.fuzzgen.nests import parallel_do

if TYPE_CHECKING:
    from fortran_ad.checks.fuzzgen.stmts import Gen


def kernel(g: Gen, r: Routine, loops: list[Loop], ind: int) -> list[str]:
    arrays = [v for v in r.reals if v.rank == 1]
    ws = [v for v in arrays if v.writable]
    if not ws or len(loops) >= 3:
        return g.assign(r, loops, ind)
    w = g.ch.choice(ws)
    srcs = [a for a in arrays if not a.shares(w)]
    if not srcs:
        return g.assign(r, loops, ind)
    v = g.ch.choice(srcs)
    i = g.loop_var(loops)
    pad, body = "  " * ind, "  " * (ind + 1)

    def at(k: int) -> Ex:
        sub = i if k == 0 else f"{i} {'+' if k > 0 else '-'} {abs(k)}"
        return Ex(v.elem(sub), v.lo, v.hi)

    kind = g.ch.choice(["stencil", "stencil", "temp", "arms", "reduction"])
    if kind == "stencil":
        terms = [mul(lit(g.ch.choice([0.25, 0.5, 0.3])), at(k)) for k in (-1, 0, 1)]
        e = add(add(terms[0], terms[1]), terms[2])
        head = parallel_do(g, pad, i, "2", "n - 1")
        return [*head, f"{body}{w.elem(i)} = {fit(e).text}", f"{pad}end do"]
    ts = [s for s in r.reals if s.rank == 0 and s.writable and s.name != r.acc]
    if kind == "temp" and ts:
        t = g.ch.choice(ts)
        first = fit(mul(at(0), Ex(v.elem(f"n + 1 - {i}"), v.lo, v.hi)))
        tv = Ex(t.name, first.lo, first.hi)
        second = fit(add(mul(tv, fn("tanh", [at(0)], -1, 1)), mul(lit(0.5), tv)))
        return [
            f"{pad}do {i} = 1, n",
            f"{body}{t.name} = {first.text}",
            f"{body}{w.elem(i)} = {second.text}",
            f"{pad}end do",
        ]
    if kind in ("arms", "temp"):
        return [
            f"{pad}do {i} = 1, n",
            f"{body}if (mod({i}, 2) == 0) then",
            f"{body}  {w.elem(i)} = {fit(mul(lit(0.5), mul(at(0), at(0)))).text}",
            f"{body}else",
            f"{body}  {w.elem(i)} = {fn('sin', [at(0)], -1, 1).text}",
            f"{body}end if",
            f"{pad}end do",
        ]
    e = fit(mul(at(0), fn("cos", [at(0)], -1, 1)), 1.0)
    scale = "0.1_dp"
    return [f"{pad}do {i} = 1, n", f"{body}{r.acc} = {r.acc} + {scale}*{e.wrap(2)}", f"{pad}end do"]


def rewrite_kernel(g: Gen, r: Routine, loops: list[Loop], ind: int) -> list[str]:
    """Shapes for the rewrites plain kernels never reach (feature ``rewrite-kernels``):
    a private scalar ``q`` defined before each read (block_local), reads of a loop-invariant
    element the loop provably does not write (distinct), two consecutive stencils on one
    range (handoff), a triangle: a descending loop around one whose bound is its index
    (count_up)."""
    arrays = [v for v in r.reals if v.rank == 1]
    ws = [v for v in arrays if v.writable]
    if not ws or len(loops) >= 2:
        return g.assign(r, loops, ind)
    w = g.ch.choice(ws)
    srcs = [a for a in arrays if not a.shares(w)]
    if not srcs:
        return g.assign(r, loops, ind)
    v = g.ch.choice(srcs)
    i = g.loop_var(loops)
    pad, body = "  " * ind, "  " * (ind + 1)

    def at(a: Var, k: int, idx: str = i) -> Ex:
        sub = idx if k == 0 else f"{idx} {'+' if k > 0 else '-'} {abs(k)}"
        return Ex(a.elem(sub), a.lo, a.hi)

    def stencil(dst: Var, src: Var) -> list[str]:
        terms = [mul(lit(g.ch.choice([0.25, 0.5, 0.3])), at(src, k)) for k in (-1, 0, 1)]
        e = fit(add(add(terms[0], terms[1]), terms[2]))
        return [f"{pad}do {i} = 2, n - 1", f"{body}{dst.elem(i)} = {e.text}", f"{pad}end do"]

    kind = g.ch.choice(["private", "invariant", "chain", "triangle"])
    if kind == "private":  # q: local to the kernels, every read after its definition
        q = Ex("q", -R, R)
        first = fit(add(mul(lit(0.5), at(v, 0)), fn("sin", [at(v, 0)], -1, 1)))
        second = fit(add(mul(q, fn("tanh", [at(v, 0)], -1, 1)), mul(lit(0.25), q)))
        return [
            f"{pad}do {i} = 1, n",
            f"{body}q = {first.text}",
            f"{body}{w.elem(i)} = {second.text}",
            f"{pad}end do",
        ]
    if kind == "invariant":  # w(1) read by every iteration, written by none
        e = fit(add(mul(mul(lit(0.5), Ex(w.elem("1"), w.lo, w.hi)), at(v, 0)), at(v, -1)))
        return [f"{pad}do {i} = 2, n", f"{body}{w.elem(i)} = {e.text}", f"{pad}end do"]
    if kind == "chain":  # Jacobi when v is writable: w from v, then v from w
        if v.writable and g.ch.chance(0.7):
            return stencil(w, v) + stencil(v, w)
        others = [a for a in ws if a.name not in (w.name, v.name)]
        u = g.ch.choice(others) if others else w
        src = w if u is not w and g.ch.chance(0.5) else v
        return stencil(w, v) + stencil(u, src)
    j = g.loop_var([*loops, Loop(i, IntEx(i, Aff(1), AFF_N), True)])
    inner = "  " * (ind + 2)
    e = fit(add(mul(lit(0.5), at(w, 0, j)), mul(lit(0.25), mul(at(v, 0, j), at(v, 0, i)))))
    stmt = f"{w.elem(j)} = {e.text}"
    if g.ch.chance(0.5):  # a reduction: the backward inner loop is a simd loop
        red = fit(mul(at(v, 0, j), fn("tanh", [at(w, 0, i)], -1, 1)), 1.0)
        stmt = f"{r.acc} = {r.acc} + 0.01_dp*{red.wrap(2)}"
    outer = g.ch.choice(["2, n", "n, 2, -1"])
    return [
        f"{pad}do {i} = {outer}",
        f"{body}do {j} = 1, {i} - 1",
        f"{inner}{stmt}",
        f"{body}end do",
        f"{pad}end do",
    ]
