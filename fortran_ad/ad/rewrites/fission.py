"""Loop fission of scatter-form adjoint loops, so that each part vectorises.

The adjoint of a stencil ``b(i) = c*(a(i - 1) + a(i) + a(i + 1))`` is a scatter::

    do i = n - 1, 2, -1
      ab(i - 1) = ab(i - 1) + c*bb(i)
      ab(i) = ab(i) + c*bb(i)
      ab(i + 1) = ab(i + 1) + c*bb(i)
      bb(i) = 0.0_dp
    end do

Consecutive iterations update the same elements of ``ab`` (a chain of dependent loads and
stores, no vectorisation). Split into one loop per statement group, each loop updates one
element per iteration and vectorises. The split keeps the order of statements of one iteration
and changes the order between iterations only for increments of one variable (``v = v + e`` with
``e`` free of ``v``), which commute (the sum is the same, rounded differently). Legal when,
for any two statements in different groups and any variable either writes, both are increments
of it, or both reference it only as the same element selected by the loop index (the dependence
stays inside one iteration). Scalars the loop assigns otherwise (temporaries) would need
expanding: such loops are left alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from fortran_ad.ad.rewrites.loop_stmts import increment_of, mentions, plain, refs_to
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import var_of

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse


def split(t: Reverse, loop: ir.Do) -> list[ir.Do] | None:
    """The loop as two or more loops (same bounds, statements in order), or None."""
    if t.omp_depth or loop.parallel is not None or loop.directives:
        return None
    groups: list[list[ir.Stmt]] = [[]]
    pending: list[ir.Stmt] = []  # comments go with the next statement
    assigns: list[ir.Assign] = []
    for s in loop.body:
        if isinstance(s, ir.Comment):
            pending.append(s)
            continue
        if not plain(t, s):
            return None
        assigns.append(s)
    written = {var_of(s.target.name) for s in assigns}
    if any(isinstance(s.target, ir.Name) and increment_of(s) is None for s in assigns):
        return None  # a scalar temporary: would need one per iteration
    home: dict[int, int] = {}
    for s in loop.body:
        if isinstance(s, ir.Comment):
            continue
        current = [x for x in groups[-1] if isinstance(x, ir.Assign)]
        if current and _conflict(current, s, written):
            groups.append([])
        groups[-1] += [*pending, s]
        pending = []
        home[id(s)] = len(groups) - 1
    groups[-1] += pending
    if len(groups) < 2:
        return None
    for a_pos, a in enumerate(assigns):
        for b in assigns[a_pos + 1 :]:
            if home[id(a)] != home[id(b)] and not _may_split(a, b, written, loop.var):
                return None
    return [replace(loop, body=tuple(g)) for g in groups]


def _designators(s: ir.Assign, v: str) -> set[ir.Expr]:
    return {r for e in (s.target, s.value) for r in refs_to(e, v)}


def _conflict(group: list[ir.Assign], s: ir.Assign, written: set[str]) -> bool:
    """Would the group with ``s`` reference a variable the loop writes through two
    designators (a dependence between iterations inside one loop)?"""
    for v in written:
        refs = _designators(s, v).union(*(_designators(x, v) for x in group))
        if len(refs) > 1:
            return True
    return False


def _may_split(a: ir.Assign, b: ir.Assign, written: set[str], index: str) -> bool:
    for v in written:
        ra, rb = _designators(a, v), _designators(b, v)
        if not ra or not rb:
            continue
        if var_of(a.target.name) != v and var_of(b.target.name) != v:
            continue  # both only read it
        increments = increment_of(a) is not None and increment_of(b) is not None
        if increments and var_of(a.target.name) == v == var_of(b.target.name):
            continue  # increments commute
        if len(ra | rb) == 1 and _own(next(iter(ra)), index, written):
            continue
        return False
    return True


def _own(d: ir.Expr, index: str, written: set[str]) -> bool:
    """An element the loop index selects: ``x(.., index, ..)``, the other subscripts fixed."""
    if not isinstance(d, ir.ArrayRef) or ir.Name(index) not in d.subs:
        return False
    return not any(mentions(e, written | {index}) for e in d.subs if e != ir.Name(index))
