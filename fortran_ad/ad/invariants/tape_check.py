"""Every ``call fad_push(x)`` / ``call fad_pop(x)`` the emitter writes has a specific.

Run on the final body of each derivative routine (``ad/core/emit.py``) before it is written. For
each push and pop it works out the argument's type, kind and rank (the declared symbol; the rank
of a section counts its triplets and vector subscripts) and

- returns the ``(tag, rank)`` pairs the shipped ``fad_tape`` lacks, so the emitter generates
  them into the on-demand module (``runtime/gen_tape_ext.py``) and ``use``\\ s it;
- refuses, with a located internal error naming the statement, an argument no specific can
  take (a derived type left whole, real(10), a rank above 7, ...), instead of writing code
  gfortran rejects with "There is no specific subroutine for the generic".

An argument whose symbol or kind cannot be resolved here (a name only the compiler knows) is
assumed to be covered: every kind a declaration can spell in standard Fortran with a
32/64-bit real or 8..64-bit integer is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.types import Typer
from fortran_ad.ir.walk import walk_stmts
from fortran_ad.runtime.tape_types import COVERED, in_core, refusal

Lookup = Callable[[str], "ir.Symbol | None"]
TAPE_CALLS = ("fad_push", "fad_pop")
_UNKNOWN = -1


def _rank(e: ir.Expr, lookup: Lookup) -> int | None:
    """Rank of a designator (None: not a designator, or unknown)."""
    if isinstance(e, ir.Name):
        sym = lookup(e.name)
        return None if sym is None else sym.rank
    if isinstance(e, ir.ArrayRef):
        rank = 0
        for sub in e.subs:
            if isinstance(sub, ir.Range):
                rank += 1
            elif isinstance(sub, ir.Name | ir.ArrayRef | ir.ArrayCtor):
                inner = 1 if isinstance(sub, ir.ArrayCtor) else _rank(sub, lookup)
                rank += 1 if inner else 0
        return rank
    return None


def _kind(t: ir.TypeSpec, lookup: Lookup) -> int | None:
    """Bytes of the declared kind (None: the default kind; _UNKNOWN: cannot tell here)."""
    if t.base in ("double precision", "double complex") or t.kind is None:
        return None
    kind = Typer(lookup).kind_number(t)  # the one kind evaluator (ir/types.py)
    return _UNKNOWN if kind is None else kind


def _base(t: ir.TypeSpec) -> str:
    base = t.base.lower()
    return "character" if base.startswith("character") else base


def needs(
    body: Iterable[ir.Stmt], lookup: Lookup, where: ir.SourceLoc | None
) -> set[tuple[str, int]]:
    """The specifics beyond ``fad_tape`` that the pushes and pops of ``body`` use; a located
    internal error for one no specific could take."""
    out: set[tuple[str, int]] = set()
    for s in walk_stmts(tuple(body)):
        if not isinstance(s, ir.CallStmt) or s.name not in TAPE_CALLS or len(s.args) != 1:
            continue
        arg = s.args[0]
        name = arg.name if isinstance(arg, ir.Name | ir.ArrayRef) else None
        sym = lookup(name) if name is not None else None
        rank = _rank(arg, lookup)
        if sym is None or sym.type is None or rank is None:
            continue  # an expression or a name only the compiler resolves (implicit typing)
        base = _base(sym.type)
        kind = _kind(sym.type, lookup)
        if kind == _UNKNOWN:
            continue
        why = refusal(base, kind, rank)
        if why is not None:
            from fortran_ad.ir.printer import expr

            loc = s.loc if s.loc is not None and s.loc.line else where
            raise FortranADError(
                loc,
                f"internal error: the generated 'call {s.name}({expr(arg)})' records "
                f"{sym.type.base}{'' if kind is None else f'(kind={kind})'} of rank {rank}: "
                f"{why}",
                "the derivative code would not compile; please report this input",
            )
        tag = COVERED[(base, kind)]
        if not in_core(tag, rank):
            out.add((tag, rank))
    return out
