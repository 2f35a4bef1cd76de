"""Reverse mode for one routine: a forward sweep that runs the primal and records, then a
backward sweep that restores and accumulates adjoints (store-all baseline, joint calls).

Invariant of the backward sweep: before the adjoint of statement S runs, every variable the
adjoints of S and of the statements before it read holds the value it had just after S in the
forward sweep. Overwrites of *needed* variables (ad/core/needed.py: read by some backward sweep) are
pushed and popped to keep it, except where the to-be-recorded analysis (ad/core/tbr.py) proves no
earlier adjoint reads the overwritten value; loop bounds, branch choices and trip counts are
recomputed where their inputs survive, recorded otherwise.
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ad import rewrites
from fortran_ad.ad.constructs import derived, derived_alloc, function_effects, matmul, pointers
from fortran_ad.ad.core import tbr
from fortran_ad.ad.core.common import RoutineAD, loop_vars_outside
from fortran_ad.ad.core.liveness import (
    applies,
    dead_statements,
    empty_forward,
    pruned,
    without_empty_loops,
)
from fortran_ad.ad.core.needed import NeededAnalysis
from fortran_ad.ad.core.rules import increment
from fortran_ad.ad.core.tape_ops import INT, Sweep, lit, pop, push
from fortran_ad.ad.parallel import loops as parallel
from fortran_ad.ad.rewrites import block_tape, column_updates, handoff, recompute, simd
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.omp import is_atomic
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import neg
from fortran_ad.ir.walk import base_name, status_names, walk_stmts
from fortran_ad.ir.walk import value_names as names_in
from fortran_ad.normalize.actuals import check_frozen


class Reverse(RoutineAD, NeededAnalysis):
    """Builds the forward and backward sweeps of one (normalized) routine."""

    def prepare(self) -> None:
        from fortran_ad.ad.checkpointing import loop_checkpoint as lc

        self.candidates: list = []  # checkpoint candidates met while sweeping
        self.depth = 0  # loop nesting while sweeping
        self.loops: list[ir.Do] = []  # the DO loops around the statement being swept
        self.uses_revolve = False  # a loop follows a binomial schedule (use fad_revolve)
        self.needed = self._needed()
        self.first_defs = self._first_definitions()
        for s in walk_stmts(self.routine.body):  # checkpointed loops re-run forward later
            loop = isinstance(s, ir.Do | ir.DoWhile)
            opt = self.periods.get(lc.loop_key(self, s)) if loop else None
            if opt is not None and not opt.stores:
                self.needed |= lc.reads(s) - lc.restored(self, s)
        if self.globals is not None:  # a global any backward sweep reads is needed here too
            gl = self.globals.visible(self.routine.name)  # (passive ones too)
            self.needed |= {n for n, k in gl.items() if k in self.globals.needed}
            for s in walk_stmts(self.routine.body):  # and those its calls change (saved around)
                if isinstance(s, ir.CallStmt):
                    self.needed |= {base_name(a) or "" for a in self.globals_written_by_call(s)}
        pointers.check_reverse(self)
        self.free_loop_vars = loop_vars_outside(self.routine.body)
        self.deferred: list[ir.Stmt] = []
        self._branch: str | None = None
        self.omp_depth = 0  # inside the adjoint of a parallel loop (ad/parallel/loops.py)
        self.rerun_restored: set[str] = set()  # names a parallel loop's re-run restores
        while True:  # closed again after additions (ad/core/needed.py: close_needed)
            grown = self.close_needed(self.needed | parallel.rerun_reads(self))
            if grown == self.needed:
                break
            self.needed = grown
        self.rerun_writes: set[str] = set()  # shared variables such adjoints re-compute
        parallel.check_directives(self.routine)
        self.unsaved = tbr.unsaved(self)  # overwrites no backward sweep reads (ad/core/tbr.py)
        self.unsnapped = self._leading_passive_calls()  # set-up calls (ad/core/needed.py)
        self.gradient_only = applies(self)  # drop dead primal code (ad/core/liveness.py)
        self.dead: set[int] = set()
        self.unrun: set[int] = set()  # checkpointed loops without a forward sweep
        if self.gradient_only:
            self.dead, self.kept_writes, self.unrun = dead_statements(self)
        # loop-private scalars re-run backwards (ad/rewrites/recompute.py)
        self.recomputed: set[int] = set()

    def sweep(self, body: tuple[ir.Stmt, ...]) -> Sweep:
        fwd: list[ir.Stmt] = []
        bwd: list[ir.Stmt] = []
        for s in body:
            f, b = self.stmt(s)
            if fwd and is_atomic(fwd[-1]):  # records of its update go before it
                f = parallel.atomic_before_update(fwd.pop(), f, s)
            fwd.extend(f)
            bwd[:0] = b
        if rewrites.on(self, "column_updates"):  # one pass per matrix for its rank-1 updates
            bwd = rewrites.tracked("column_updates", bwd, column_updates.fuse(bwd))
        if rewrites.on(self, "handoff"):  # zeroings left to the next gathered loop
            bwd = rewrites.tracked("handoff", bwd, handoff.fuse(self, bwd))
        return fwd, bwd

    def stmt(self, s: ir.Stmt) -> Sweep:
        if id(s) in self.dead and not isinstance(s, ir.Assign):
            return [], []  # a construct without adjoints writing only dead values
        handler = {
            ir.Assign: self.assign,
            ir.CallStmt: self.call,
            ir.Do: self.do,
            ir.DoWhile: self.do_while,
            ir.If: self.if_,
            ir.Select: self.select,
            ir.Opaque: self.opaque,
            ir.PointerAssign: lambda s: (pointers.derivative(self, s), []),
        }.get(type(s))
        if handler is not None:
            fwd, bwd = handler(s)
            return derived.expand_tape(self, fwd), derived.expand_tape(self, bwd)
        if isinstance(s, ir.Return | ir.Exit | ir.Cycle):
            raise FortranADError(s.loc, f"{type(s).__name__.upper()} left after normalization")
        return [s], []  # comments, CONTINUE, STOP

    def _note(self, s: ir.Stmt, what: str = "adjoint of") -> ir.Comment:
        from pathlib import Path

        if s.loc.line <= 0:  # a statement fortran-ad made (flags, temporaries)
            return ir.Comment(f"! {what} a generated statement")
        return ir.Comment(f"! {what} {Path(s.loc.file).name}:{s.loc.line}", s.loc)

    def assign(self, s: ir.Assign) -> Sweep:
        self.check_target(s)
        if self.side_effects(s) is not None:
            return function_effects.sweeps(self, s)
        tgt = base_name(s.target)
        save = (
            tgt in self.needed
            and id(s) not in self.first_defs
            and id(s) not in self.unsaved
            and id(s) not in self.recomputed
        )
        fwd = [push(s.target), s] if save else [s]
        if id(s) in self.dead:  # gradient-only: the value is dead (ad/core/liveness.py)
            save = save and tgt in self.kept_writes
            fwd = [push(s.target)] if save else []
        bwd: list[ir.Stmt] = [pop(s.target)] if save else []
        if self.is_active(s.target):
            adj = matmul.adjoint(self, s) if matmul.kept(s) else self._assign_adjoint(s)
            snap, keep = function_effects.snapshot(self, s), []
            if snap and any(isinstance(x, ir.CallStmt) for x in adj):
                # what the function writes holds its entry values around the adjoint call
                keep = [x for a in snap for x in derived_alloc.save(self, a)]
                back = [x for a in reversed(snap) for x in derived_alloc.restore(self, a)]
                fwd = [*keep, *fwd]
                adj = [*back, *keep, *adj, *back]
            bwd += adj
        elif id(s) not in self.dead:
            # a passive reference to a function that changes needed variables: saved around
            # it like the actuals of a passive CALL (the earlier adjoints read their values)
            snap = function_effects.snapshot(self, s)
            fwd = [*(x for a in snap for x in derived_alloc.save(self, a)), *fwd]
            bwd += [x for a in reversed(snap) for x in derived_alloc.restore(self, a)]
        if bwd:
            bwd.insert(0, self._note(s))
        return fwd, bwd

    def _assign_adjoint(self, s: ir.Assign) -> list[ir.Stmt]:
        vb = self.deriv(s.target)
        tgt = base_name(s.target)
        if isinstance(s.value, ir.Call) and self.program.get(s.value.name):
            return self._function_adjoint(s, vb)
        terms = self.linearize(s.value, s.loc)
        if not terms:
            return [ir.Assign(vb, self.zero(s.target))]
        seed: ir.Expr = vb
        out: list[ir.Stmt] = []
        self_terms = [(r, c) for r, c in terms if base_name(r) == tgt]
        from fortran_ad.ad.rewrites.distinct import increment

        if increment(self, s.target, self_terms):
            # an increment v = v + e, e free of v's element: v's adjoint passes through
            return self._increments([x for x in terms if x != (s.target, None)], vb)
        if self_terms:
            seed = self.deriv_temp("tmpb", s.target)
            out += [ir.Assign(seed, vb), ir.Assign(vb, self.zero(s.target))]
        out += self._increments(terms, seed)
        if seed is vb:
            out.append(ir.Assign(vb, self.zero(s.target)))
        return out

    def _increments(self, terms, seed: ir.Expr) -> list[ir.Stmt]:
        merged: dict[ir.Expr, list[ir.Expr | None]] = {}
        for ref, coeff in terms:
            merged.setdefault(ref, []).append(coeff)
        return [
            ir.Assign(self.deriv(ref), increment(self.deriv(ref), coeffs, seed))
            for ref, coeffs in merged.items()
        ]

    def _function_adjoint(self, s: ir.Assign, vb: ir.Expr) -> list[ir.Stmt]:
        call = s.value
        assert isinstance(call, ir.Call)
        callee = self.program.get(call.name).routine
        if callee.result not in self.callee_active(call.name):
            return [ir.Assign(vb, self.zero(s.target))]
        check_frozen(self.program, self.info, callee, call.args, s.loc)  # normalize/actuals.py
        res = callee.symbol(callee.result)
        if res is not None and res.rank:  # an array result, assigned whole (normalize/scalarize)
            from fortran_ad.ad.constructs.array_functions import adjoint

            return adjoint(self, s, vb, callee, res)
        t = self.deriv_temp("tmpb", s.target)
        args = self.derivative_args(callee, call.args, s.loc, (t,))
        args = (*args, *self.nbdirs_after(args))
        from fortran_ad.ad.core.naming import routine_name

        args, pre, post = self._unalias(args, s.loc)
        return [
            ir.Assign(t, vb),
            ir.Assign(vb, self.zero(s.target)),
            *pre,
            ir.CallStmt(routine_name(call.name, self.mode), args),
            *post,
        ]

    def _unalias(
        self, args: tuple[ir.Expr, ...], loc=None
    ) -> tuple[tuple[ir.Expr, ...], list, list]:
        """Derivative variables passed twice get buffers (ad/constructs/aliasing.py)."""
        from fortran_ad.ad.constructs.aliasing import unalias

        return unalias(self, args, loc)

    def call(self, s: ir.CallStmt, result: tuple[ir.Expr, ...] = ()) -> Sweep:
        """Sweeps of a CALL (``result``: the result adjoint when ``s`` stands for a function
        reference made for its side effects, ad/constructs/function_effects.py)."""
        from fortran_ad.ad.core.naming import routine_name

        info = self.program.get(s.name)
        if info is None:
            from fortran_ad.ad.constructs import mpi

            if mpi.is_mpi(s.name):
                return mpi.reverse(self, s)
            self.check_external(s)
        snap = [a for a in self.written_by_call(s) if base_name(a) in self.needed]
        snap = [] if id(s) in self.unsnapped else snap
        save = [x for a in snap for x in derived_alloc.save(self, a)]  # (allocatables: status too)
        fwd = [*save, s]
        restore = [x for a in reversed(snap) for x in derived_alloc.restore(self, a)]
        if not self._is_active_call(s):
            return fwd, ([self._note(s), *restore] if restore else [])
        from fortran_ad.ad.checkpointing import split_calls  # the plan may split this call site

        check_frozen(self.program, self.info, info.routine, s.args, s.loc)  # normalize/actuals.py

        split = None if result else split_calls.reverse(self, s, info.routine, snap)
        if split is not None:
            return split
        args = self.derivative_args(info.routine, s.args, s.loc, result)
        args = (*args, *self.nbdirs_after(args))
        args, pre, post = self._unalias(args, s.loc)
        adj = ir.CallStmt(routine_name(s.name, self.mode), args)
        bwd = [self._note(s), *restore, *save, *pre, adj, *post, *restore]
        return fwd, bwd

    def do(self, s: ir.Do) -> Sweep:
        self.loops.append(s)  # enclosing loops bound the indices (ad/rewrites/distinct.py)
        try:
            return self._do(s)
        finally:
            self.loops.pop()

    def _do(self, s: ir.Do) -> Sweep:
        from fortran_ad.ad.checkpointing import loop_checkpoint as lc

        if parallel.wants(self, s):
            return parallel.reverse_loop(self, s)
        redo = recompute.plan(self, s) if rewrites.on(self, "recompute") else []
        rewrites.fired("recompute", bool(redo))
        self.recomputed |= {id(x.original) for x in redo}
        self.depth += 1
        f_body, b_body = self.sweep(s.body)
        self.depth -= 1
        kept = recompute.saved_targets(self, redo)
        self.recomputed -= {id(x.original) for x in redo}
        if b_body and redo:  # the iteration's private scalars, before its adjoint statements
            b_body = [*(x.stmt for x in redo), *b_body]
        if not b_body:  # recomputed scalars keep their value from before the loop all the same
            pre, post = [*map(push, kept)], [*map(pop, reversed(kept))]
            if s.var in self.needed:  # a passive loop still changes its (needed) index
                pre, post = [push(ir.Name(s.var)), *pre], [*post, pop(ir.Name(s.var))]
            return [*pre, _replace_body(s, f_body)], post
        if self.depth == 0 and lc.eligible(self, s):
            self.candidates.append(lc.candidate(self, s, f_body))
            opt = self.periods.get(lc.loop_key(self, s))
            keep = s.var in self.free_loop_vars
            done = None
            if opt is not None and opt.snaps:
                done = lc.revolved(self, s, f_body, b_body, opt.snaps, keep)
            elif opt is not None and opt.levels:
                primal = pruned(self, s.body) if self.gradient_only else s.body
                done = lc.checkpointed(self, s, primal, f_body, b_body, opt.levels, keep)
                if id(s) in self.unrun and not keep:
                    done = ([], done[1])  # every segment re-run starts from scratch
            if done is not None:
                return [*map(push, kept), *done[0]], [*done[1], *map(pop, reversed(kept))]
        step = s.step
        start, stop = s.start, s.stop
        bounds = [e for e in (s.start, s.stop, s.step) if e is not None]
        written = self.writes(s.body)
        pre: list[ir.Stmt] = []
        post: list[ir.Stmt] = []
        restore: list[ir.Stmt] = []
        reshaped = self.reshapes(s.body)
        if any(names_in(e) & written or status_names(e) & reshaped for e in bounds):
            names = []
            for e in bounds:
                t = self.temp("bound", INT)
                pre.append(ir.Assign(ir.Name(t), e, s.loc))
                names.append(ir.Name(t))
            start, stop = names[0], names[1]
            step = names[2] if s.step is not None else None
            post = [push(n) for n in names]
            restore = [pop(n) for n in reversed(names)]
        keep_index = s.var in self.free_loop_vars
        on = rewrites.on(self, "block_tape")
        h = block_tape.hoist(self, s, f_body, b_body, (start, stop, step), on)
        rewrites.fired("block_tape", h.b_body is not b_body)
        fwd = [
            *pre,
            *([push(ir.Name(s.var))] if keep_index else []),
            *(push(x) for x in kept),
            *h.f_before,
            parallel.serial_copy(self, _replace_body(s, h.f_body, start, stop, step), s.body),
            *h.f_after,
            *post,
        ]
        rstart, rstop, rstep = _reversed_bounds(start, stop, step)
        loop = ir.Do(s.var, rstart, rstop, rstep, tuple(h.b_body), None, loc=s.loc)
        loops = simd.rewrite(self, loop, (start, stop, step))
        index = [pop(ir.Name(s.var))] if keep_index else []
        kept_back = [pop(x) for x in reversed(kept)]
        bwd = [self._note(s), *restore, *h.b_before, *loops, *h.b_after, *kept_back, *index]
        if self.gradient_only and not keep_index:  # loops left empty (ad/core/liveness.py)
            fwd = without_empty_loops(self, fwd)
        return fwd, bwd

    def do_while(self, s: ir.DoWhile) -> Sweep:
        from fortran_ad.ad.checkpointing import loop_checkpoint as lc

        self.depth += 1
        f_body, b_body = self.sweep(s.body)
        self.depth -= 1
        if not b_body:
            return [_replace_body(s, f_body)], []
        if self.depth == 0 and lc.eligible(self, s):
            self.candidates.append(lc.candidate(self, s, f_body))
            opt = self.periods.get(lc.loop_key(self, s))
            if opt is not None and opt.snaps:
                return lc.revolved(self, s, f_body, b_body, opt.snaps, False)
            if opt is not None and opt.levels:
                return lc.checkpointed_while(self, s, f_body, b_body, opt.levels)
        cnt, it = self.temp("count", INT), self.temp("iter", INT)
        c = ir.Name(cnt)
        bump = ir.Assign(c, ir.BinOp("+", c, lit(1)))
        fwd = [ir.Assign(c, lit(0)), _replace_body(s, [bump, *f_body]), push(c)]
        bwd = [self._note(s), pop(c), ir.Do(it, lit(1), c, None, tuple(b_body), loc=s.loc)]
        return fwd, bwd

    def _branch_var(self) -> ir.Name:
        if self._branch is None:
            self._branch = self.temp("branch", INT)
        return ir.Name(self._branch)

    def if_(self, s: ir.If) -> Sweep:
        arms = [self.sweep(b) for _, b in s.branches]
        else_arm = self.sweep(s.else_body) if s.else_body is not None else ([], [])
        x = None
        if rewrites.on(self, "common_record"):  # once, before the IF
            x, arms, else_arm = block_tape.common_record(s, arms, else_arm)
            rewrites.fired("common_record", x is not None)
        pre, post = ([push(x)], [pop(x)]) if x is not None else ([], [])
        if not any(b for _, b in arms) and not else_arm[1]:
            fwd = _rebuild_if(s, [f for f, _ in arms], else_arm[0] if s.else_body else None)
            return [*pre, fwd], ([self._note(s), *post] if post else [])
        if self._recompute_if(s):
            self._restored(set().union(*(names_in(c) for c, _ in s.branches)), s.loc)
            fwd = _rebuild_if(s, [f for f, _ in arms], else_arm[0] if s.else_body else None)
            bwd = _rebuild_if(s, [b for _, b in arms], else_arm[1] if s.else_body else None)
            bwd = replace(bwd, name=None, label=None)
            if self.gradient_only and empty_forward(self, [fwd]):
                return pre, [self._note(s), *post, bwd]  # the backward sweep re-evaluates it
            return [*pre, fwd], [self._note(s), *post, bwd]
        br = self._branch_var()
        fwd_arms = [[*f, push(lit(k + 1))] for k, (f, _) in enumerate(arms)]
        fwd = _rebuild_if(s, fwd_arms, [*else_arm[0], push(lit(0))])
        conds = tuple((ir.BinOp("==", br, lit(k + 1)), tuple(b)) for k, (_, b) in enumerate(arms))
        bwd = ir.If(conds, tuple(else_arm[1]) if else_arm[1] else None, loc=s.loc)
        return [*pre, fwd], [self._note(s), pop(br), *post, bwd]

    def select(self, s: ir.Select) -> Sweep:
        arms = [self.sweep(c.body) for c in s.cases]
        fwd_sel = ir.Select(
            s.expr,
            tuple(ir.Case(c.selectors, tuple(f)) for c, (f, _) in zip(s.cases, arms, strict=True)),
            s.name,
            s.loc,
            s.label,
        )
        if not any(b for _, b in arms):
            return [fwd_sel], []
        if self._recompute_select(s):
            self._restored(names_in(s.expr), s.loc)
            bwd = ir.Select(
                s.expr,
                tuple(
                    ir.Case(c.selectors, tuple(b)) for c, (_, b) in zip(s.cases, arms, strict=True)
                ),
                loc=s.loc,
            )
            return [fwd_sel], [self._note(s), bwd]
        br = self._branch_var()
        cases = [
            ir.Case(c.selectors, (*f, push(lit(k + 1))))
            for k, (c, (f, _)) in enumerate(zip(s.cases, arms, strict=True))
        ]
        if not any(not c.selectors for c in s.cases):
            cases.append(ir.Case((), (push(lit(0)),)))
        fwd = ir.Select(s.expr, tuple(cases), s.name, s.loc, s.label)
        conds = tuple(
            (ir.BinOp("==", br, lit(k + 1)), tuple(b)) for k, (_, b) in enumerate(arms) if b
        )
        return [fwd], [self._note(s), pop(br), ir.If(conds, loc=s.loc)]

    def _allocation(self, s: ir.Opaque, allocate: bool) -> Sweep:
        from fortran_ad.ad.constructs.allocation import allocation

        return allocation(self, s, allocate)

    def opaque(self, s: ir.Opaque) -> Sweep:
        self.refuse_entry(s)
        text = s.text.strip().lower()
        if text.startswith(("go to", "goto")) or (text.startswith("if") and "go" not in text):
            raise FortranADError(
                s.loc,
                "GOTO and arithmetic IF are not supported yet in routines the adjoint reverses",
                "restructure with DO/IF/EXIT (issue #8)",
            )
        touched = (set(s.reads) | set(s.writes)) & self.active
        mirror = derived_alloc.mirror_allocation(self, s) if "%" in text else None
        if mirror is not None:  # components: see ad/constructs/derived.py
            if text.startswith("deallocate"):  # at the end; the sweep may have deallocated
                self.deferred += [*derived_alloc.guarded_deallocate(s), *mirror]
                return [], []
            return [s, *mirror], []
        if text.startswith(("allocate", "deallocate")):
            return self._allocation(s, text.startswith("allocate"))
        if text.startswith(("print", "write")):
            return [s], []
        if touched:
            raise FortranADError(
                s.loc,
                f"cannot differentiate this statement: it touches active "
                f"variable '{sorted(touched)[0]}' ({s.text.split('(')[0].strip()})",
            )
        saved = [n for n in s.writes if n in self.needed]
        return [*(push(ir.Name(n)) for n in saved), s], [pop(ir.Name(n)) for n in reversed(saved)]


def _replace_body(s, body, start=None, stop=None, step=None):
    if isinstance(s, ir.Do) and start is not None:
        return replace(s, body=tuple(body), start=start, stop=stop, step=step)
    return replace(s, body=tuple(body))


def _rebuild_if(s: ir.If, arms, else_body) -> ir.If:
    branches = tuple((c, tuple(b)) for (c, _), b in zip(s.branches, arms, strict=True))
    inline = s.inline and all(len(b) == 1 for b in arms) and else_body is None
    return replace(
        s, branches=branches, else_body=tuple(else_body) if else_body else None, inline=inline
    )


def _reversed_bounds(start, stop, step):
    """Bounds that visit the iterations of ``do i = start, stop, step`` backwards."""
    if step is None or (isinstance(step, ir.Literal) and step.text == "1"):
        return stop, start, ir.UnOp("-", lit(1))
    if isinstance(step, ir.UnOp) and step.op == "-" and step.operand == lit(1):
        return stop, start, None
    from fortran_ad.ir.build import wrap

    # the last iteration is start + (trip - 1)*step with trip = (stop - start + step)/step;
    # when trip <= 0 this start lies beyond ``start`` and the reversed loop runs zero times
    trip = ir.BinOp(
        "/", ir.Paren(ir.BinOp("+", ir.BinOp("-", stop, wrap(start)), wrap(step))), wrap(step)
    )
    last = ir.BinOp("+", start, ir.BinOp("*", ir.Paren(ir.BinOp("-", trip, lit(1))), wrap(step)))
    return last, start, neg(step)
