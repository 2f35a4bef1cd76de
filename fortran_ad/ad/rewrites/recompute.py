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
sweep keeps those), variables nothing writes between the loop's forward run and its
reversal (``_changed_meanwhile``), and private scalars recomputed before it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

from fortran_ad.ad.checkpointing import loop_checkpoint as lc
from fortran_ad.ad.rewrites import distinct
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, bodies, map_expr, stmt_exprs, subexprs, var_of, walk_stmts
from fortran_ad.ir.walk import value_names as names_in

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

_INTRINSIC = {"real", "double precision", "integer", "logical", "complex", "double complex"}
_ALIASED = {"pointer", "target", "save", "parameter", "volatile", "asynchronous"}


class Redo(NamedTuple):
    """A definition re-run backwards: ``stmt`` is ``original`` with the elements it reads
    that the iteration defined before it replaced by their values."""

    original: ir.Assign
    stmt: ir.Assign


def plan(t: Reverse, s: ir.Do) -> list[Redo]:
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
    fixed &= _changed_meanwhile(t, s) | inside
    reads = _Reads(t, s, fixed, adjoint_reads & inside)
    counts: dict[str, int] = {}
    for x in walk_stmts(s.body):
        if isinstance(x, ir.Assign):
            n = base_name(x.target) or ""
            counts[n] = counts.get(n, 0) + 1
    found: dict[str, Redo] = {}
    mentioned: set[str] = set()
    elements: dict[ir.Expr, ir.Expr] = {}  # a(..) -> its value defined earlier this iteration
    for x in s.body:
        value = _substituted(x.value, elements) if isinstance(x, ir.Assign) else None
        if isinstance(x, ir.Assign) and isinstance(x.target, ir.Name):
            n = x.target.name
            if (
                counts.get(n) == 1
                and n not in mentioned
                and _private_local(t, n)
                and _plain_value(t, value)
                and reads.ok(value, found)
            ):
                found[n] = Redo(x, x if value == x.value else replace(x, value=value))
        written = t.writes((x,))
        elements = {d: v for d, v in elements.items() if base_name(d) not in written}
        if (
            isinstance(x, ir.Assign)
            and isinstance(x.target, ir.ArrayRef)
            and value is not None
            and not any(names_in(e) & inside for e in x.target.subs)
        ):
            elements[x.target] = value
        for y in walk_stmts((x,)):
            for e in stmt_exprs(y):
                mentioned |= names_in(e)
            if isinstance(y, ir.Opaque):
                mentioned |= set(y.reads) | set(y.writes)
    saved = {
        n
        for n, x in found.items()
        if n in t.needed and id(x.original) not in t.first_defs | t.unsaved
    }
    keep: set[str] = set()
    todo = list(saved)
    while todo:
        n = todo.pop()
        if n not in keep:
            keep.add(n)
            todo += [v for v in names_in(found[n].stmt.value) if v in found]
    redo = [x for n, x in found.items() if n in keep]
    _declare_reads(t, s, redo)
    return redo


def _declare_reads(t: Reverse, s: ir.Do, redo: list[Redo]) -> None:
    """The backward sweep now reads what the re-run definitions read: those variables are
    needed (ad/core/needed.py). The checks above make sure nothing changes them between
    the loop's forward run and its reversal, so a joint adjoint saves nothing more; a split
    ``<name>_bwd`` (a routine of its own) gets their final values handed over from
    ``<name>_fwd`` like every needed local (ad/checkpointing/split_calls.py ``_finals``).
    Without this, ``_bwd`` recomputed from uninitialised locals (fuzz batch 7311460:
    ``w2(kk)`` with ``kk`` undefined)."""
    reads: set[str] = set()
    for x in redo:
        reads |= names_in(x.stmt.value)
    reads -= {lp.var for lp in t.loops} | {s.var} | {base_name(x.stmt.target) or "" for x in redo}
    if reads - t.needed:
        t.needed = t.close_needed(t.needed | reads)


def saved_targets(t: Reverse, defs: list[Redo]) -> list[ir.Name]:
    """The recomputed scalars whose overwrites the sweep records otherwise: their value
    before the loop is kept by one record around the loop."""
    out = []
    for x in defs:
        target = x.original.target
        if base_name(target) in t.needed and id(x.original) not in t.first_defs | t.unsaved:
            assert isinstance(target, ir.Name)
            out.append(target)
    return out


