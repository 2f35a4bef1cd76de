"""Race-free adjoint increments inside a parallel adjoint loop (used by ad/parallel/loops.py).

For each shared derivative array the references of one iteration's adjoint are classified by
their *signature*: per parallel index, the subscript position holding ``index + constant``. If
all references agree, iterations touch disjoint elements. Otherwise increments at a constant
offset ``d`` from the common (base) signature go to a buffer ``fad_gatherN`` at the iteration's
own element, and ``gathers`` adds the buffers in a loop over target elements, each iteration
writing only its own element, with guards for the boundary elements (the peeled iterations).
Shared scalar derivatives that are only incremented become ``reduction(+:...)``; arrays only
incremented, some at indirect or otherwise unknown elements, go to per-thread partial arrays
(ad/parallel/partials.py); other increments at such elements, and all increments with
``--omp-atomic``, become ``!$omp atomic`` (then every increment of that array is atomic,
since an atomic and a plain update of one element would race).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from fortran_ad.ad import rewrites
from fortran_ad.ad.parallel import partials
from fortran_ad.analysis import dependence
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, map_body, names_in, stmt_exprs, walk_stmts

Sig = tuple[tuple[int, int], ...]  # per parallel index: (subscript position, constant offset)


def lit(n: int) -> ir.Literal:
    return ir.Literal(str(n), "integer")


def rank(t, name: str) -> int:
    sym = t.lookup(name)
    if sym is None:
        sym = next((x for x in t.temps if x.name == name), None)
    return sym.rank if sym is not None else 0


def derived(t, name: str) -> bool:
    """Is derivative ``name`` of derived type (OpenMP reduces no derived-type variable)?"""
    return derived_var(t, deriv_map(t).get(name, name))


def derived_var(t, name: str) -> bool:
    """Is variable ``name`` of derived type?"""
    from fortran_ad.ir.symbols import type_name

    sym = t.lookup(name)
    return sym is not None and type_name(sym) is not None


def deriv_map(t) -> dict[str, str]:
    return {d: p for p, d in t.namer.derivs.items()}


def _sig(ref: ir.Expr, pvars: list[str]) -> Sig | None:
    if not isinstance(ref, ir.ArrayRef):
        return None
    out = []
    for p in pvars:
        found = dependence.position(ref, p)
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


def _call_refs(t, body, dnames: set[str]) -> dict[str, list[tuple[ir.Expr, bool]]]:
    """Derivative actuals of calls to derivative routines: name -> (reference, whether the
    callee's dummy is intent(in), so that the callee only increments it)."""
    from fortran_ad.ad.core.naming import routine_name
    from fortran_ad.ir.program import dummy_map

    out: dict[str, list[tuple[ir.Expr, bool]]] = {}
    for s in walk_stmts(tuple(body)):
        if not isinstance(s, ir.CallStmt) or s.name in ("fad_push", "fad_pop"):
            continue
        primal = next(
            (i.routine for n, i in t.program.routines.items() if routine_name(n, t.mode) == s.name),
            None,
        )
        for k, a in enumerate(s.args):
            if base_name(a) not in dnames:
                continue
            intent_in = False
            if primal is not None and k > 0:
                before = [x for x in s.args[:k] if base_name(x) not in dnames]
                dummies = dummy_map(tuple(before), primal)
                owner = next((d for d, x in dummies.items() if x is s.args[k - 1]), None)
                sym = primal.symbol(owner) if owner else None
                intent_in = sym is not None and sym.intent == "in"
            out.setdefault(base_name(a), []).append((a, intent_in))
    return out


def race_free(t, body, pvars, loops, private, spec):
    """Rewrite increments of shared derivatives; returns (body, buffers, per-iteration
    statements, reason to stay serial or None)."""
    dmap = deriv_map(t)
    dnames = {d for d, p in dmap.items() if p not in private}
    table = _access_table(t, body, dnames)
    atomic_only = getattr(getattr(t, "omp_options", None), "omp_increments", "auto") == "atomic"
    rectangular = all(lp.step is None or lp.step == lit(1) for lp in loops) and not any(
        names_in(e) & set(pvars) for lp in loops for e in (lp.start, lp.stop)
    )
    decisions: dict[int, tuple[str, object]] = {}
    buffers: dict[tuple[str, tuple[int, ...]], tuple[str, Sig]] = {}
    t.omp_reductions = set()
    t.omp_partials = {}  # derivative -> (partial array, primal): ad/parallel/partials.py
    for name, crefs in sorted(_call_refs(t, body, dnames).items()):
        other = [x for x in table.pop(name, []) if not isinstance(x[0], ir.CallStmt)]
        sigs = {_sig(r, pvars) for _, r, _ in other} | {_sig(r, pvars) for r, _ in crefs}
        if len(sigs) == 1 and None not in sigs:
            table[name] = other  # every iteration passes its own elements
        elif all(i for _, i in crefs) and all(inc for _, _, inc in other) and not derived(t, name):
            t.omp_reductions.add(name)  # callees only increment it
        else:
            return body, {}, [], f"'{name}' is updated by a call at elements other iterations use"
    for name, refs in sorted(table.items()):
        if derived(t, name):  # components: neither reductions nor buffers of their own
            sigs = {_sig(ref, pvars) for _, ref, _ in refs}
            if len(sigs) == 1 and None not in sigs:
                continue  # every iteration touches its own elements only
            return (
                body,
                {},
                [],
                f"'{name}' (derived type) is updated at elements other iterations use",
            )
        if rank(t, dmap[name]) == 0:
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
        if (len(others) > 1 or None in others) and any(
            not inc and _writes_ref(s, ref) for s, ref, inc, _ in sigs
        ):
            return body, {}, [], f"'{name}' is written at elements other iterations touch"
        incs = Counter(g for _, _, inc, g in sigs if inc and g is not None)
        base = next(iter(others)) if len(others) == 1 else None
        if base is None and incs:
            base = min(incs, key=lambda g: (-incs[g], [abs(o) for _, o in g]))

        def atomic(g: Sig | None, base: Sig | None = base) -> bool:
            same = g is not None and base is not None and [k for k, _ in g] == [k for k, _ in base]
            return atomic_only or not rectangular or not same

        elsewhere = [g for _, _, inc, g in sigs if inc and not (g == base and g is not None)]
        if (
            not atomic_only
            and any(atomic(g) for g in elsewhere)
            and partials.eligible(refs)
            and rewrites.on(t, "omp_partials")
        ):
            buf = partials.buffer(t, dmap[name])
            t.omp_partials[name] = (buf, dmap[name])
            rewrites.fired("omp_partials")
            t.omp_reductions.add(buf)
            for s, *_ in sigs:
                decisions[id(s)] = ("partial", buf)
            continue
        for s, _ref, inc, g in sigs:
            if not inc or (g == base and g is not None):
                continue
            if atomic(g):
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
        if how[0] == "partial":
            return [partials.redirect(s, how[1])]
        buf, d, base = how[1]
        target = _shift(s.target, buf, base, d)
        return [ir.Assign(target, replace(s.value, left=target), s.loc)]

    per_iter = []
    for (name, _d), (buf, base) in sorted(buffers.items()):
        # the iteration p writes its buffer at p + o0 (``_shift``): zero that slab, not p's
        at = [_plus(ir.Name(v), o0) for v, (_k, o0) in zip(pvars, base, strict=True)]
        own = _section(buf, rank(t, dmap[name]), base, at)
        per_iter.append(ir.Assign(own, t.zero(ir.Name(dmap[name]))))
    return list(map_body(tuple(body), rewrite)), buffers, per_iter, None


def _writes_name(s: ir.Stmt, name: str) -> bool:
    return isinstance(s, ir.Assign) and base_name(s.target) == name


def _writes_ref(s: ir.Stmt, ref: ir.Expr) -> bool:
    return isinstance(s, ir.Assign) and s.target == ref


def _deferred(t, name: str) -> tuple[ir.Dim, ...]:
    return tuple(ir.Dim("deferred") for _ in range(rank(t, name)))


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


def _section(buf: str, rank: int, base: Sig, idx: list[ir.Expr]) -> ir.Expr:
    """``buf(:, q)``: the parallel positions of ``base`` at the indices ``idx``."""
    subs: list[ir.Expr] = [ir.Range() for _ in range(rank)]
    for n, (k, _o) in enumerate(base):
        subs[k] = idx[n]
    return ir.ArrayRef(buf, tuple(subs))


def allocate(t, buffers) -> list[ir.Stmt]:
    """Gather buffers are allocated like the derivative they collect for (once per call)."""
    out: list[ir.Stmt] = []
    for (name, _d), (buf, _base) in sorted(buffers.items()):
        t.deferred.append(ir.Opaque(f"if (allocated({buf})) deallocate({buf})"))
        out.append(ir.Opaque(f"if (.not. allocated({buf})) allocate({buf}, mold={name})"))
    return out


def gathers(t, loops: list[ir.Do], buffers) -> list[ir.Stmt]:
    """One gather loop per shared derivative: target element q adds buf_d(q - d) when the
    iteration q - o0 - d exists (boundaries guarded)."""
    dmap = deriv_map(t)
    by_name: dict[str, list[tuple[tuple[int, ...], str, Sig]]] = {}
    for (name, d), (buf, base) in sorted(buffers.items()):
        by_name.setdefault(name, []).append((d, buf, base))
    out: list[ir.Stmt] = []
    pvars = [lp.var for lp in loops]
    for name, items in sorted(by_name.items()):
        base = items[0][2]
        nrank = rank(t, dmap[name])
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
            tgt = _section(name, nrank, base, [ir.Name(v) for v in pvars])
            src_idx = [_plus(ir.Name(v), -d[n]) for n, v in enumerate(pvars)]
            add = ir.Assign(tgt, ir.BinOp("+", tgt, _section(buf, nrank, base, src_idx)))
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


def adjoint_spec(t, spec: ir.Parallel, body, private: set[str], pvars: list[str]):
    """Clauses of the adjoint loop: privates (primal privates, their derivatives, every scalar
    the body assigns) and sum reductions of shared scalar derivatives."""
    dmap = deriv_map(t)
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
            if rank(t, primal) == 0:
                return f"shared scalar '{n}' is assigned"
            continue  # shared derivative array, race-free by _race_free
        if primal in private or rank(t, n) == 0:
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
