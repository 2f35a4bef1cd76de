"""A program unit's specification and execution parts, however fparser split them.

fparser ends a specification part at the first statement it reads as executable. A statement
function (``SQ(T) = T*T``) reads as an assignment, so when a type declaration follows one (legal
and common: ECMWF's ``fcttre.func.h`` declares each function just before defining it) fparser
starts a new Specification_Part, then a new Execution_Part, all siblings under the unit. Taking
only the first of each silently lost everything after the first statement function.

``unit_parts`` merges them back: the declarations of every specification part, in order, and
the statements of every execution part, in order (statement functions first, as
``normalize/stmtfunc.py`` expects). An execution part followed by a specification part may hold
only statement-function definitions and comments; anything else is a declaration after an
executable statement, which gfortran rejects too, and gets a located error.
"""

from __future__ import annotations

from fparser.two import Fortran2003 as F

from fortran_ad.errors import FortranADError
from fortran_ad.frontend.lower_spec import array_names
from fortran_ad.frontend.lower_stmt import _Ctx


def unit_parts(node: F.Base, ctx: _Ctx) -> tuple[F.Base | None, F.Base | None]:
    """The unit's (single) Specification_Part and Execution_Part; later parts fparser split off
    are merged into the first of their kind (the tree is ours: it was parsed for this lowering
    only). Units with one of each are returned untouched."""
    specs = [c for c in node.children if isinstance(c, F.Specification_Part)]
    execs = [c for c in node.children if isinstance(c, F.Execution_Part)]
    if len(specs) <= 1 and len(execs) <= 1:
        return (specs[0] if specs else None, execs[0] if execs else None)
    arrays: set[str] = set()
    for s in specs:
        arrays |= array_names(s)
    seen_exec: F.Base | None = None
    for child in node.children:
        if isinstance(child, F.Execution_Part):
            seen_exec = child
        elif isinstance(child, F.Specification_Part) and seen_exec is not None:
            _only_statement_functions(seen_exec, child, arrays, ctx)
    for extra in specs[1:]:
        specs[0].content.extend(extra.content)
    for extra in execs[1:]:
        execs[0].content.extend(extra.content)
    merged = {id(p) for p in specs[1:] + execs[1:]}
    node.content[:] = [c for c in node.content if id(c) not in merged]
    return (specs[0] if specs else None, execs[0] if execs else None)


def is_statement_function(node: F.Base, arrays: set[str]) -> bool:
    """``F(A, B) = expr`` with F not an array and every argument a plain name."""
    if isinstance(node, F.Stmt_Function_Stmt):
        return True
    if not isinstance(node, F.Assignment_Stmt):
        return False
    lhs = node.items[0]
    if not isinstance(lhs, F.Part_Ref) or str(lhs.items[0]).lower() in arrays:
        return False
    subs = lhs.items[1]
    items = subs.items if isinstance(subs, F.Section_Subscript_List) else (subs,)
    return all(isinstance(s, F.Name) for s in items)


def _only_statement_functions(
    exec_part: F.Base, later: F.Base, arrays: set[str], ctx: _Ctx
) -> None:
    for stmt in exec_part.children:
        if isinstance(stmt, F.Comment) or is_statement_function(stmt, arrays):
            continue
        decl = next((c for c in later.children if not isinstance(c, F.Comment)), later)
        raise FortranADError(
            ctx.loc(decl),
            "specification statement after an executable statement",
            f"'{str(stmt).strip()}' ({ctx.loc(stmt)}) is executable; only statement "
            "functions may come before declarations",
        )
