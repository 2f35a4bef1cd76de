"""The head's --wrt and --of names: real dummies, derived-type dummies and component paths.

``--wrt state`` for a ``type(state_t)`` dummy makes every real component of the object an
independent, nested types included (``state%p%c``), allocatable and pointer array components
too; ``--wrt state%h`` selects one component (or, naming a nested object, all of its real
components). Integer, logical and character components are passive. The derivative object is
the one ad/derived.py builds for every active derived-type variable: ``stateb``/``stated`` of the
SAME type, of which generated code only touches the real components the per-component activity
(analysis/components.py) finds active; the analysis is seeded with exactly the named
components.

A name that is no dummy, a path through something that is not a derived-type object, a
component the type does not have, or an object without any real component is refused with a
located error: it would have no derivative.
"""

from __future__ import annotations

from collections.abc import Mapping

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import inherited, is_real, type_name


def components(types: Mapping[str, ir.TypeDef], tname: str) -> list[ir.Symbol]:
    """The components of type ``tname``, inherited ones (EXTENDS) first."""
    chain: list[ir.TypeDef] = []
    t: str | None = tname
    while t in types and all(t != c.name for c in chain):
        chain.append(types[t])
        t = types[t].parent
    return [c for td in reversed(chain) for c in td.components]


def real_leaves(
    types: Mapping[str, ir.TypeDef], tname: str, seen: frozenset[str] = frozenset()
) -> list[str]:
    """The real leaf component paths ("%p%c") of type ``tname``, nested types expanded (a
    recursive type is not entered twice)."""
    out: list[str] = []
    for c in components(types, tname):
        inner = type_name(c)
        if inner is not None and inner not in seen:
            out += [f"%{c.name}{p}" for p in real_leaves(types, inner, seen | {tname})]
        elif is_real(c):
            out.append(f"%{c.name}")
    return out


def check_head_name(r: ir.Routine, types: dict[str, ir.TypeDef], name: str, flag: str) -> str:
    """Validate one --wrt/--of name of the head ``r`` (``types``: the derived types of the
    program); return it normalized (lower case, no blanks). Located errors for everything
    without a derivative."""
    path = name.replace(" ", "").lower()
    var, *parts = path.split("%")
    sym = r.symbol(var)
    if sym is None or (var not in r.args and var != r.result):
        raise FortranADError(
            r.loc,
            f"{flag} name '{var}' is not a dummy argument of "
            f"'{r.name}' (arguments: {', '.join(r.args)})",
        )
    where = sym.loc if sym.loc != ir.NOWHERE else r.loc
    for k, part in enumerate(parts):
        tname = type_name(sym)
        if tname is None:
            so_far = "%".join([var, *parts[:k]])
            raise FortranADError(
                where,
                f"{flag} name '{path}': '{so_far}' is not a derived-type object",
                "a component path follows derived-type components: state%p%h",
            )
        if tname not in types:
            raise FortranADError(
                where, f"the definition of derived type '{tname}' is not in the sources"
            )
        comp = inherited(types, tname, lambda t, part=part: t.component(part))
        if comp is None:
            names = [c.name for c in types[tname].components]
            raise FortranADError(
                where,
                f"{flag} name '{path}': type '{tname}' has no component '{part}' "
                f"(components: {', '.join(names)})",
            )
        sym = comp
    tname = type_name(sym)
    if tname is not None:
        if tname not in types:
            raise FortranADError(
                where, f"the definition of derived type '{tname}' is not in the sources"
            )
        if not real_leaves(types, tname):
            raise FortranADError(
                where,
                f"{flag} name '{path}' is a type({tname}) object without real components: "
                "only real components have derivatives",
            )
        return path
    if not is_real(sym):
        t = sym.type.base if sym.type else "untyped"
        what = "component" if parts else "name"
        raise FortranADError(
            where,
            f"{flag} {what} '{path}' is {t}, not real: only real variables have derivatives",
        )
    return path


def default_of(r: ir.Routine) -> set[str]:
    """The outputs when no --of is given: real intent(out)/(inout) dummies, the result."""
    of = {
        a
        for a in r.args
        if is_real(r.symbol(a)) and (r.symbol(a).intent or "inout") in ("out", "inout")
    }
    if r.kind == "function":
        of.add(r.result)
    return of
