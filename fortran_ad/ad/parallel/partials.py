"""Per-thread partial arrays for indirect adjoint increments (rewrite ``omp_partials``).

The adjoint of a gather through an index array (``flux(e) = w(e)*x(left(e))``) increments the
derivative at indices other iterations may share (``xb(left(e)) += w(e)*fluxb(e)``). Without
this rewrite every such increment is an ``!$omp atomic`` update (ad/parallel/races.py), which
costs several plain adds on one thread already and serialises threads that hit one cache line.

Instead, when the loop only *increments* the derivative (no iteration reads or assigns it
otherwise), every increment goes to a partial array ``fad_partN`` shaped like the derivative,
listed in ``reduction(+:fad_partN)``: OpenMP gives each thread a zeroed private copy (heap
storage, as the array is allocatable) and adds the copies into the shared one at the end of
the loop; the derivative then gets the sum once, ``xb = xb + fad_partN``.

Legal because increments commute: the loop's net effect on the derivative is the sum of its
increments, whichever thread makes them and in whatever order; no iteration observes a partial
value, since the derivative is not read inside the loop. The sums associate differently from
the serial adjoint (rounding only), as with atomics. Cost: zeroing and adding one array per
thread per run of the loop, against one atomic per increment; inside another loop that is
paid at every outer iteration, so ``--parallelize-adjoint`` keeps such loops serial
(ad/parallel/auto.py).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ir import nodes as ir


def eligible(refs: list[tuple[ir.Stmt, ir.Expr, bool]]) -> bool:
    """Is the derivative only incremented in the loop (every reference an increment)?"""
    return bool(refs) and all(inc for _, _, inc in refs)


def buffer(t, primal: str) -> str:
    """A new allocatable partial array of the type and rank of ``primal``'s derivative."""
    sym = t.lookup(primal)
    dims = tuple(ir.Dim("deferred") for _ in range(sym.rank if sym is not None else 1))
    return t.temp("part", t.type_of(ir.Name(primal)), dims, frozenset({"allocatable"}))


def redirect(s: ir.Assign, buf: str) -> ir.Assign:
    """``d(i) = d(i) + v`` -> ``buf(i) = buf(i) + v``."""
    target = s.target
    new = ir.ArrayRef(buf, target.subs) if isinstance(target, ir.ArrayRef) else ir.Name(buf)
    return replace(s, target=new, value=replace(s.value, left=new))


def around(t, partials: dict[str, tuple[str, str]]) -> tuple[list[ir.Stmt], list[ir.Stmt]]:
    """Statements before the adjoint loop (allocate once per call, zero) and after it (add
    the partial sums to the derivatives), for ``partials`` (derivative -> (buffer, primal))."""
    before: list[ir.Stmt] = []
    after: list[ir.Stmt] = []
    for name, (buf, primal) in sorted(partials.items()):
        t.deferred.append(ir.Opaque(f"if (allocated({buf})) deallocate({buf})"))
        before.append(ir.Opaque(f"if (.not. allocated({buf})) allocate({buf}, mold={name})"))
        before.append(ir.Assign(ir.Name(buf), t.zero(ir.Name(primal))))
        after.append(ir.Assign(ir.Name(name), ir.BinOp("+", ir.Name(name), ir.Name(buf))))
    return before, after
