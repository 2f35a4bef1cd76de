"""ALLOCATE/DEALLOCATE in reversed routines (ad/core/adjoint.py delegates here)."""

from __future__ import annotations

from fortran_ad.ad.core.tape_ops import INT, Sweep, lit, pop, push
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import bodies


def _allocatable(sym) -> bool:
    """Storage that ALLOCATE/DEALLOCATE create and free: an ALLOCATABLE, or a POINTER (an
    ALLOCATE gives it fresh storage like an allocatable's; its derivative pointer gets its
    own, and the DEALLOCATE frees both)."""
    return sym is not None and ("allocatable" in sym.attrs or "pointer" in sym.attrs)


def _local_allocatable(t, name: str) -> bool:
    r = t.routine
    sym = r.symbol(name)
    return _allocatable(sym) and name not in r.args and name != r.result and "save" not in sym.attrs


def _in_loops(body: tuple[ir.Stmt, ...], depth: int = 0) -> set[int]:
    """ids of the statements of ``body`` that run inside a DO / DO WHILE."""
    out: set[int] = set()
    for s in body:
        if depth:
            out.add(id(s))
        inner = depth + isinstance(s, ir.Do | ir.DoWhile)
        for b in bodies(s):
            out |= _in_loops(b, inner)
    return out


def _undone_dummies(t, s: ir.Opaque) -> set[str]:
    """Allocatable dummies (ALLOCATE/DEALLOCATE inside a loop) whose allocations the backward
    sweep undoes like a local's; the final state is copied at the end of the forward sweep and
    restored after the backward sweep (ad/rewrites/callee_outputs.py). A module variable
    allocated inside a loop is refused (no such snapshot for globals yet: #7)."""
    if getattr(t, "_alloc_in_loops", None) is None:
        t._alloc_in_loops = _in_loops(t.routine.body)
    if id(s) not in t._alloc_in_loops:
        return set()
    out: set[str] = set()
    for n in sorted(s.writes):
        sym = t.lookup(n)
        if sym is None or "allocatable" not in sym.attrs or _local_allocatable(t, n):
            continue
        if n in t.routine.args and sym.intent != "in" and "save" not in sym.attrs:
            out.add(n)
            t.rerun_writes.add(n)  # the backward sweep changes it: saved_outputs restores it
            continue
        if n in t.active or n in t.needed:
            raise FortranADError(
                s.loc,
                f"ALLOCATE/DEALLOCATE of module variable '{n}' inside a loop is not supported "
                "yet in reverse mode (local allocatables and dummies are)",
                "allocate a local work array in the loop, or allocate once outside it",
            )
    return out


def allocation(t, s: ir.Opaque, allocate: bool) -> Sweep:
    """ALLOCATE/DEALLOCATE in a reversed routine. Local allocatables: the backward sweep
    undoes an ALLOCATE (deallocates the array and its adjoint) and re-allocates what a
    DEALLOCATE freed (bounds and, if needed, values from the tape), so both work inside loops.
    Other allocatables keep their primal life; their adjoints are freed after the sweep."""
    undone = _undone_dummies(t, s)
    names = sorted(set(s.writes) & {sym.name for sym in t.routine.symbols})
    names = [n for n in names if _allocatable(t.lookup(n))]
    local = [n for n in names if _local_allocatable(t, n) or n in undone]
    active = [n for n in names if n in t.active]
    fwd: list[ir.Stmt] = []
    bwd: list[ir.Stmt] = []
    if allocate:
        fwd = [s]
        for n in active:
            fwd += [
                t.allocate_like(n),
                ir.Assign(ir.Name(t.namer.derivative(n)), t.zero(ir.Name(n))),
            ]
        for n in names:
            d = ir.Opaque(f"deallocate({t.namer.derivative(n)})")
            if n in local:
                bwd += ([d] if n in active else []) + [ir.Opaque(f"deallocate({n})")]
            elif n in active:
                t.deferred.append(d)
        return fwd, ([t._note(s), *bwd] if bwd else [])
    keep = [n for n in names if n not in local]
    if keep:
        t.deferred.append(ir.Opaque(f"deallocate({', '.join(keep)})"))
    for n in local:
        rank = t.lookup(n).rank
        bounds = []
        for k in range(1, rank + 1):
            for f in ("lbound", "ubound"):
                b = ir.Name(t.temp("bound", INT))
                fwd.append(push(ir.Call(f, (ir.Name(n), lit(k)))))
                bounds.append(b)
        if n in t.needed:
            fwd.append(push(ir.Name(n)))
        fwd.append(ir.Opaque(f"deallocate({n})"))
        shape = ", ".join(f"{bounds[2 * k].name}:{bounds[2 * k + 1].name}" for k in range(rank))
        back = [pop(b) for b in reversed(bounds)] + [ir.Opaque(f"allocate({n}({shape}))")]
        if n in t.needed:
            back.append(pop(ir.Name(n)))
        if n in active:
            d = t.namer.derivative(n)
            fwd.append(ir.Opaque(f"deallocate({d})"))
            back += [t.allocate_like(n), ir.Assign(ir.Name(d), t.zero(ir.Name(n)))]
        bwd = back + bwd
    return fwd, ([t._note(s), *bwd] if bwd else [])
