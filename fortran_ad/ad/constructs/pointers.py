"""POINTER association (``p => t``, NULLIFY) in derivative code.

A pointer that carries derivatives gets a derivative pointer associated with the target's
derivative: ``p => t`` becomes ``p => t; pb => tb`` (``pd => td``), ``nullify(p)`` nullifies
``pb`` too. Activity flows both ways between a pointer and its target (they alias).

Reverse mode replays no association: the backward sweep sees each pointer associated as at the
end of the forward sweep. That is right only if a pointer the adjoint uses (an active one, or one
the backward sweep reads) keeps one association: it is associated at most once per routine, not
inside a loop, never re-associated when it is a dummy argument, and its target is a variable
(not a function result). Anything else is a located error. Writes through a pointer are writes to
its target: both are saved when either is needed.
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, bodies, names_in, stmt_exprs, walk_stmts


def _associations(body: tuple[ir.Stmt, ...], depth: int = 0):
    """(statement, loop depth) of every pointer assignment, in source order."""
    for s in body:
        if isinstance(s, ir.PointerAssign):
            yield s, depth
        inner = depth + isinstance(s, ir.Do | ir.DoWhile)
        for b in bodies(s):
            yield from _associations(b, inner)


def _is_null(e: ir.Expr) -> bool:
    return isinstance(e, ir.Call) and e.name == "null" and not e.args


def aliases(t) -> list[tuple[str, str]]:
    """(pointer variable, target variable) pairs associated in the routine."""
    out = []
    for s, _ in _associations(t.routine.body):
        b = base_name(s.value)
        if b is not None and not _is_null(s.value):
            out.append((base_name(s.target), b))
    return out


def check_reverse(t) -> None:
    """Refuse associations the backward sweep cannot follow (see the module docstring), and
    make a pointer and its target needed together."""
    for p, target in aliases(t):
        if p in t.needed or target in t.needed:
            t.needed |= {p, target}
    seen: dict[str, ir.PointerAssign] = {}
    used = _referenced(t.routine.body)
    for s, depth in _associations(t.routine.body):
        p = s.target.name
        if base_name(s.target) not in t.active | t.needed:
            continue
        why = None
        if depth:
            why = "inside a loop"
        elif p in seen:
            why = f"again (first at line {seen[p].loc.line})"
        elif base_name(s.target) in t.routine.args:
            why = "while it is a dummy argument"
        elif not _is_null(s.value) and not isinstance(s.value, ir.Name | ir.ArrayRef):
            raise FortranADError(
                s.loc,
                f"pointer '{p}' carries derivatives but its target is not a variable: the "
                "adjoint cannot know which derivative it aliases",
            )
        if why is not None:
            raise FortranADError(
                s.loc,
                f"pointer '{p}' is re-associated {why}; the adjoint replays no pointer "
                "association, so the aliasing of its derivative would be wrong",
                "associate it once, outside loops, or pass the target itself",
            )
        if _is_section(s.value) and base_name(s.target) in used:
            raise FortranADError(
                s.loc,
                f"pointer '{p}' stays a second name for a section of '{base_name(s.value)}' "
                "(the section's bounds may change after the association, or the pointer is "
                "used where it cannot be replaced by the section): the reverse analyses would "
                "take them for distinct storage",
                "use the section itself, or bounds that do not change after the association",
            )
        seen[p] = s


def _is_section(e: ir.Expr) -> bool:
    return isinstance(e, ir.ArrayRef) and any(isinstance(x, ir.Range) for x in e.subs)


def _referenced(body: tuple[ir.Stmt, ...]) -> set[str]:
    """Names the statements of ``body`` other than pointer assignments mention (a pointer
    normalize/pointers.py replaced by its target is no longer among them)."""
    out: set[str] = set()
    for x in walk_stmts(body):
        if not isinstance(x, ir.PointerAssign):
            for e in stmt_exprs(x):
                out |= names_in(e)
    return out


def derivative(t, s: ir.PointerAssign) -> list[ir.Stmt]:
    """The primal association followed by the derivative pointer's."""
    if not t.is_active(s.target):
        return [s]
    d = t.deriv(s.target, s.loc)
    if _is_null(s.value):
        return [s, ir.PointerAssign(d, s.value, s.loc)]
    if not isinstance(s.value, ir.Name | ir.ArrayRef):
        raise FortranADError(
            s.loc, f"pointer '{s.target.name}' carries derivatives but its target is not a variable"
        )
    if not t.is_active(s.value):
        raise FortranADError(
            s.loc, f"pointer '{s.target.name}' carries derivatives but its target does not"
        )
    return [s, ir.PointerAssign(d, t.deriv(s.value, s.loc), s.loc)]
