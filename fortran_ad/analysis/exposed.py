"""Upward-exposed reads of a loop body: the variables an iteration may read before it writes
them, so that their values flow in from the previous iteration (or from before the loop).

A variable the body writes that is *not* exposed is written before it is read in every
iteration: a re-run of some iterations does not need its value at their start (loop
checkpointing leaves it out of the snapshot, ad/checkpointing/loop_checkpoint.py), and it carries no
recurrence (checkpoint/latency.py).

The analysis is conservative: a read counts unless an earlier statement of the same iteration
surely wrote the whole variable. Whole writes are assignments to a name, actual arguments of
intent(out) dummies (not allocatable, not pointers, passed whole and only once), the DO
variable, both arms of an IF with an ELSE (every case of a SELECT with a default), and arrays
whose elements a loop nest writes over the declared extents: ``do k = lo, hi; a(k + c) = ...``
covers ``a(lo+c:hi+c)``, also when every arm of an IF/ELSE in the innermost body writes the
element (hdiff's ``flx``, ``fly``); a rank-1 array is covered by pieces (``sub(1) = 0`` then
``do k = 2, n; sub(k) = ...``), a rank-k array by one nest whose loop variables are its k
subscripts. Bounds are compared symbolically (sympy): ``nz - 1`` matches a declared
``k_eddy(nz - 1)``. Calls of internal procedures read everything they mention (host
association); unknown calls and statements the analysis does not model read everything they
mention.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from fortran_ad.analysis.dependence import offset, to_sympy
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import dummy_map
from fortran_ad.ir.walk import (
    base_name,
    bodies,
    names_in,
    stmt_exprs,
    subscript_names,
    walk_stmts,
)
from fortran_ad.ir.walk import value_names as reads_of

Lookup = Callable[[str], ir.Symbol | None]
Callee = Callable[[str], ir.Routine | None]
Interval = tuple[sympy.Expr, sympy.Expr]


def exposed(
    body: tuple[ir.Stmt, ...], lookup: Lookup, callee: Callee, internal: dict[str, ir.Routine]
) -> set[str]:
    """Names some statement of ``body`` may read before the same run of ``body`` writes them."""
    a = _Exposed(lookup, callee, internal)
    a.seq(body, set(), {})
    return a.ue


class _Exposed:
    def __init__(self, lookup: Lookup, callee: Callee, internal: dict[str, ir.Routine]) -> None:
        self.lookup, self.callee, self.internal = lookup, callee, internal
        self.ue: set[str] = set()

    def read(self, names: set[str], killed: set[str]) -> None:
        self.ue |= names - killed
        for n in names & set(self.internal):  # an internal function reads its host's variables
            self.ue |= _mentioned(self.internal[n]) - killed

    def seq(self, body, killed: set[str], pieces: dict[str, list[Interval]]) -> set[str]:
        for s in body:
            killed = self.stmt(s, killed, pieces)
        return killed

    def stmt(self, s: ir.Stmt, killed: set[str], pieces) -> set[str]:
        if isinstance(s, ir.Assign):
            reads = reads_of(s.value) | subscript_names(s.target)
            self.read(reads, killed)
            return self.write(s.target, killed, pieces)
        if isinstance(s, ir.CallStmt):
            return self.call(s, killed)
        if isinstance(s, ir.Do):
            self.read(set().union(*(reads_of(e) for e in stmt_exprs(s))), killed)
            self.seq(s.body, killed | {s.var}, {})
            out = killed | {s.var}
            for name, box in _nest_writes(s, ()):
                out = self.cover(name, box, out, pieces)
            return out
        if isinstance(s, ir.If | ir.Select):
            self.read(set().union(set(), *(reads_of(e) for e in stmt_exprs(s))), killed)
            arms = [self.seq(b, set(killed), {}) for b in bodies(s)]
            return set.intersection(*arms) if _complete(s) and arms else killed
        if isinstance(s, ir.DoWhile):
            self.read(set().union(set(), *(reads_of(e) for e in stmt_exprs(s))), killed)
            self.seq(s.body, set(killed), {})
            return killed
        if isinstance(s, ir.Opaque):
            self.read(set(s.reads) | set(s.writes), killed)
            return killed
        mentioned: set[str] = set()  # anything else: it reads all it mentions
        for x in walk_stmts((s,)):
            for e in stmt_exprs(x):
                mentioned |= names_in(e)
        self.read(mentioned, killed)
        return killed

    def write(self, target: ir.Expr, killed: set[str], pieces) -> set[str]:
        if isinstance(target, ir.Name) and "%" not in target.name:
            return killed | {target.name}
        if isinstance(target, ir.ArrayRef) and "%" not in target.name and len(target.subs) == 1:
            sub = target.subs[0]
            if not isinstance(sub, ir.Range):
                x = to_sympy(sub)
                if x is not None:
                    return self.cover(target.name, ((x, x),), killed, pieces)
        return killed

    def cover(self, name: str, box: tuple[Interval, ...], killed: set[str], pieces) -> set[str]:
        """Note that ``box`` of array ``name`` is written; killed once the pieces cover it."""
        dims = _dims(self.lookup(name))
        if dims is None or len(dims) != len(box) or name in killed:
            return killed
        if len(box) > 1:
            same = all(_eq(b[0], d[0]) and _eq(b[1], d[1]) for b, d in zip(box, dims, strict=True))
            return killed | {name} if same else killed
        got = pieces.setdefault(name, [])
        got.append(box[0])
        lo, hi = dims[0]
        while True:  # extend the covered prefix lo..at-1 with any piece starting at ``at``
            nxt = next((p for p in got if _eq(p[0], lo)), None)
            if nxt is None:
                return killed
            lo = sympy.expand(nxt[1] + 1)
            if _eq(lo, hi + 1):
                return killed | {name}

    def call(self, s: ir.CallStmt, killed: set[str]) -> set[str]:
        info = self.callee(s.name)
        if s.name in self.internal:
            self.read(_mentioned(self.internal[s.name]), killed)
        if info is None:
            self.read(set().union(set(), *(names_in(a) for a in s.args)), killed)
            return killed
        outs: list[str] = []
        for d, a in dummy_map(s.args, info).items():
            sym = info.symbol(d)
            self.read(subscript_names(a), killed)
            whole_out = (
                sym is not None
                and sym.intent == "out"
                and not sym.attrs & {"allocatable", "pointer"}
                and isinstance(a, ir.Name)
                and "%" not in a.name
            )
            if whole_out:
                actual = self.lookup(a.name)
                if actual is not None and not actual.attrs & {"allocatable", "pointer"}:
                    outs.append(a.name)
                continue
            if not (sym is not None and sym.intent == "out"):
                self.read(names_in(a), killed)
        mentioned = [base_name(a) for a in s.args]
        return killed | {n for n in outs if mentioned.count(n) == 1}


def _nest_writes(s: ir.Do, chain: tuple[tuple[str, Interval], ...]):
    """(array, box) for the elements a nest of unit-step loops surely writes: assignments at the
    top level of the innermost bodies whose subscripts are ``var + c``, one per loop of the
    chain."""
    unit = s.step is None or (isinstance(s.step, ir.Literal) and s.step.text == "1")
    lo, hi = to_sympy(s.start), to_sympy(s.stop)
    if not unit or lo is None or hi is None:
        return
    chain = (*chain, (s.var, (lo, hi)))
    for x in s.body:
        if isinstance(x, ir.Do):
            yield from _nest_writes(x, chain)
        else:
            yield from _arm_writes((x,), chain)


def _arm_writes(body: tuple[ir.Stmt, ...], chain):
    """(array, box) that every path through ``body`` (straight-line statements of an innermost
    loop body) surely writes: top-level assignments, and the writes common to every arm of an
    IF with an ELSE or a SELECT with a default (hdiff's ``if (...) then; flx(i, j) = 0; else;
    flx(i, j) = res; end if``)."""
    for x in body:
        if isinstance(x, ir.Assign) and isinstance(x.target, ir.ArrayRef):
            box = _box(x.target, chain)
            if box is not None:
                yield x.target.name, box
        elif isinstance(x, ir.If | ir.Select) and _complete(x):
            arms = [set(_arm_writes(b, chain)) for b in bodies(x)]
            yield from set.intersection(*arms) if arms else ()


def _complete(s: ir.If | ir.Select) -> bool:
    """Some arm of ``s`` runs whatever the conditions: an IF with an ELSE, a SELECT with a
    default case."""
    if isinstance(s, ir.If):
        return s.else_body is not None
    return any(not c.selectors for c in s.cases)


def _box(target: ir.ArrayRef, chain) -> tuple[Interval, ...] | None:
    if "%" in target.name or len(target.subs) != len(chain):
        return None
    out = []
    used: set[str] = set()
    for sub in target.subs:
        hit = None
        for var, (lo, hi) in chain:
            c = offset(sub, var) if not isinstance(sub, ir.Range) else None
            if c is not None and var not in used:
                hit = (var, (sympy.expand(lo + c), sympy.expand(hi + c)))
                break
        if hit is None:
            return None
        used.add(hit[0])
        out.append(hit[1])
    return tuple(out)


def _dims(sym: ir.Symbol | None) -> list[Interval] | None:
    if sym is None or not sym.dims or sym.attrs & {"pointer", "allocatable"}:
        return None
    out = []
    for d in sym.dims:
        if d.kind != "explicit":
            return None
        lo = to_sympy(d.lo) if d.lo is not None else sympy.Integer(1)
        hi = to_sympy(d.hi)
        if lo is None or hi is None:
            return None
        out.append((lo, hi))
    return out


def _eq(a: sympy.Expr, b: sympy.Expr) -> bool:
    return sympy.expand(a - b) == 0


def _mentioned(r: ir.Routine) -> set[str]:
    out: set[str] = set()
    for s in walk_stmts(r.body):
        for e in stmt_exprs(s):
            out |= names_in(e)
        if isinstance(s, ir.Opaque):
            out |= set(s.reads) | set(s.writes)
    for inner in r.contains:
        out |= _mentioned(inner)
    return out
