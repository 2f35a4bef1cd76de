"""The mechanism of SPLIT call sites (the decision is checkpoint/ilp.py's; JOINT is the default
mechanism of ad/core/adjoint.py's ``call``).

A split call runs ``<name>_fwd`` in the caller's forward sweep: the callee's forward sweep,
whose tape stays on the shared tape, then a push of the final values of the locals its backward
sweep reads. The caller's backward sweep calls ``<name>_bwd``: pop those locals, run the
callee's backward sweep. Why this is right: when the adjoint of the call runs, the caller's
invariant gives every variable the callee's backward sweep reads its value just after the call
(the callee's needed dummies are actuals of dummies that are not intent(out), which the caller
keeps: ``NeededAnalysis._call_reads``); the callee's backward sweep pops every needed dummy it
overwrote, so afterwards those hold their values before the call. Written actuals the callee
does not restore (not needed by it, or overwritten without a save) are pushed by the caller
before ``<name>_fwd`` and popped after ``<name>_bwd``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from fortran_ad.ad.checkpointing import loop_checkpoint as lc
from fortran_ad.checkpoint import costs
from fortran_ad.checkpoint.calls import CallSite
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import type_name
from fortran_ad.ir.walk import base_name, bodies, exprs_of_body, names_in, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

PUSHABLE = ("real", "double precision", "integer", "logical")


def fwd_name(name: str) -> str:
    return f"{name}_fwd"


def bwd_name(name: str) -> str:
    return f"{name}_bwd"


@dataclass(frozen=True)
class SplitInfo:
    """What a caller needs to know to split calls of one routine."""

    why_joint: str  # non-empty: calls of this routine stay joint, and why
    restored: frozenset[str] = frozenset()  # dummies its backward sweep returns to entry values
    finals: tuple[str, ...] = ()  # locals whose final values its backward sweep reads
    final_bytes: float = 0.0


def site_key(t: Reverse, s: ir.CallStmt) -> str:
    keys = t.__dict__.get("_site_keys")
    if keys is None:
        keys, seen = {}, {}
        for x in walk_stmts(t.routine.body):
            if isinstance(x, ir.CallStmt):
                base = f"{t.routine.name}:{x.loc.line}:{x.name}"
                seen[base] = seen.get(base, 0) + 1
                keys[id(x)] = base if seen[base] == 1 else f"{base}#{seen[base]}"
        t.__dict__["_site_keys"] = keys
    return keys.get(id(s), f"{t.routine.name}:{s.loc.line}:{s.name}")


def reverse(t: Reverse, s: ir.CallStmt, callee: ir.Routine, snap: list[ir.Expr]):
    """The hook in ``Reverse.call`` for an active call of a routine with source: record the
    site (the planner's candidates), and return the split sweeps when the plan splits it
    (None: the caller builds the joint ones)."""
    from fortran_ad.ad.core.tape_ops import pop, push

    key = site_key(t, s)
    why = "inside an OpenMP loop" if t.omp_depth else ""
    t.__dict__.setdefault("call_sites", []).append((key, s, tuple(snap), why))
    if why or key not in getattr(t, "split_sites", ()):
        return None
    info = getattr(t, "split_infos", {}).get(s.name)
    if info is None or info.why_joint:
        return None
    saved = caller_snapshot(t, s, callee, info, snap)
    fwd = [*map(push, saved), ir.CallStmt(fwd_name(s.name), s.args, loc=s.loc)]
    args, pre, post = t._unalias(t.derivative_args(callee, s.args, s.loc), s.loc)
    adj = ir.CallStmt(bwd_name(s.name), args, loc=s.loc)
    bwd = [t._note(s, "adjoint (split) of"), *pre, adj, *post, *(pop(a) for a in reversed(saved))]
    return fwd, bwd


def caller_snapshot(t: Reverse, s: ir.CallStmt, callee: ir.Routine, info: SplitInfo, snap):
    """The joint snapshot minus the actuals of dummies the callee restores itself."""
    from fortran_ad.ir.program import dummy_map

    restored = []
    for d, a in dummy_map(s.args, callee).items():
        if d in info.restored and base_name(a) is not None:
            element = isinstance(a, ir.ArrayRef) and not any(
                isinstance(x, ir.Range) for x in a.subs
            )
            sym = callee.symbol(d)
            restored.append(ir.Name(a.name) if element and sym is not None and sym.rank else a)
    whole = {x.name for x in restored if isinstance(x, ir.Name) and "%" not in x.name}
    return [e for e in snap if e not in restored and not _part_of(e, whole)]


def _part_of(e: ir.Expr, whole: set[str]) -> bool:
    """A component path (``s%h``: the caller saves the components a callee changes) of a
    whole object the callee restores itself."""
    name = getattr(e, "name", "")
    return "%" in name and name.split("%", 1)[0] in whole


def split_info(t: Reverse, fwd: list[ir.Stmt], plan) -> SplitInfo:
    """Can calls of ``t``'s routine be split, and what do they restore and keep?"""
    why = _why_joint(t, fwd, plan)
    if why:
        return SplitInfo(why)
    r = t.routine
    unsaved = getattr(t, "unsaved", set()) | t.first_defs
    clobbered = {base_name(x.target) for x in walk_stmts(r.body) if isinstance(x, ir.Assign)
                 and id(x) in unsaved}  # fmt: skip
    clobbered |= {x.var for x in walk_stmts(r.body) if isinstance(x, ir.Do)}
    restored = frozenset(a for a in r.args if a in t.needed and a not in clobbered)
    finals = tuple(sorted(_finals(t)))
    size = sum(
        costs.ref_bytes(ir.Name(n), lc.lookup(t), t.sizes, t.info.scope.types) for n in finals
    )
    return SplitInfo("", restored, finals, float(size))


def _finals(t: Reverse) -> set[str]:
    r = t.routine
    return {
        sym.name
        for sym in r.symbols
        if sym.name in t.needed
        and sym.name not in r.args
        and sym.name != r.result
        and "parameter" not in sym.attrs
    }


def _why_joint(t: Reverse, fwd: list[ir.Stmt], plan) -> str:
    r = t.routine
    if t.mode != "reverse":
        return "vector mode"
    if plan.options.backend != "fortran" or getattr(plan.options, "calls", "auto") == "joint":
        return "SDFG back end" if plan.options.backend != "fortran" else "--calls joint"
    if r.name == plan.head or r.kind != "subroutine":
        return "head" if r.name == plan.head else "function"
    if r.contains:
        return "internal procedures"  # they would be emitted three times
    for item in r.spec:  # INTENT statements cannot be rewritten for <name>_bwd
        if isinstance(item, ir.AttrStmt) and item.attr.startswith("intent"):
            return "INTENT statement"
    for sym in r.symbols:
        if any(a.startswith("common") for a in sym.attrs):
            return "COMMON"  # global storage the tape does not cover
        dummy = sym.name in r.args
        if dummy and sym.attrs & {"allocatable", "pointer"}:
            return f"allocatable/pointer dummy '{sym.name}'"
        if sym.name not in t.needed:
            continue
        if dummy and sym.intent == "out":  # the caller does not keep intent(out) actuals
            return f"reads its intent(out) argument '{sym.name}' backwards"
        if not dummy and not _pushable(sym):
            return f"local '{sym.name}' cannot go on the tape"
    for x in walk_stmts(r.body):
        if isinstance(x, ir.PointerAssign):
            return "pointer assignment"
        if isinstance(x, ir.Opaque) and x.text.strip().lower().startswith(("allocate", "dealloc")):
            return "ALLOCATE"  # the forward sweep's allocations die at return
        if isinstance(x, ir.CallStmt) and t.program.get(x.name) is None:
            from fortran_ad.ad.constructs import mpi

            if mpi.is_mpi(x.name):
                return "MPI"
        if isinstance(x, ir.Do):
            from fortran_ad.ad.parallel import loops as parallel

            if parallel.wants(t, x):
                return "OpenMP loop"
    derivs = set(t.namer.derivs.values())
    used = set().union(*(names_in(e) for e in exprs_of_body(tuple(fwd))), set())
    if used & derivs:  # e.g. derivative allocations: <name>_fwd has no derivative arguments
        return "forward sweep touches derivatives"
    return ""


def _pushable(sym: ir.Symbol) -> bool:
    if sym.type is None or type_name(sym) is not None or sym.rank > 5:
        return False
    if sym.attrs & {"allocatable", "pointer", "save", "target"} or sym.init is not None:
        return False
    return sym.type.base in PUSHABLE


# -- planning -----------------------------------------------------------------------------------


def candidates(plan, transforms: dict, callee_cost) -> tuple[list[CallSite], dict[str, float]]:
    """Call-site candidates of every reversed routine and the tape each routine records outside
    its loop candidates. ``transforms``: routine -> (dry Reverse, forward sweep), store-all."""
    infos = {n: split_info(t, fwd, plan) for n, (t, fwd, _) in transforms.items()}
    plan.split_infos = infos
    raw, bases = [], {}
    for name, (t, fwd, _) in transforms.items():
        loops = {c.key: c for c in t.candidates}
        tape = costs.tape_bytes(fwd, lc.lookup(t), t.sizes)
        bases[name] = max(0.0, tape - sum(c.trips * c.tape_per_iter for c in loops.values()))
        where = _positions(t, set(loops))
        sites = t.__dict__.get("call_sites", [])
        after = _after(t, fwd, {id(s): (k, len(snap)) for k, s, snap, _ in sites}, set(loops))
        for key, s, snap, why in sites:
            if s.name not in transforms:
                continue
            loop, mult = where.get(id(s), (None, 1.0))
            per = loops[loop].trips * mult if loop else mult
            info = infos[s.name]
            callee = t.program.get(s.name).routine
            saved = caller_snapshot(t, s, callee, info, list(snap)) if not info.why_joint else []
            js = sum(costs.ref_bytes(e, lc.lookup(t), t.sizes, t.info.scope.types) for e in snap)
            ss = sum(costs.ref_bytes(e, lc.lookup(t), t.sizes, t.info.scope.types) for e in saved)
            file = s.loc.file.rsplit("/", 1)[-1]
            pushes = len(info.finals) + len(saved) - len(snap)
            site = CallSite(key, name, s.name, f"{file}:{s.loc.line}", loop, mult, per, js,
                            info.final_bytes + ss - js, callee_cost(s.name),
                            why or info.why_joint, *after.get(id(s), (0.0, (), ())),
                            extra_pushes=float(pushes))  # fmt: skip
            raw.append(site)
    return _with_execs(raw, plan.head), bases


def invocations(sites: list[CallSite], head: str) -> dict[str, float]:
    """Calls of each routine per run of the head (its primal executions)."""
    out = {head: 1.0}
    for c in sites:
        out[c.callee] = out.get(c.callee, 0.0) + c.execs
    return out


def _with_execs(sites: list[CallSite], head: str) -> list[CallSite]:
    """``execs`` so far counts executions per call of the caller: scale by the caller's calls
    per run of the head."""
    memo: dict[str, float] = {head: 1.0}

    def calls(r: str, path: tuple[str, ...] = ()) -> float:
        if r not in memo:
            memo[r] = (
                0.0
                if r in path
                else sum(calls(c.routine, (*path, r)) * c.execs for c in sites if c.callee == r)
            )
        return memo[r]

    return [replace(c, execs=calls(c.routine) * c.execs) for c in sites]


def _positions(t: Reverse, loop_keys: set[str]) -> dict[int, tuple[str | None, float]]:
    """Each call statement's enclosing loop candidate and how often it runs per iteration of
    that loop (per call of the routine when it is in none)."""
    out: dict[int, tuple[str | None, float]] = {}

    def visit(body, env, loop: str | None, mult: float) -> None:
        for s in body:
            if isinstance(s, ir.CallStmt):
                out[id(s)] = (loop, mult)
            elif isinstance(s, ir.Do | ir.DoWhile):
                do = isinstance(s, ir.Do)
                inner = costs.inside(s, env) if do else env
                if loop is None and lc.loop_key(t, s) in loop_keys:
                    visit(s.body, inner, lc.loop_key(t, s), 1.0)
                else:
                    n = costs.mean_trips(s, env) if do else costs.while_trips(s, env)
                    visit(s.body, inner, loop, mult * n)
            else:
                for b in bodies(s):
                    visit(b, env, loop, mult)

    visit(t.routine.body, costs.as_env(t.sizes), None, 1.0)
    return out


def _after(t: Reverse, fwd, sites: dict[int, tuple[str, int]], loop_keys: set[str]) -> dict:
    """Per call statement: what the forward sweep pushes after it and the backward sweep pops
    before the call's adjoint runs: bytes of plain pushes, and the loop candidates and call
    sites at the routine's top level (their tape depends on the plan: the model adds it)."""
    env0 = costs.as_env(t.sizes, lc.lookup(t))
    snaps = {k: v[1] for k, v in sites.items()}
    out: dict[int, tuple[float, tuple[str, ...], tuple[str, ...]]] = {}

    def plain(stmts, env, top: bool) -> float:
        skip = _snapshot_pushes(stmts, snaps)
        total = 0.0
        for s in stmts:
            if id(s) in skip:
                continue
            if isinstance(s, ir.CallStmt) and s.name == "fad_push":
                total += costs.ref_bytes(s.args[0], lc.lookup(t), env)
            elif isinstance(s, ir.Do | ir.DoWhile):
                if top and lc.loop_key(t, s) in loop_keys:
                    continue
                do = isinstance(s, ir.Do)
                n = costs.mean_trips(s, env) if do else costs.while_trips(s, env)
                total += n * plain(s.body, costs.inside(s, env) if do else env, False)
            else:
                total += max((plain(b, env, False) for b in bodies(s)), default=0.0)
        return total

    def visit(stmts, env, suffix: float, top: tuple | None) -> None:
        for k, s in enumerate(stmts):
            rest = plain(stmts[k + 1 :], env, top is None) + suffix
            later = top if top is not None else _later(t, stmts[k + 1 :], sites, loop_keys)
            if isinstance(s, ir.CallStmt) and id(s) in sites:
                out[id(s)] = (rest, *later)
            inner = costs.inside(s, env) if isinstance(s, ir.Do) else env
            for b in bodies(s):
                visit(list(b), inner, rest, later)

    visit(list(fwd), env0, 0.0, None)
    return out


def _later(t: Reverse, stmts, sites, loop_keys) -> tuple[tuple[str, ...], tuple[str, ...]]:
    loops = tuple(
        lc.loop_key(t, s)
        for s in stmts
        if isinstance(s, ir.Do | ir.DoWhile) and lc.loop_key(t, s) in loop_keys
    )
    calls = tuple(sites[id(s)][0] for s in stmts if isinstance(s, ir.CallStmt) and id(s) in sites)
    return loops, calls


def _snapshot_pushes(stmts, snaps: dict[int, int]) -> set[int]:
    out: set[int] = set()
    for k, s in enumerate(stmts):
        if isinstance(s, ir.CallStmt) and id(s) in snaps:
            out |= {id(x) for x in stmts[max(0, k - snaps[id(s)]) : k]}
    return out


# -- emission -----------------------------------------------------------------------------------


def units(t: Reverse, fwd: list[ir.Stmt], bwd_body: list[ir.Stmt], info: SplitInfo):
    """``<name>_fwd`` and ``<name>_bwd`` as (name, dummies, spec, declarations, body); the
    declarations are a function (temporaries may still appear while the body is finished)."""
    from fortran_ad.ad.core.tape_ops import pop, push

    r = t.routine
    keep = [ir.Name(n) for n in info.finals]
    f_body = [*fwd, ir.Comment("! final values the backward sweep reads"), *map(push, keep)]
    b_body = [*(pop(e) for e in reversed(keep)), *bwd_body]
    spec = tuple(_inout(item) for item in r.spec)
    return [
        (fwd_name(r.name), list(r.args), r.spec, lambda: primal_declarations(t), f_body),
        (bwd_name(r.name), t.signature(), spec, t.declarations, b_body),
    ]


def primal_declarations(t: Reverse) -> list[str]:
    """What ``<name>_fwd`` declares beyond the primal specification: generated symbols and
    the transform's temporaries."""
    from fortran_ad.ad.core.common import decl

    own = [decl(s.name, s) for s in t.routine.symbols if "generated" in s.attrs]
    return own + [decl(s.name, s) for s in t.temps]


def _inout(item: ir.SpecItem) -> ir.SpecItem:
    """<name>_bwd receives the outputs as the forward sweep left them: intent(inout)."""
    if isinstance(item, ir.TypeDecl) and "intent(out)" in item.attrs:
        attrs = tuple("intent(inout)" if a == "intent(out)" else a for a in item.attrs)
        return replace(item, attrs=attrs)
    return item
