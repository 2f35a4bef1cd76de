"""Block tape for innermost loops: one push/pop per loop instead of one call per element.

The store-all sweep records values before every iteration's overwrite::

    do i = lo, hi                      ! forward            do i = hi, lo, -1    ! backward
      call fad_push(t)                                        call fad_pop(x(i, j))
      t = x(i, j)*w(i)                                        ... adjoint of line 2
      call fad_push(x(i, j))                                  call fad_pop(t)
      x(i, j) = t*x(i, j)                                     ... adjoint of line 1
    end do                                                  end do

Three rewrites remove those calls from the loops (a call per element costs more than the
statement it records and keeps the loop from being vectorised):

- **Slices.** When iteration ``i`` touches no element of ``x`` but ``x(i, j)`` (every
  reference in the loop is that very designator, ``j`` does not change in the loop) and nothing
  writes ``x`` before the push, the pushed value is the value ``x(i, j)`` had when the loop
  started: the loop records ``x(lo:hi, j)``, pushed as one slice before the loop and popped
  before the reversed loop. Popping early is harmless when the adjoint statements ahead of the
  element pop do not read ``x``; the slice stays last-in first-out only when the loop records
  nothing else inside.
- **Once.** An element the loop index does not select (an accumulation ``a(i, j) = a(i, j) -
  a(i, k)*a(j, k)`` over ``k < j``) whose intermediate values no adjoint statement of the loop
  reads (every other reference to ``a`` provably differs: the loop range ends before ``j``) is
  pushed once before the loop and popped once after the reversed loop. Neither slices nor
  once-records apply to a global a call in the loop may read: the callee's adjoint re-runs
  its primal on the value of its own iteration.
- **Buffers.** Any other unconditional record ``call fad_push(e)`` of a scalar or an element
  (of a variable or of a component, ``s%u(i, j)``; loops with step 1 or -1) becomes
  ``fad_save1(i) = e`` into a local array over the loop's range, pushed as one block after
  the loop; the backward sweep pops the block before the reversed loop
  and the element pop becomes ``e = fad_save1(i)``. Records left inside the loop (conditional
  ones) stay below the block on the tape, so the order stays last-in first-out. A buffer is
  allocated once and reused by later runs of the loop with the same range (``_kept_buffers``):
  no allocation per iteration of an enclosing loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import stmt_exprs, subexprs, var_of, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

Stmts = list[ir.Stmt]


@dataclass
class Hoisted:
    """The loop's records moved out: statements around the forward loop and around the
    reversed loop, and the two loop bodies that remain."""

    f_before: Stmts
    f_body: Stmts
    f_after: Stmts
    b_before: Stmts
    b_body: Stmts
    b_after: Stmts


def hoist(
    t: Reverse, s: ir.Do, f_body: Stmts, b_body: Stmts, bounds: tuple, enabled: bool = True
) -> Hoisted:
    """Slices and buffers for the records of the innermost loop ``s``; ``bounds`` =
    (start, stop, step) as the forward loop runs them. Leaves the loop as it is when no
    record qualifies (or not ``enabled``)."""
    same = Hoisted([], f_body, [], [], b_body, [])
    if (
        not enabled
        or t.omp_depth
        or any(isinstance(x, ir.Do | ir.DoWhile) for x in walk_stmts(tuple(f_body)))
    ):
        return same
    written = t.writes(s.body) | {s.var}
    records = _records(f_body, b_body)
    paired = [e for e in records if _plain(e)]
    span = _span(bounds)
    kept = [e for e in paired if span and _once_ok(t, f_body, b_body, e, written)]
    moved = [e for e in paired if e not in kept and _slice_ok(t, s, f_body, b_body, e, written)]
    buffered = [  # (component elements too: the buffer slot takes the value the push took)
        e
        for e in records
        if e not in kept
        and e not in moved
        and span
        and _buffer_type(t, e) is not None
        and _element_or_scalar(t, e)
    ]
    repeated = [e for e in _repeated(f_body, b_body) if span and _buffer_type(t, e) is not None]
    buffered += repeated
    f_rest = [x for x in f_body if _recorded(x, "fad_push") not in (*kept, *moved)]
    top = {id(x) for x in f_rest if _recorded(x, "fad_push") in buffered}
    if moved and any(
        _is_tape(x, "fad_push") and id(x) not in top for x in walk_stmts(tuple(f_rest))
    ):
        moved = []  # other records inside: the slices would not stay last-in first-out
        f_rest = [x for x in f_body if _recorded(x, "fad_push") not in kept]
    if not kept and not moved and not buffered:
        return same
    b_rest = [y for y in b_body if _recorded(y, "fad_pop") not in (*kept, *moved)]
    slices = [_slice(ref, s.var, bounds) for ref in moved]
    out = Hoisted(
        [ir.CallStmt("fad_push", (x,), s.loc) for x in [*kept, *slices]],
        f_rest,
        [],
        [ir.CallStmt("fad_pop", (x,), s.loc) for x in reversed(slices)],
        b_rest,
        [ir.CallStmt("fad_pop", (x,), s.loc) for x in reversed(kept)],
    )
    if buffered:
        _buffer(t, s, out, buffered, *span)
    return out


def _span(bounds: tuple) -> tuple[ir.Expr, ir.Expr] | None:
    """(lowest, highest) index of a loop with step 1 or -1, else None."""
    start, stop, step = bounds
    one = ir.Literal("1", "integer")
    if step is None or step == one:
        return start, stop
    if step == ir.UnOp("-", one):
        return stop, start
    return None


def _records(f_body: Stmts, b_body: Stmts) -> list[ir.Expr]:
    """Designators pushed exactly once at the top of the forward body and popped exactly once
    at the top of the backward body."""
    pushed = [_recorded(x, "fad_push") for x in f_body]
    popped = [_recorded(y, "fad_pop") for y in b_body]
    return [e for e in pushed if e is not None and pushed.count(e) == 1 and popped.count(e) == 1]


def _repeated(f_body: Stmts, b_body: Stmts) -> list[ir.Expr]:
    """Plain designators pushed n > 1 times at the top of the forward body and popped n times
    at the top of the backward body (``ccol(i, j, k)`` before its definition and before its
    in-place scaling): each push gets its own buffer, paired with the pops by position (the
    k-th push with the k-th pop from the end)."""
    pushed = [e for e in (_recorded(x, "fad_push") for x in f_body) if e is not None]
    popped = [e for e in (_recorded(y, "fad_pop") for y in b_body) if e is not None]
    out: list[ir.Expr] = []
    for e in pushed:
        n = pushed.count(e)
        if n > 1 and popped.count(e) == n and e not in out and _plain(e):
            out.append(e)
    return out


def _plain(e: ir.Expr) -> bool:
    """A variable or one element of it (no section, no component path)."""
    subs = e.subs if isinstance(e, ir.ArrayRef) else ()
    return not any(isinstance(x, ir.Range) for x in subs) and "%" not in getattr(e, "name", "%")


def _element_or_scalar(t: Reverse, e: ir.Expr) -> bool:
    """A scalar designator: a plain one (``_plain``), or a component path of a scalar
    variable naming a scalar component or one element of an array component (``s%u(i, j)``;
    not ``g(i)%q``, a whole array component of an element)."""
    if _plain(e):
        return True
    sym = t.lookup(e.name) if isinstance(e, ir.Name | ir.ArrayRef) else None
    if sym is None:
        return False
    if isinstance(e, ir.Name):
        return sym.rank == 0
    whole = any(isinstance(x, ir.Range) for x in e.subs)
    return e.head == 0 and len(e.subs) == sym.rank and not whole


def _via_calls(t: Reverse, f_body: Stmts, b_body: Stmts) -> set[str]:
    """Globals the loop's calls may read or write out of sight (a callee's adjoint re-runs
    its primal, which reads them at their values of that iteration): their records stay per
    iteration (ad/core/globals.py: ``touched_by_calls``)."""
    if t.globals is None:
        return set()
    return t.globals.touched_by_calls(t.routine.name, (*f_body, *b_body))


def _slice_ok(t, s: ir.Do, f_body: Stmts, b_body: Stmts, e: ir.Expr, written: set[str]) -> bool:
    if not isinstance(e, ir.ArrayRef) or not _sliceable(e, s.var, written):
        return False
    if var_of(e.name) in _via_calls(t, f_body, b_body):
        return False
    k = next(j for j, x in enumerate(f_body) if _recorded(x, "fad_push") == e)
    p = next(j for j, y in enumerate(b_body) if _recorded(y, "fad_pop") == e)
    if _mentions(f_body[:k], e.name) or _mentions(b_body[:p], e.name):
        return False
    return _only_element(t, s.body, e)


def _once_ok(t: Reverse, f_body: Stmts, b_body: Stmts, e: ir.Expr, written: set[str]) -> bool:
    """A record of one element the loop index does not select (an accumulation such as
    ``a(i, j) = a(i, j) - a(i, k)*a(j, k)`` over ``k``) whose intermediate values no adjoint
    statement of the loop reads: recorded once before the loop, restored once after the
    reversed loop. Other elements must provably differ from ``e`` (ad/rewrites/distinct.py)."""
    from fortran_ad.ad.rewrites import distinct

    name = var_of(e.name)
    if name in _via_calls(t, f_body, b_body):
        return False
    loops = distinct.bounds(t, t.loops)
    if isinstance(e, ir.ArrayRef) and any(_names(x) & written for x in e.subs):
        return False
    k = next(j for j, x in enumerate(f_body) if _recorded(x, "fad_push") == e)
    if _mentions(f_body[:k], name):
        return False
    for y in walk_stmts(tuple(b_body)):
        if _recorded(y, "fad_pop") == e:
            continue
        if isinstance(y, ir.Opaque) and name in (*y.reads, *y.writes):
            return False
        for x in (r for ex in stmt_exprs(y) for r in subexprs(ex)):
            if isinstance(x, ir.OpaqueExpr) and name in x.names:
                return False
            ours = isinstance(x, ir.Name | ir.ArrayRef) and var_of(x.name) == name
            if ours and not distinct.differ(x, e, loops):
                return False
    return True


def _buffer_type(t: Reverse, e: ir.Expr) -> ir.TypeSpec | None:
    """The type of a scalar or element record of intrinsic type (None: not bufferable)."""
    from fortran_ad.ir.symbols import type_name

    sym = t.lookup(e.name) if isinstance(e, ir.Name | ir.ArrayRef) else None
    if sym is None or sym.type is None or type_name(sym) is not None:
        return None
    if sym.type.base == "character" or "pointer" in sym.attrs:
        return None
    if isinstance(e, ir.Name) and sym.rank:
        return None
    return sym.type


def _buffer(t: Reverse, s: ir.Do, out: Hoisted, records: list, lo, hi) -> None:
    from fortran_ad.ir.printer import expr

    # one buffer per push statement; the k-th push of a designator pairs with its k-th pop
    # from the end of the backward body
    pushes: dict[int, str] = {}
    pops: dict[int, str] = {}
    bufs: dict[str, ir.Expr] = {}
    for e in records:
        typ = _buffer_type(t, e)
        fs = [x for x in out.f_body if _recorded(x, "fad_push") == e]
        bs = [y for y in out.b_body if _recorded(y, "fad_pop") == e]
        for x, y in zip(fs, reversed(bs), strict=True):
            b = t.temp("save", typ, (ir.Dim("deferred"),), frozenset({"allocatable"}))
            t.cost_dims[b] = (ir.Dim("explicit", lo, hi),)
            bufs[b] = e
            pushes[id(x)] = b
            pops[id(y)] = b
    # bounds other than names and literals go through integer temporaries, so the ALLOCATE
    # text names only variables (the C back end reads it)
    sizes: Stmts = []
    named = []
    for b in (lo, hi):
        if not isinstance(b, ir.Name | ir.Literal):
            n = t.temp("extent", ir.TypeSpec("integer"))
            sizes.append(ir.Assign(ir.Name(n), b, s.loc))
            b = ir.Name(n)
        named.append(b)
    lo_text, hi_text = expr(named[0]), expr(named[1])
    shape = f"({lo_text}:{hi_text})"
    alloc: Stmts = [ir.Opaque(f"allocate({', '.join(b + shape for b in bufs)})", loc=s.loc)]
    free: Stmts = [ir.Opaque(f"deallocate({', '.join(bufs)})", loc=s.loc)]
    if _kept_buffers(t):
        alloc = [x for b in bufs for x in _fit(b, lo_text, hi_text, s.loc)]
        free = []
    at = ir.Name(s.var)

    def swap(x: ir.Stmt, tape: str) -> ir.Stmt:
        b = (pushes if tape == "fad_push" else pops).get(id(x))
        if b is None:
            return x
        e, slot = bufs[b], ir.ArrayRef(b, (at,))
        return ir.Assign(slot, e, x.loc) if tape == "fad_push" else ir.Assign(e, slot, x.loc)

    out.f_before += [*sizes, *alloc]
    out.f_body = [swap(x, "fad_push") for x in out.f_body]
    out.f_after += [*(ir.CallStmt("fad_push", (ir.Name(b),), s.loc) for b in bufs), *free]
    popped = [ir.CallStmt("fad_pop", (ir.Name(b),), s.loc) for b in reversed(bufs)]
    out.b_before[:0] = [*sizes, *alloc, *popped]
    out.b_body = [swap(y, "fad_pop") for y in out.b_body]
    out.b_after += free


def _kept_buffers(t: Reverse) -> bool:
    """Buffers stay allocated between runs of their loop (Fortran back end): an enclosing
    loop, or the backward sweep after the forward one, reuses them instead of allocating and
    freeing them once per run. Legal because a buffer is only ever read between its fill and
    its push (forward) or its pop and the reversed loop (backward), each of which covers
    exactly ``lo:hi`` of the current run: the values a previous run left are never read, and
    ``_fit`` reallocates when the range differs, so the whole-array push and pop still move
    exactly ``lo:hi``. The buffer is a non-SAVE local of the adjoint: freed at return (one per
    invocation, so threads and recursion do not share it)."""
    opts = getattr(t, "omp_options", None)
    return getattr(opts, "backend", "fortran") == "fortran"


def _fit(b: str, lo: str, hi: str, loc) -> Stmts:
    """``b`` allocated with bounds ``lo:hi``, reusing its storage when it has them already."""
    differs = f"if (lbound({b}, 1) /= {lo} .or. ubound({b}, 1) /= {hi}) deallocate({b})"
    allocated = ir.Call("allocated", (ir.Name(b),))
    return [
        ir.If(((allocated, (ir.Opaque(differs, reads=(b,), writes=(b,), loc=loc),)),), loc=loc),
        ir.Opaque(f"if (.not. allocated({b})) allocate({b}({lo}:{hi}))", writes=(b,), loc=loc),
    ]


def _is_tape(s: ir.Stmt, name: str) -> bool:
    return isinstance(s, ir.CallStmt) and s.name == name


def _recorded(s: ir.Stmt, name: str) -> ir.Expr | None:
    """The designator ``x`` or ``x(..)`` of ``call <name>(...)``, else None."""
    if _is_tape(s, name) and len(s.args) == 1 and isinstance(s.args[0], ir.Name | ir.ArrayRef):
        return s.args[0]
    return None


def _sliceable(ref: ir.ArrayRef, var: str, written: set[str]) -> bool:
    """``x(.., var, ..)``: one subscript is the loop index, the others do not change in the
    loop; a plain variable (no component path)."""
    if "%" in ref.name or any(isinstance(e, ir.Range) for e in ref.subs):
        return False
    at = [k for k, e in enumerate(ref.subs) if e == ir.Name(var)]
    if len(at) != 1:
        return False
    others = [e for k, e in enumerate(ref.subs) if k != at[0]]
    return not any(_names(e) & written for e in others)


def _names(e: ir.Expr) -> set[str]:
    out: set[str] = set()
    for x in subexprs(e):
        if isinstance(x, ir.Name | ir.ArrayRef):
            out.add(var_of(x.name))
        elif isinstance(x, ir.OpaqueExpr):
            out.update(x.names)
    return out


def _mentions(stmts: Stmts, name: str) -> bool:
    for s in walk_stmts(tuple(stmts)):
        if isinstance(s, ir.Opaque) and name in (*s.reads, *s.writes):
            return True
        if any(name in _names(e) for e in stmt_exprs(s)):
            return True
    return False


def _only_element(t: Reverse, body: tuple[ir.Stmt, ...], ref: ir.ArrayRef) -> bool:
    """Every reference to ``ref``'s variable in the primal loop body is ``ref`` itself, and
    none is an argument of a procedure (which could reach the rest of the array)."""
    name = ref.name
    for s in walk_stmts(body):
        if isinstance(s, ir.Opaque) and name in (*s.reads, *s.writes):
            return False
        if isinstance(s, ir.CallStmt) and any(name in _names(a) for a in s.args):
            return False
        for e in stmt_exprs(s):
            if not _same_refs(t, e, ref):
                return False
    return True


def _same_refs(t: Reverse, e: ir.Expr, ref: ir.ArrayRef) -> bool:
    if isinstance(e, ir.ArrayRef) and e == ref:
        return True
    if isinstance(e, ir.Name | ir.ArrayRef) and var_of(e.name) == ref.name:
        return False
    if isinstance(e, ir.OpaqueExpr) and ref.name in e.names:
        return False
    if isinstance(e, ir.Call) and t.program.get(e.name) and ref.name in _names(e):
        return False
    from fortran_ad.ir.walk import children

    return all(_same_refs(t, c, ref) for c in children(e))


def _slice(ref: ir.ArrayRef, var: str, bounds: tuple) -> ir.ArrayRef:
    start, stop, step = bounds
    span = ir.Range(start, stop, step)
    return ir.ArrayRef(ref.name, tuple(span if e == ir.Name(var) else e for e in ref.subs))


def common_record(s: ir.If, arms: list, else_arm: tuple) -> tuple[ir.Expr | None, list, tuple]:
    """A record every arm of the IF ``s`` makes first (``if (c) then; push(x); x = 0; else;
    push(x); x = r``): (``x``, the arms without that push and their first pop). The IF then
    records ``x`` once before it and restores it once before its backward arms, so the
    record is unconditional and the loop around can move it out (slices or buffers). Not
    when the condition reads ``x`` (the backward IF re-evaluates it after the restore)."""
    if s.else_body is None:
        return None, arms, else_arm
    every = [*arms, else_arm]
    firsts = {_recorded(f[0], "fad_push") if f else None for f, _ in every}
    x = firsts.pop() if len(firsts) == 1 else None
    if x is None or any(var_of(x.name) in _names(c) for c, _ in s.branches):
        return None, arms, else_arm
    pops = [next((y for y in b if not isinstance(y, ir.Comment)), None) for _, b in every]
    if any(y is None or _recorded(y, "fad_pop") != x for y in pops):
        return None, arms, else_arm
    out = [(f[1:], [y for y in b if y is not p]) for (f, b), p in zip(every, pops, strict=True)]
    return x, out[:-1], out[-1]
