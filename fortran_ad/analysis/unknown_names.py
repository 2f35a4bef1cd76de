"""Names fortran-ad cannot see the declaration of must not carry derivatives.

A module that is not among the sources (``use hdf5``, a library's module, or any module the
user left out) is opaque: its names are known to gfortran but not to fortran-ad, which cannot
tell their types. As long as such a name only feeds passive computations (a kind, a file
handle, a constant) that is fine. But when a value that depends on a ``--wrt`` input flows
through it into an ``--of`` output (``state = x; y = state*x`` with ``state`` from the opaque
module), the derivative through it would be silently dropped: it has no type, so it gets no
derivative variable. ``refuse_unknown_active`` makes that a located error naming the name, the
statement and the modules it may come from.
"""

from __future__ import annotations

from fortran_ad.analysis.activity import ActivityAnalysis
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, names_in, stmt_exprs, walk_stmts


def refuse_unknown_active(program, activity, order: list[str]) -> None:
    """Raise for the first routine of ``order`` in which a name without a declaration
    fortran-ad can see both gets a value that depends on the inputs and feeds a value the
    outputs depend on (program: ir.program.Program; activity: analysis.activity).

    Activity analysis skips such names (no type: no derivative), so the flows are followed
    here through assignments, and globally for the opaque names themselves (one routine may
    write what another reads)."""
    flows = {name: _flows(program.routines[name].routine) for name in order}
    unknown = {name: _unknown(program, program.routines[name], flows[name]) for name in order}
    varied_anywhere: set[str] = set()
    useful_anywhere: set[str] = set()
    for name in order:
        if unknown[name]:
            edges = flows[name]
            varied_anywhere |= _closure(activity.varied[name], edges) & unknown[name]
            back = [(t, s, loc) for s, t, loc in edges]
            useful_anywhere |= _closure(activity.useful[name], back) & unknown[name]
    both = varied_anywhere & useful_anywhere
    for name in order:
        hit = sorted(unknown[name] & both)
        if hit:
            _refuse(program, program.routines[name], hit[0])


def _flows(r: ir.Routine) -> list[tuple[str, str, ir.SourceLoc]]:
    out = []
    for s in walk_stmts(r.body):
        if isinstance(s, ir.Assign):
            target = base_name(s.target)
            if target is not None:
                out.extend((src, target, s.loc) for src in names_in(s.value))
    return out


def _unknown(program, info, edges) -> set[str]:
    names = {n for s, t, _ in edges for n in (s, t)}
    return {
        n
        for n in names
        if "%" not in n
        and info.scope.lookup(n) is None
        and n not in program.routines
        and n not in info.routine.args
    }


def _refuse(program, info, first: str) -> None:
    loc = _first_use(info.routine.body, first) or info.routine.loc
    opaque = sorted(
        item.module
        for item in info.routine.spec + module_spec(program, info)
        if isinstance(item, ir.Use) and item.module not in program.modules
    )
    where = (
        f"it may come from module {', '.join(repr(m) for m in opaque)}, which is not among "
        "the sources"
        if opaque
        else "it is declared nowhere fortran-ad can see"
    )
    raise FortranADError(
        loc,
        f"'{first}' carries derivatives in '{info.name}' but fortran-ad cannot see its declaration",
        f"{where}; add that module's source file before this one",
    )


def module_spec(program, info) -> tuple[ir.SpecItem, ...]:
    return info.module.spec if info.module is not None else ()


def _first_use(body: tuple[ir.Stmt, ...], name: str) -> ir.SourceLoc | None:
    for s in walk_stmts(body):
        if any(name in names_in(e) for e in stmt_exprs(s)):
            return s.loc
    return None


_closure = ActivityAnalysis._forward  # names reached from seeds along edges (s, t, loc)
