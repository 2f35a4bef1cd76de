"""Actual arguments that alias in a call of an adjoint routine.

Fortran lets one variable reach several dummies of a call as long as the callee defines none
of them through either (F2018 15.5.2.13): ``call hal(x, x, r)`` with two intent(in) dummies, or
overlapping sections ``a(1:4)`` and ``a(3:6)``. In the adjoint routine both derivative dummies
are intent(inout) and *both are incremented*: passing ``xb`` twice would alias two defined
dummies, which the standard forbids and compilers exploit. So every derivative actual after
the first one of the same derivative variable gets its own zeroed buffer, and after the call
the buffer is added into the variable.

The buffer has the shape of the whole derivative variable (the kind of its primal) and the
call passes the same designator on it (``ab(2:5)`` becomes ``fad_aliasb1(2:5)``): elements,
sections, sequence association (``ab(i)`` passed to an array dummy) and the vector modes'
leading direction dimension all designate the same positions of the buffer as of ``ab``, and
``ab = ab + fad_aliasb1`` adds every contribution where it belongs. Scalars use a scalar
temporary (one per direction in the vector modes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import paths_nest, var_of

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

Fix = tuple[tuple[ir.Expr, ...], list[ir.Stmt], list[ir.Stmt]]


def unalias(t: Reverse, args: tuple[ir.Expr, ...], loc: ir.SourceLoc | None = None) -> Fix:
    """``args`` of an adjoint call with repeated derivative variables replaced by buffers, the
    statements that zero the buffers before the call and those that add them back after."""
    primal_of = {d: p for p, d in t.namer.derivs.items()}
    seen: list[str] = []
    out, pre, post = list(args), [], []
    for k, arg in enumerate(args):
        a = arg.value if isinstance(arg, ir.Keyword) else arg
        if k == 0 or not isinstance(a, ir.Name | ir.ArrayRef):
            continue
        base = var_of(a.name)
        if base not in primal_of:
            continue
        primal_path = primal_of[base] + a.name[len(base) :]
        if any(_may_overlap(t, primal_path, q) for q in seen):
            prev = args[k - 1]
            primal = prev.value if isinstance(prev, ir.Keyword) else prev
            new = _buffer(t, a, primal, primal_of[base], pre, post, loc)
            out[k] = ir.Keyword(arg.name, new) if isinstance(arg, ir.Keyword) else new
        seen.append(primal_path)
    return tuple(out), pre, post


def _may_overlap(t: Reverse, p: str, q: str) -> bool:
    """Whether component paths ``p`` and ``q`` (of primal variables) can designate common
    storage: nested paths (ir/walk.paths_nest), or a POINTER component on either path of the
    same variable (it may point anywhere)."""
    if paths_nest(p, q):
        return True
    a, b = p.split("%"), q.split("%")
    if a[0] != b[0]:
        return False
    for path in (a, b):
        for end in range(2, len(path) + 1):
            sym = t.lookup("%".join(path[:end]))
            if sym is None or "pointer" in sym.attrs:
                return True
    return False


def _buffer(t: Reverse, a, primal: ir.Expr, primal_base: str, pre, post, loc) -> ir.Expr:
    """The buffer standing for derivative actual ``a`` (whose primal actual is ``primal``)."""
    component = "%" in a.name and isinstance(primal, ir.Name | ir.ArrayRef)
    sym = t.lookup(primal.name if component else primal_base)
    if sym is not None and sym.rank == 0:  # a scalar variable or component
        tmp = t.deriv_temp("aliasb", primal)
        pre.append(ir.Assign(tmp, t.zero(primal)))
        post.append(ir.Assign(a, ir.BinOp("+", a, tmp)))
        return tmp
    if sym is None or (isinstance(a, ir.ArrayRef) and a.head):
        from fortran_ad.ir.printer import expr

        raise FortranADError(
            loc or t.routine.loc,
            f"the same variable reaches two differentiated arguments as '{expr(primal)}': "
            "aliasing through this designator is not supported",
            "pass a copy as one of the arguments",
        )
    whole = ir.Name(a.name)  # the derivative variable (or component) the actual designates
    rank = len(a.subs) if isinstance(a, ir.ArrayRef) else sym.rank + (1 if t.vector else 0)
    name = t.temp("aliasb", t.type_of(primal), (ir.Dim("deferred"),) * rank,
                  frozenset({"allocatable"}))  # fmt: skip
    w = ir.Name(name)
    pre += [ir.Opaque(f"allocate({name}, mold={whole.name})"), ir.Assign(w, t.zero(primal))]
    post += [ir.Assign(whole, ir.BinOp("+", whole, w)), ir.Opaque(f"deallocate({name})")]
    return ir.ArrayRef(name, a.subs) if isinstance(a, ir.ArrayRef) else w
