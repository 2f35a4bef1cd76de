"""Which loops ``--parallelize-adjoint`` runs on threads, and when.

The dependence analysis (analysis/dependence.py) proves that a loop's iterations are
independent; whether running its adjoint on threads pays is a question of cost. A parallel
adjoint loop forks and joins a thread team (microseconds: thousands of flops), may take a
snapshot of the shared arrays the loop writes (ad/parallel/loops.py) and re-runs each iteration. For
a loop the user did not mark, fortran-ad therefore keeps the serial reversal (which records
only the values the loop overwrites) when:

* the adjoint would run serially anyway (ad/parallel/races.py gives a reason): the re-run
  machinery without the threads only costs;
* the loop sits inside another loop and its adjoint needs a snapshot: the whole-array copy
  would run at every iteration of the outer loop (syrk at preset M: ``c``, 320 KB, for each of
  the 30 000 ``(j, k)`` pairs);
* its adjoint needs ``!$omp atomic`` updates: an atomic add costs several plain ones, on one
  thread too (lu's ``spd_from_factor``: 21 M atomics, 113 ms against 6 ms serial);
* it sits inside another loop and its adjoint scatters to neighbours (per-offset buffers and a
  gather loop): twice the memory passes of the serial adjoint at every outer iteration, which
  the IF clause cannot win back when it keeps the team off (jacobi_1d: 94 ms against 21 ms).
  A version of both adjoints behind the IF would keep them; that is not built yet.

A loop it does run on threads gets an OpenMP ``IF`` clause that runs the team only when the
nest does at least ``fad_omp_min_work`` innermost iterations (a variable of the fad_tape
runtime, 262144 by default, see runtime/gen_tape.py; ``fortran-ad check`` sets it to 0, so that
its runs put every such loop on threads). jacobi_1d's 12 000-point sweeps, 6 000 per call,
stay on one thread. Loops the user marked keep their directive as written.
"""

from __future__ import annotations

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import names_in, walk_stmts

MIN_WORK = "fad_omp_min_work"  # the run-time threshold (module fad_tape)


class Serial(Exception):  # noqa: N818 - a decision, not an error
    """Raised while reversing a loop ``--parallelize-adjoint`` picked that should stay serial
    (``give_up``); the routine's transform restarts with the loop (key) left out."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def give_up(
    t, s: ir.Do, snapshot: list[str], why: str | None, atomics: bool = False, buffers: bool = False
) -> bool:
    """Should the loop ``--parallelize-adjoint`` picked be reversed serially after all?"""
    if s.parallel is not None:
        return False  # the user's directive: its adjoint stays parallel where it can
    inner = t.depth > 0
    return why is not None or atomics or (inner and (bool(snapshot) or buffers))


def if_clause(t, s: ir.Do, loops: list[ir.Do]) -> tuple[str, ...]:
    """``("if(<innermost iterations> >= fad_omp_min_work)",)`` for a loop fortran-ad chose,
    () for the user's loops (their clauses are theirs)."""
    from fortran_ad.ir.printer import expr

    if s.parallel is not None:
        return ()
    varying = {lp.var for lp in loops} | {x.var for x in walk_stmts(s.body) if isinstance(x, ir.Do)}
    varying |= {n for n in t.writes(s.body) if n}
    work = _product([_trips(lp) for lp in loops])
    inner = _inner(loops[-1].body, varying)
    if inner is not None:
        work = ir.BinOp("*", work, inner)
    return (f"if({expr(work)} >= {MIN_WORK})",)


def guarded(stmts: list[ir.Stmt], clause: tuple[str, ...]) -> list[ir.Stmt]:
    """``stmts`` (the gather loops after a parallel adjoint loop) with ``clause`` on their
    OpenMP loops: they run on threads exactly when the loop did."""
    from dataclasses import replace

    out: list[ir.Stmt] = []
    for x in stmts:
        if clause and isinstance(x, ir.Do) and x.parallel is not None:
            x = replace(x, parallel=replace(x.parallel, other=(*x.parallel.other, *clause)))
        out.append(x)
    return out


def _trips(lp: ir.Do) -> ir.Expr:
    if lp.step is None and lp.start == ir.Literal("1", "integer"):
        return ir.Call("dble", (lp.stop,))
    span = ir.BinOp("-", lp.stop, lp.start)
    if lp.step is not None:
        span = ir.BinOp("/", ir.Paren(span), lp.step)
    return ir.Call("dble", (ir.BinOp("+", span, ir.Literal("1", "integer")),))


def _product(factors: list[ir.Expr]) -> ir.Expr:
    out = factors[0]
    for f in factors[1:]:
        out = ir.BinOp("*", out, f)
    return out


def _inner(body: tuple[ir.Stmt, ...], varying: set[str]) -> ir.Expr | None:
    """Innermost iterations of one run of ``body``: the sum over its loops with fixed bounds of
    their trips times their own bodies' (loops whose bounds vary count once); None for 1."""
    terms: list[ir.Expr] = []
    for x in body:
        if isinstance(x, ir.Do):
            bounds = [e for e in (x.start, x.stop, x.step) if e is not None]
            below = _inner(x.body, varying)
            if any(names_in(e) & varying for e in bounds):
                if below is not None:
                    terms.append(below)
                continue
            trips = _trips(x)
            terms.append(ir.BinOp("*", trips, below) if below is not None else trips)
        elif isinstance(x, ir.If):
            for _, b in x.branches:
                if (e := _inner(b, varying)) is not None:
                    terms.append(e)
            if x.else_body and (e := _inner(x.else_body, varying)) is not None:
                terms.append(e)
    if not terms:
        return None
    out = terms[0]
    for e in terms[1:]:
        out = ir.BinOp("+", out, e)
    return ir.Paren(out) if len(terms) > 1 else out
