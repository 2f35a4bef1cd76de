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
  ``reduction(+:...)``; anything else (indirect indices) is ``!$omp atomic``
  (``--omp-atomic`` forces atomics everywhere, to compare). Derivatives of private variables are
  private and zeroed at the start of every iteration. If none of this applies the adjoint loop
  is serial, with a comment saying why.

Vector-reverse mode keeps adjoint loops serial. Tangent mode keeps the directive and privatises
(or reduces) the derivatives of private (reduction) variables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from fortran_ad.analysis import dependence
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.omp import is_omp
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, map_body, names_in, stmt_exprs, walk_stmts

Sweep = tuple[list[ir.Stmt], list[ir.Stmt]]
Sig = tuple[tuple[int, int], ...]  # per parallel index: (subscript position, constant offset)


def lit(n: int) -> ir.Literal:
    return ir.Literal(str(n), "integer")


def check_directives(routine: ir.Routine) -> None:
    """OpenMP directives left as comments (not loop directives) cannot be reversed."""
    for s in walk_stmts(routine.body):
        if is_omp(s) and not _is_atomic(s):
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
    if t.omp_depth:
        return dependence.analyse(s, lambda n: _rank(t, n)).parallel
    if s.parallel is not None:
        return s.parallel.kind in ("parallel do", "concurrent")
    opts = getattr(t, "omp_options", None)
    if opts is None or not opts.parallelize_adjoint:
        return False
    return dependence.analyse(s, lambda n: _rank(t, n)).parallel


def serial_copy(t, s: ir.Do) -> ir.Do:
    """A loop of the forward sweep that records values runs serially (the tape is per thread
    and its pops must meet their pushes)."""
    if s.parallel is None:
        return s
    if any(isinstance(x, ir.CallStmt) and x.name == "fad_push" for x in walk_stmts(s.body)):
        return replace(s, parallel=None)
    return s


def _rank(t, name: str) -> int:
    sym = t.lookup(name)
    if sym is None:
        sym = next((x for x in t.temps if x.name == name), None)
    return sym.rank if sym is not None else 0


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
    v = dependence.analyse(s, lambda n: _rank(t, n))
    red = (("+", tuple(sorted(v.reduction))),) if v.reduction else ()
    return ir.Parallel("parallel do", private=tuple(sorted(v.private)), reduction=red)


def _writes(t, body) -> set[str]:
    return {n for n in t.writes(tuple(body)) if n}


def _reads(body, defined: frozenset[str] = frozenset()) -> set[str]:
    """Upward-exposed reads: names read before the body (in order) assigns them as a whole
    (scalars assigned, popped, or loop variables inside their loop)."""
    from fortran_ad.ir.walk import value_names

    out: set[str] = set()
    known = set(defined)
    for s in body:
        if isinstance(s, ir.CallStmt) and s.name == "fad_pop":
            if isinstance(s.args[0], ir.Name):
                known.add(s.args[0].name)
            continue
        exprs = stmt_exprs(s)
        if isinstance(s, ir.Assign):
            exprs = (s.value, *(s.target.subs if isinstance(s.target, ir.ArrayRef) else ()))
        for e in exprs:
            out |= value_names(e) - known
        if isinstance(s, ir.Do):
            out |= _reads(s.body, frozenset(known | {s.var}))
        elif isinstance(s, ir.DoWhile | ir.If | ir.Select):
            from fortran_ad.ir.walk import bodies

            for b in bodies(s):
                out |= _reads(b, frozenset(known))
        elif isinstance(s, ir.Assign) and isinstance(s.target, ir.Name):
            known.add(s.target.name)
    return out


def _prune(rerun: list[ir.Stmt], b_body: list[ir.Stmt], keep: set[str]) -> list[ir.Stmt]:
    """Drop assignments of the re-run whose values nobody reads afterwards (not the adjoint,
    not later re-run statements, not a needed variable): e.g. the iteration's own output."""
    live = _reads(b_body) | keep
    out: list[ir.Stmt] = []
    for s in reversed(rerun):
        if isinstance(s, ir.Assign) and base_name(s.target) not in live:
            continue
        if isinstance(s, ir.Comment):
            continue
        out.append(s)
        for x in walk_stmts((s,)):
            for e in stmt_exprs(x):
                live |= names_in(e)
    return out[::-1]


