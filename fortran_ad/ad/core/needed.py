"""What the backward sweep reads: the *needed* variables of one routine (their overwrites are
saved), which constructs have reverse content, and which branch conditions can be re-evaluated
instead of recorded. A mixin of ad/core/adjoint.py's Reverse."""

from __future__ import annotations

from fortran_ad.ad.constructs import matmul
from fortran_ad.ad.rewrites.first_writes import element_first_writes
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, status_names, subexprs, walk_stmts
from fortran_ad.ir.walk import value_names as names_in


class NeededAnalysis:
    """Needs the RoutineAD attributes (routine, program, activity, linearize, writes, ...)."""

    def _first_definitions(self) -> set[int]:
        """Top-level assignments that define a local before anything mentions it, and
        assignments in loops that define an element of a local array for the first time
        (ad/rewrites/first_writes.py): the old value is undefined and nobody reads it, so it is not
        saved."""
        from fortran_ad.ir.walk import exprs_of_body, names_in

        r = self.routine
        out: set[int] = set()
        mentioned: set[str] = set()
        for s in r.body:
            if isinstance(s, ir.Assign):
                tgt = base_name(s.target)
                sym = r.symbol(tgt) if tgt else None
                fresh = (
                    sym is not None
                    and tgt not in mentioned
                    and tgt not in r.args
                    and tgt != r.result
                    and sym.init is None
                    and not (sym.attrs & {"save", "parameter"})
                    and not any(a.startswith("common") for a in sym.attrs)
                    and tgt not in names_in(s.value)
                )
                if fresh:
                    out.add(id(s))
            for e in exprs_of_body((s,)):
                mentioned |= names_in(e)
            if isinstance(s, ir.Opaque):
                mentioned |= set(s.reads) | set(s.writes)
        from fortran_ad.ad import rewrites

        if not rewrites.on(self, "first_writes"):
            return out
        elements = element_first_writes(self)
        rewrites.fired("first_writes", bool(elements))
        return out | elements

    # -- the needed set (fixpoint: control of reversed constructs adds names) ----------------
    def _needed(self) -> set[str]:
        """Names the adjoint statements read, closed under ``close_needed``."""
        needed: set[str] = set()
        for s in walk_stmts(self.routine.body):
            if isinstance(s, ir.Assign) and self.is_active(s.target):
                needed |= self._assign_reads(s)
            elif isinstance(s, ir.Assign) and self.side_effects(s) is not None:
                assert isinstance(s.value, ir.Call)  # adjoint: the call's (function_effects)
                needed |= self._call_reads(ir.CallStmt(s.value.name, s.value.args, s.loc))
            elif isinstance(s, ir.CallStmt) and self._is_active_call(s):
                needed |= self._call_reads(s)
        return self.close_needed(needed)

    def close_needed(self, needed: set[str]) -> set[str]:
        """The fixpoint: a needed array's stored subscripts are needed (a pop must find the
        pushed element), and the control (bounds, re-evaluated conditions) of every construct
        with reverse content, which includes saving a needed name. Run again after anything
        adds to the needed set (globals other sweeps read, checkpoint re-runs): a global
        written in an IF arm makes that IF's re-evaluated condition needed."""
        needed = set(needed)
        while True:
            before = len(needed)
            for s in walk_stmts(self.routine.body):
                if isinstance(s, ir.Assign) and base_name(s.target) in needed:
                    for sub in subexprs(s.target):  # a pop must find the pushed element
                        if isinstance(sub, ir.ArrayRef):
                            for x in sub.subs:
                                needed |= names_in(x)
                if isinstance(s, ir.Do | ir.If | ir.Select) and self._has_reverse(s, needed):
                    if isinstance(s, ir.Do):
                        for e in (s.start, s.stop, s.step):
                            if e is not None:
                                needed |= names_in(e)
                    elif isinstance(s, ir.If) and self._recompute_if(s):
                        for c, _ in s.branches:
                            needed |= names_in(c)
                    elif isinstance(s, ir.Select) and self._recompute_select(s):
                        needed |= names_in(s.expr)
            if len(needed) == before:
                return needed

    def _assign_reads(self, s: ir.Assign) -> set[str]:
        out: set[str] = set()
        for sub in subexprs(s.target):
            if isinstance(sub, ir.ArrayRef):
                for x in sub.subs:
                    out |= names_in(x)
        if isinstance(s.value, ir.Call) and self.program.get(s.value.name):
            for a in s.value.args:
                out |= names_in(a)
            return out
        if matmul.kept(s):
            return out | matmul.reads(self, s)
        for ref, coeff in self.linearize(s.value, s.loc):
            if coeff is not None:
                out |= names_in(coeff)
            if isinstance(ref, ir.ArrayRef):
                for x in ref.subs:
                    out |= names_in(x)
        return out

    def _call_reads(self, s: ir.CallStmt) -> set[str]:
        """What the recomputing callee reads: actuals of dummies it may read the value of
        (analysis/reads.py: not intent(out) ones it only assigns, such as a kernel's output
        array), and the subscripts of every actual (they designate its derivative)."""
        from fortran_ad.analysis.reads import value_reads
        from fortran_ad.ir.program import dummy_map

        if self.program.get(s.name) is None:  # an MPI call (ad/constructs/mpi.py)
            from fortran_ad.ad.constructs import mpi

            return mpi.reads(s)
        callee = self.program.get(s.name).routine
        read = value_reads(callee)
        out: set[str] = set()
        for d, a in dummy_map(s.args, callee).items():
            sym = callee.symbol(d)
            unread = sym is not None and (sym.intent == "out" or d not in read)
            if unread and isinstance(a, ir.ArrayRef | ir.Name):
                for sub in subexprs(a):
                    if isinstance(sub, ir.ArrayRef):
                        for x in sub.subs:
                            out |= names_in(x)
            else:
                out |= names_in(a)
        return out

    def _is_active_call(self, s: ir.CallStmt) -> bool:
        info = self.program.get(s.name)
        if info is None:
            from fortran_ad.ad.constructs import mpi

            return mpi.is_mpi(s.name) and mpi.is_active_call(self, s)
        return self.activity.differentiated(info.routine)

    def _leading_passive_calls(self) -> set[int]:
        """Passive calls of the program's own routines at the top of the body, before any
        statement with reverse content (a set-up call such as ``call setup_phys(klev)``).
        What they overwrite is not saved around them: its old value could only be read by
        the adjoints of the statements before them, and those have none."""
        out: set[int] = set()
        for s in self.routine.body:
            own = isinstance(s, ir.CallStmt) and self.program.get(s.name) is not None
            if own and not self._is_active_call(s):
                out.add(id(s))
                continue
            if self._has_reverse(s, self.needed):
                break
        return out

    def _has_reverse(self, s: ir.Stmt, needed: set[str]) -> bool:
        for x in walk_stmts((s,)):
            if isinstance(x, ir.Do) and x.var in needed:
                return True  # a passive loop still pushes its needed index (adjoint._do)
            if isinstance(x, ir.Assign) and (
                self.is_active(x.target)
                or base_name(x.target) in needed
                or self.side_effects(x) is not None
            ):
                return True
            if isinstance(x, ir.CallStmt) and (
                self._is_active_call(x)
                or any(base_name(a) in needed for a in self.written_by_call(x))
            ):
                return True
            if isinstance(
                x, ir.Opaque
            ) and (  # undone or re-done backwards, popped (adjoint.opaque)
                x.text.lstrip().lower().startswith(("allocate", "deallocate"))
                or set(x.writes) & needed
            ):
                return True
        return False

    def _recompute_if(self, s: ir.If) -> bool:
        conds = set().union(*(names_in(c) for c, _ in s.branches))
        bodies_ = [b for _, b in s.branches] + ([s.else_body] if s.else_body else [])
        written = set().union(*(self.writes(tuple(b)) for b in bodies_))
        status = set().union(*(status_names(c) for c, _ in s.branches))
        if status & set().union(*(self.reshapes(tuple(b)) for b in bodies_)):
            return False  # e.g. if (.not. allocated(x)) allocate(x): the arm changes the answer
        return not (conds & written) and not any(
            isinstance(x, ir.Call) and self.program.get(x.name)
            for c, _ in s.branches
            for x in subexprs(c)
        )

    def _recompute_select(self, s: ir.Select) -> bool:
        written = set().union(*(self.writes(c.body) for c in s.cases))
        reshaped = set().union(*(self.reshapes(c.body) for c in s.cases))
        return not (names_in(s.expr) & written) and not (status_names(s.expr) & reshaped)

    # -- sweeps ------------------------------------------------------------------------------

    def _restored(self, names: set[str], loc: ir.SourceLoc) -> None:
        """The invariant of re-evaluated control: a condition the backward sweep evaluates
        again (around backward content, tape pops included) reads only variables it finds
        with their forward values: needed ones (restored), indices of the enclosing loops
        (their backward loops recreate them) and ones the routine never writes. Else the
        backward arms run on other values than the forward ones (pops out of order, adjoints
        of the wrong arm): fail generation here (the needed analysis, ad/core/needed.py, missed
        backward content). Inside the adjoint of a parallel loop, what the loop body writes is
        restored by re-running the iteration before its backward body (ad/parallel/loops.py
        re-runs whenever the backward body reads such a name)."""
        loose = names & self.writes(self.routine.body)
        loose -= self.needed | {lp.var for lp in self.loops} | self.rerun_restored
        if loose:
            raise FortranADError(
                loc,
                "internal error: the backward sweep re-evaluates a condition reading "
                f"{', '.join(sorted(loose))}, which it does not restore",
                "please report this with the source",
            )
