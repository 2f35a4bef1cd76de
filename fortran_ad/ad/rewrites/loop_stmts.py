"""Facts about the statements of a loop body that the loop rewrites share (simd, distinct,
fission, gather): plain assignments, increments ``v = v + e``, references to a variable, and
the primal real type behind a derivative name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import subexprs

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse


def primal_names(t: Reverse) -> dict[str, str]:
    return {dv: pv for pv, dv in t.namer.derivs.items()}


def plain(t: Reverse, s: ir.Stmt) -> bool:
    """An assignment to a plain variable or element, calling no user procedure."""
    if not isinstance(s, ir.Assign) or not isinstance(s.target, ir.Name | ir.ArrayRef):
        return False
    if "%" in s.target.name:
        return False
    for e in (s.target, s.value):
        for x in subexprs(e):
            if isinstance(x, ir.OpaqueExpr | ir.ArrayCtor | ir.ImpliedDo | ir.Range):
                return False
            if isinstance(x, ir.Call) and t.program.get(x.name) is not None:
                return False
            if isinstance(x, ir.Name | ir.ArrayRef) and "%" in x.name:
                return False
    return True


def refs_to(e: ir.Expr, v: str) -> list[ir.Expr]:
    return [x for x in subexprs(e) if isinstance(x, ir.Name | ir.ArrayRef) and x.name == v]


def mentions(e: ir.Expr, names: set[str]) -> bool:
    return any(isinstance(x, ir.Name | ir.ArrayRef) and x.name in names for x in subexprs(e))


def increment_of(s: ir.Assign) -> ir.Expr | None:
    """``e`` of ``v = v + e`` or ``v = v - e`` with ``e`` free of ``v``."""
    val = s.value
    if isinstance(val, ir.BinOp) and val.op in "+-" and val.left == s.target:
        return None if refs_to(val.right, s.target.name) else val.right
    return None


def real_type(t: Reverse, d: ir.Expr) -> ir.TypeSpec | None:
    name = d.name if isinstance(d, ir.Name | ir.ArrayRef) else ""
    sym = t.lookup(primal_names(t).get(name, name))
    if sym is None or sym.type is None or not sym.type.is_real or sym.type.base == "complex":
        return None
    return sym.type
