"""Adjoint of ``c = f(x)`` where ``f`` returns an array (normalize/scalarize.py keeps such
assignments whole). ``f_b`` takes the result's adjoint as an array: a copy of ``cb``, allocated
with its shape, so that ``cb`` can be zeroed before the call (``c`` may be an argument too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ad.core.naming import routine_name
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.printer import expr
from fortran_ad.ir.walk import base_name

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse


def adjoint(
    t: Reverse, s: ir.Assign, vb: ir.Expr, callee: ir.Routine, res: ir.Symbol
) -> list[ir.Stmt]:
    """The adjoint statements of ``s`` (``vb`` the target's adjoint, ``res`` the result)."""
    call = s.value
    assert isinstance(call, ir.Call)
    if t.vector:
        raise FortranADError(
            s.loc, f"function '{call.name}' with an array result: not supported in the "
            "vector modes yet", "use --mode reverse or forward"
        )  # fmt: skip
    dims = tuple(ir.Dim("deferred") for _ in res.dims)
    tmp = t.temp("tmpb", res.type, dims, frozenset({"allocatable"}))
    args = t.derivative_args(callee, call.args, s.loc, (ir.Name(tmp),))
    args, pre, post = t._unalias(args)
    return [
        ir.Opaque(f"allocate({tmp}, source={expr(vb)})", (base_name(vb) or "",), (tmp,), s.loc),
        ir.Assign(vb, t.zero(s.target)),
        *pre,
        ir.CallStmt(routine_name(call.name, t.mode), args),
        *post,
        ir.Opaque(f"deallocate({tmp})", (), (tmp,), s.loc),
    ]
