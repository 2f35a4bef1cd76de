"""Gather form across two loops: stencils whose adjoint scatters to neighbouring rows too.

ad/rewrites/gather.py gathers along the innermost loop; the increments at other rows of the outer
loop (``bb(i, j - 1)``, ``bb(i, j + 1)`` of a five-point stencil) stay one read-modify-write
pass each. When the outer loop's backward body is just such a gathered loop, this pass
gathers both indices: target row ``j`` of ``bb`` collects from source rows ``j - dj`` for every
row offset ``dj`` (the boundary rows, where fewer source rows exist, as loops of their own), and
the zeroed array's row ``j - max dj`` is read for the last time there: each element is zeroed
after its last read in that row::

    do j = lo_j + 1, hi_j - 1
      do i = lo_i + 1, hi_i - 1
        bb(i, j) = bb(i, j) + c*(ab(i, j) + ab(i - 1, j) + ab(i + 1, j) + ab(i, j + 1) + ...)
        ab(i, j - 1) = 0.0_dp
      end do
    end do

The conditions are ad/rewrites/gather.py's, for both indices; targets must name both (a row no outer
index selects would collect over all of them). Both ranges must be at least as long as their
offsets' spread (else the loops as ad/rewrites/gather.py left them run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ad.rewrites import gather as g
from fortran_ad.ir import nodes as ir

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

Term = tuple[int, int, str, ir.Expr]  # (di, dj, +/-, e)


def rewrite(t: Reverse, outer: ir.Do, forward: tuple, inner: tuple, scatter: list) -> list | None:
    """The gather form of ``outer`` around the gathered loop ``inner`` = (raw loop, its
    forward bounds), behind a run-time IF whose ELSE runs ``scatter``; or None."""
    loop, (lo_i, hi_i, _) = inner
    lo_j, hi_j, _ = forward
    i, j = loop.var, outer.var
    parts = g._parts(t, loop)
    if parts is None:
        return None
    rows1, zeros = parts
    rows: dict[tuple, tuple[ir.ArrayRef, int, int, list[Term]]] = {}
    for r in rows1:
        subs = list(r.subs)
        subs[r.dim] = ir.Literal("0", "integer")
        place = g._place(ir.ArrayRef(r.name, tuple(subs)), j)
        if place is None:
            return None
        dim_j, dj = place
        subs[r.dim], subs[dim_j] = ir.Name(i), ir.Name(j)
        key = (r.name, r.dim, dim_j, tuple(subs))
        target = ir.ArrayRef(r.name, tuple(subs))
        entry = rows.setdefault(key, (target, r.dim, dim_j, []))
        entry[3].extend((di, dj, op, e) for di, op, e in r.terms)
    for z in zeros:
        assert isinstance(z, ir.Assign) and isinstance(z.target, ir.ArrayRef)
        if g._place(z.target, j) is None or g._place(z.target, j)[1] != 0:
            return None
    offsets_i = sorted({x[0] for r in rows.values() for x in r[3]})
    offsets_j = sorted({x[1] for r in rows.values() for x in r[3]})
    if len(offsets_j) < 2:
        return None  # ad/rewrites/gather.py's row form already makes one pass
    conds = [
        g.long_enough(lo_i, hi_i, offsets_i[-1] - offsets_i[0]),
        g.long_enough(lo_j, hi_j, offsets_j[-1] - offsets_j[0]),
    ]
    cond = conds[0] if conds[0] == conds[1] else ir.BinOp(".and.", *conds)
    nest = _Nest(loop, outer, (lo_i, hi_i), (lo_j, hi_j), list(rows.values()))

    def build(drop: frozenset[str] = frozenset(), assign: g.Assigned = None):
        return nest.build([z for z in zeros if z.target.name not in drop], assign)

    out = ir.If(((cond, tuple(build() or ())),), tuple(scatter))
    targets = [r[0] for r in rows.values()]
    loops = ((j, lo_j, hi_j), (i, lo_i, hi_i))
    g.remember(t, out, g.Gathered(build, cond, scatter, zeros, targets, loops))
    heading = [s for s in outer.body if isinstance(s, ir.Comment)][:1]
    return [*heading, out]


class _Nest:
    """The target rows of a gathered nest and how to write its segments."""

    def __init__(self, loop: ir.Do, outer: ir.Do, bounds_i, bounds_j, rows: list) -> None:
        self.loop, self.outer, self.bounds_i, self.bounds_j = loop, outer, bounds_i, bounds_j
        self.rows = rows

    def build(self, zeros: list[ir.Stmt], assign: g.Assigned) -> list[ir.Stmt] | None:
        loop, outer, rows = self.loop, self.outer, self.rows
        i, j = loop.var, outer.var
        offsets_j = sorted({x[1] for r in rows for x in r[3]})
        last = offsets_j[-1]
        # row j - last of a zeroed array is read for the last time in target row j, its
        # element p at target p + first: zeroed there, after the reads
        first = max(x[0] for r in rows for x in r[3] if x[1] == last)
        notes = [s for s in loop.body if isinstance(s, ir.Comment)][:1]  # the statement's line
        gathered: list[ir.Stmt] = [ir.Comment(f"! gather form over {j} and {i}: {g.NOTE}"), *notes]
        for a, b, active_j, inside_j in g._segments(*self.bounds_j, offsets_j):
            body: list[ir.Stmt] = []
            terms = [(r[0], [x for x in r[3] if x[1] in active_j]) for r in rows]
            active_i = sorted({x[0] for _, ts in terms for x in ts})
            for ai, bi, act, inside_i in g._segments(*self.bounds_i, active_i):
                inside = False if inside_j is False else inside_i if inside_j else None
                if assign is not None and inside is None:
                    return None
                here = assign if inside else None
                stmts = [_collect(target, ts, act, i, j, here) for target, ts in terms]
                stmts = [x for x in stmts if x is not None]
                if active_j[-1] == last and first in act:
                    stmts += [g._shift(g._shift(z, j, -last), i, -first) for z in zeros]
                body.append(ir.Do(i, ai, bi, None, tuple(stmts), None, loc=loop.loc))
            gathered.append(ir.Do(j, a, b, None, tuple(body), None, loc=outer.loc))
        return gathered


def _collect(
    target: ir.ArrayRef, terms: list[Term], active: list[int], i: str, j: str, assign: g.Assigned
):
    """``target = target + e(i - di, j - dj) + ...`` over the terms with ``di`` active (set,
    not incremented, when ``assign`` names the target's array)."""
    used = [(op, g._shift(g._shift(e, i, -di), j, -dj)) for di, dj, op, e in terms if di in active]
    setting = assign is not None and assign[0] == target.name
    if not used:
        return ir.Assign(target, assign[1]) if setting and assign is not None else None
    return g.total(target, used, {i, j}, setting)
