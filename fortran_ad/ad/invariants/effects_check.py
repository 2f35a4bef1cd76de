"""The side-effect invariant of tangent code: no primal reference to a function whose side
effects carry derivatives.

A function may write its arguments and module variables. When it writes an active one (an
active INTENT(OUT/INOUT) dummy, or an active module variable, ``activity.through_globals``),
tangent code must call the function's tangent routine wherever the primal references it;
a primal reference left in tangent code runs the side effect without its derivative, and the
derivatives of everything downstream are silently wrong (the class of
tests/regressions/test_function_side_effects.py: a passive result made the tangent keep the
primal call). This check walks the generated statements of every tangent routine and fails
generation with a located error at the first such reference, whatever construct left it
there. Reverse modes run the primal in their forward sweeps by design; there the adjoint
call is checked by the derivative tests.
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import stmt_exprs, subexprs, walk_stmts


def active_effects(t, name: str) -> bool:
    """Does the program function ``name`` write an active argument or module variable?"""
    info = t.program.get(name)
    if info is None or info.routine.kind != "function":
        return False
    return t.active_effects(info.routine)


def check_generated(t, body: list[ir.Stmt] | tuple[ir.Stmt, ...]) -> None:
    """Raise a located FortranADError at the first primal reference, in the tangent
    statements ``body`` of ``t.routine``, to a function with active side effects."""
    loc = t.routine.loc
    for s in walk_stmts(tuple(body)):
        if getattr(s, "loc", ir.NOWHERE).line > 0:
            loc = s.loc
        for e in stmt_exprs(s):
            for x in subexprs(e):
                if isinstance(x, ir.Call) and active_effects(t, x.name):
                    raise FortranADError(
                        loc,
                        f"internal error: the tangent of '{t.routine.name}' references "
                        f"function '{x.name}' as primal, losing the derivatives of its side "
                        "effects (it writes an active argument or module variable)",
                        "please report this with the source",
                    )
