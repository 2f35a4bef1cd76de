"""The optional loop-level rewrites of the adjoint, in one registry, each with its own switch.

Every rewrite below turns the plain adjoint (per-iteration tape records, backward loops one
statement at a time) into faster code that computes the same derivatives up to the rounding
of sums taken in another order. Each states its precondition: what it assumes of the code it
rewrites and why the result then equals the plain adjoint; the module named holds the full
argument and the check. ``--no-loop-rewrites`` turns off all but those that are not loop
rewrites (common_record, first_writes, callee_outputs); ``--rewrites=-simd,-gather``
(``Options.rewrites``, ``api.check(rewrites=...)``) turns single ones off (``+name`` on) to
bisect a disagreement between the adjoint with all rewrites and the plain one
(fortran_ad/checks/fuzzgen/differential.py does that).

``FIRED`` counts, per rewrite, the loops or statements it changed in this process (the fuzz
script's coverage report).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, names_in, stmt_exprs, walk_stmts


@dataclass(frozen=True)
class Rewrite:
    name: str
    module: str
    precondition: str
    loop: bool = True  # --no-loop-rewrites turns it off (the others: --rewrites=-name, none)


REWRITES: tuple[Rewrite, ...] = (
    Rewrite(
        "block_tape",
        "ad/rewrites/block_tape.py",
        "Records of an innermost loop move out of it (slices, once, buffers). Assumes a "
        "sliced element is the only one of its array the iteration touches and nothing writes "
        "it before its record (the slice then holds the values the per-iteration pushes would); "
        "a 'once' element's intermediate values are read by no adjoint statement of the loop "
        "(other references provably differ, ad/rewrites/distinct.py); buffers replace "
        "unconditional records of a step +-1 loop, the block pushed after the conditional "
        "records inside so the tape stays last-in first-out.",
    ),
    Rewrite(
        "common_record",
        "ad/rewrites/block_tape.py",
        "A record every arm of an IF/ELSE makes first is made once before the IF. Assumes the "
        "condition does not read the recorded variable (the backward IF re-evaluates it after "
        "the restore, with the same value) and every arm's backward part starts with its pop.",
        loop=False,
    ),
    Rewrite(
        "callee_outputs",
        "ad/rewrites/callee_outputs.py",
        "The adjoint of a routine other than the head does not copy its outputs aside and back "
        "(fad_final). Assumes it is called only from another adjoint's backward sweep, whose "
        "invariant wants the values from before the call afterwards: the caller pops every "
        "written actual it reads later, the others are dead. Not for functions, allocatable "
        "or pointer dummies, or dummies ALLOCATE/DEALLOCATE change.",
        loop=False,
    ),
    Rewrite(
        "recompute",
        "ad/rewrites/recompute.py",
        "Private scalars of a loop re-run at the top of each backward iteration instead of "
        "recorded. Assumes each is assigned once per iteration, before any mention, from values "
        "unchanged between the loop's forward run and its reversal (or recomputed before it): "
        "the re-run gives the forward iteration's value; one push/pop around the loop keeps the "
        "value from before it (also around a loop with no adjoint statements).",
    ),
    Rewrite(
        "first_writes",
        "ad/rewrites/first_writes.py",
        "An assignment defining an element of a local array no earlier statement wrote is not "
        "recorded. Assumes the element's old value is undefined (local, unsaved, uninitialised, "
        "written only by plain element assignments whose regions provably do not overlap): no "
        "correct program reads it, so restoring it is moot.",
        loop=False,
    ),
    Rewrite(
        "block_local",
        "ad/rewrites/block_local.py",
        "The first increment of the adjoint of a block-local scalar in a backward iteration "
        "becomes a definition. Assumes every read of the scalar is fed by a plain definition "
        "in its own statement list: its adjoint is then zero whenever an iteration starts.",
    ),
    Rewrite(
        "distinct",
        "ad/rewrites/distinct.py",
        "Reads of loop-invariant elements move before a backward loop. Assumes the loop's "
        "writes provably differ from them (loop bounds bound the indices), so every iteration "
        "reads the value they had before the loop.",
    ),
    Rewrite(
        "simd",
        "ad/rewrites/simd.py",
        "A backward loop of plain assignments with independent iterations gets "
        "'!$omp simd reduction/lastprivate'. Assumes each written variable is a reduction "
        "(increments only, read by nothing else), an element of the iteration's own, or a "
        "scalar assigned before any read in every iteration (lastprivate: with the loop order "
        "kept, it ends with the value of the plain loop's last iteration).",
    ),
    Rewrite(
        "reduce",
        "ad/rewrites/reduce.py",
        "Loop-invariant factors leave the reductions of a simd loop; equal products share one "
        "sum. Assumes the factors mention neither the index nor anything the loop writes "
        "(distributivity; the sum is rounded differently).",
    ),
    Rewrite(
        "forwards",
        "ad/rewrites/forwards.py",
        "An independent backward loop (simd, or only commuting increments) runs forwards again. "
        "Assumes a unit step, and that each private scalar's last assignment reads only the index "
        "and variables the loop does not write: re-evaluated at the first iteration after the "
        "loop, it leaves the scalar as the plain backward loop does.",
    ),
    Rewrite(
        "fission",
        "ad/rewrites/fission.py",
        "A backward loop split into several, statements in order. Assumes any variable two "
        "groups both touch is only incremented by both, or is the same element of the index in "
        "both (dependences stay inside one iteration), and no scalar temporaries.",
    ),
    Rewrite(
        "gather",
        "ad/rewrites/gather.py",
        "Scatter-form stencil adjoints turned into gather form (one pass per target row). "
        "Assumes increments at index offsets and zeroings of the iteration's own element only, "
        "increments reading no array the loop writes but a zeroed one at the own element, no "
        "target read; short ranges keep the scatter loop at run time.",
    ),
    Rewrite(
        "omp_colour",
        "ad/parallel/colour.py",
        "A parallel adjoint loop whose increments at index offsets would go to per-offset "
        "buffers and gather loops runs its iterations in blocks of two colours instead (even "
        "blocks in parallel, then odd ones), increments in place. Assumes the iterations are "
        "independent but for those increments (they commute), which touch outer parallel "
        "subscripts within W of the iteration's own; blocks hold at least W iterations, so "
        "concurrent iterations are more than W apart. Not with atomics or non-rectangular nests.",
    ),
    Rewrite(
        "omp_partials",
        "ad/parallel/partials.py",
        "Indirect increments of a derivative in a parallel adjoint loop go to a per-thread "
        "partial array (reduction(+:...)) added to the derivative after the loop, instead of "
        "!$omp atomic updates. Assumes the loop only increments that derivative (no iteration "
        "reads or assigns it otherwise), so increments commute and no partial value is seen.",
    ),
    Rewrite(
        "concurrent_forward",
        "ad/parallel/loops.py",
        "The forward sweep runs a DO CONCURRENT loop as an OpenMP parallel loop (its adjoint "
        "already is one). Assumes the standard's DO CONCURRENT rules: no iteration reads what "
        "another defines, so iterations run at once with the scalars they assign private; "
        "kept as written when a scalar accumulates across iterations.",
    ),
    Rewrite(
        "gather_nest",
        "ad/rewrites/gather_nest.py",
        "Gather form across two loops. Assumes gather's conditions for both indices, targets "
        "naming both, and ranges at least as long as the offsets' spread (else gather's form).",
    ),
    Rewrite(
        "handoff",
        "ad/rewrites/handoff.py",
        "Consecutive gathered loops: the first leaves its zeroing to the second, which sets "
        "instead of increments. Assumes same ranges and run-time condition, statements between "
        "not mentioning the array, and the zeroed elements exactly the second loop's targets.",
    ),
    Rewrite(
        "column_updates",
        "ad/rewrites/column_updates.py",
        "Column loops of rank-1 updates of one matrix merged into the first. Assumes same bounds "
        "and column designator and no statement between writes what the later loop reads or "
        "touches the matrix (increments commute).",
    ),
    Rewrite(
        "count_up",
        "ad/rewrites/simd.py",
        "A descending loop around a simd loop whose bounds use its index counted upwards with "
        "the index computed (j = top - r). Assumes a step of -1: r = lo..hi gives j = hi..lo, "
        "the same iterations in the same order (afterwards j is lo, not lo - 1: a backward "
        "loop's index is not read after it, a kept index is restored from the tape).",
    ),
)

NAMES: tuple[str, ...] = tuple(r.name for r in REWRITES)
FIRED: Counter[str] = Counter()


def enabled(loop_rewrites: bool = True, spec: str = "") -> frozenset[str]:
    """The rewrites on: all (without ``loop_rewrites``: those not of loops, common_record and
    first_writes), then ``spec``'s changes in order, comma separated: ``-name`` off,
    ``+name`` or ``name`` on, ``all``/``none`` (none: the plain adjoint)."""
    on = set(NAMES) if loop_rewrites else {r.name for r in REWRITES if not r.loop}
    for item in (x.strip().lower() for x in spec.split(",")):
        if not item:
            continue
        if item in ("all", "none"):
            on = set(NAMES) if item == "all" else set()
            continue
        name = item.lstrip("+-")
        if name not in NAMES:
            raise FortranADError(
                None, f"unknown rewrite '{name}' in --rewrites", f"one of {', '.join(NAMES)}"
            )
        (on.discard if item.startswith("-") else on.add)(name)
    return frozenset(on)


def on(t: object, name: str) -> bool:
    """Whether rewrite ``name`` is on for the transform ``t`` (all are without options; none
    in a routine where a pointer stays a second name for part of another variable)."""
    assert name in NAMES, name
    if _aliased(t):
        return False
    opts = getattr(t, "omp_options", None)
    if opts is None:
        return True
    key = (getattr(opts, "loop_rewrites", True), getattr(opts, "rewrites", ""))
    cache = _CACHE.get(key)
    if cache is None:
        cache = _CACHE[key] = enabled(*key)
    return name in cache


def fired(name: str, changed: bool = True) -> bool:
    """Count one use of rewrite ``name`` when ``changed``; returns ``changed``."""
    if changed:
        FIRED[name] += 1
    return changed


def tracked(name: str, before: list, after: list) -> list:
    """``after``, counting a use of ``name`` when it differs from ``before`` (by identity)."""
    same = len(before) == len(after) and all(a is b for a, b in zip(before, after, strict=True))
    fired(name, not same)
    return after


_CACHE: dict[tuple[bool, str], frozenset[str]] = {}


def _aliased(t: object) -> bool:
    """Does ``t``'s routine reference a pointer associated with (part of) another variable
    after the association? normalize/pointers.py replaces a pointer to one whole variable by
    that variable; a pointer to a section (``p => w(2:n)``) stays, a second name for the same
    storage. The rewrites' conditions compare names (what a loop writes, what its iterations
    read), so they would take ``p(i)`` and ``w(i + 1)`` for distinct storage: a block tape
    restored ``w`` through ``p`` before the loop's adjoint read ``w`` (silently wrong). The
    plain adjoint makes a pointer and its target needed together (ad/constructs/pointers.py)."""
    routine = getattr(t, "routine", None)
    if routine is None:
        return False
    memo = t.__dict__.setdefault("_fad_aliased", {})
    if routine.name not in memo:
        stmts = list(walk_stmts(routine.body))
        pointers = {
            base_name(s.target)
            for s in stmts
            if isinstance(s, ir.PointerAssign)
            and not (isinstance(s.value, ir.Call) and s.value.name == "null")
        }
        used: set[str] = set()
        for s in stmts:
            if not isinstance(s, ir.PointerAssign):
                for e in stmt_exprs(s):
                    used |= names_in(e)
        memo[routine.name] = bool(pointers & used)
    return memo[routine.name]
