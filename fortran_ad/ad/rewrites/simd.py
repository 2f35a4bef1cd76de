"""Vectorisable adjoint loops: reductions made explicit with ``!$omp simd``.

The adjoint of an innermost loop often accumulates into something the loop index does not
select, e.g. the adjoint of ``c(i, j) = c(i, j) + alpha*a(i, k)*b(k, j)`` over ``i``::

    alphab = alphab + b(k, j)*a(i, k)*cb(i, j)       ! a scalar
    bb(k, j) = bb(k, j) + alpha*a(i, k)*cb(i, j)     ! one element for the whole loop

Floating-point sums are not associative, so gfortran keeps such loops scalar (a chain of
dependent additions per iteration) while the primal loop is vectorised. When the iterations of
the backward loop are otherwise independent, this pass accumulates each such element in a
local scalar and marks the loop ``!$omp simd reduction(+: ...)``: with ``-fopenmp`` (or
``-fopenmp-simd``) it is vectorised, without it the directive is a comment and the loop is the
same sum. Independent means, per variable the loop writes:

- an element the loop index does not select, only ever in ``v = v + e`` / ``v = v - e``
  (``e`` free of ``v``): a reduction;
- an array referenced only as one designator that has the loop index as a subscript: each
  iteration has its own element;
- a scalar that every iteration assigns before reading it: ``lastprivate``.

The loop body must be plain assignments (no calls, tape operations or branches). Since its
iterations may then run in any order, the loop also runs forwards again, provided the scalars
it leaves behind can be given the values of the plain backward loop (ad/rewrites/forwards.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from fortran_ad.ad import rewrites
from fortran_ad.ad.rewrites.forwards import run_forwards
from fortran_ad.ad.rewrites.loop_stmts import (
    increment_of,
    mentions,
    plain,
    primal_names,
    real_type,
    refs_to,
)
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.types import real_literal
from fortran_ad.ir.walk import children, var_of

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

Stmts = list[ir.Stmt]


def rewrite(t: Reverse, loop: ir.Do, forward: tuple) -> list[ir.Stmt]:
    """The backward loop as vectorisable statements: in gather form (ad/rewrites/gather.py), with a
    simd reduction, or split into loops that vectorise (ad/rewrites/fission.py), each with its
    reductions; else unchanged."""
    from fortran_ad.ad.rewrites import gather, gather_nest

    scatter = _rewrite(t, loop, forward)
    if not rewrites.on(t, "gather"):
        return scatter
    step = forward[2]
    inner = gather.recorded(t, loop) if step is None or step == gather.ONE else None
    # the loop around a gathered loop: gather both (ad/rewrites/gather_nest.py)
    if inner is not None:
        if not rewrites.on(t, "gather_nest"):
            return scatter
        nest = gather_nest.rewrite(t, loop, forward, inner, scatter)
        rewrites.fired("gather_nest", nest is not None)
        return nest if rewrites.fired("gather", bool(nest)) else scatter
    gathered = gather.rewrite(t, loop, forward, scatter)
    return gathered if rewrites.fired("gather", bool(gathered)) else scatter


def _rewrite(t: Reverse, loop: ir.Do, forward: tuple) -> list[ir.Stmt]:
    from fortran_ad.ad.rewrites import distinct, fission

    out: list[ir.Stmt] = []
    free = not (t.omp_depth or t.vector or loop.parallel is not None or loop.directives)
    if free and rewrites.on(t, "distinct"):
        out, loop = distinct.hoist(t, loop)  # invariant reads of other elements
        rewrites.fired("distinct", bool(out))
    vec = vectorize(t, loop, forward)
    parts = None
    if vec is None and rewrites.on(t, "fission"):
        parts = fission.split(t, loop)
        rewrites.fired("fission", parts is not None)
    if vec is None and parts is None:  # overlapping increments: at least run forwards
        vec = vectorize(t, loop, forward, commute=True)
    if vec is not None:
        return [*out, *vec[0], vec[1], *vec[2]]
    for part in parts or [loop]:
        vec = vectorize(t, part, forward)
        out += [*vec[0], vec[1], *vec[2]] if vec is not None else count_up(t, part)
    return out


def count_up(t: Reverse, loop: ir.Do) -> list[ir.Stmt]:
    """``do j = hi, lo, -1`` around a simd loop whose bounds use ``j`` (``do i = j, n``) as
    ``top = hi + lo; do r = lo, hi; j = top - r``: gfortran 12 splits the descending loop at
    the inner loop's guard ``j <= n`` (-fsplit-loops, on at -O3) and then no longer
    vectorises the copies of the simd loop (GOMP_SIMD_LANE "clobbers memory"); the same
    iterations counted upwards are not split."""
    from fortran_ad.ir.build import wrap
    from fortran_ad.ir.walk import names_in, walk_stmts

    one = ir.Literal("1", "integer")
    if not rewrites.on(t, "count_up"):
        return [loop]
    if t.omp_depth or loop.step != ir.UnOp("-", one) or loop.directives or loop.parallel:
        return [loop]
    simd = [
        x
        for x in walk_stmts(loop.body)
        if isinstance(x, ir.Do) and any(d.startswith("!$omp simd") for d in x.directives)
    ]
    if not any(loop.var in names_in(e) for x in simd for e in (x.start, x.stop)):
        return [loop]
    integer = ir.TypeSpec("integer")
    top, rev = ir.Name(t.temp("top", integer)), t.temp("rev", integer)
    index = ir.Assign(ir.Name(loop.var), ir.BinOp("-", top, ir.Name(rev)), loop.loc)
    up = replace(loop, var=rev, start=loop.stop, stop=loop.start, step=None)
    rewrites.fired("count_up")
    return [
        ir.Assign(top, ir.BinOp("+", loop.start, wrap(loop.stop)), loop.loc),
        replace(up, body=(index, *loop.body)),
    ]


def vectorize(
    t: Reverse, loop: ir.Do, forward: tuple, commute: bool = False
) -> tuple[Stmts, ir.Do, Stmts] | None:
    """(statements before, the loop with its directive, statements after), or None when the
    loop has no reduction or its iterations are not independent. ``forward`` holds the
    (start, stop, step) of the primal loop: with a unit step the loop runs forwards again.
    ``commute``: iterations that depend on each other only through increments of the same
    elements (which commute) also run forwards, without a directive."""
    if t.omp_depth or t.vector or loop.parallel is not None or loop.directives:
        return None
    assigns = [s for s in loop.body if not isinstance(s, ir.Comment)]
    if not assigns or not all(plain(t, s) for s in assigns):
        return None
    from fortran_ad.ad.rewrites import block_local

    if rewrites.on(t, "block_local"):
        body = block_local.first_increments(t, loop, loop.body)
        rewrites.fired("block_local", body != loop.body)
        loop = replace(loop, body=body)
    assigns = [s for s in loop.body if not isinstance(s, ir.Comment)]
    written = {var_of(s.target.name) for s in assigns}
    reductions: list[ir.Expr] = []
    private: list[str] = []
    several = False
    commuting = False
    for v in sorted(written):
        kind = _classify(assigns, v, loop.var, written)
        if kind is None and commute and _commutes(assigns, v):
            commuting = True  # increments of elements other iterations also increment
            continue
        if kind is None:
            return None
        if kind in ("reduction", "private") and not _scalar(t, assigns, v):
            return None
        if kind == "reduction":
            target = next(s.target for s in assigns if var_of(s.target.name) == v)
            reductions.append(target)
        elif kind == "mixed":  # the fixed elements are reductions
            mine = [s.target for s in assigns if var_of(s.target.name) == v]
            reductions += [d for d in dict.fromkeys(mine) if _fixed(d, loop.var, written)]
        elif kind == "private":
            private.append(v)
        elif kind == "elements":  # gfortran cannot tell the designators apart: say so
            several = True
    if commuting:  # any order gives the same sums: forwards, but no simd (lanes would clash)
        ran = None
        if rewrites.on(t, "forwards"):
            ran = run_forwards(loop, private, forward, frozenset(x.name for x in t.temps))
        rewrites.fired("forwards", ran is not None)
        return None if ran is None else ([], ran[0], ran[1])
    if not (reductions or several) or not rewrites.on(t, "simd"):
        return None
    from fortran_ad.ad.rewrites import reduce

    changing = written | {loop.var}
    shared = None
    if rewrites.on(t, "reduce"):
        shared = reduce.factor(t, assigns, reductions, changing, lambda d: real_type(t, d))
        rewrites.fired("reduce", shared is not None)
    if shared is not None:  # invariant factors out, one sum per product
        new, accs, pre, post = shared
        body = tuple(x for s in loop.body for x in new.get(id(s), [s]))
        return _finish(
            t, replace(loop, body=body), [a.name for a in accs], private, forward, pre, post
        )
    pre: Stmts = []
    post: Stmts = []
    names: list[str] = []
    swap: dict[ir.Expr, ir.Name] = {}
    for d in reductions:
        if isinstance(d, ir.Name):
            names.append(d.name)
            continue
        typ = real_type(t, d)
        if typ is None:
            return None
        acc = ir.Name(t.temp("acc", typ))
        swap[d] = acc
        names.append(acc.name)
        pre.append(ir.Assign(acc, real_literal("0.0", typ), loop.loc))
        post.append(ir.Assign(d, ir.BinOp("+", d, acc), loop.loc))
    body = tuple(_swap(s, swap) for s in loop.body)
    return _finish(t, replace(loop, body=body), names, private, forward, pre, post)


def _finish(t, loop: ir.Do, names: list[str], private: list[str], forward: tuple, pre, post):
    text = f"!$omp simd reduction(+: {', '.join(names)})" if names else "!$omp simd"
    if private:
        text += f" lastprivate({', '.join(private)})"
    loop = replace(loop, directives=(text,))
    rewrites.fired("simd")
    ran = None
    if rewrites.on(t, "forwards"):
        ran = run_forwards(loop, private, forward, frozenset(x.name for x in t.temps))
    rewrites.fired("forwards", ran is not None)  # else backwards: lastprivate is iteration lo
    if ran is not None:
        loop, post = ran[0], [*post, *ran[1]]
    return pre, loop, post


def _scalar(t: Reverse, assigns: list[ir.Assign], v: str) -> bool:
    """``v`` is a reduction element or a scalar (not a whole array written by name)."""
    target = next(s.target for s in assigns if var_of(s.target.name) == v)
    if isinstance(target, ir.ArrayRef):
        return True
    temps = {x.name: x for x in t.temps}
    sym = temps.get(v) or t.lookup(primal_names(t).get(v, v))
    return sym is not None and sym.rank == 0


def _classify(assigns: list[ir.Assign], v: str, index: str, written: set[str]) -> str | None:
    """ "reduction", "element", "private" or None (a dependence between iterations)."""
    refs = [r for s in assigns for e in (s.target, s.value) for r in refs_to(e, v)]
    first = refs[0]
    same = all(r == first for r in refs)
    if _own(refs, index, written):
        return "element" if same else "elements"
    invariant = not any(mentions(e, written | {index}) for e in children(first))
    mine = [s for s in assigns if var_of(s.target.name) == v]
    others = [s for s in assigns if var_of(s.target.name) != v]
    if (
        same
        and invariant
        and all(increment_of(s) is not None for s in mine)
        and not any(refs_to(s.value, v) for s in others)
    ):
        return "reduction"
    if _mixed(mine, others, v, index, written):
        return "mixed"
    if isinstance(first, ir.Name) and same:
        for s in assigns:  # the first statement that mentions v must define it from others
            if refs_to(s.value, v) or _mentions_in_subscripts(s.target, v):
                return None  # (a subscript of a target reads it too)
            if s.target == first:
                return "private"
    return None


def _commutes(assigns: list[ir.Assign], v: str) -> bool:
    """``v`` is only incremented (``v(..) = v(..) + e``, ``e`` free of ``v``) and no other
    statement reads it: its updates commute, whichever elements they hit."""
    mine = [s for s in assigns if var_of(s.target.name) == v]
    others = [s for s in assigns if var_of(s.target.name) != v]
    return all(increment_of(s) is not None for s in mine) and not any(
        refs_to(s.value, v) or _mentions_in_subscripts(s.target, v) for s in others
    )


def _mentions_in_subscripts(target: ir.Expr, v: str) -> bool:
    return isinstance(target, ir.ArrayRef) and any(refs_to(e, v) for e in target.subs)


def _fixed(d: ir.Expr, index: str, written: set[str]) -> bool:
    return not any(mentions(e, written | {index}) for e in children(d))


def _mixed(mine, others, v: str, index: str, written: set[str]) -> bool:
    """``v`` is only incremented (``v(..) = v(..) + e``, ``e`` and the other statements free of
    ``v``), at elements of the iteration's own and at fixed ones (``ab(i, k)`` and ``ab(j, k)``
    over ``i``; they meet at ``i = j``): increments commute, so the fixed elements' sums
    can be added after the loop (reductions) while the others stay in it."""
    if not all(increment_of(s) is not None for s in mine) or any(
        refs_to(s.value, v) for s in others
    ):
        return False
    fixed = [s.target for s in mine if _fixed(s.target, index, written)]
    own = [s.target for s in mine if not _fixed(s.target, index, written)]
    return bool(fixed) and bool(own) and _own(own, index, written)


def _own(refs: list[ir.Expr], index: str, written: set[str]) -> bool:
    """Each iteration has its own elements: every designator has the bare loop index in one
    same dimension (different iterations differ there) and otherwise subscripts the loop
    does not change, e.g. ``ab(i, k)`` and ``ab(j, k)`` over ``k``."""
    if not all(isinstance(r, ir.ArrayRef) and len(r.subs) == len(refs[0].subs) for r in refs):
        return False
    idx = ir.Name(index)
    dims = [d for d, e in enumerate(refs[0].subs) if all(r.subs[d] == idx for r in refs)]
    if not dims:
        return False
    others = [e for r in refs for d, e in enumerate(r.subs) if d != dims[0]]
    return not any(mentions(e, written | {index}) for e in others)


def _swap(s: ir.Stmt, swap: dict[ir.Expr, ir.Name]) -> ir.Stmt:
    if not isinstance(s, ir.Assign) or s.target not in swap:
        return s
    acc = swap[s.target]
    assert isinstance(s.value, ir.BinOp)
    return replace(s, target=acc, value=ir.BinOp(s.value.op, acc, s.value.right))