def _peephole(t, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
    """Within one re-run iteration: a PURE call whose every written actual is popped right
    after it (a joint adjoint call re-runs it anyway) is dropped, then adjacent push/pop pairs
    of the same designator cancel."""
    out: list[ir.Stmt] = []
    code = [x for x in stmts if not isinstance(x, ir.Comment)]
    for n, s in enumerate(code):
        info = t.program.get(s.name) if isinstance(s, ir.CallStmt) else None
        if info is not None and {"pure", "elemental"} & set(info.routine.prefix):
            popped = []
            for x in code[n + 1 :]:
                if not (isinstance(x, ir.CallStmt) and x.name == "fad_pop"):
                    break
                popped.append(x.args[0])
            if all(w in popped for w in t.written_by_call(s)):
                continue
        out.append(s)
    changed = True
    while changed:
        changed = False
        for n in range(len(out) - 1):
            a, b = out[n], out[n + 1]
            if (
                isinstance(a, ir.CallStmt)
                and isinstance(b, ir.CallStmt)
                and (a.name, b.name) == ("fad_push", "fad_pop")
                and a.args == b.args
            ):
                del out[n : n + 2]
                changed = True
                break
    if len(out) == len(code):
        return stmts  # nothing dropped: keep the comments
    return out


def _iteration_first_defs(body, private: set[str]) -> set[int]:
    """Top-level assignments of private scalars before anything in the iteration mentions
    them: their old value is dead, so re-running the iteration need not record it."""
    out: set[int] = set()
    mentioned: set[str] = set()
    for s in body:
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.Name):
            name = s.target.name
            if name in private and name not in mentioned and name not in names_in(s.value):
                out.add(id(s))
        for x in walk_stmts((s,)):
            for e in stmt_exprs(x):
                mentioned |= names_in(e)
            if isinstance(x, ir.Do):
                mentioned.add(x.var)
    return out


def _records(body) -> bool:
    return any(isinstance(x, ir.CallStmt) and x.name == "fad_push" for x in walk_stmts(body))


def reverse_loop(t, s: ir.Do) -> Sweep:
    """Forward and backward sweep of a parallel loop (see the module docstring)."""
    import copy

    serial = t.omp_depth > 0  # an independent loop inside a parallel adjoint loop
    spec = _spec(t, s)
    loops = _nest(s, spec.collapse)
    pvars = [lp.var for lp in loops]
    inner = loops[-1].body
    for lp in loops:
        for e in (lp.start, lp.stop, lp.step):
            if e is not None and names_in(e) & _writes(t, inner):
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
    scalars_written = {n for n in written if _rank(t, n) == 0}
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
    f_body, b_body = t.sweep(inner)
    rerun = _records(f_body) or bool(_reads(b_body) & (written - set(pvars)))
    if rerun:  # pass 2: re-run the iteration's primal, recording on the thread's tape
        t.temps[:], t._branch = state[0], state[2]
        t.namer.__dict__.update(copy.deepcopy(state[1]).__dict__)
        t.needed = needed0
        fresh = _iteration_first_defs(inner, private)
        t.first_defs |= fresh
        f_body, b_body = t.sweep(inner)
        t.first_defs -= fresh
    t.needed = needed0
    t.depth -= len(loops)
    t.omp_depth -= 1
    if not b_body:
        return [s], []
    snap_names = shared_written & (needed0 | (_reads(f_body) if rerun else set()))
    if rerun:
        t.rerun_writes |= shared_written
        if any(is_omp(x) for x in walk_stmts(inner)) and shared_written & needed0:
            raise FortranADError(s.loc, "an !$omp atomic target is needed by the adjoint")
    snap = sorted(snap_names)
    fwd = [*(ir.CallStmt("fad_push", (ir.Name(n),)) for n in snap), s]
    if serial:
        again = _prune(f_body, b_body, needed0) if rerun else []
        head = [*_zero_private(t, private, [*f_body, *b_body]), *again]
        adj = _rebuild(loops, [*head, *b_body], None)
        pops = [ir.CallStmt("fad_pop", (ir.Name(n),)) for n in reversed(snap)]
        return fwd, [t._note(s), *pops, adj]
    body, buffers, extra, why = _race_free(t, b_body, pvars, loops, private, spec)
    head = [*_zero_private(t, private, [*f_body, *b_body]), *extra]
    if rerun:
        head += _prune(f_body, body, needed0)
    if rerun and all(not isinstance(x, ir.Do | ir.If | ir.Select) for x in [*head, *body]):
        flat = _peephole(t, [*head, *body])
        head, body = [], flat
    new_spec = None
    if why is None:
        new_spec = _adjoint_spec(t, spec, [*head, *body], private, pvars)
        if isinstance(new_spec, str):
            why, new_spec = new_spec, None
    adj = _rebuild(loops, [*head, *body], new_spec)
    bwd: list[ir.Stmt] = [
        t._note(s),
        *(ir.CallStmt("fad_pop", (ir.Name(n),)) for n in reversed(snap)),
    ]
    if why is not None:
        bwd.append(ir.Comment(f"! fortran-ad: this adjoint loop runs serially: {why}"))
    bwd += [*_allocate(t, buffers), adj, *_gathers(t, loops, buffers)]
    return fwd, bwd


