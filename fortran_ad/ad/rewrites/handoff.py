"""Zeroings handed over between consecutive gathered loops (ad/rewrites/gather.py).

In the backward sweep of a two-buffer time step (jacobi: ``b = S(a)`` then ``a = S(b)``),
the adjoint of the second loop gathers into ``bb`` and zeroes each element of ``ab`` after
its last read (``a`` was overwritten); the adjoint of the first loop, right after it, gathers
``bb`` back into ``ab``::

    bb(i) = bb(i) + c*(ab(i + 1) + ab(i) + ab(i - 1));  ab(i - 1) = 0.0_dp    ! loop A
    ab(i) = ab(i) + c*(bb(i + 1) + bb(i) + bb(i - 1));  bb(i - 1) = 0.0_dp    ! loop B

When both loops run over the same range and ``ab``'s zeroed elements are exactly the ones
loop B's gather targets, loop A leaves them alone and loop B sets them,
``ab(i) = c*(bb(i + 1) + bb(i) + bb(i - 1))``: one store per element fewer in A and one load
fewer in B, the same values. Elements of ``ab`` outside the range are still incremented.

Legal when
- what lies between the two (comments, pops of primal values the second reads) does not
  mention ``ab`` (it then runs in both branches of the fused IF);
- both take the gather form under the same run-time condition (else the scatter loops of
  both run), over the same loops;
- the zeroed elements are the loops' own (``ab(i)``; ``ab(i, j)`` for gathered nests) and
  loop B's only row of ``ab`` is that designator: its increments (free of ``ab``) reach
  every element of the range, in the segments that lie inside it;
- the segments tell inside from outside (offset 0 among the row's offsets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ad.rewrites.gather import Gathered, made_by
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import names_in, stmt_exprs, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

NOTE = "set, not incremented: the loop above left these elements to it instead of zeroing them"


def fuse(t: Reverse, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
    """``stmts`` (a backward body) with each such pair of gathered IFs made one."""
    out = list(stmts)
    k = 0
    while k < len(out):
        a = made_by(t, out[k])
        m = next((n for n in range(k + 1, len(out)) if made_by(t, out[n]) is not None), None)
        if a is not None and m is not None:
            b = made_by(t, out[m])
            assert b is not None
            pair = _pair(a, b, out[k + 1 : m])
            if pair is not None:
                out[k : m + 1] = [pair]
        k += 1
    return out


def _pair(a: Gathered, b: Gathered, between: list[ir.Stmt]) -> ir.If | None:
    if a.cond != b.cond or a.loops != b.loops:
        return None
    zeroed = {z.target: z for z in a.zeros if isinstance(z, ir.Assign)}
    shared = [x for x in b.targets if x in zeroed]
    names = [x.name for x in shared if isinstance(x, ir.ArrayRef)]
    if len(shared) != 1 or len(names) != 1:
        return None
    if sum(isinstance(x, ir.ArrayRef) and x.name == names[0] for x in b.targets) != 1:
        return None
    zero = zeroed[shared[0]]
    assert isinstance(zero, ir.Assign)
    for x in between:
        seen = _mentioned(x)
        if seen is None or names[0] in seen:
            return None
    first = a.build(frozenset(names), None)
    second = b.build(frozenset(), (names[0], zero.value))
    if first is None or second is None:
        return None
    note = ir.Comment(f"! {names[0]}: {NOTE}")
    then = (*first, *between, note, *second)
    return ir.If(((a.cond, then),), (*a.scatter, *between, *b.scatter))


def _mentioned(s: ir.Stmt) -> set[str] | None:
    """Names ``s`` mentions; None for opaque text (it may mention anything)."""
    out: set[str] = set()
    for x in walk_stmts((s,)):
        if isinstance(x, ir.Opaque):
            return None
        for e in stmt_exprs(x):
            out |= names_in(e)
    return out
