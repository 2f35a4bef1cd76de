"""Adjoint liveness for gradient-only adjoints (``--gradient-only``, as Tapenade by default).

A joint adjoint re-runs the primal in its forward sweep and, by convention, leaves the primal
outputs as the primal would. A gradient-only adjoint guarantees only the adjoint results, so
the forward sweep keeps just the statements whose values some later kept statement or some
backward statement reads: a backward liveness analysis over the primal body (``gemm``:
``c = alpha*matmul(a, b) + beta*c`` and ``cost = sum(c)`` go, the adjoint of the first still
reads the entry values of ``a``, ``b``, ``c``).

Nothing is live at the end of the routine. Going backwards, the adjoint of a statement S reads
(the coefficients of its linearisation, MATMUL operands, subscripts) the state *before* S:
those names are live before S whether S is kept or not. S is kept when it writes a live name
(post S), when its target is not a plain local (module, COMMON, SAVE/DATA, pointer data, host
variables of internal procedures), when it is labelled or calls a function of the program, or
when it is anything but an assignment or a structured construct (calls, I/O, ALLOCATE, MPI:
kept as they are). Only whole-variable assignments kill. DO/IF/SELECT constructs are kept when
they hold a kept statement or an adjoint; their bounds and conditions are then read. Loops under
a binomial (revolve) schedule and OpenMP/parallel loops are kept whole (their re-runs execute the
primal body). A loop checkpointed in fixed-period segments is analysed like any loop: its
forward sweep and its re-runs execute the body without the dead statements (``pruned``), and
when its snapshots are empty and nothing it writes is live after it, nothing needs its forward
sweep (``unrun``): every re-run recomputes what its segment's adjoint reads. An array a loop
touches only as ``a(.., i, ..)`` (its own index at one position) carries nothing from one
iteration to the next.

A removed statement whose target the full sweep saves keeps its push/pop (a plain
save/restore) unless no kept statement writes that variable at all: then the variable still
holds, when the adjoint of S runs, the value it had before S (every write reaching the read
is kept by the analysis).

Applies to the head routine only: callees' adjoints (joint) and split forward sweeps still
leave their outputs, since their callers' sweeps read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.analysis.persistent import saved_by_spec
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, bodies, names_in, stmt_exprs, subexprs, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

_PINNED_ATTRS = frozenset({"save", "pointer", "target", "parameter", "volatile", "asynchronous"})


def applies(t: Reverse) -> bool:
    """Gradient-only liveness runs for the head routine of a reverse-mode Fortran adjoint
    without aliasing it cannot follow (pointers, EQUIVALENCE)."""
    opts = getattr(t, "omp_options", None)
    if opts is None or not getattr(opts, "gradient_only", False):
        return False
    r = t.routine
    if r.name != getattr(t, "head_name", None):
        return False
    if any(isinstance(s, ir.PointerAssign) for s in walk_stmts(r.body)):
        return False
    if any(isinstance(x, ir.OpaqueSpec) and "equivalence" in x.text.lower() for x in r.spec):
        return False
    return not any(sym.attrs & {"pointer", "target"} for sym in r.symbols)


def dead_statements(t: Reverse) -> tuple[set[int], set[str], set[int]]:
    """Ids of the statements the gradient-only forward sweep drops, the names the kept
    statements (may) write, and the ids of the checkpointed loops only re-runs execute."""
    a = _Liveness(t)
    a.body(t.routine.body, set())
    return a.dead, a.kept_writes(), a.unrun


def empty_forward(t: Reverse, stmts: list[ir.Stmt]) -> bool:
    """Do the forward statements ``stmts`` only run empty loops and branches (comments aside,
    no calls of the program's functions in bounds or conditions)?"""
    for x in walk_stmts(tuple(stmts)):
        if isinstance(x, ir.Comment):
            continue
        if not isinstance(x, ir.Do | ir.If) or x.label is not None:
            return False
        if isinstance(x, ir.Do) and (x.end_label is not None or x.directives):
            return False
        for e in stmt_exprs(x):
            if any(isinstance(c, ir.Call) and t.program.get(c.name) for c in subexprs(e)):
                return False
    return True


def without_empty_loops(t: Reverse, fwd: list[ir.Stmt]) -> list[ir.Stmt]:
    """``fwd`` without the DO loops whose forward statements were all dropped."""
    return [x for x in fwd if not (isinstance(x, ir.Do) and empty_forward(t, [x]))]


class _Liveness:
    def __init__(self, t: Reverse) -> None:
        from fortran_ad.ad.checkpointing import loop_checkpoint as lc
        from fortran_ad.ad.parallel import loops as parallel

        self.t = t
        self.dead: set[int] = set()
        r = t.routine
        self.local = {
            s.name
            for s in r.symbols
            if s.init is None
            and not (s.attrs & _PINNED_ATTRS)
            and not any(a.startswith("common") for a in s.attrs)
        }
        from fortran_ad.ir.walk import routine_names

        for c in r.contains:  # host variables internal procedures see stay pinned
            self.local -= routine_names(c)
        self.local -= saved_by_spec(r)
        self.whole: set[int] = set()  # loops kept with their whole primal body
        self.segmented: set[int] = set()  # DO loops checkpointed with fixed-period segments
        self.unrun: set[int] = set()  # ... whose forward sweep nothing needs (only re-runs)
        for s in walk_stmts(r.body):
            if not isinstance(s, ir.Do | ir.DoWhile):
                continue
            opt = t.periods.get(lc.loop_key(t, s))
            checkpointed = opt is not None and not opt.stores
            omp = isinstance(s, ir.Do) and (
                bool(s.directives) or s.parallel is not None or parallel.wants(t, s)
            )
            if checkpointed and not omp and isinstance(s, ir.Do) and opt.levels and not opt.snaps:
                self.segmented.add(id(s))
            elif checkpointed or omp:
                self.whole.add(id(s))

    # -- transfer functions: live after -> (live before, kept) ------------------------------
    def body(self, stmts: tuple[ir.Stmt, ...], live: set[str]) -> tuple[set[str], bool]:
        kept = False
        for s in reversed(stmts):
            live, k = self.stmt(s, live)
            kept = kept or k
        return live, kept

    def stmt(self, s: ir.Stmt, live: set[str]) -> tuple[set[str], bool]:
        if isinstance(s, ir.Comment):
            return live, False
        if id(s) in self.whole or _calls_user(self.t, s) or getattr(s, "label", None):
            return live | _all_reads(s), True
        if isinstance(s, ir.Assign):
            return self.assign(s, live)
        if isinstance(s, ir.Do):
            return self.do(s, live)
        if isinstance(s, ir.DoWhile):
            return self.do_while(s, live)
        if isinstance(s, ir.If | ir.Select):
            return self.branches(s, live)
        return live | _all_reads(s), True  # calls, I/O, ALLOCATE, STOP, ...: kept

    def assign(self, s: ir.Assign, live: set[str]) -> tuple[set[str], bool]:
        t = self.t
        tgt = base_name(s.target)
        adj = t._assign_reads(s) if t.is_active(s.target) else set()
        if tgt in live or tgt not in self.local:
            self.dead.discard(id(s))
            before = live - {tgt} if isinstance(s.target, ir.Name) else set(live)
            return before | _assign_reads(s) | adj, True
        self.dead.add(id(s))
        return live | adj, False

    def do(self, s: ir.Do, live: set[str]) -> tuple[set[str], bool]:
        start: set[str] = set()
        own = _own_slabs(s)  # iteration q touches only a(.., q, ..): nothing flows to q + 1
        while True:  # live at the start of an iteration: a fixpoint over the back edge
            new, kept = self.body(s.body, live | (start - own))
            if new <= start:
                break
            start |= new
        kept = kept or s.var in live or _has_adjoint(self.t, s)
        if not kept:
            self.dead.add(id(s))
            return live, False
        self.dead.discard(id(s))
        if id(s) in self.segmented and self._unneeded_forward(s, live):
            self.unrun.add(id(s))
        bounds = set().union(*(names_in(e) for e in stmt_exprs(s)))
        return (live | start) - {s.var} | bounds, True

    def _unneeded_forward(self, s: ir.Do, live: set[str]) -> bool:
        """Does nothing need the forward sweep of the checkpointed loop ``s``: its snapshots
        are empty (every segment re-run recomputes what it reads) and no value it leaves
        (index included) is live after it?"""
        from fortran_ad.ad.checkpointing import loop_checkpoint as lc

        if lc.state(self.t, s):
            return False
        for x in walk_stmts(s.body):
            if isinstance(x, ir.CallStmt | ir.Opaque) or getattr(x, "label", None):
                return False
            if _calls_user(self.t, x):
                return False
        wrote = {s.var} | self.t.writes(s.body)
        return not (wrote & live) and wrote <= self.local | {s.var}

    def do_while(self, s: ir.DoWhile, live: set[str]) -> tuple[set[str], bool]:
        cond = names_in(s.cond) if s.cond is not None else set()
        start: set[str] = set(cond)
        while True:
            new, _ = self.body(s.body, live | start)
            if new <= start:
                break
            start |= new
        return live | start, True  # kept: its trip count is not ours to change

    def branches(self, s: ir.If | ir.Select, live: set[str]) -> tuple[set[str], bool]:
        out: set[str] = set()
        kept = False
        arms = list(bodies(s))  # (the ELSE too)
        for b in arms:
            before, k = self.body(b, live)
            out |= before
            kept = kept or k
        full = (s.else_body is not None) if isinstance(s, ir.If) else _has_default(s)
        if not full:
            out |= live
        if not (kept or _has_adjoint(self.t, s)):
            self.dead.add(id(s))
            return live, False
        self.dead.discard(id(s))
        return out | set().union(*(names_in(e) for e in stmt_exprs(s))), True

    def kept_writes(self) -> set[str]:
        """Names a kept statement writes (walking kept constructs only)."""
        out: set[str] = set()
        todo = list(self.t.routine.body)
        while todo:
            s = todo.pop()
            if id(s) in self.dead:
                continue
            if isinstance(s, ir.Do):
                out.add(s.var)
            elif isinstance(s, ir.Assign):
                out.add(base_name(s.target) or "")
            elif not isinstance(s, ir.DoWhile | ir.If | ir.Select):
                out |= _all_reads(s)  # calls, ALLOCATE, ...: any name they mention
            for b in bodies(s):
                todo.extend(b)
        return out


def pruned(t: Reverse, body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
    """``body`` (primal statements) without the ones the analysis found dead, nested ones
    included: the primal body a checkpointed loop's forward sweep and re-runs execute."""
    from dataclasses import replace

    out: list[ir.Stmt] = []
    for s in body:
        if id(s) in t.dead:
            continue
        if isinstance(s, ir.Do | ir.DoWhile):
            s = replace(s, body=pruned(t, s.body))
        elif isinstance(s, ir.If):
            branches = tuple((c, pruned(t, b)) for c, b in s.branches)
            other = pruned(t, s.else_body) if s.else_body is not None else None
            s = replace(s, branches=branches, else_body=other)
        elif isinstance(s, ir.Select):
            cases = tuple(replace(c, body=pruned(t, c.body)) for c in s.cases)
            s = replace(s, cases=cases)
        out.append(s)
    return tuple(out)


def _has_default(s: ir.Select) -> bool:
    return any(not c.selectors for c in s.cases)


def _own_slabs(s: ir.Do) -> set[str]:
    """Arrays every reference of which in the loop is ``a(.., i, ..)`` with the loop index
    ``i`` itself at one fixed position (doitgen's ``a(:, q, :)``): iterations touch disjoint
    slabs, so a value written in one iteration is never read in another."""
    where: dict[str, set[int]] = {}
    bad: set[str] = set()
    for x in walk_stmts(s.body):
        if isinstance(x, ir.Opaque):
            bad |= set(x.reads) | set(x.writes)
        for e in stmt_exprs(x):
            for sub in subexprs(e):
                if isinstance(sub, ir.Name):
                    bad.add(sub.name.split("%", 1)[0])
                elif isinstance(sub, ir.ArrayRef):
                    if "%" in sub.name:
                        bad.add(sub.name.split("%", 1)[0])
                        continue
                    at = {k for k, i in enumerate(sub.subs) if i == ir.Name(s.var)}
                    where.setdefault(sub.name, set()).add(min(at) if len(at) == 1 else -1)
    return {n for n, ks in where.items() if n not in bad and len(ks) == 1 and -1 not in ks}


def _assign_reads(s: ir.Assign) -> set[str]:
    """What an assignment reads: its value and the subscripts of its target."""
    out = names_in(s.value)
    for sub in subexprs(s.target):
        if isinstance(sub, ir.ArrayRef):
            for x in sub.subs:
                out |= names_in(x)
        elif isinstance(sub, ir.OpaqueExpr):
            out |= set(sub.names)
    return out


def _all_reads(s: ir.Stmt) -> set[str]:
    """Every name ``s`` and its nested statements mention (reads, conservatively)."""
    out: set[str] = set()
    for x in walk_stmts((s,)):
        for e in stmt_exprs(x):
            out |= names_in(e)
        if isinstance(x, ir.Opaque):
            out |= set(x.reads) | set(x.writes)
        if isinstance(x, ir.Do):
            out.add(x.var)
    return out


def _calls_user(t: Reverse, s: ir.Stmt) -> bool:
    """Does ``s`` (not its nested statements) call a routine of the program (side effects)?"""
    return any(
        isinstance(x, ir.Call) and t.program.get(x.name) is not None
        for e in stmt_exprs(s)
        for x in subexprs(e)
    )


def _has_adjoint(t: Reverse, s: ir.Stmt) -> bool:
    """Does the construct hold an adjoint statement (its control is then read backwards)?"""
    for x in walk_stmts((s,)):
        if isinstance(x, ir.Assign) and t.is_active(x.target):
            return True
        if isinstance(x, ir.CallStmt | ir.Opaque):
            return True  # kept anyway
    return False
