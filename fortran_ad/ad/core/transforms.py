"""The transforms of a program's routines and the checkpoint plan they obey.

``transform`` builds one routine's tangent or adjoint transform; ``swept`` runs a reverse one
(restarting it when a loop ``--parallelize-adjoint`` picked turns out not to pay on threads,
ad/parallel/auto.py); ``plan_checkpoints`` collects the checkpoint candidates of a dry
store-all sweep and lets the planner (checkpoint/ilp.py) decide. ad/core/emit.py writes the text.
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ad.core import naming
from fortran_ad.ad.core.adjoint import Reverse
from fortran_ad.ad.core.common import RoutineAD


def transform(plan, name: str, dry: bool = False) -> RoutineAD:
    """The transform of one routine; ``dry`` runs leave the routine's names untouched."""
    import copy

    info = plan.program.routines[name]
    namer = copy.deepcopy(plan.namers[name]) if dry else plan.namers[name]
    args = (plan.program, info, info.routine, plan.activity, plan.mode, namer, plan.globals)
    if naming.is_reverse(plan.mode):
        periods = plan.checkpoints.schedule() if plan.checkpoints is not None else {}
        envs, callee_cost = cost_model(plan)
        sizes = envs.get(name, plan.options.sizes)
        t = Reverse(*args, periods=periods, sizes=sizes, callee_cost=callee_cost)
        _visibility(plan, t)
        t.omp_options = plan.options  # read by ad/parallel/loops.py, ad/core/liveness.py
        t.head_name = plan.head
        t.serial_loops = plan.__dict__.setdefault("serial_loops", set())  # ad/parallel/auto.py
        # call sites the plan splits (ad/checkpointing/split_calls.py)
        if plan.checkpoints is not None:
            t.split_sites = plan.checkpoints.split_sites()
            t.split_infos = getattr(plan, "split_infos", {})
        t.prepare()
        return t
    from fortran_ad.ad.core.tangent import Tangent

    return Tangent(*args)


def _visibility(plan, t: RoutineAD) -> None:
    """Which module's PRIVATE components the derivative of ``t`` can name (ad/constructs/derived.py
    saves objects of other types whole, ad/constructs/object_stacks.py)."""
    from fortran_ad.ad.invariants.private_access import type_modules

    m = t.info.module
    t.visible_module = m.name if m is not None and m.name in plan.copies else None
    t.type_modules = plan.__dict__.setdefault("type_modules", type_modules(plan.program))


def swept(plan, name: str, dry: bool = False) -> tuple[RoutineAD, list, list]:
    """The reverse transform of one routine and its forward and backward sweeps. A loop that
    ``--parallelize-adjoint`` picked but whose adjoint does not pay on threads
    (ad/parallel/auto.py) restarts the transform with that loop serial, for good."""
    import copy

    from fortran_ad.ad.parallel.auto import Serial

    serial = plan.__dict__.setdefault("serial_loops", set())
    while True:
        namer = None if dry else copy.deepcopy(plan.namers[name])
        t = transform(plan, name, dry=dry)
        try:
            fwd, bwd = t.sweep(t.routine.body)
            return t, fwd, bwd
        except Serial as e:
            if e.key in serial:
                raise
            serial.add(e.key)
            if namer is not None:
                plan.namers[name] = namer


def cost_model(plan):
    """Per-routine size environments and callee costs (computed once per plan)."""
    model = getattr(plan, "cost_model", None)
    if model is None:
        from fortran_ad.checkpoint import costs
        from fortran_ad.checkpoint.env import routine_envs

        envs = routine_envs(plan.program, plan.order, plan.head, plan.options.sizes)
        model = (envs, costs.callee_costs(plan.program, envs))
        plan.cost_model = model
    return model


def _needed_globals(plan) -> None:
    """Reverse modes: the globals some backward sweep reads (needed in every routine)."""
    if not naming.is_reverse(plan.mode):
        return
    if not any(plan.globals.visible(n) for n in plan.order if wanted(plan, n)):
        return  # (passive globals too: an index a callee changes is restored around the call)
    for name in plan.order:
        if wanted(plan, name):
            t = transform(plan, name, dry=True)
            gl = plan.globals.visible(name)
            plan.globals.needed |= {gl[n] for n in t.needed if n in gl}
    # A differentiated callee's adjoint re-runs its primal (its forward sweep, when the call is
    # joint, inside the caller's backward sweep): every global it or its callees mention must
    # hold its value at the original call then, not only those its own backward sweep reads
    # (a value recomputed from a global, e.g. acc = acc + gs, read by an adjoint later).
    callees = {c for n in plan.order if wanted(plan, n) for c in _called(plan, n)}
    for name in sorted(callees):
        plan.globals.needed |= set(plan.globals.visible(name).values())


def _called(plan, name: str) -> set[str]:
    """The routines a call of ``name`` runs, transitively (``name`` excluded)."""
    out: set[str] = set()
    todo = [name]
    while todo:
        for c in plan.program.callees(plan.program.routines[todo.pop()].routine):
            if c not in out and c in plan.program.routines:
                out.add(c)
                todo.append(c)
    return out


def plan_checkpoints(plan):
    """Reverse modes: collect the checkpoint candidates (a dry store-all run) and let the
    planner decide; the real emission then obeys ``plan.checkpoints``."""
    from fortran_ad.ad.checkpointing import loop_checkpoint as lc
    from fortran_ad.ad.checkpointing import split_calls
    from fortran_ad.checkpoint import costs
    from fortran_ad.checkpoint.ilp import plan as solve

    _needed_globals(plan)
    plan.checkpoints = None
    candidates, transforms = [], {}
    for name in plan.order:
        if not wanted(plan, name):
            continue
        t, fwd, bwd = swept(plan, name, dry=True)
        candidates += t.candidates
        transforms[name] = (t, fwd, bwd)
    primal = cost_model(plan)[1]
    calls, bases = split_calls.candidates(plan, transforms, primal)
    runs = split_calls.invocations(calls, plan.head)
    # a loop's re-runs cost as often as its routine runs (once per call of a callee)
    candidates = [replace(c, runs=runs.get(c.routine) or 1.0) for c in candidates]
    sweeps = {n: (lc.lookup(t), t.sizes, f, b) for n, (t, f, b) in transforms.items()}
    plan.adjoint_counts = flop, pushes, nbytes = costs.adjoint_counts(sweeps, runs, primal)
    work = flop + costs.traffic_cost(pushes, nbytes)
    o = plan.options
    plan.checkpoints = solve(
        candidates, o.memory_limit, bases.pop(plan.head, 0.0), o.checkpoint, calls, plan.head,
        bases, getattr(o, "calls", "auto"), work,
    )  # fmt: skip
    if plan.checkpoints.split_sites():  # what the split callees restore under the final plan
        for name in {c.call.callee for c in plan.checkpoints.calls if c.split}:
            t, fwd, _ = swept(plan, name, dry=True)
            plan.split_infos[name] = split_calls.split_info(t, fwd, plan)
    return plan.checkpoints


def wanted(plan, name: str) -> bool:
    """Does the plan write a derivative of routine ``name``?"""
    return name in plan.order and plan.needs_derivative(name)
