"""Private scalars of a loop recomputed in the backward sweep instead of recorded.

In a loop body such as vadv's

    do i = 1, ni
      gav = -0.25_dp*(wcon(i + 1, j, k) + wcon(i, j, k))
      as = gav*bet_m
      acol = gav*bet_p
      ...  ! adjoints read as and acol
    end do

``as`` and ``acol`` are defined once per iteration before anything reads them, from values
the routine never writes (``wcon``, parameters) and the loop indices. The store-all sweep
records their previous value at every iteration (the adjoint of iteration i-1 reads it after
the adjoint of iteration i). Instead, the backward iteration starts by re-running those
definitions (and the private scalars they read, here ``gav``), in body order: every adjoint
statement of the iteration then sees the values the forward iteration had. The value a
scalar had before the loop is kept by one push before the forward loop and one pop after
the reversed loop (the pops inside the loop did that before).

Only scalar locals of intrinsic type that nothing aliases, each assigned exactly once in
the body (at its top level, before the body mentions it), whose definition reads no user
function, no opaque text and no variable the routine writes, except loop indices of the
enclosing loops, variables the loop does not write but its adjoint statements read (the
sweep keeps those), and private scalars recomputed before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, stmt_exprs, subexprs, walk_stmts
from fortran_ad.ir.walk import value_names as names_in

if TYPE_CHECKING:
    from fortran_ad.ad.adjoint import Reverse

_INTRINSIC = {"real", "double precision", "integer", "logical", "complex", "double complex"}
_ALIASED = {"pointer", "target", "save", "parameter", "volatile", "asynchronous"}


def plan(t: Reverse, s: ir.Do) -> list[ir.Assign]:
    """The top-level definitions of ``s.body`` to re-run at the top of each backward
    iteration, in body order: the recomputable scalars the sweep would record, and the
    recomputable scalars their definitions read."""
    r = t.routine
    if r.contains or t.omp_depth:
        return []
    if any(isinstance(x, ir.PointerAssign) for x in walk_stmts(r.body)):
        return []
    if any(isinstance(x, ir.OpaqueSpec) and "equivalence" in x.text.lower() for x in r.spec):
        return []
    # constant while the loop runs forwards and backwards: not written by the routine, the
    # enclosing loops' indices, and what the loop does not write but its adjoint reads
    inside = t.writes(s.body)
    adjoint_reads: set[str] = set()
    for x in walk_stmts(s.body):
        if isinstance(x, ir.Assign) and t.is_active(x.target):
            adjoint_reads |= t._assign_reads(x)
    fixed = t.writes(r.body) - {lp.var for lp in t.loops} - (adjoint_reads - inside)
    counts: dict[str, int] = {}
    for x in walk_stmts(s.body):
        if isinstance(x, ir.Assign):
            n = base_name(x.target) or ""
            counts[n] = counts.get(n, 0) + 1
    found: dict[str, ir.Assign] = {}
    mentioned: set[str] = set()
    for x in s.body:
        if isinstance(x, ir.Assign) and isinstance(x.target, ir.Name):
            n = x.target.name
            reads = names_in(x.value)
            if (
                counts.get(n) == 1
                and n not in mentioned
                and _private_local(t, n)
                and _plain_value(t, x.value)
                and all(v in found or (v not in fixed and _unaliased(t, v)) for v in reads)
            ):
                found[n] = x
        for y in walk_stmts((x,)):
            for e in stmt_exprs(y):
                mentioned |= names_in(e)
            if isinstance(y, ir.Opaque):
                mentioned |= set(y.reads) | set(y.writes)
    saved = {n for n, x in found.items() if n in t.needed and id(x) not in t.first_defs | t.unsaved}
    keep: set[str] = set()
    todo = list(saved)
    while todo:
        n = todo.pop()
        if n not in keep:
            keep.add(n)
            todo += [v for v in names_in(found[n].value) if v in found]
    return [x for n, x in found.items() if n in keep]


def saved_targets(t: Reverse, defs: list[ir.Assign]) -> list[ir.Name]:
    """The recomputed scalars whose overwrites the sweep records otherwise: their value
    before the loop is kept by one record around the loop."""
    out = []
    for x in defs:
        if base_name(x.target) in t.needed and id(x) not in t.first_defs | t.unsaved:
            out.append(x.target)
    return out


def _private_local(t: Reverse, n: str) -> bool:
    r = t.routine
    sym = r.symbol(n)
    return (
        sym is not None
        and sym.rank == 0
        and sym.type is not None
        and sym.type.base in _INTRINSIC
        and not (sym.attrs & _ALIASED)
        and not any(a.startswith("common") for a in sym.attrs)
        and sym.init is None
        and n not in r.args
        and n != r.result
    )


def _unaliased(t: Reverse, n: str) -> bool:
    sym = t.lookup(n)
    if sym is None:
        return False
    return not (sym.attrs & {"pointer", "target", "volatile", "asynchronous"})


def _plain_value(t: Reverse, e: ir.Expr) -> bool:
    """No user function (it could have side effects or read state), no opaque text."""
    for x in subexprs(e):
        if isinstance(x, ir.OpaqueExpr):
            return False
        if isinstance(x, ir.Call) and t.program.get(x.name) is not None:
            return False
    return True
