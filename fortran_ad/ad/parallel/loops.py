"""Derivatives of parallel loops (``!$omp parallel do``, DO CONCURRENT, and with
``--parallelize-adjoint`` loops analysis/dependence.py proves parallel).

Reverse mode, for a parallel loop L (iterations independent, so any order is right):

* forward sweep: L runs as written (its directives kept, nothing recorded inside); shared
  variables L writes that the backward sweep needs are saved whole before L (a snapshot);
* backward sweep: the snapshot is restored, then one OpenMP loop over L's iterations runs,
  per iteration, the iteration's primal again (only when its adjoint reads values the iteration
  computes; its values are recorded on that thread's own tape and popped within the same
  iteration, so the tape never crosses iterations or threads) and then its adjoint;
* adjoint increments that other iterations also touch are made race-free: a scatter to a
  constant offset of the parallel index (``ub(i, j+1) += ...``) goes to a per-offset buffer
  indexed by the iteration's own element, and a gather loop with guarded (peeled) boundaries adds
  the buffers afterwards, each iteration writing only its own element; shared scalars become
  ``reduction(+:...)``; a derivative incremented at indirect indices goes to a per-thread
  partial array (ad/parallel/partials.py) when the loop only increments it, anything else is
  ``!$omp atomic`` (``--omp-atomic`` forces atomics everywhere, to compare). Derivatives of
  private variables are private and zeroed at the start of every iteration. If none of this
  applies the adjoint loop is serial, with a comment saying why.

Vector-reverse mode keeps adjoint loops serial. Tangent mode keeps the directive and privatises
(or reduces) the derivatives of private (reduction) variables.
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ad import rewrites
from fortran_ad.ad.checkpointing.loop_checkpoint import loop_key
from fortran_ad.ad.core.tape_ops import Sweep
from fortran_ad.ad.parallel import auto, colour, partials, races, rerun
from fortran_ad.ad.parallel.races import deriv_map, rank
from fortran_ad.analysis import dependence
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.omp import is_atomic, is_omp
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, map_body, names_in, stmt_exprs, value_names, walk_stmts


def check_directives(routine: ir.Routine) -> None:
    """OpenMP directives left as comments (not loop directives) cannot be reversed."""
    for s in walk_stmts(routine.body):
        if is_omp(s) and not is_atomic(s):
            raise FortranADError(
                s.loc,
                f"OpenMP directive '{s.text.strip()}' is not supported in differentiated code",
                "use !$omp parallel do (or a parallel region holding one !$omp do loop)",
            )


def wants(t, s: ir.Stmt) -> bool:
    """Does the reverse of ``s`` go through ``reverse_loop``? Inside the adjoint of a parallel
    loop, loops with independent iterations do too (serially: re-running an iteration is
    cheaper than recording its temporaries)."""
    if not isinstance(s, ir.Do) or t.mode != "reverse":
        return False
    bounds = [e for e in (s.start, s.stop, s.step) if e is not None]
    if any(value_names(e) & _writes(t, s.body) for e in bounds):
        return False  # the serial path records the bounds
    if t.omp_depth:
        return dependence.analyse(s, lambda n: rank(t, n)).parallel
    if s.parallel is not None:
        return s.parallel.kind in ("parallel do", "concurrent")
    opts = getattr(t, "omp_options", None)
    if opts is None or not opts.parallelize_adjoint:
        return False
    if loop_key(t, s) in getattr(t, "serial_loops", ()):
        return False  # ad/parallel/auto.py: its adjoint does not pay on threads
    return dependence.analyse(s, lambda n: rank(t, n)).parallel


def serial_copy(t, s: ir.Do, primal: tuple[ir.Stmt, ...]) -> ir.Do:
    """A loop of the forward sweep that records values runs serially: the tape is per thread
    and its pops must meet their pushes; and a record (even into a buffer element of its own
    iteration) of a loop with ``!$omp atomic`` updates of ``primal`` would read an element
    other threads are updating."""
    if s.parallel is None:
        return s
    if any(isinstance(x, ir.CallStmt) and x.name == "fad_push" for x in walk_stmts(s.body)):
        return replace(s, parallel=None)
    atomics = any(is_atomic(x) for x in walk_stmts(primal))
    if atomics and tuple(walk_stmts(s.body)) != tuple(walk_stmts(primal)):
        return replace(s, parallel=None)
    return s


def atomic_before_update(directive: ir.Stmt, fwd: list[ir.Stmt], s: ir.Stmt) -> list[ir.Stmt]:
    """The forward sweep of ``s``, the update an ``!$omp atomic`` ``directive`` governs, with
    the directive right before the primal update (records go before it: an atomic applies to
    the next statement only)."""
    at = next(
        (
            k
            for k in range(len(fwd) - 1, -1, -1)
            if isinstance(s, ir.Assign)
            and isinstance(fwd[k], ir.Assign)
            and fwd[k].target == s.target
        ),
        0,
    )
    return [*fwd[:at], directive, *fwd[at:]]


def _nest(s: ir.Do, depth: int) -> list[ir.Do]:
    loops = [s]
    while len(loops) < depth:
        inner = [x for x in loops[-1].body if not isinstance(x, ir.Comment)]
        if len(inner) != 1 or not isinstance(inner[0], ir.Do):
            raise FortranADError(s.loc, f"COLLAPSE({depth}) needs {depth} perfectly nested loops")
        loops.append(inner[0])
    return loops


def _spec(t, s: ir.Do) -> ir.Parallel:
    if s.parallel is not None:
        return s.parallel
    v = dependence.analyse(s, lambda n: rank(t, n))
    red = (("+", tuple(sorted(v.reduction))),) if v.reduction else ()
    return ir.Parallel("parallel do", private=tuple(sorted(v.private)), reduction=red)


def _writes(t, body) -> set[str]:
    return {n for n in t.writes(tuple(body)) if n}


def _records(body) -> bool:
    return any(isinstance(x, ir.CallStmt) and x.name == "fad_push" for x in walk_stmts(body))


def reverse_loop(t, s: ir.Do) -> Sweep:
    """Forward and backward sweep of a parallel loop (see the module docstring). Raises
    parallel_auto.Serial for a loop ``--parallelize-adjoint`` picked whose adjoint does not pay
    on threads: the routine's transform starts again with that loop serial."""
    import copy

    serial = t.omp_depth > 0  # an independent loop inside a parallel adjoint loop
    spec = _spec(t, s)
    loops = _nest(s, spec.collapse)
    pvars = [lp.var for lp in loops]
    inner = loops[-1].body
    for lp in loops:
        for e in (lp.start, lp.stop, lp.step):
            if e is not None and value_names(e) & _writes(t, inner):
                raise FortranADError(s.loc, "bounds of a parallel loop change inside it")
    active_clauses = {n for n in (*spec.firstprivate, *spec.lastprivate) if n in t.active} | {
        n for op, names in spec.reduction if op not in ("+", "-") for n in names if n in t.active
    }
    if active_clauses:
        raise FortranADError(
            s.loc,
            f"active variable '{sorted(active_clauses)[0]}' in a FIRSTPRIVATE, LASTPRIVATE or "
            "non-sum REDUCTION clause: its adjoint is not supported yet",
        )
    loop_vars = {x.var for x in walk_stmts(inner) if isinstance(x, ir.Do)} | set(pvars)
    written = _writes(t, inner) | set(pvars)
    # a derived-type scalar is one object the iterations share (st%v(j) is iteration j's
    # element): not private; ad/parallel/races.py keeps its adjoint serial unless every
    # iteration touches only its own elements
    scalars_written = {n for n in written if rank(t, n) == 0 and not races.derived_var(t, n)}
    reductions = {n for _, names in spec.reduction for n in names}
    listed = set(spec.private) | set(spec.firstprivate) | set(spec.lastprivate)
    for n in sorted(scalars_written - listed - reductions - loop_vars):
        if dependence.scalar_kind(n, inner) == "reduction":  # s = s + e without a clause
            reductions.add(n)
    private = set(spec.private) | set(spec.firstprivate) | set(spec.lastprivate) | loop_vars
    private |= scalars_written - reductions
    shared_written = written - private - reductions

    # pass 1: nothing recorded inside; enough when the adjoint reads nothing the body writes
    needed0 = set(t.needed)
    state = (list(t.temps), copy.deepcopy(t.namer), t._branch)
    t.omp_depth += 1
    t.depth += len(loops)
    t.needed = needed0 - written
    outer_restored = t.rerun_restored
    t.rerun_restored = outer_restored | written  # re-run below if b_body reads them
    f_body, b_body = t.sweep(inner)
    again = _records(f_body) or bool(rerun.reads(b_body) & (written - set(pvars)))
    if again and not serial and not rerun.may_rerun(t, s):  # rerun_reads left out its reads
        raise FortranADError(
            s.loc,
            "internal error: the adjoint of this parallel loop re-runs its iterations, "
            "which rerun.may_rerun ruled out (what they read may not be saved)",
        )
    if again:  # pass 2: re-run the iteration's primal, recording on the thread's tape
        t.temps[:], t._branch = state[0], state[2]
        t.namer.__dict__.update(copy.deepcopy(state[1]).__dict__)
        t.needed = needed0
        fresh = rerun.iteration_first_defs(inner, private) - t.first_defs
        t.first_defs |= fresh
        f_body, b_body = t.sweep(inner)
        t.first_defs -= fresh
    t.needed = needed0
    t.rerun_restored = outer_restored
    t.depth -= len(loops)
    t.omp_depth -= 1
    if not b_body:  # passive loop: only its (needed) index changes
        idx = [ir.Name(v) for v in pvars if v in needed0]
        pushes = [ir.CallStmt("fad_push", (x,)) for x in idx]
        return [*pushes, s], [ir.CallStmt("fad_pop", (x,)) for x in reversed(idx)]
    snap_names = shared_written & (needed0 | (rerun.reads(f_body) if again else set()))
    if again:
        t.rerun_writes |= shared_written
        if any(is_omp(x) for x in walk_stmts(inner)) and shared_written & needed0:
            raise FortranADError(s.loc, "an !$omp atomic target is needed by the adjoint")
    snap = sorted(snap_names)
    kept = [v for v in pvars if v in t.free_loop_vars]  # read after the loop: restore it
    fwd_loop = s
    if not serial and rewrites.on(t, "concurrent_forward"):
        fwd_loop = _concurrent_forward(s, loops, private, reductions, spec)
        rewrites.fired("concurrent_forward", fwd_loop is not s)
    fwd = [*(ir.CallStmt("fad_push", (ir.Name(n),)) for n in [*kept, *snap]), fwd_loop]
    restore = [ir.CallStmt("fad_pop", (ir.Name(v),)) for v in reversed(kept)]
    if serial:
        redo = rerun.prune(f_body, b_body, needed0) if again else []
        head = [*_zero_private(t, private, [*f_body, *b_body]), *redo]
        adj = _rebuild(loops, [*head, *b_body], None)
        pops = [ir.CallStmt("fad_pop", (ir.Name(n),)) for n in reversed(snap)]
        return fwd, [t._note(s), *pops, adj, *restore]
    body, buffers, extra, why = races.race_free(t, b_body, pvars, loops, private, spec)
    width = None  # two-colour blocks instead of the buffers (ad/parallel/colour.py)
    plain = not any(is_atomic(x) for x in walk_stmts(tuple(body)))
    partial = dict(getattr(t, "omp_partials", {}))
    if (
        buffers
        and why is None
        and plain
        and not partial
        and rewrites.on(t, "omp_colour")
        and colour.own_reads_only(t, b_body, pvars, buffers)
    ):
        width = colour.width(buffers)
        colour.drop_buffers(t, buffers)
        body, buffers, extra = b_body, {}, []
    rewrites.fired("omp_colour", width is not None)
    head = [*_zero_private(t, private, [*f_body, *b_body]), *extra]
    if again:
        head += rerun.prune(f_body, body, needed0 - reductions)  # accumulators: not re-run
    if again and all(not isinstance(x, ir.Do | ir.If | ir.Select) for x in [*head, *body]):
        flat = rerun.peephole(t, [*head, *body])
        head, body = [], flat
    if why is None and again:
        why = rerun.shared_record([*head, *body], private, pvars)
    new_spec = None
    if why is None:
        new_spec = races.adjoint_spec(t, spec, [*head, *body], private, pvars)
        if isinstance(new_spec, str):
            why, new_spec = new_spec, None
    clause = auto.if_clause(t, s, loops)
    if new_spec is not None:
        new_spec = replace(new_spec, other=(*new_spec.other, *clause))
    if width is not None and new_spec is not None:
        adj_loops = colour.coloured(t, loops, [*head, *body], new_spec, width)
    else:
        adj_loops = [_rebuild(loops, [*head, *body], new_spec)]
    bwd: list[ir.Stmt] = [
        t._note(s),
        *(ir.CallStmt("fad_pop", (ir.Name(n),)) for n in reversed(snap)),
    ]
    atomics = any(is_atomic(x) for x in walk_stmts(tuple(body)))
    per_thread = bool(buffers) or width is not None or bool(partial)
    if auto.give_up(t, s, snap, why, atomics, per_thread):
        raise auto.Serial(loop_key(t, s))
    if why is not None:
        bwd.append(ir.Comment(f"! fortran-ad: this adjoint loop runs serially: {why}"))
    gathers = auto.guarded(races.gathers(t, loops, buffers), clause)
    before, after = partials.around(t, partial)
    bwd += [*races.allocate(t, buffers), *before, *adj_loops, *after, *gathers, *restore]
    return fwd, bwd