def _rebuild(loops: list[ir.Do], body: list[ir.Stmt], spec: ir.Parallel | None) -> ir.Do:
    inner: tuple[ir.Stmt, ...] = tuple(body)
    for lp in reversed(loops[1:]):
        inner = (ir.Do(lp.var, lp.start, lp.stop, lp.step, inner, loc=lp.loc),)
    top = loops[0]
    return ir.Do(top.var, top.start, top.stop, top.step, inner, loc=top.loc, parallel=spec)


def _deriv_map(t) -> dict[str, str]:
    return {d: p for p, d in t.namer.derivs.items()}


def _zero_private(t, private: set[str], body) -> list[ir.Stmt]:
    used = set().union(*(names_in(e) for x in walk_stmts(tuple(body)) for e in stmt_exprs(x)))
    out = []
    for d, p in sorted(_deriv_map(t).items()):
        if p in private and d in used:
            out.append(ir.Assign(ir.Name(d), t.zero(ir.Name(p))))
    return out


# -- races -----------------------------------------------------------------------------------


def _sig(ref: ir.Expr, pvars: list[str]) -> Sig | None:
    if not isinstance(ref, ir.ArrayRef):
        return None
    out = []
    for p in pvars:
        found = None
        for k, sub in enumerate(ref.subs):
            if p in names_in(sub):
                off = dependence.offset(sub, p)
                if found is not None or off is None:
                    return None
                found = (k, off)
        if found is None:
            return None
        out.append(found)
    return tuple(out)


def _is_increment(s: ir.Stmt) -> bool:
    return (
        isinstance(s, ir.Assign)
        and isinstance(s.value, ir.BinOp)
        and s.value.op in "+-"
        and s.value.left == s.target
        and base_name(s.target) not in names_in(s.value.right)
    )


def _access_table(t, body, dnames: set[str]) -> dict[str, list[tuple[ir.Stmt, ir.Expr, bool]]]:
    """Derivative name -> (statement, reference, is_increment) for every reference."""
    from fortran_ad.ir.walk import subexprs

    table: dict[str, list[tuple[ir.Stmt, ir.Expr, bool]]] = {}
    for s in walk_stmts(tuple(body)):
        inc = _is_increment(s)
        exprs = [s.value.right] if inc else list(stmt_exprs(s))
        if inc and base_name(s.target) in dnames:
            table.setdefault(base_name(s.target), []).append((s, s.target, True))
        elif inc:
            exprs = list(stmt_exprs(s))
        for e in exprs:
            for x in subexprs(e):
                if isinstance(x, ir.Name | ir.ArrayRef) and x.name in dnames:
                    table.setdefault(x.name, []).append((s, x, False))
    return table


