"""The mechanism of loop checkpointing (the decision is checkpoint/ilp.py's).

A loop checkpointed with period p runs as the primal in the forward sweep, pushing the loop's
state (every variable its body writes) at the start of each segment of p iterations. The
backward sweep visits the segments last to first: restore the segment's state, re-run its
iterations recording, then reverse them. Tape: ceil(N/p) states + p recorded iterations instead
of N recorded iterations; time: one more forward run of the loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.checkpoint import costs
from fortran_ad.checkpoint.ilp import Candidate
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import exprs_of_body, value_names, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ad.adjoint import Reverse

INT = ir.TypeSpec("integer")
ONE = ir.Literal("1", "integer")


def loop_key(t: Reverse, s: ir.Do) -> str:
    return f"{t.routine.name}:{s.loc.line}"


def eligible(t: Reverse, s: ir.Do) -> bool:
    """Outermost counted loops with unit step whose bounds the body leaves alone."""
    if s.step is not None and not (isinstance(s.step, ir.Literal) and s.step.text == "1"):
        return False
    bounds = value_names(s.start) | value_names(s.stop)
    return not (bounds & t.writes(s.body))


def state(t: Reverse, s: ir.Do) -> list[ir.Expr]:
    """What a segment re-run needs restored: every variable the body writes (not the index)."""
    out: list[ir.Expr] = []
    for name in sorted(n for n in t.writes(s.body) if n and n != s.var):
        sym = t.lookup(name)
        if sym is not None and "parameter" not in sym.attrs and sym.type is not None:
            out.append(ir.Name(name))
    seen = {e.name for e in out}  # type: ignore[attr-defined]
    for x in walk_stmts(s.body):  # module variables written by callees
        if isinstance(x, ir.CallStmt):
            for e in t.written_by_call(x):
                if isinstance(e, ir.Name) and e.name not in seen and e.name != s.var:
                    seen.add(e.name)
                    out.append(e)
    return out


def reads(s: ir.Do) -> set[str]:
    """Names the forward re-run reads (they must survive until the backward sweep)."""
    out: set[str] = set()
    for e in exprs_of_body(s.body):
        out |= value_names(e)
    out |= value_names(s.start) | value_names(s.stop)
    return out


def candidate(t: Reverse, s: ir.Do, f_body: list[ir.Stmt]) -> Candidate:
    sizes = t.sizes
    snapshot = sum(costs.ref_bytes(e, t.lookup, sizes) for e in state(t, s))
    return Candidate(
        key=loop_key(t, s),
        routine=t.routine.name,
        where=f"{s.loc.file.rsplit('/', 1)[-1]}:{s.loc.line}",
        trips=costs.trips(s, sizes),
        tape_per_iter=costs.tape_bytes(f_body, t.lookup, sizes),
        snapshot=float(snapshot),
        iter_cost=costs.flops(s.body, sizes, lambda name: costs.DEFAULT_TRIPS),
    )


def checkpointed(t: Reverse, s: ir.Do, f_body, b_body, period: int, keep_index: bool):
    """Forward and backward sweeps of ``s`` with a snapshot every ``period`` iterations."""
    from fortran_ad.ad.adjoint import pop, push

    saved = state(t, s)
    p = ir.Literal(str(period), "integer")
    var = ir.Name(s.var)
    at_segment_start = ir.BinOp(
        "==", ir.Call("mod", (ir.BinOp("-", var, _w(s.start)), p)), ir.Literal("0", "integer")
    )
    snap = ir.If(((at_segment_start, tuple(push(e) for e in saved)),), loc=s.loc)
    fwd = [
        *([push(var)] if keep_index else []),
        ir.Comment(f"! checkpointed loop: state saved every {period} iterations"),
        ir.Do(s.var, s.start, s.stop, None, (snap, *s.body), s.name, loc=s.loc, label=s.label),
    ]
    seg, nseg = ir.Name(t.temp("seg", INT)), ir.Name(t.temp("nseg", INT))
    first, last = ir.Name(t.temp("first", INT)), ir.Name(t.temp("last", INT))
    trip = ir.BinOp("+", ir.BinOp("-", s.stop, _w(s.start)), ONE)
    segment = (
        *(pop(e) for e in reversed(saved)),
        ir.Assign(first, ir.BinOp("+", s.start, ir.BinOp("*", seg, p))),
        ir.Assign(last, ir.Call("min", (ir.BinOp("-", ir.BinOp("+", first, p), ONE), s.stop))),
        ir.Do(s.var, first, last, None, tuple(_unlabelled(f_body)), loc=s.loc),
        ir.Do(s.var, last, first, ir.UnOp("-", ONE), tuple(b_body), loc=s.loc),
    )
    bwd = [
        t._note(s, "adjoint (checkpointed) of"),
        ir.Assign(nseg, ir.BinOp("/", ir.Paren(ir.BinOp("+", trip, ir.BinOp("-", p, ONE))), p)),
        ir.Do(
            seg.name,
            ir.BinOp("-", nseg, ONE),
            ir.Literal("0", "integer"),
            ir.UnOp("-", ONE),
            segment,
            loc=s.loc,
        ),
        *([pop(var)] if keep_index else []),
    ]
    return fwd, bwd


def _unlabelled(body) -> list[ir.Stmt]:
    """The re-run copy of a body: statement labels stay with the primal copy (no duplicates)."""
    from dataclasses import replace

    from fortran_ad.ir.walk import map_body

    def strip(s: ir.Stmt) -> list[ir.Stmt] | None:
        if s.label is None and getattr(s, "end_label", None) is None:
            return None
        new = replace(s, label=None)
        if hasattr(new, "end_label"):
            new = replace(new, end_label=None)
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