def _concurrent_forward(s: ir.Do, loops, private: set[str], reductions: set[str], spec) -> ir.Do:
    """The forward sweep's copy of a DO CONCURRENT loop as an OpenMP loop (rewrite
    ``concurrent_forward``): gfortran runs DO CONCURRENT on one thread, so the primal part of
    the adjoint would stay serial while its backward loop runs on threads. Legal: DO
    CONCURRENT asserts that no iteration references a value another iteration defines (unless
    it defined it first itself), so the iterations may run in any order and at once; the
    scalars an iteration assigns (LOCAL, or defined before use, which the standard requires of
    unspecified locality) are private, LOCAL_INIT ones firstprivate; the forward copy records
    nothing inside. Kept as written when a scalar accumulates across iterations (no locality
    rule makes that a private) or the nest is not one of plain DO loops under the construct."""
    if s.parallel is None or s.parallel.kind != "concurrent" or reductions:
        return s
    if any(lp.step is not None and not isinstance(lp.step, ir.Literal) for lp in loops):
        return s
    firstprivate = set(spec.firstprivate)
    fwd_spec = ir.Parallel(
        "parallel do",
        private=tuple(sorted(n for n in private - firstprivate if n)),
        firstprivate=tuple(sorted(firstprivate)),
        schedule="static",
        collapse=len(loops),
    )
    return _rebuild(loops, list(loops[-1].body), fwd_spec)