def _race_free(t, body, pvars, loops, private, spec):
    """Rewrite increments of shared derivatives; returns (body, buffers, per-iteration
    statements, reason to stay serial or None)."""
    dmap = _deriv_map(t)
    dnames = {d for d, p in dmap.items() if p not in private}
    table = _access_table(t, body, dnames)
    atomic_only = getattr(getattr(t, "omp_options", None), "omp_increments", "auto") == "atomic"
    rectangular = all(lp.step is None or lp.step == lit(1) for lp in loops) and not any(
        names_in(e) & set(pvars) for lp in loops for e in (lp.start, lp.stop)
    )
    decisions: dict[int, tuple[str, object]] = {}
    buffers: dict[tuple[str, tuple[int, ...]], tuple[str, Sig]] = {}
    t.omp_reductions = set()
    for name, refs in sorted(table.items()):
        if _rank(t, dmap[name]) == 0:
            if all(inc for _, _, inc in refs):
                t.omp_reductions.add(name)
                continue
            if any(_writes_name(s, name) for s, _, _ in refs):
                return body, {}, [], f"shared scalar '{name}' is written"
            continue
        sigs = [(s, ref, inc, _sig(ref, pvars)) for s, ref, inc in refs]
        if len({g for *_, g in sigs}) == 1 and sigs[0][3] is not None:
            continue  # every iteration touches its own elements only
        others = {g for _, _, inc, g in sigs if not inc}
        if len(others) > 1 or None in others:
            if any(not inc and _writes_ref(s, ref) for s, ref, inc, _ in sigs):
                return body, {}, [], f"'{name}' is written at elements other iterations touch"
        incs = Counter(g for _, _, inc, g in sigs if inc and g is not None)
        base = next(iter(others)) if len(others) == 1 else None
        if base is None and incs:
            base = min(incs, key=lambda g: (-incs[g], [abs(o) for _, o in g]))
        for s, _ref, inc, g in sigs:
            if not inc or (g == base and g is not None):
                continue
            same_positions = (
                g is not None and base is not None and [k for k, _ in g] == [k for k, _ in base]
            )
            if atomic_only or not rectangular or not same_positions:
                decisions[id(s)] = ("atomic", None)
                continue
            d = tuple(o - o0 for (_, o), (_, o0) in zip(g, base, strict=True))
            key = (name, d)
            if key not in buffers:
                buf = t.temp(
                    "gather",
                    t.type_of(ir.Name(dmap[name])),
                    _deferred(t, dmap[name]),
                    frozenset({"allocatable"}),
                )
                buffers[key] = (buf, base)
            decisions[id(s)] = ("gather", (buffers[key][0], d, base))
        if any(decisions.get(id(s), ("",))[0] == "atomic" for s, *_ in sigs):
            # an atomic update races with plain ones to the same element: all become atomic
            for s, _ref, inc, _g in sigs:
                if inc and id(s) not in decisions:
                    decisions[id(s)] = ("atomic", None)

    def rewrite(s: ir.Stmt) -> list[ir.Stmt] | None:
        how = decisions.get(id(s))
        if how is None:
            return None
        if how[0] == "atomic":
            return [ir.Comment("!$omp atomic"), s]
        buf, d, base = how[1]
        target = _shift(s.target, buf, base, d)
        return [ir.Assign(target, replace(s.value, left=target), s.loc)]

    per_iter = []
    for (name, _d), (buf, base) in sorted(buffers.items()):
        own = _section(buf, _rank(t, dmap[name]), base, pvars, [0] * len(pvars))
        per_iter.append(ir.Assign(own, t.zero(ir.Name(dmap[name]))))
    return list(map_body(tuple(body), rewrite)), buffers, per_iter, None


def _writes_name(s: ir.Stmt, name: str) -> bool:
    return isinstance(s, ir.Assign) and base_name(s.target) == name


def _writes_ref(s: ir.Stmt, ref: ir.Expr) -> bool:
    return isinstance(s, ir.Assign) and s.target == ref


def _deferred(t, name: str) -> tuple[ir.Dim, ...]:
    return tuple(ir.Dim("deferred") for _ in range(_rank(t, name)))


