"""One pass over a matrix for all its rank-1 adjoint updates (the column loops of
ad/constructs/matmul.py).

The adjoint of a matrix-vector product ``y = matmul(a, x)`` adds ``yb xᵀ`` to ``ab``, column by
column::

    do fad_j1 = 1, size(ab, 2)
      ab(:, fad_j1) = ab(:, fad_j1) + yb*x(fad_j1)
    end do

Kernels that use one matrix in several products (mvt, bicg, atax; the normal equations, a
forward model and its transpose in 4D-Var) get one such loop per product, each a full
read-modify-write pass over ``ab``, which for a large matrix costs more than the products
themselves. This pass merges the column loops of one matrix in a statement list into the first
of them, with one statement per column::

    ab(:, fad_j1) = ab(:, fad_j1) + yb*x(fad_j1) + tmp*zb(fad_j1)

Legal when the loops have the same bounds and column designator and no statement between
them writes what the later loop reads or touches its matrix: the later loop's increments then
see the same values one place earlier, and increments commute (the sum is rounded in
another order).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ad.core.liveness import _all_reads as _reads
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import map_expr, names_in, walk_stmts

STEM = "fad_j"  # the column index of ad/constructs/matmul.py's rank-1 loops


def fuse(stmts: list[ir.Stmt]) -> list[ir.Stmt]:
    """``stmts`` with the column loops of each matrix merged: the later loop moves up into
    the earlier one, or else the earlier one down into the later one."""
    out = list(stmts)
    i = 0
    while i < len(out):
        if _column_loop(out[i]) is None:
            i += 1
            continue
        for j in range(i + 1, len(out)):
            merged = _merge(out[i], out[j], out[i + 1 : j])
            if merged is not None:
                out[i : j + 1] = merged
                break
        else:
            i += 1
    return out


def _column_loop(s: ir.Stmt) -> tuple[ir.ArrayRef, str, ir.Expr] | None:
    """(column designator, op, term) of ``do fad_jN = ..: m(:, fad_jN) = m(:, fad_jN) +- t``."""
    if not (isinstance(s, ir.Do) and s.var.startswith(STEM) and s.step is None):
        return None
    if s.parallel is not None or s.directives or len(s.body) != 1:
        return None
    a = s.body[0]
    if not (isinstance(a, ir.Assign) and isinstance(a.target, ir.ArrayRef)):
        return None
    v = a.value
    if not (isinstance(v, ir.BinOp) and v.op in "+-" and v.left == a.target):
        return None
    if ir.Name(s.var) not in a.target.subs or a.target.name in names_in(v.right):
        return None
    return a.target, v.op, v.right


def _merge(first: ir.Stmt, second: ir.Stmt, between: list[ir.Stmt]) -> list[ir.Stmt] | None:
    """``first, *between, second`` with the two loops merged, or None."""
    one, two = _column_loop(first), _column_loop(second)
    if one is None or two is None:
        return None
    assert isinstance(first, ir.Do) and isinstance(second, ir.Do)
    if (second.start, second.stop) != (first.start, first.stop):
        return None
    rename = _renamer(second.var, first.var)
    if rename(two[0]) != one[0]:
        return None
    bounds = names_in(first.start) | names_in(first.stop)
    body = first.body[0]
    assert isinstance(body, ir.Assign)
    value = ir.BinOp(two[1], body.value, rename(two[2]))
    loop = replace(first, body=(replace(body, value=value),))
    if _movable(second, two[2], bounds, between):
        return [loop, *between]
    if _movable(first, one[2], bounds, between):
        return [*between, loop]
    return None


def _movable(loop: ir.Do, term: ir.Expr, bounds: set[str], between: list[ir.Stmt]) -> bool:
    """Can ``loop`` (a column loop with increment ``term``) move past ``between``?"""
    matrix = loop.body[0].target.name  # type: ignore[attr-defined]
    reads = names_in(term) | bounds
    return not any(_writes(s) & (reads | {matrix}) or matrix in _reads(s) for s in between)


def _renamer(old: str, new: str):
    def fn(x: ir.Expr) -> ir.Expr | None:
        return ir.Name(new) if x == ir.Name(old) else None

    return lambda e: map_expr(e, fn)


def _writes(s: ir.Stmt) -> set[str]:
    """Names a statement may change: assignment targets, loop indices, an opaque statement's
    declared writes, every name a call mentions."""
    out: set[str] = set()
    for x in walk_stmts((s,)):
        if isinstance(x, ir.Assign):
            out |= names_in(x.target) if isinstance(x.target, ir.Name) else {x.target.name}
        elif isinstance(x, ir.Do):
            out.add(x.var)
        elif isinstance(x, ir.Opaque):
            out |= set(x.writes)
        elif isinstance(x, ir.CallStmt):
            out |= _reads(x)
    return out
