"""Every generated call to a derivative routine resolves to a routine that is emitted.

A derivative routine is named after its primal (``naming.routine_name``: ``foo_b``, ``foo_d``,
...; split sweeps ``foo_fwd`` / ``foo_bwd``). The emitter notes each routine it writes and,
per written routine, the derivative routines its body calls; ``verify`` runs after all files
are written and refuses, with a located internal error naming caller and callee, a call to a
derivative routine nothing emitted (which would otherwise surface as "undefined reference to
foo_b" at link time, or an implicit external at compile time).
"""

from __future__ import annotations

from collections.abc import Iterable

from fortran_ad.ad.core import naming
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import exprs_of_body, subexprs, walk_stmts


def _state(plan) -> tuple[set[str], list[tuple[str, str, ir.SourceLoc]]]:
    emitted = plan.__dict__.setdefault("emitted_routines", set())
    calls = plan.__dict__.setdefault("derivative_calls", [])
    return emitted, calls


def emitted(plan) -> set[str]:
    """The derivative routines written so far (the set grows as the emitter writes)."""
    return _state(plan)[0]


def derivative_names(plan) -> dict[str, str]:
    """Derivative routine name -> its primal, for every routine of the program."""
    out: dict[str, str] = {}
    for p in plan.program.routines:
        out[naming.routine_name(p, plan.mode)] = p
        if naming.is_reverse(plan.mode):
            out[f"{p}_fwd"] = p
            out[f"{p}_bwd"] = p
    return out


def note(plan, name: str, body: Iterable[ir.Stmt], loc: ir.SourceLoc) -> None:
    """Routine ``name`` is written with ``body``."""
    emitted, calls = _state(plan)
    emitted.add(name)
    stmts = tuple(body)
    called = {s.name for s in walk_stmts(stmts) if isinstance(s, ir.CallStmt)}
    called |= {x.name for e in exprs_of_body(stmts) for x in subexprs(e) if isinstance(x, ir.Call)}
    calls.extend((name, c, loc) for c in sorted(called))


def verify(plan) -> None:
    """A located internal error for a call to a derivative routine that was not emitted."""
    emitted, calls = _state(plan)
    names = derivative_names(plan)
    for caller, callee, loc in calls:
        if callee in names and callee not in emitted and callee not in plan.program.routines:
            raise FortranADError(
                loc,
                f"internal error: generated {caller} calls {callee}, the derivative of "
                f"{names[callee]}, but no {callee} was generated",
                "the derivative code would not link; please report this input",
            )