def _changed_meanwhile(t: Reverse, s: ir.Do) -> set[str]:
    """What may be written between the forward run of ``s`` and its reversal: the statements
    after it, and the bodies of the loops around it, up to the routine's body or to the body
    of an outermost loop reversed one iteration at a time right after its re-run (hdiff's
    k loop at period 1: there ``lap``, written before the flux loops, keeps its value)."""
    path = _path(t.routine.body, s)
    if path is None or any(isinstance(x, ir.Goto) for x in walk_stmts(t.routine.body)):
        return t.writes(t.routine.body)  # a GO TO may lead back before the loop
    loops = [i for i, (stmts, k) in enumerate(path) if isinstance(stmts[k], ir.Do | ir.DoWhile)]
    first = 0
    if loops and path[loops[0]][0][path[loops[0]][1]] is not s:
        outer = path[loops[0]][0][path[loops[0]][1]]
        if lc.one_at_a_time(t, outer):
            first = loops[0] + 1
    out: set[str] = set()
    for stmts, k in path[first:]:
        out |= t.writes(stmts[k + 1 :])
        if stmts[k] is not s and isinstance(stmts[k], ir.Do | ir.DoWhile):
            out |= t.writes(stmts[k].body)
    return out


def _path(stmts: tuple[ir.Stmt, ...], s: ir.Stmt) -> list[tuple[tuple[ir.Stmt, ...], int]] | None:
    """The statement lists from ``stmts`` down to ``s``, each with the position of the
    statement holding (or being) ``s``."""
    for k, x in enumerate(stmts):
        if x is s:
            return [(stmts, k)]
        for b in bodies(x):
            below = _path(b, s)
            if below is not None:
                return [(stmts, k), *below]
    return None


def _substituted(e: ir.Expr, elements: dict[ir.Expr, ir.Expr]) -> ir.Expr:
    if not elements:
        return e
    return map_expr(e, lambda x: ir.Paren(elements[x]) if x in elements else None)


class _Reads:
    """Which values a re-run definition may read: private scalars re-run before it, what
    stays constant (see :func:`plan`), and elements of arrays the loop writes that no
    iteration writes (``c(i, k - 1)`` while the loop writes ``c(i, k)``) when the adjoint
    statements read the array (the sweep restores it for them)."""

    def __init__(self, t: Reverse, s: ir.Do, fixed: set[str], restored: set[str]) -> None:
        self.t, self.loop, self.fixed, self.restored = t, s, fixed, restored
        self.changing = t.writes(s.body) | {s.var}
        self.bounds = distinct.bounds(t, t.loops)

    def ok(self, value: ir.Expr | None, found: dict[str, Redo]) -> bool:
        if value is None:
            return False
        for v in names_in(value):
            if v in found:
                continue
            if not _unaliased(self.t, v):
                return False
            if v in self.fixed and not (v in self.restored and self._untouched(value, v)):
                return False
        return True

    def _untouched(self, value: ir.Expr, v: str) -> bool:
        """Every designator of ``v`` in ``value`` names an element the loop never writes."""
        refs = [x for x in subexprs(value) if isinstance(x, ir.Name | ir.ArrayRef)]
        refs = [x for x in refs if var_of(x.name) == v]
        writes: list[ir.Expr] = []
        for y in walk_stmts(self.loop.body):
            if isinstance(y, ir.Assign) and base_name(y.target) == v:
                writes.append(y.target)
            elif isinstance(y, ir.CallStmt | ir.Opaque) and v in self.t.writes((y,)):
                return False
        return all(
            isinstance(x, ir.ArrayRef)
            and "%" not in x.name
            and all(
                isinstance(w, ir.ArrayRef) and distinct.apart(w, x, self.changing, self.bounds)
                for w in writes
            )
            for x in refs
        )


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


def _plain_value(t: Reverse, e: ir.Expr | None) -> bool:
    """No user function (it could have side effects or read state), no opaque text."""
    if e is None:
        return False
    for x in subexprs(e):
        if isinstance(x, ir.OpaqueExpr):
            return False
        if isinstance(x, ir.Call) and t.program.get(x.name) is not None:
            return False
    return True
