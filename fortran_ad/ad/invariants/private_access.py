"""What derivative code would read of PRIVATE entities, and the refusal of what it cannot see.

Every statement of a differentiated routine is copied into its derivative (forward sweep, tangent),
so a component path through a PRIVATE component, or a PRIVATE module variable, in such a routine is
read by derivative code too. ``reaches`` lists them, each with the module whose scope can see it
(``owner``: the module defining the type, or the variable). A derivative module that is a copy of
that module (ad/constructs/module_copies.py) sees it; anything else cannot, and ``refuse`` stops
generation with a located error naming the component or variable (gfortran would reject the
generated code). PRIVATE named constants are copied into the derivative module (ad/core/emit.py) and
stay allowed.

``check_generated`` is the same rule on emitted statements: a component path through a
PRIVATE component of a type defined in a module other than the one the derivative routine is
written into (whole-object statements expanded per component by ad/constructs/derived.py, records of
derived-type values) is a located internal error rather than code gfortran rejects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import inherited, is_private, type_name
from fortran_ad.ir.walk import names_in, stmt_exprs, subexprs, walk_stmts


@dataclass(frozen=True)
class Reach:
    """A PRIVATE entity read by the derivative of ``routine``; visible inside ``owner``."""

    routine: str
    module: str | None  # the module the routine belongs to
    owner: str | None  # the module defining the entity (None: not known)
    loc: ir.SourceLoc
    what: str  # "'this%dt': component 'dt' of type 't' is PRIVATE (at ...)"

    def error(self, where: str) -> FortranADError:
        return FortranADError(
            self.loc,
            f"{self.what}; the derivative of '{self.routine}' {where} and cannot reach it",
            "make it PUBLIC, or keep the code that reads it in the module that defines it",
        )


def reaches(plan) -> list[Reach]:
    """Every PRIVATE component or module variable the differentiated routines read."""
    program = plan.program
    owners = type_modules(program)
    out: list[Reach] = []
    for name in plan.order:
        if not plan.needs_derivative(name):
            continue
        info = program.routines[name]
        module = info.module.name if info.module is not None else None
        for s in walk_stmts(info.routine.body):
            for e in stmt_exprs(s):
                for sub in subexprs(e):
                    if isinstance(sub, ir.Name | ir.ArrayRef) and "%" in sub.name:
                        hit = private_component(sub.name, info.scope.lookup, program.types)
                        if hit is not None:
                            owner = owners.get(hit[0].name)
                            out.append(Reach(name, module, owner, s.loc, _component(sub, hit)))
                for var in names_in(e):
                    hit2 = _private_variable(var, info, program)
                    if hit2 is not None:
                        out.append(Reach(name, module, hit2[0], s.loc, hit2[1]))
    return out


def refuse(reach: Reach) -> None:
    """A reach no derivative module can see: outside the owner's module."""
    raise reach.error("lives outside the module that defines it")


def type_modules(program) -> dict[str, str]:
    """Derived type name -> the module that defines it (module-level types only)."""
    out: dict[str, str] = {}
    for m in program.modules.values():
        for item in m.spec:
            if isinstance(item, ir.TypeDef):
                out.setdefault(item.name, m.name)
    return out


def private_component(
    path: str, lookup: Callable[[str], ir.Symbol | None], types: dict[str, ir.TypeDef]
) -> tuple[ir.TypeDef, str, ir.Symbol] | None:
    """The first PRIVATE component on ``path`` (``a%b%c``): (its type, name, symbol)."""
    base, *parts = path.split("%")
    sym = lookup(base)
    for part in parts:
        part = part.split("(")[0].strip()
        tname = type_name(sym) if sym is not None else None
        if tname is None or tname not in types:
            return None
        owner = inherited(types, tname, lambda t, p=part: t if t.component(p) else None)
        if owner is None:
            return None
        sym = owner.component(part)
        if "private" in sym.attrs:
            return owner, part, sym
    return None


def check_generated(body, lookup, types, owners: dict[str, str], module: str | None, where):
    """Emitted statements of a derivative routine written into ``module`` read no PRIVATE
    component of a type another module defines (a located internal error otherwise)."""
    for s in walk_stmts(tuple(body)):
        for e in stmt_exprs(s):
            for sub in subexprs(e):
                if not (isinstance(sub, ir.Name | ir.ArrayRef) and "%" in sub.name):
                    continue
                hit = private_component(sub.name, lookup, types)
                if hit is None or owners.get(hit[0].name) == module:
                    continue
                raise FortranADError(
                    s.loc if s.loc != ir.NOWHERE else where,
                    f"internal error: generated code reads {_component(sub, hit)} from "
                    f"outside module '{owners.get(hit[0].name)}'",
                    "gfortran would reject it; make the component PUBLIC, or report this input",
                )


def _component(sub: ir.Name | ir.ArrayRef, hit: tuple[ir.TypeDef, str, ir.Symbol]) -> str:
    owner, part, sym = hit
    return f"'{sub.name}': component '{part}' of type '{owner.name}' is PRIVATE (at {sym.loc})"


def _private_variable(var: str, info, program) -> tuple[str, str] | None:
    key = program.global_key(info, var)
    if key is None or key[0] not in program.modules:
        return None
    module = program.modules[key[0]]
    sym = module.symbol(key[1])
    if sym is None or "parameter" in sym.attrs or not is_private(module, key[1]):
        return None
    return module.name, (
        f"module variable '{key[1]}' of module '{module.name}' is PRIVATE (at {sym.loc})"
    )