def _shift(ref: ir.ArrayRef, buf: str, base: Sig, d: tuple[int, ...]) -> ir.ArrayRef:
    """``xb(i, j+1)`` with offset ``d = (1,)`` from the base → ``buf(i, j)``."""
    subs = list(ref.subs)
    for (k, _), dk in zip(base, d, strict=True):
        subs[k] = _plus(subs[k], -dk)
    return ir.ArrayRef(buf, tuple(subs))


def _plus(e: ir.Expr, c: int) -> ir.Expr:
    if c == 0:
        return e
    x = dependence.to_sympy(e)
    if x is not None:
        return _from_sympy(x + c)
    return ir.BinOp("+" if c > 0 else "-", e, lit(abs(c)))


def _from_sympy(x) -> ir.Expr:
    """An affine sympy expression back to IR (``j + 1``, ``j - 2``, ``j``)."""
    import sympy

    const = x.as_coefficients_dict().get(sympy.Integer(1), 0)
    rest = sympy.expand(x - const)
    if rest == 0:
        return lit(int(const))
    terms = []
    for sym, coeff in sorted(rest.as_coefficients_dict().items(), key=lambda kv: str(kv[0])):
        name = ir.Name(str(sym))
        terms.append(name if coeff == 1 else ir.BinOp("*", lit(int(coeff)), name))
    out: ir.Expr | None = None
    for term in terms:
        out = term if out is None else ir.BinOp("+", out, term)
    if out is None:
        return lit(int(const))
    if const > 0:
        return ir.BinOp("+", out, lit(int(const)))
    if const < 0:
        return ir.BinOp("-", out, lit(int(-const)))
    return out


def _section(buf: str, rank: int, base: Sig, idx: list[ir.Expr] | list[int], shift) -> ir.Expr:
    """``buf(:, p + o0)``: the parallel positions of ``base`` at the given indices."""
    subs: list[ir.Expr] = [ir.Range() for _ in range(rank)]
    for n, (k, _o) in enumerate(base):
        subs[k] = idx[n] if isinstance(idx[n], ir.Expr) else lit(idx[n])
    return ir.ArrayRef(buf, tuple(subs))


def _allocate(t, buffers) -> list[ir.Stmt]:
    """Gather buffers are allocated like the derivative they collect for (once per call)."""
    out: list[ir.Stmt] = []
    for (name, _d), (buf, _base) in sorted(buffers.items()):
        t.deferred.append(ir.Opaque(f"if (allocated({buf})) deallocate({buf})"))
        out.append(ir.Opaque(f"if (.not. allocated({buf})) allocate({buf}, mold={name})"))
    return out


def _gathers(t, loops: list[ir.Do], buffers) -> list[ir.Stmt]:
    """One gather loop per shared derivative: target element q adds buf_d(q - d) when the
    iteration q - o0 - d exists (boundaries guarded)."""
    dmap = _deriv_map(t)
    by_name: dict[str, list[tuple[tuple[int, ...], str, Sig]]] = {}
    for (name, d), (buf, base) in sorted(buffers.items()):
        by_name.setdefault(name, []).append((d, buf, base))
    out: list[ir.Stmt] = []
    pvars = [lp.var for lp in loops]
    for name, items in sorted(by_name.items()):
        base = items[0][2]
        rank = _rank(t, dmap[name])
        stmts: list[ir.Stmt] = []
        for d, buf, _ in items:
            conds = []
            for n, lp in enumerate(loops):
                shift = base[n][1] + d[n]
                src = _plus(ir.Name(lp.var), -shift)
                conds += [ir.BinOp(">=", src, lp.start), ir.BinOp("<=", src, lp.stop)]
            cond = conds[0]
            for c in conds[1:]:
                cond = ir.BinOp(".and.", cond, c)
            tgt = _section(name, rank, base, [ir.Name(v) for v in pvars], None)
            src_idx = [_plus(ir.Name(v), -d[n]) for n, v in enumerate(pvars)]
            add = ir.Assign(tgt, ir.BinOp("+", tgt, _section(buf, rank, base, src_idx, None)))
            stmts.append(ir.If(((cond, (add,)),), inline=True))
        lo = [min(base[n][1] + d[n] for d, _, _ in items) for n in range(len(loops))]
        hi = [max(base[n][1] + d[n] for d, _, _ in items) for n in range(len(loops))]
        nest: tuple[ir.Stmt, ...] = tuple(stmts)
        for n in reversed(range(len(loops))):
            lp = loops[n]
            spec = (
                ir.Parallel("parallel do", schedule="static", collapse=len(loops))
                if n == 0
                else None
            )
            nest = (
                ir.Do(
                    lp.var,
                    _plus(lp.start, lo[n]),
                    _plus(lp.stop, hi[n]),
                    None,
                    nest,
                    loc=lp.loc,
                    parallel=spec,
                ),
            )
        out.append(ir.Comment(f"! gather the increments of {name} made at other elements"))
        out += list(nest)
    return out


