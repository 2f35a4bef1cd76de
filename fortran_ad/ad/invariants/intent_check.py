"""No generated statement defines an INTENT(IN) dummy of the routine it is in.

Run on the final body of each derivative routine (``ad/core/emit.py``). The definitions looked at
are those generated code makes: assignment targets, ``fad_pop`` arguments (restoring a value),
DO variables, pointer assignments and the variables an opaque statement (ALLOCATE,
DEALLOCATE, ...) declares it writes. One of them naming an INTENT(IN) dummy is a located internal
error: gfortran would reject the code ("Dummy argument with INTENT(IN) in variable definition
context"), and restoring a value the routine may not change means the adjoint assumed a write
the primal cannot make.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import var_of, walk_stmts


def _defined(s: ir.Stmt) -> Iterator[str]:
    """Variables statement ``s`` itself defines."""
    if isinstance(s, ir.Assign | ir.PointerAssign):
        name = getattr(s.target, "name", None)
        if name is not None:
            yield var_of(name)
    elif isinstance(s, ir.CallStmt) and s.name == "fad_pop":
        for a in s.args:
            if isinstance(a, ir.Name | ir.ArrayRef):
                yield var_of(a.name)
    elif isinstance(s, ir.Do):
        yield s.var
    elif isinstance(s, ir.Opaque):
        yield from (var_of(w) for w in s.writes)


def check(
    body: Iterable[ir.Stmt], intent_in: set[str], routine: str, where: ir.SourceLoc | None
) -> None:
    """Raise a located internal error if ``body`` defines one of ``intent_in``."""
    if not intent_in:
        return
    for s in walk_stmts(tuple(body)):
        for name in _defined(s):
            if name in intent_in:
                from fortran_ad.ir.printer import Writer, stmt

                w = Writer()
                stmt(w, s)
                text = w.text().strip().splitlines()[0]
                loc = s.loc if getattr(s, "loc", None) is not None and s.loc.line else where
                raise FortranADError(
                    loc,
                    f"internal error: generated code of {routine} defines '{name}', an "
                    f"INTENT(IN) dummy: '{text}'",
                    "the derivative code would not compile; please report this input",
                )


def intent_in_dummies(r: ir.Routine, derivative, tangent: bool, active: set[str]) -> set[str]:
    """INTENT(IN) dummies of the derivative of ``r``: its own, and in tangent modes the
    derivatives of its active INTENT(IN) dummies (``derivative`` names them)."""
    out: set[str] = set()
    for a in r.args:
        sym = r.symbol(a)
        if sym is not None and sym.intent == "in":
            out.add(a)
            if tangent and a in active:
                out.add(derivative(a))
    return out
