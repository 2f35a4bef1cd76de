"""To-be-recorded (TBR) analysis: which overwrites of *needed* variables must really be saved.

ad/core/needed.py answers "which variables does the backward sweep read anywhere"
(flow-insensitive). Saving every overwrite of such a variable is safe but wasteful: in

    tmp(i, j) = 0;  tmp(i, j) = tmp(i, j) + a(i, k)*b(k, j)   ! k loop
    d(i, j) = d(i, j) + tmp(i, k)*c(k, j)                      ! later

``tmp`` is needed (by the adjoint of the later statement), but nothing *before* the k loop reads
it backwards, so its per-k overwrites need no push. This forward data-flow analysis (Hascoet,
Naumann and Pascual, "To be recorded analysis in reverse-mode AD", 2005) tracks ``req``: the
variables whose current value the adjoint of some statement already executed will read. An
assignment to ``v`` pushes the old value only when ``v`` is in ``req`` or the statement's own
adjoint reads it; afterwards a scalar ``v`` leaves ``req`` (its new value is nobody's business
yet), and an array stays in it. A statement whose adjoint reads only the element it overwrites
(``c(i, j) = c(i, j)*beta``) saves that element itself and does not put the array in ``req``.

The refinement applies to local variables and dummies of intrinsic type that nothing aliases
(no POINTER/TARGET/EQUIVALENCE/COMMON/SAVE, no internal procedures); every other variable is
saved exactly as before. Loops are iterated to a fixpoint, except an outermost loop reversed
one iteration at a time right after its re-run (loop_checkpoint.one_at_a_time): there an
iteration's overwrites serve only its own adjoint. Parallel loops and constructs the analysis
does not model keep every save.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ad.constructs import matmul
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, bodies, stmt_exprs, subexprs, walk_stmts
from fortran_ad.ir.walk import value_names as names_in

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

Req = frozenset[str]
_INTRINSIC = {"real", "double precision", "integer", "logical", "complex", "double complex"}
_ALIASED = {"pointer", "target", "save", "parameter", "volatile", "asynchronous"}


def unsaved(t: Reverse) -> set[int]:
    """Ids of assignments to needed variables whose old value no backward sweep reads."""
    cands = _candidates(t)
    if not cands:
        return set()
    a = _Analysis(t, cands)
    a.body(t.routine.body, frozenset())
    return {
        id(s)
        for s in walk_stmts(t.routine.body)
        if isinstance(s, ir.Assign)
        and base_name(s.target) in cands
        and id(s) not in a.saves
        and id(s) in a.seen
    }


def _candidates(t: Reverse) -> set[str]:
    r = t.routine
    if r.contains or any(isinstance(s, ir.PointerAssign) for s in walk_stmts(r.body)):
        return set()
    if any(isinstance(x, ir.OpaqueSpec) and "equivalence" in x.text.lower() for x in r.spec):
        return set()
    out = set()
    for sym in r.symbols:
        if (
            sym.name in t.needed
            and sym.type is not None
            and sym.type.base in _INTRINSIC
            and not (sym.attrs & _ALIASED)
            and not any(a.startswith("common") for a in sym.attrs)
            and sym.init is None
        ):
            out.add(sym.name)
    return out


class _Analysis:
    def __init__(self, t: Reverse, cands: set[str]) -> None:
        self.t = t
        self.cands = cands
        self.saves: set[int] = set()  # assignments that must push (some pass said so)
        self.seen: set[int] = set()  # assignments the analysis modelled
        self.depth = 0  # loops around the statement analysed

    # -- statements ----------------------------------------------------------------------------
    def body(self, stmts: tuple[ir.Stmt, ...], req: Req) -> Req:
        for s in stmts:
            req = self.stmt(s, req)
        return req

    def stmt(self, s: ir.Stmt, req: Req) -> Req:
        t = self.t
        if isinstance(s, ir.Assign):
            return self.assign(s, req)
        if isinstance(s, ir.CallStmt):
            uses = t._call_reads(s) if t._is_active_call(s) else set()
            return req | self._c(uses) | self._c(self._subscripts(t.written_by_call(s)))
        if isinstance(s, ir.Do):
            from fortran_ad.ad.parallel import loops as parallel

            if parallel.wants(t, s):
                return self.opaque(s, req)
            return self.loop(s, req, self._c(self._header_uses(s)))
        if isinstance(s, ir.DoWhile):
            return self.loop(s, req, self._c(self._header_uses(s)))
        if isinstance(s, ir.If | ir.Select):
            head = set().union(*(names_in(e) for e in stmt_exprs(s)))
            entry = req | self._c(head)
            outs = [self.body(b, entry) for b in bodies(s)]
            complete = (isinstance(s, ir.If) and s.else_body is not None) or (
                isinstance(s, ir.Select) and any(not c.selectors for c in s.cases)
            )
            return frozenset().union(*outs, *(() if complete else (entry,)))
        if isinstance(s, ir.Opaque):
            return req
        if bodies(s) or stmt_exprs(s):
            return self.opaque(s, req)
        return req

    def assign(self, s: ir.Assign, req: Req) -> Req:
        t = self.t
        v = base_name(s.target)
        self.seen.add(id(s))
        active = t.is_active(s.target)
        uses: set[str] = t._assign_reads(s) if active else set()
        if t.side_effects(s) is not None:  # differentiated as the call (function_effects)
            assert isinstance(s.value, ir.Call)
            call = ir.CallStmt(s.value.name, s.value.args, s.loc)
            uses |= t._call_reads(call) | self._subscripts(t.written_by_call(call))
        own = v in uses and not self._only_own_element(s) if v in self.cands else False
        save = (
            v in t.needed
            and id(s) not in t.first_defs
            and (v not in self.cands or v in req or (active and v in uses))
        )
        if save:
            self.saves.add(id(s))
            uses |= self._subscripts([s.target])
        sym = t.routine.symbol(v) if v else None
        out = req | self._c(uses - {v}) | (frozenset({v}) if own else frozenset())
        whole = isinstance(s.target, ir.Name) and sym is not None and sym.rank == 0
        return out - {v} if whole else out

    def loop(self, s: ir.Do | ir.DoWhile, req: Req, head: Req) -> Req:
        from fortran_ad.ad.checkpointing import loop_checkpoint as lc

        entry = req | head
        self.depth += 1
        try:
            if self.depth == 1 and lc.one_at_a_time(self.t, s):
                # each iteration is reversed right after its own re-run: what it leaves
                # required concerns only itself (the next one is re-run from its snapshot)
                return entry | self.body(s.body, entry)
            while True:
                out = self.body(s.body, entry)
                if out <= entry:
                    return entry | out
                entry = entry | out
        finally:
            self.depth -= 1

    def opaque(self, s: ir.Stmt, req: Req) -> Req:
        """A construct the analysis does not model: save every overwrite inside, and assume
        its backward sweep reads everything it mentions."""
        mentioned: set[str] = set()
        for x in walk_stmts((s,)):
            if isinstance(x, ir.Assign):
                self.saves.add(id(x))
            for e in stmt_exprs(x):
                mentioned |= names_in(e)
            if isinstance(x, ir.Opaque):
                mentioned |= set(x.reads) | set(x.writes)
        return req | self._c(mentioned)

    # -- helpers -------------------------------------------------------------------------------
    def _c(self, names: set[str] | Req) -> Req:
        return frozenset(n for n in names if n in self.cands)

    def _header_uses(self, s: ir.Do | ir.DoWhile) -> set[str]:
        """What the reversed loop reads at the loop's position: its bounds (or condition), and
        for a checkpointed loop everything its re-run reads and the snapshot does not restore."""
        from fortran_ad.ad.checkpointing import loop_checkpoint as lc

        out = set().union(*(names_in(e) for e in stmt_exprs(s)))
        opt = self.t.periods.get(lc.loop_key(self.t, s))
        if opt is not None and not opt.stores:
            out |= lc.reads(s) - lc.restored(self.t, s)
        return out

    @staticmethod
    def _subscripts(targets) -> set[str]:
        out: set[str] = set()
        for e in targets:
            for sub in subexprs(e):
                if isinstance(sub, ir.ArrayRef):
                    for x in sub.subs:
                        out |= names_in(x)
        return out

    def _only_own_element(self, s: ir.Assign) -> bool:
        """Does the adjoint of ``s`` read ``v`` only as the very element ``s`` overwrites?"""
        v = base_name(s.target)
        if not isinstance(s.target, ir.ArrayRef):
            return False
        if isinstance(s.value, ir.Call) and self.t.program.get(s.value.name):
            return False  # a differentiated function re-run by its adjoint reads its arguments
        if matmul.kept(s):
            return True  # the target is read (c on both sides) only as the part overwritten
        index = names_in(ir.ArrayRef("_", s.target.subs)) - {"_"}
        if v in index:
            return False
        for ref, coeff in self.t.linearize(s.value, s.loc):
            exprs = [coeff] if coeff is not None else []
            if isinstance(ref, ir.ArrayRef):
                exprs += list(ref.subs)
            for e in exprs:
                for x in subexprs(e):
                    other = isinstance(x, ir.Name | ir.ArrayRef) and x != s.target
                    if other and base_name(x) == v:
                        return False
        return True