def _adjoint_spec(t, spec: ir.Parallel, body, private: set[str], pvars: list[str]):
    """Clauses of the adjoint loop: privates (primal privates, their derivatives, every scalar
    the body assigns) and sum reductions of shared scalar derivatives."""
    dmap = _deriv_map(t)
    red = set(getattr(t, "omp_reductions", set()))
    assigned: set[str] = set()
    for s in walk_stmts(tuple(body)):
        if isinstance(s, ir.Assign) and base_name(s.target):
            assigned.add(base_name(s.target))
        elif isinstance(s, ir.CallStmt) and s.name == "fad_pop":
            assigned.add(base_name(s.args[0]) or "")
        elif isinstance(s, ir.Do):
            assigned.add(s.var)
    priv = set()
    for n in assigned - red - set(pvars):
        primal = dmap.get(n, n)
        if n in dmap and primal not in private:
            if _rank(t, primal) == 0:
                return f"shared scalar '{n}' is assigned"
            continue  # shared derivative array, race-free by _race_free
        if primal in private or _rank(t, n) == 0:
            priv.add(n)
    for n in spec.private:
        if n in t.active:
            priv.add(t.namer.derivative(n))
        priv.add(n)
    priv -= {""}
    reduction = (("+", tuple(sorted(red))),) if red else ()
    kind = "parallel do"
    return ir.Parallel(
        kind,
        private=tuple(sorted(priv)),
        reduction=reduction,
        schedule=spec.schedule if spec.kind != "concurrent" else "static",
        collapse=len(pvars),
    )


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
    )
    if t.vector and any(_is_atomic(x) for x in walk_stmts(body)):
        # derivatives are arrays over directions there: no atomic form; run serially
        return replace(
            s, body=map_body(body, lambda x: [] if _is_atomic(x) else None), parallel=None
        )
    calls = any(isinstance(x, ir.CallStmt) for x in walk_stmts(body))
    if par.kind == "concurrent" and (calls or t.vector):
        dmap = _deriv_map(t)
        assigned = {
            base_name(x.target)
            for x in walk_stmts(body)
            if isinstance(x, ir.Assign)
            and base_name(x.target) not in dmap
            and _rank(t, base_name(x.target) or "") == 0
        }
        assigned |= {x.var for x in walk_stmts(body) if isinstance(x, ir.Do)}
        assigned |= {d for d, p in dmap.items() if p in assigned and d in _names_of(body)}
        private = tuple(sorted((set(new.private) | assigned) - {None, s.var}))
        new = ir.Parallel("parallel do", private=private, collapse=1)
    return replace(s, body=body, parallel=new)


def _names_of(body) -> set[str]:
    return set().union(*(names_in(e) for x in walk_stmts(tuple(body)) for e in stmt_exprs(x)))


def _is_atomic(s: ir.Stmt) -> bool:
    return is_omp(s) and s.text.lower().replace(" ", "").startswith("!$ompatomic")


def tangent_stmts(t, body: tuple[ir.Stmt, ...]) -> list[ir.Stmt]:
    """Tangent statements of a body; an ``!$omp atomic`` update gets one atomic per statement
    it turns into (derivative and primal)."""
    out: list[ir.Stmt] = []
    atomic: ir.Stmt | None = None
    for s in body:
        if _is_atomic(s):
            atomic = s
            continue
        new = t.stmt(s)
        if atomic is not None:
            new = [x for y in new for x in (atomic, y)]
            atomic = None
        out.extend(new)
    return out
