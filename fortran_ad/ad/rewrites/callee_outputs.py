"""Which primal outputs an adjoint copies aside at the end of its forward sweep and puts back
after its backward sweep (``fad_final<k>``), so that it leaves them as the primal would.

The backward sweep changes dummies: it pops needed ones to earlier values, and the adjoints of
the calls in it re-run their callees. Only a caller that reads the outputs *after* the adjoint
needs their final values back:

* the head: its interface promises the primal outputs (the user, the checker and the
  benchmarks read them), so it always copies;
* a routine whose adjoint another adjoint calls (a JOINT call in the caller's backward sweep,
  ad/core/adjoint.py ``Reverse.call``): no copy (rewrite ``callee_outputs``). Why this is legal: the
  caller's invariant (ad/core/adjoint.py) asks that, once the adjoint of the call has run, every
  variable the adjoints of the earlier statements read hold its value from *before* the call, never
  the call's outputs. Such a variable is needed by the caller (ad/core/needed.py), so the caller
  pushes the written actual before the adjoint call and pops it right after (``restore`` in
  ``Reverse.call``), overwriting whatever the callee's adjoint left there; an actual nobody reads
  afterwards may hold anything. The copy was therefore overwritten or dead; the split ``<name>_bwd``
  of ad/checkpointing/split_calls.py never had it for the same reason.

SAVE and DATA locals (analysis/persistent.py) are always copied: the derivative routine owns
its copy of them, which only its own later calls read, and they must find the state a call of
the primal leaves (a table filled on the first call with ``first`` set to false must not come
back as the table from before the fill).

Kept in callees (conservatively) for functions (their actuals are not snapshotted by the
caller: ``Reverse._function_adjoint``) and for allocatable or pointer dummies and dummies an
ALLOCATE/DEALLOCATE statement changes (their allocation status, which the restore of the
caller handles only for the actuals it snapshots). In a loop of the caller, each skipped copy
saves an allocation, two full copies and a deallocation per call (a whole derived-type array
with allocatable components is a deep copy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ad import rewrites
from fortran_ad.analysis.persistent import persistent_locals
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse


def saved_outputs(t: Reverse, head: str) -> list[tuple[str, str]]:
    """(dummy, copy) for the dummies whose final values the adjoint puts back: those the
    backward sweep changes (popped to earlier values, or recomputed by a callee's adjoint),
    at the head; in other routines only where the caller could not restore them (above)."""
    r = t.routine
    written = t.writes(r.body)
    touched = set(t.needed) | t.rerun_writes  # parallel adjoint loops re-run their bodies
    for s in walk_stmts(r.body):
        if isinstance(s, ir.CallStmt) and t._is_active_call(s):
            touched |= {base_name(a) for a in t.written_by_call(s)}
    callee = r.name != head and r.kind == "subroutine" and rewrites.on(t, "callee_outputs")
    reallocated = _reallocated(r) if callee else set()
    out = []
    kept = persistent_locals(r)  # the derivative's own copy: no caller can restore it
    for a in list(r.args) + ([r.result] if r.kind == "function" else []) + sorted(kept):
        sym = r.symbol(a)
        if sym is None or a not in written or a not in touched or sym.intent == "in":
            continue
        if any(d.kind == "assumed_size" for d in sym.dims):
            continue
        if a in kept:
            pass
        elif callee and not (sym.attrs & {"allocatable", "pointer"}) and a not in reallocated:
            rewrites.fired("callee_outputs")
            continue
        dims = tuple(ir.Dim("deferred") for _ in sym.dims)
        attrs = frozenset({"allocatable"}) if dims else frozenset()
        copy = t.temp("final", sym.type, dims, attrs)
        out.append((a, copy))
    return out


def _reallocated(r: ir.Routine) -> set[str]:
    """Variables (components' bases included) an ALLOCATE or DEALLOCATE statement writes."""
    out: set[str] = set()
    for x in walk_stmts(r.body):
        if isinstance(x, ir.Opaque) and x.text.strip().lower().startswith(("allocate", "dealloc")):
            out |= {w.split("%", 1)[0] for w in x.writes}
    return out


__all__ = ["saved_outputs"]
