"""Reverse-mode sweeps of function references with side effects (``v = f(...)`` where
``f`` writes arguments or module variables).

A function reference is a call: what it writes must hold its entry values when its adjoint
runs, as for a CALL statement (the adjoint of an active-result function reading the module
variable it changes would otherwise see the post-call value), and a passive-result function
that writes active variables is differentiated as the call statement ``call f(...)`` so
that the derivatives of its side effects are not lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ad.core.naming import routine_name
from fortran_ad.ad.core.tape_ops import Sweep, pop, push
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse


def snapshot(rev: Reverse, s: ir.Assign) -> list[ir.Expr]:
    """Needed variables a function reference ``s = f(...)`` writes (arguments, module
    variables), as for a CALL statement; none for other assignments."""
    if not isinstance(s.value, ir.Call) or rev.program.get(s.value.name) is None:
        return []
    call = ir.CallStmt(s.value.name, s.value.args, s.loc)
    snap = [a for a in rev.written_by_call(call) if base_name(a) in rev.needed]
    return [a for a in snap if base_name(a) != base_name(s.target)]


def sweeps(rev: Reverse, s: ir.Assign) -> Sweep:
    """``v = f(...)`` with a passive result (or target) and active side effects: the sweeps
    of the call ``f(...)`` as a statement (snapshots of what it writes, the adjoint call with
    a zero result adjoint when ``f``'s result is active elsewhere, else without), the
    forward sweep assigning ``v`` as the primal does."""
    assert isinstance(s.value, ir.Call)
    call = ir.CallStmt(s.value.name, s.value.args, s.loc, s.label)
    callee = rev.program.get(s.value.name).routine
    result = rev.effects_result(s, callee, "resb")  # a zero result adjoint, if it has one
    fwd, bwd = rev.call(call, result)
    if result:
        name = routine_name(callee.name, rev.mode)
        at = next(i for i, x in enumerate(bwd) if isinstance(x, ir.CallStmt) and x.name == name)
        bwd = [*bwd[:at], ir.Assign(result[0], rev.zero(s.target)), *bwd[at:]]
    tgt = base_name(s.target)
    keep = tgt in rev.needed and id(s) not in rev.first_defs
    fwd = [x if x is not call else s for x in fwd]
    if keep:
        fwd, bwd = [push(s.target), *fwd], [*bwd, pop(s.target)]
    if rev.is_active(s.target):
        bwd = [ir.Assign(rev.deriv(s.target), rev.zero(s.target)), *bwd]
    return fwd, bwd
