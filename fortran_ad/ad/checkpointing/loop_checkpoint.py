"""The mechanism of loop checkpointing (the decision is checkpoint/ilp.py's).

A loop checkpointed with period p runs as the primal in the forward sweep, pushing the loop's
state (every variable its body writes) at the start of each segment of p iterations. The
backward sweep visits the segments last to first: restore the segment's state, re-run its
iterations recording, then reverse them. Tape: ceil(N/p) states + p recorded iterations instead
of N recorded iterations; time: one more forward run of the loop.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from fortran_ad.checkpoint import costs
from fortran_ad.checkpoint.ilp import Candidate
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import exprs_of_body, names_in, stmt_exprs, value_names, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

INT = ir.TypeSpec("integer")
ONE = ir.Literal("1", "integer")


def lookup(t: Reverse):
    """Symbols for the cost model: the routine's and the transform's temporaries (a pushed
    ``fad_count1`` is an integer, not a default real)."""

    def find(name: str) -> ir.Symbol | None:
        sym = t.lookup(name)
        if sym is None:
            sym = next((x for x in t.temps if x.name == name), None)
        if sym is not None and name in t.cost_dims:  # a buffer: its allocated extent
            sym = replace(sym, dims=t.cost_dims[name], attrs=sym.attrs - {"allocatable"})
        return sym

    return find


def loop_key(t: Reverse, s: ir.Do | ir.DoWhile) -> str:
    return f"{t.routine.name}:{s.loc.line}"


def one_at_a_time(t: Reverse, s: ir.Stmt) -> bool:
    """Is the (outermost) loop ``s`` reversed one iteration at a time, each iteration right
    after its re-run from a snapshot (period 1, or a binomial schedule)? Then no iteration's
    adjoint reads what a later iteration overwrites: the later one is not re-run before it."""
    if not isinstance(s, ir.Do | ir.DoWhile):
        return False
    opt = t.periods.get(loop_key(t, s))
    return opt is not None and (opt.snaps > 0 or opt.levels == (1,))


def eligible(t: Reverse, s: ir.Do | ir.DoWhile) -> bool:
    """Outermost DO WHILE loops, and outermost counted loops with unit step whose bounds the
    body leaves alone."""
    if isinstance(s, ir.DoWhile):
        return s.cond is not None
    if s.step is not None and not (isinstance(s.step, ir.Literal) and s.step.text == "1"):
        return False
    bounds = value_names(s.start) | value_names(s.stop)
    return not (bounds & t.writes(s.body))


def state(t: Reverse, s: ir.Do | ir.DoWhile) -> list[ir.Expr]:
    """What a segment re-run needs restored: the written variables (``written``) except the
    fresh ones (``fresh``: every iteration writes them before reading them)."""
    skip = fresh(t, s)
    return [e for e in written(t, s) if not (isinstance(e, ir.Name) and e.name in skip)]


def fresh(t: Reverse, s: ir.Do | ir.DoWhile) -> set[str]:
    """Variables of the routine (locals and dummies, nothing aliased) every iteration of ``s``
    writes before reading them (analysis/exposed.py), whose values at the loop's entry no
    adjoint of an earlier statement reads (not needed, or not mentioned before the loop): a
    re-run segment recomputes them, so the snapshot leaves them out."""
    from fortran_ad.analysis.exposed import exposed

    program = t.program
    internal = {n: i.routine for n, i in program.routines.items() if i.host is not None}

    def callee(name: str) -> ir.Routine | None:
        info = program.get(name)
        return info.routine if info is not None else None

    ue = exposed(s.body, t.lookup, callee, internal)
    if isinstance(s, ir.DoWhile) and s.cond is not None:
        ue |= value_names(s.cond)
    before = _mentioned_before(t.routine.body, s)
    out = set()
    for name in t.writes(s.body) - ue:
        sym = t.routine.symbol(name)
        if sym is None or sym.init is not None or sym.attrs & _ALIASED:
            continue
        if any(a.startswith("common") for a in sym.attrs):
            continue
        if name in t.needed and name in before:
            continue
        out.add(name)
    return out


_ALIASED = frozenset({"save", "pointer", "target", "parameter", "volatile", "asynchronous"})


def _mentioned_before(body: tuple[ir.Stmt, ...], loop: ir.Stmt) -> set[str]:
    """Names the statements before ``loop`` (an outermost loop: each runs before it, at most
    once) mention."""
    out: set[str] = set()
    for x in walk_stmts(body):
        if x is loop:
            return out
        for e in stmt_exprs(x):
            out |= names_in(e)
        if isinstance(x, ir.Opaque):
            out |= set(x.reads) | set(x.writes)
    return out


def written(t: Reverse, s: ir.Do | ir.DoWhile) -> list[ir.Expr]:
    """Every variable the body writes (not the index), except allocatables the body itself
    allocates and frees (unallocated between iterations: nothing to save, and the tape cannot
    push them)."""
    out: list[ir.Expr] = []
    scratch = _allocated_and_freed(s.body)
    for name in sorted(n for n in t.writes(s.body) if n and n != _var(s) and n not in scratch):
        sym = t.lookup(name)
        if sym is not None and "parameter" not in sym.attrs and sym.type is not None:
            out.append(ir.Name(name))
    seen = {e.name for e in out}  # type: ignore[attr-defined]
    for x in walk_stmts(s.body):  # module variables written by callees
        if isinstance(x, ir.CallStmt):
            for e in t.written_by_call(x):
                if isinstance(e, ir.Name) and e.name not in seen | scratch and e.name != _var(s):
                    seen.add(e.name)
                    out.append(e)
    return out


def _allocated_and_freed(body: tuple[ir.Stmt, ...]) -> set[str]:
    verbs: dict[str, set[str]] = {"allocate": set(), "deallocate": set()}
    for x in body:  # top level of the body: every iteration allocates, then frees
        if isinstance(x, ir.Opaque):
            verb = x.text.strip().lower().split("(", 1)[0].strip()
            if verb in verbs:
                verbs[verb] |= set(x.writes)
    return verbs["allocate"] & verbs["deallocate"]


def _rerun_state(t: Reverse, s: ir.Do | ir.DoWhile) -> list[ir.Expr]:
    """The state, noted as re-computed by the backward sweep: outputs among it get their final
    values back at the end (ad/rewrites/callee_outputs.py), as the primal left them."""
    saved = state(t, s)
    t.rerun_writes |= {e.name for e in written(t, s) if isinstance(e, ir.Name)}
    return saved


def restored(t: Reverse, s: ir.Do | ir.DoWhile) -> set[str]:
    """Names every segment re-run gets back from its snapshot or writes before reading (no
    need to keep them alive)."""
    return {e.name for e in written(t, s) if isinstance(e, ir.Name)}


def reads(s: ir.Do | ir.DoWhile) -> set[str]:
    """Names the forward re-run reads (they must survive until the backward sweep)."""
    out: set[str] = set()
    for e in exprs_of_body(s.body):
        out |= value_names(e)
    if isinstance(s, ir.Do):
        out |= value_names(s.start) | value_names(s.stop)
    return out


def _var(s: ir.Do | ir.DoWhile) -> str | None:
    return s.var if isinstance(s, ir.Do) else None


def candidate(t: Reverse, s: ir.Do | ir.DoWhile, f_body: list[ir.Stmt]) -> Candidate:
    sizes = costs.as_env(t.sizes)
    body_env = costs.inside(s, sizes) if isinstance(s, ir.Do) else sizes
    callee = t.callee_cost or (lambda name: float(costs.DEFAULT_TRIPS))
    saved = state(t, s)
    types = t.info.scope.types
    snapshot = sum(costs.ref_bytes(e, lookup(t), sizes, types) for e in saved)
    pushes, tape = costs.tape_traffic(f_body, lookup(t), body_env)
    return Candidate(
        key=loop_key(t, s),
        routine=t.routine.name,
        where=f"{s.loc.file.rsplit('/', 1)[-1]}:{s.loc.line}",
        trips=costs.trips(s, sizes),
        tape_per_iter=tape,
        snapshot=float(snapshot),
        iter_cost=costs.flops(s.body, body_env, callee),
        pushes_per_iter=pushes,
        snapshot_pushes=float(len(saved)),
    )


def checkpointed(t: Reverse, s: ir.Do, primal, f_body, b_body, levels: tuple[int, ...], keep: bool):
    """Forward and backward sweeps of ``s`` with a snapshot every ``levels[0]`` iterations;
    ``primal`` is the body the forward sweep and the snapshot-taking re-runs execute (``s``'s,
    without what a gradient-only adjoint drops)."""
    from fortran_ad.ad.core.tape_ops import pop, push

    saved = _rerun_state(t, s)
    var = ir.Name(s.var)
    snap = _snapshot(saved, ir.BinOp("-", var, _w(s.start)), levels[0], s.loc)
    fwd = [
        *([push(var)] if keep else []),
        ir.Comment(f"! checkpointed loop: {_what(levels)}"),
        ir.Do(s.var, s.start, s.stop, None, (snap, *primal), s.name, loc=s.loc, label=s.label),
    ]
    bwd = _segments(t, s, s.var, s.start, s.stop, saved, levels, f_body, b_body, primal)
    return fwd, [t._note(s, "adjoint (checkpointed) of"), *bwd, *([pop(var)] if keep else [])]


def checkpointed_while(t: Reverse, s: ir.DoWhile, f_body, b_body, levels: tuple[int, ...]):
    """DO WHILE with a snapshot every ``levels[0]`` iterations: the forward sweep counts the
    iterations; the backward sweep re-runs each segment as a counted loop."""
    from fortran_ad.ad.core.tape_ops import pop, push

    saved = _rerun_state(t, s)
    count = ir.Name(t.temp("count", INT))
    snap = _snapshot(saved, count, levels[0], s.loc)
    bump = ir.Assign(count, ir.BinOp("+", count, ONE))
    fwd = [
        ir.Comment(f"! checkpointed loop: {_what(levels)}"),
        ir.Assign(count, ir.Literal("0", "integer")),
        ir.DoWhile(s.cond, (snap, bump, *s.body), s.name, loc=s.loc, label=s.label),
        push(count),
    ]
    bwd = _segments(t, s, t.temp("iter", INT), ONE, count, saved, levels, f_body, b_body)
    return fwd, [t._note(s, "adjoint (checkpointed) of"), pop(count), *bwd]


def _what(levels: tuple[int, ...]) -> str:
    text = f"state saved every {levels[0]} iterations"
    if len(levels) > 1:
        text += ", segments re-run with snapshots every " + ", ".join(map(str, levels[1:]))
    return text


def _snapshot(saved, offset: ir.Expr, period: int, loc) -> ir.If:
    from fortran_ad.ad.core.tape_ops import push

    p = ir.Literal(str(period), "integer")
    at_start = ir.BinOp("==", ir.Call("mod", (offset, p)), ir.Literal("0", "integer"))
    return ir.If(((at_start, tuple(push(e) for e in saved)),), loc=loc)


def _segments(t: Reverse, s, var: str, start, stop, saved, levels, f_body, b_body, primal=None):
    """Backward sweep over segments of ``levels[0]`` iterations, last first: restore the
    segment's state, then re-run it recording and reverse it — or, with more levels, re-run
    it taking finer snapshots and treat those sub-segments the same way."""
    from fortran_ad.ad.core.tape_ops import pop

    primal = s.body if primal is None else primal
    p = ir.Literal(str(levels[0]), "integer")
    seg, nseg = ir.Name(t.temp("seg", INT)), ir.Name(t.temp("nseg", INT))
    first, last = ir.Name(t.temp("first", INT)), ir.Name(t.temp("last", INT))
    trip = ir.BinOp("+", ir.BinOp("-", stop, _w(start)), ONE)
    if len(levels) > 1:
        offset = ir.BinOp("-", ir.Name(var), first)
        snap = _snapshot(saved, offset, levels[1], s.loc)
        rerun = ir.Do(var, first, last, None, (snap, *_unlabelled(primal)), loc=s.loc)
        deeper = _segments(t, s, var, first, last, saved, levels[1:], f_body, b_body, primal)
        inner = [rerun, *deeper]
    else:
        inner = [
            ir.Do(var, first, last, None, tuple(_unlabelled(f_body)), loc=s.loc),
            ir.Do(var, last, first, ir.UnOp("-", ONE), tuple(b_body), loc=s.loc),
        ]
    segment = (
        *(pop(e) for e in reversed(saved)),
        ir.Assign(first, ir.BinOp("+", start, ir.BinOp("*", seg, p))),
        ir.Assign(last, ir.Call("min", (ir.BinOp("-", ir.BinOp("+", first, p), ONE), stop))),
        *inner,
    )
    return [
        ir.Assign(nseg, ir.BinOp("/", ir.Paren(ir.BinOp("+", trip, ir.BinOp("-", p, ONE))), p)),
        ir.Do(
            seg.name,
            ir.BinOp("-", nseg, ONE),
            ir.Literal("0", "integer"),
            ir.UnOp("-", ONE),
            segment,
            loc=s.loc,
        ),
    ]


def revolved(t: Reverse, s: ir.Do | ir.DoWhile, f_body, b_body, snaps: int, keep: bool):
    """Binomial checkpointing (fad_revolve): the forward sweep saves the loop's state once and
    runs the primal loop (counting DO WHILE iterations); the backward sweep runs the actions of
    a revolve plan with ``snaps`` snapshot slots (see runtime/fad_revolve.f90.in)."""
    from fortran_ad.ad.core.tape_ops import pop, push

    t.uses_revolve = True
    saved = _rerun_state(t, s)
    note = ir.Comment(f"! checkpointed loop: binomial schedule with {snaps} snapshots")
    if isinstance(s, ir.Do):
        var, start, trip = s.var, s.start, ir.BinOp("+", ir.BinOp("-", s.stop, _w(s.start)), ONE)
        index = [push(ir.Name(s.var))] if keep else []
        fwd = [*index, note, *(push(e) for e in saved), _plain(s)]
        head: list[ir.Stmt] = []
        tail = [pop(ir.Name(s.var))] if keep else []
    else:
        count = ir.Name(t.temp("count", INT))
        var, start, trip = t.temp("iter", INT), ONE, count
        bump = ir.Assign(count, ir.BinOp("+", count, ONE))
        loop = ir.DoWhile(s.cond, (bump, *s.body), s.name, loc=s.loc, label=s.label)
        fwd = [note, *(push(e) for e in saved), ir.Assign(count, ZERO), loop, push(count)]
        head, tail = [pop(count)], []
    base, nact = ir.Name(t.temp("rbase", INT)), ir.Name(t.temp("nact", INT))
    act, kind = ir.Name(t.temp("act", INT)), ir.Name(t.temp("kind", INT))
    i1, i2 = ir.Name(t.temp("i1", INT)), ir.Name(t.temp("i2", INT))
    at = lambda k: ir.BinOp("+", start, k)  # noqa: E731
    body = ir.If(
        (
            (_is(kind, 1), (_rerun(s, var, at(i1), ir.BinOp("-", at(i2), ONE)),)),
            (_is(kind, 2), tuple(push(e) for e in saved)),
            (_is(kind, 3), tuple(pop(e) for e in reversed(saved))),
            (_is(kind, 4), (*(pop(e) for e in reversed(saved)), *(push(e) for e in saved))),
            (_is(kind, 5), (ir.Assign(ir.Name(var), at(i1)), *_unlabelled(f_body), *b_body)),
        ),
        loc=s.loc,
    )
    get = ir.CallStmt("fad_revolve_action", (base, act, kind, i1, i2))
    bwd = [
        t._note(s, "adjoint (checkpointed) of"),
        *head,
        ir.CallStmt("fad_revolve_plan", (trip, ir.Literal(str(snaps), "integer"), base, nact)),
        ir.Do(act.name, ONE, nact, None, (get, body), loc=s.loc),
        ir.CallStmt("fad_revolve_done", ()),
        *(pop(e) for e in reversed(saved)),
        *tail,
    ]
    return fwd, bwd


ZERO = ir.Literal("0", "integer")


def _is(kind: ir.Name, k: int) -> ir.Expr:
    return ir.BinOp("==", kind, ir.Literal(str(k), "integer"))


def _plain(s: ir.Do) -> ir.Do:
    return ir.Do(s.var, s.start, s.stop, None, s.body, s.name, loc=s.loc, label=s.label)


def _rerun(s, var: str, first, last) -> ir.Do:
    return ir.Do(var, first, last, None, tuple(_unlabelled(s.body)), loc=s.loc)


def _unlabelled(body) -> list[ir.Stmt]:
    """The re-run copy of a body: statement labels and construct names stay with the primal
    copy (no duplicates; EXIT and CYCLE are gone after normalization)."""
    from dataclasses import replace

    from fortran_ad.ir.walk import map_body

    def strip(s: ir.Stmt) -> list[ir.Stmt] | None:
        named = isinstance(s, ir.Do | ir.DoWhile | ir.If | ir.Select) and s.name is not None
        if s.label is None and getattr(s, "end_label", None) is None and not named:
            return None
        new = replace(s, label=None)
        if hasattr(new, "end_label"):
            new = replace(new, end_label=None)
        if named:
            new = replace(new, name=None)
        if isinstance(new, ir.Continue):
            return []
        from fortran_ad.ir.walk import bodies

        return (
            [new]
            if not bodies(new)
            else list(map_body((new,), lambda x: None if x is new else strip(x)))
        )

    return list(map_body(tuple(body), strip))


def _w(e: ir.Expr) -> ir.Expr:
    return ir.Paren(e) if isinstance(e, ir.BinOp) else e
