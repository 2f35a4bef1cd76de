"""Two-dimensional loop nests and parallel loops, where the rewrites of 2-D stencils and
matrix products live (feature ``nests``) and the parallel adjoint (feature ``openmp``).

A nest kernel fills a local ``g2(n, n)`` from two rank-1 arrays, then uses it in a five-point
stencil into ``h2(n, n)`` (gather_nest; omp_colour when its outer loop is parallel) read back
into an accumulator and an array, or in matrix-vector products (the rank-1 adjoint updates
column_updates merges). Every loop whose iterations are independent may carry
``!$omp parallel do`` or be a DO CONCURRENT (``parallel_do``). Values stay in [-R, R]: a
product ``matmul(g2, v)`` is at most ``n R R``, scaled by ``0.4/n``.
"""

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

if TYPE_CHECKING:
    from fortran_ad.checks.fuzzgen.stmts import Gen


def parallel_do(g: Gen, pad: str, var: str, lo: str, hi: str) -> list[str]:
    """The opening of a loop over ``lo..hi`` with independent iterations: plain, under
    ``!$omp parallel do``, or DO CONCURRENT (feature ``openmp``); closed by ``end do``."""
    if "openmp" in g.exclude or not g.ch.chance(0.5):
        return [f"{pad}do {var} = {lo}, {hi}"]
    if g.ch.chance(0.6):
        return [f"{pad}!$omp parallel do", f"{pad}do {var} = {lo}, {hi}"]
    return [f"{pad}do concurrent ({var} = {lo}:{hi})"]


def nest_kernel(g: Gen, r: Routine, loops: list[Loop], ind: int) -> list[str]:
    arrays = [v for v in r.reals if v.rank == 1]
    ws = [v for v in arrays if v.writable]
    if not ws or len(loops) >= 2:
        return g.assign(r, loops, ind)
    w = g.ch.choice(ws)
    u, v = g.ch.choice(arrays), g.ch.choice(arrays)
    j = g.loop_var(loops)
    i = g.loop_var([*loops, Loop(j, IntEx(j, Aff(1), AFF_N), True)])
    p0, p1, p2 = ("  " * (ind + k) for k in range(3))

    def at(a: Var, sub: str) -> Ex:
        return Ex(a.elem(sub), a.lo, a.hi)

    def g2(di: int, dj: int) -> Ex:
        def sub(x: str, d: int) -> str:
            return x if d == 0 else f"{x} {'+' if d > 0 else '-'} {abs(d)}"

        return Ex(f"g2({sub(i, di)}, {sub(j, dj)})", -R, R)

    fill = fit(add(mul(mul(lit(0.5), at(v, i)), fn("cos", [at(u, j)], -1, 1)), at(u, i)))
    out = parallel_do(g, p0, j, "1", "n")
    out += [f"{p1}do {i} = 1, n", f"{p2}g2({i}, {j}) = {fill.text}", f"{p1}end do", f"{p0}end do"]
    if g.ch.chance(0.5):
        c = g.ch.choice([0.2, 0.25, 0.15])
        near = add(add(g2(-1, 0), g2(1, 0)), add(g2(0, -1), g2(0, 1)))
        e = add(mul(lit(c), near), mul(mul(lit(0.1), g2(0, 0)), g2(1, 0)))
        out += parallel_do(g, p0, j, "2", "n - 1")
        out += [f"{p1}do {i} = 2, n - 1", f"{p2}h2({i}, {j}) = {fit(e).text}"]
        out += [f"{p1}end do", f"{p0}end do"]
        inner = "h2(2:n - 1, 2:n - 1)"
        out.append(f"{p0}{r.acc} = {r.acc} + 0.01_dp*sum(tanh({inner}))")
        if g.ch.chance(0.5):
            col = g.ch.choice(["2", "n - 1", "n/2"])
            sec = w.sec("2:n - 1")
            out.append(f"{p0}{sec} = 0.5_dp*{sec} + 0.25_dp*h2(2:n - 1, {col})")
        return out
    others = [a for a in ws if a.name != w.name or a.col != w.col]
    out.append(f"{p0}{w.sec()} = (0.4_dp/n)*matmul(g2, {v.sec()})")
    if others and g.ch.chance(0.7):  # a second product with the same matrix: column_updates
        out.append(f"{p0}{g.ch.choice(others).sec()} = (0.4_dp/n)*matmul(g2, {u.sec()})")
    else:
        prod = f"dot_product({u.sec()}, matmul(g2, {w.sec()}))"
        out.append(f"{p0}{r.acc} = {r.acc} + (0.1_dp/n**2)*{prod}")
    return out
