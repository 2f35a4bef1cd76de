"""Backward loops run forwards again, and the scalars they leave behind.

A backward loop ``do i = hi, lo, -1`` whose iterations are independent (ad/rewrites/simd.py) may run
as ``do i = lo, hi``. Its array elements and sums come out the same; a scalar every iteration
assigns before reading (``lastprivate``) does not: the plain backward loop leaves it with the value
of iteration ``lo`` (its last), the forward one with that of ``hi``. Such scalars are typically
primal values restored from the tape (``cnt = fad_save1(m)``), and the adjoints of the statements
before the loop read them after it (MITgcm's input counters: reading the value of the wrong
iteration silently updates the wrong element of an adjoint).

Precondition (what ``settle`` checks): for each such scalar, its last assignment in the body
reads only the loop index and variables the loop does not write, or the scalar is a
temporary of one statement's adjoint (``fad_tmpb<k>``, ``fad_aliasb<k>``: ``deriv_temp`` in
ad/core/adjoint.py, defined before every read within that statement's adjoint, so its value after
the loop is never read). Then, after the forward run,
the same assignment with the index set to ``lo`` gives the scalar the value the plain backward
loop ends with (guarded by ``lo <= hi``: an empty loop leaves the scalar alone). Otherwise the
loop keeps its backward order.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import wrap
from fortran_ad.ir.walk import map_expr, names_in, var_of

STATEMENT_LOCAL = re.compile(r"fad_(?:tmpb|aliasb)\d+")


def settle(
    loop: ir.Do, private: list[str], forward: tuple, temps: frozenset[str] = frozenset()
) -> list[ir.Stmt] | None:
    """Statements after ``loop`` run forwards (bounds ``forward``, unit step) that leave each
    scalar of ``private`` as the plain backward loop leaves it; None when impossible.
    ``temps``: the routine's generated temporaries (statement-local ones need nothing)."""
    assigns = [s for s in loop.body if isinstance(s, ir.Assign)]
    written = {var_of(s.target.name) for s in assigns} | {loop.var}
    start, stop, _ = forward
    out: list[ir.Stmt] = []
    index = ir.Name(loop.var)
    for v in private:
        if v in temps and STATEMENT_LOCAL.fullmatch(v):
            continue
        last = [s for s in assigns if isinstance(s.target, ir.Name) and s.target.name == v]
        if not last:
            return None
        value = last[-1].value
        used = names_in(value)
        if used & (written - {loop.var}):
            return None  # reads what the loop changes: cannot be re-evaluated after it
        if loop.var not in used:
            continue  # the same value in every iteration: the forward run already ends so
        first = map_expr(value, lambda x: wrap(start) if x == index else None)
        out.append(replace(last[-1], value=first))
    if not out:
        return []
    if _literal(start) is not None and _literal(stop) is not None:
        return out if _literal(start) <= _literal(stop) else []
    return [ir.If(((ir.BinOp("<=", start, stop), tuple(out)),), loc=loop.loc)]


def _literal(e: ir.Expr) -> int | None:
    if isinstance(e, ir.Literal) and e.text.isdigit():
        return int(e.text)
    return None


def run_forwards(
    loop: ir.Do, private: list[str], forward: tuple, temps: frozenset[str] = frozenset()
) -> tuple[ir.Do, list[ir.Stmt]] | None:
    """``loop`` with the primal's (unit-step) bounds and the statements to put after it, or
    None when the loop must keep its order (a step other than 1, or a scalar ``settle``
    cannot restore)."""
    start, stop, step = forward
    if step is not None:
        return None
    after = settle(loop, private, forward, temps)
    if after is None:
        return None
    return replace(loop, start=start, stop=stop, step=None), after
