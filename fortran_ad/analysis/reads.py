"""Which variables a routine may read the value of, anywhere in its body, and which
components of a derived-type dummy it may change.

A dummy a routine never reads (it only assigns it or elements of it, like a kernel's output
array ``u_new``) carries no value into the routine: neither its primal, nor a re-run of it,
nor its backward sweep (which reads only values the routine read or computed) depends on
what the caller passed. Callers use this to leave such actuals out of what they keep for the
call's adjoint (ad/core/needed.py: ``_call_reads``).

Conservative: a name counts as read when an expression reads its value (``ir.walk.value_names``:
arguments of inquiry functions such as SIZE read only the shape), when it is a subscript of an
assignment target, an actual argument of any call, or mentioned by a statement the IR does not
model (``Opaque``); a routine with internal procedures reads everything it declares (host
association).
"""

from __future__ import annotations

from collections.abc import Callable

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import (
    names_in,
    stmt_exprs,
    subexprs,
    subscript_names,
    value_names,
    var_of,
    walk_stmts,
)

_MEMO: dict[int, tuple[ir.Routine, frozenset[str]]] = {}


def value_reads(r: ir.Routine) -> frozenset[str]:
    """Variables (by their names in ``r``) whose values ``r`` may read."""
    hit = _MEMO.get(id(r))
    if hit is not None and hit[0] is r:
        return hit[1]
    out: set[str] = set()
    if r.contains:
        out |= {s.name for s in r.symbols} | set(r.args)
    for s in walk_stmts(r.body):
        if isinstance(s, ir.Assign):
            out |= value_names(s.value) | subscript_names(s.target)
        elif isinstance(s, ir.CallStmt):
            for a in s.args:
                out |= names_in(a)
        elif isinstance(s, ir.Opaque):
            out |= set(s.reads) | set(s.writes)
        else:
            for e in stmt_exprs(s):
                out |= names_in(e)
    result = frozenset(out)
    _MEMO[id(r)] = (r, result)
    return result


def written_components(
    r: ir.Routine, dummy: str, routine_of: Callable[[str], ir.Routine | None]
) -> frozenset[str] | None:
    """The components (first level: ``clock`` of ``this%clock%t``) of derived-type dummy
    ``dummy`` that ``r`` may change, or None when it may change the whole object or cannot
    tell: an assignment to the whole dummy, a pointer assignment, a statement the IR does
    not model naming it, an internal procedure (host association), or the dummy passed whole
    to a dummy that is not INTENT(IN). A component passed to a call counts as changed unless
    the callee's dummy is INTENT(IN); intrinsic functions change nothing."""
    from fortran_ad.ir.intrinsic_table import lookup as intrinsic

    if r.contains:
        return None
    out: set[str] = set()

    def touched(a: ir.Expr, callee: ir.Routine | None, d: str | None) -> bool:
        """Records what an actual ``a`` may change; False: the whole dummy."""
        if not isinstance(a, ir.Name | ir.ArrayRef) or var_of(a.name) != dummy:
            return True
        sym = callee.symbol(d) if callee is not None and d is not None else None
        if sym is not None and sym.intent == "in":
            return True
        if "%" not in a.name:
            return False
        out.add(a.name.split("%")[1])
        return True

    def call(name: str, args: tuple[ir.Expr, ...]) -> bool:
        from fortran_ad.ir.program import dummy_map

        callee = routine_of(name)
        if callee is None:
            return all(touched(a.value if isinstance(a, ir.Keyword) else a, None, None)
                       for a in args)  # fmt: skip
        return all(touched(a, callee, d) for d, a in dummy_map(args, callee).items())

    for s in walk_stmts(r.body):
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.Name | ir.ArrayRef):
            if var_of(s.target.name) == dummy:
                if "%" not in s.target.name:
                    return None
                out.add(s.target.name.split("%")[1])
        elif isinstance(s, ir.PointerAssign | ir.Opaque):
            named = s.writes + s.reads if isinstance(s, ir.Opaque) else ()
            if dummy in named or any(dummy in names_in(e) for e in stmt_exprs(s)):
                return None
        if isinstance(s, ir.CallStmt) and not call(s.name, s.args):
            return None
        for e in stmt_exprs(s):
            for x in subexprs(e):
                user = isinstance(x, ir.Call) and intrinsic(x.name) is None
                if user and not call(x.name, x.args):
                    return None
    return frozenset(out)
