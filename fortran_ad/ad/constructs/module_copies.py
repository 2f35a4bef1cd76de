"""Derivative modules that are differentiated copies of their primal module.

A derivative module ``<module>_b`` / ``_d`` normally ``use``s its primal module and holds only
derivative routines. Fortran gives code outside a module no access to the module's PRIVATE entities,
so when derivative code must read a PRIVATE component of a type (``this%dt``, ``state%clock``;
ad/invariants/private_access.py lists them), that derivative module is instead a *copy* of the
primal module (as Tapenade's ``<module>_diff``): the primal module's specification part (its USE
statements, types, interfaces, named constants and PRIVATE/PUBLIC statements) and all of its
procedures, printed from the lowered source, followed by the derivative routines, which are made
PUBLIC. Inside the copy every PRIVATE component of its types is visible.

The copy's types are new types (Fortran types are identified by the module that defines them),
so consistency needs two rules, both enforced here:

- upward closure: every module among the sources that USEs a copied module (directly or through
  others) is copied too, and in all generated code ``use M`` of a copied ``M`` reads
  ``use M_b``; a program then uses the ``_b`` modules of the copied set in place of the primal
  ones (objects it passes to derivative routines are built with the copies' constructors).
  Mixing a primal object with a copy's routine is a type mismatch gfortran reports, not a
  silent error;
- no state: a copied module may not have module variables (other than named constants), since
  the copy would have its own, unset, variables while the program sets the primal's (a located
  error names the variable).

Anything the copies still cannot see (a PRIVATE component of a type of another module) is
refused with its location (private_access.refuse), and the emitted statements are checked
again (private_access.check_generated, run per derivative routine by ad/core/emit.py).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ad.constructs import object_stacks
from fortran_ad.ad.core import naming
from fortran_ad.ad.invariants import private_access
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir import printer as fw


def plan_copies(plan) -> frozenset[str]:
    """The modules whose derivative module must be a copy (closed upwards under USE)."""
    seeds: dict[str, private_access.Reach] = {}
    for reach in private_access.reaches(plan):
        if reach.owner is None or reach.owner != reach.module:
            private_access.refuse(reach)
        seeds.setdefault(reach.owner, reach)
    if not seeds:
        return frozenset()
    users = _users(plan.program.modules)
    copies = set(seeds)
    todo = list(seeds)
    while todo:
        for user in users.get(todo.pop(), ()):
            if user not in copies:
                copies.add(user)
                todo.append(user)
    for name in sorted(copies):
        _refuse_state(plan.program.modules[name], seeds, plan.mode)
    return frozenset(copies)


def _users(modules: dict[str, ir.Module]) -> dict[str, set[str]]:
    """Module -> the modules (among the sources) that USE it, in their spec or procedures."""
    out: dict[str, set[str]] = {}
    for m in modules.values():
        for used in _used_modules(m.spec, m.routines):
            if used in modules and used != m.name:
                out.setdefault(used, set()).add(m.name)
    return out


def _used_modules(spec: tuple[ir.SpecItem, ...], routines: tuple[ir.Routine, ...]) -> set[str]:
    out = {item.module for item in spec if isinstance(item, ir.Use)}
    for r in routines:
        out |= _used_modules(r.spec, r.contains)
    return out


def _refuse_state(m: ir.Module, seeds: dict[str, private_access.Reach], mode: str) -> None:
    for item in m.spec:
        if isinstance(item, ir.TypeDecl) and "parameter" not in item.attrs:
            why = seeds.get(m.name)
            because = (
                f"its procedures' derivatives read {why.what} at {why.loc}"
                if why is not None
                else "it uses a module that is copied"
            )
            raise FortranADError(
                item.loc,
                f"module '{m.name}' would be copied into its derivative module "
                f"'{naming.module_name(m.name, mode)}' ({because}), but it has the module "
                f"variable '{item.entities[0].name}': the copy would have a variable of its own",
                "make the components the derivative reads PUBLIC, or move the variable to a "
                "module of its own",
            )


def renamed_use(plan, item: ir.SpecItem) -> ir.SpecItem:
    """``use M`` of a copied module reads ``use M_b`` (``_d``) in generated code."""
    if isinstance(item, ir.Use) and item.module in getattr(plan, "copies", ()):
        return replace(item, module=naming.module_name(item.module, plan.mode))
    return item


def _renamed_routine(plan, r: ir.Routine) -> ir.Routine:
    return replace(
        r,
        spec=tuple(renamed_use(plan, i) for i in r.spec),
        contains=tuple(_renamed_routine(plan, c) for c in r.contains),
    )


def write_copy(w, plan, m: ir.Module, names: list[str], called: list[str], write_routine):
    """The derivative module of ``m`` as a copy of ``m`` (see the module docstring).

    ``called``: other modules whose derivative routines these call; ``write_routine(w, name)``
    writes one derivative routine (ad/core/emit.py)."""
    from fortran_ad.ad.invariants import emitted_calls
    from fortran_ad.ir.writer import Writer

    source = plan.source_modules[m.name]
    name = naming.module_name(m.name, plan.mode)
    w.blank()
    w.comment(f"! a copy of module {m.name} with its derivative routines (PRIVATE entities of")
    w.comment(f"! {m.name} are read by them): use {name} in place of {m.name}")
    w.line(f"module {name}")
    w.indent()
    uses = [renamed_use(plan, i) for i in source.spec if isinstance(i, ir.Use)]
    for item in uses:
        fw.spec_item(w, item)
    have = {u.module for u in uses if u.only is None}
    for other in called:
        if naming.module_name(other, plan.mode) not in have:
            w.line(f"use {naming.module_name(other, plan.mode)}")
    for item in source.spec:
        if not isinstance(item, ir.Use):
            fw.spec_item(w, item)
    for line in plan.globals.module_declarations(m):
        w.line(line)
    body = Writer(w.unit)
    body.level = w.level
    for r in source.routines:
        body.blank()
        fw.routine(body, _renamed_routine(plan, r))
    emitted = emitted_calls.emitted(plan)
    before = set(emitted)
    for n in names:
        body.blank()
        write_routine(body, n)
    internal = {
        d
        for d, p in emitted_calls.derivative_names(plan).items()
        if plan.program.routines[p].host is not None
    }
    public = sorted((emitted - before) - internal)
    if public:
        w.line(f"public :: {', '.join(public)}")
    object_stacks.close_module(w, body, plan, m.name, name)
