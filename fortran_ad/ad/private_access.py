"""Private components and private module variables are refused, with their location, in code
that gets a derivative.

Derivative routines of a module's procedures live in another module (``<module>_b`` /
``<module>_d``, see ad/generate.py), which USEs the primal module: it cannot reach a PRIVATE
component of a type that module defines, and gfortran would reject the generated code. Every
statement of a differentiated routine is copied into its derivative (forward sweep, tangent),
so a component path through a PRIVATE component anywhere in such a routine is a located error
naming the component. (The alternative, emitting derivative routines inside the primal module,
would make the generated file replace the user's module; fortran-ad keeps the primal sources
untouched instead.) The same holds for a PRIVATE module variable the routine reaches (PRIVATE
named constants are copied into the derivative module, ad/emit.py, and stay allowed).
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import inherited, is_private, type_name
from fortran_ad.ir.walk import names_in, stmt_exprs, subexprs, walk_stmts


def refuse_private_components(plan) -> None:
    program = plan.program
    for name in plan.order:
        if not plan.needs_derivative(name):
            continue
        info = program.routines[name]
        for s in walk_stmts(info.routine.body):
            for e in stmt_exprs(s):
                for sub in subexprs(e):
                    if isinstance(sub, ir.Name | ir.ArrayRef) and "%" in sub.name:
                        _check_path(sub.name, info, program.types, s.loc, name)
                for var in names_in(e):
                    _check_variable(var, info, program, s.loc, name)


def _check_variable(var: str, info, program, loc, routine: str) -> None:
    key = program.global_key(info, var)
    if key is None or key[0] not in program.modules:
        return
    module = program.modules[key[0]]
    sym = module.symbol(key[1])
    if sym is None or "parameter" in sym.attrs or not is_private(module, key[1]):
        return
    raise FortranADError(
        loc,
        f"module variable '{key[1]}' of module '{module.name}' is PRIVATE (at {sym.loc}); the "
        f"derivative of '{routine}' lives outside the module and cannot reach it",
        "make the variable PUBLIC to differentiate through code that uses it",
    )


def _check_path(path: str, info, types: dict[str, ir.TypeDef], loc, routine: str) -> None:
    base, *parts = path.split("%")
    sym = info.scope.lookup(base)
    for part in parts:
        tname = type_name(sym)
        if tname is None or tname not in types:
            return
        owner = inherited(types, tname, lambda t, p=part: t if t.component(p) else None)
        if owner is None:
            return
        sym = owner.component(part)
        if "private" in sym.attrs:
            raise FortranADError(
                loc,
                f"'{path}': component '{part}' of type '{owner.name}' is PRIVATE "
                f"(at {sym.loc}); the derivative of '{routine}' lives outside the type's "
                "module and cannot reach it",
                "make the component PUBLIC (or the type's PRIVATE statement apply to fewer "
                "components) to differentiate through it",
            )