def _rebuild(loops: list[ir.Do], body: list[ir.Stmt], spec: ir.Parallel | None) -> ir.Do:
    inner: tuple[ir.Stmt, ...] = tuple(body)
    for lp in reversed(loops[1:]):
        inner = (ir.Do(lp.var, lp.start, lp.stop, lp.step, inner, loc=lp.loc),)
    top = loops[0]
    return ir.Do(top.var, top.start, top.stop, top.step, inner, loc=top.loc, parallel=spec)


def _zero_private(t, private: set[str], body) -> list[ir.Stmt]:
    used = set().union(*(names_in(e) for x in walk_stmts(tuple(body)) for e in stmt_exprs(x)))
    out = []
    for d, p in sorted(deriv_map(t).items()):
        if p in private and d in used:
            out.append(ir.Assign(ir.Name(d), t.zero(ir.Name(p))))
    return out


# -- tangent ---------------------------------------------------------------------------------


def tangent_loop(t, s: ir.Do, body: tuple[ir.Stmt, ...]) -> ir.Do:
    """The tangent of a parallel loop: derivatives of private / reduction variables follow
    their primal into the clauses; DO CONCURRENT calling derivative routines (not PURE) becomes
    an OpenMP loop."""
    par = s.parallel
    assert par is not None

    def with_d(names: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for n in names:
            out.append(n)
            if n in t.active:
                out.append(t.namer.derivative(n))
        return tuple(out)

    for op, names in par.reduction:
        bad = [n for n in names if n in t.active and op not in ("+", "-")]
        if bad:
            raise FortranADError(
                s.loc, f"active variable '{bad[0]}' in a REDUCTION({op}:...) is not supported"
            )
    new = replace(
        par,
        private=with_d(par.private),
        firstprivate=with_d(par.firstprivate),
        lastprivate=with_d(par.lastprivate),
        shared=with_d(par.shared),
        reduction=tuple((op, with_d(names)) for op, names in par.reduction),
        default=None if par.default == "none" else par.default,  # derivatives are shared
    )
    if t.vector and any(is_atomic(x) for x in walk_stmts(body)):
        # derivatives are arrays over directions there: no atomic form; run serially
        return replace(
            s, body=map_body(body, lambda x: [] if is_atomic(x) else None), parallel=None
        )
    calls = any(isinstance(x, ir.CallStmt) for x in walk_stmts(body))
    if par.kind == "concurrent" and (calls or t.vector):
        dmap = deriv_map(t)
        assigned = {
            base_name(x.target)
            for x in walk_stmts(body)
            if isinstance(x, ir.Assign)
            and base_name(x.target) not in dmap
            and rank(t, base_name(x.target) or "") == 0
        }
        assigned |= {x.var for x in walk_stmts(body) if isinstance(x, ir.Do)}
        assigned |= {d for d, p in dmap.items() if p in assigned and d in _names_of(body)}
        private = tuple(sorted((set(new.private) | assigned) - {None, s.var}))
        new = ir.Parallel("parallel do", private=private, collapse=1)
    return replace(s, body=body, parallel=new)


def _names_of(body) -> set[str]:
    return set().union(*(names_in(e) for x in walk_stmts(tuple(body)) for e in stmt_exprs(x)))


def tangent_stmts(t, body: tuple[ir.Stmt, ...]) -> list[ir.Stmt]:
    """Tangent statements of a body; an ``!$omp atomic`` update gets one atomic per statement
    it turns into (derivative and primal), except a derivative that does not change
    (``xd = xd``: the increment is passive), which is left out: an atomic needs an operator."""
    out: list[ir.Stmt] = []
    atomic: ir.Stmt | None = None
    for s in body:
        if is_atomic(s):
            atomic = s
            continue
        new = t.stmt(s)
        if atomic is not None:
            new = [y for y in new if not (isinstance(y, ir.Assign) and y.value == y.target)]
            new = [x for y in new for x in (atomic, y)]
            atomic = None
        out.extend(new)
    return out


def rerun_reads(t) -> set[str]:
    """Names the backward sweep's re-runs of parallel-loop iterations read, beyond the needed
    ones: a loop that writes a needed variable re-runs its iterations (``reverse_loop``'s
    second pass), which read the body's upward-exposed names (hdiff's ``lap`` in the ``flx``
    loop); their overwrites elsewhere must be saved like any needed value's."""
    loops = [s for s in walk_stmts(t.routine.body) if isinstance(s, ir.Do) and wants(t, s)]
    loops = [s for s in loops if rerun.may_rerun(t, s)]
    needed, out = set(t.needed), set()
    changed = True
    while changed:
        changed = False
        for s in loops:
            if needed & _writes(t, s.body):
                new = rerun.reads(s.body, frozenset({s.var})) - needed
                needed |= new
                out |= new
                changed = changed or bool(new)
    return out
