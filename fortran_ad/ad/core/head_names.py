"""The head's --wrt and --of names: real dummies, derived-type dummies and component paths.

``--wrt state`` for a ``type(state_t)`` dummy makes every real component of the object an
independent, nested types included (``state%p%c``), allocatable and pointer array components too;
``--wrt state%h`` selects one component (or, naming a nested object, all of its real components).
Integer, logical and character components are passive. The derivative object is the one
ad/constructs/derived.py builds for every active derived-type variable: ``stateb``/``stated`` of the
SAME type, of which generated code only touches the real components the per-component activity
(analysis/components.py) finds active; the analysis is seeded with exactly the named components.

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
    _refuse_extended(types, [type_name(r.symbol(var)), *([tname] if parts else [])], path, where)
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


def _refuse_extended(types, tnames: list[str | None], path: str, where) -> None:
    """An extended type (EXTENDS) on the way to or inside a --wrt/--of object: the
    per-component activity keys a component by the type it is reached through, so an
    inherited component seen through a CLASS(parent) dummy is another key; refused rather
    than risk a component whose derivative is never propagated."""
    todo, seen = [t for t in tnames if t], set()
    while todo:
        t = todo.pop()
        if t in seen or t not in types:
            continue
        seen.add(t)
        if types[t].parent:
            raise FortranADError(
                where,
                f"--wrt/--of '{path}': type '{t}' extends '{types[t].parent}'; objects of "
                "extended types cannot be independents or dependents yet",
                "pass the components as arrays, or use a type without EXTENDS",
            )
        todo += [n for c in types[t].components if (n := type_name(c))]


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


def check_seeded(r: ir.Routine, types: Mapping[str, ir.TypeDef], paths, active, components):
    """Invariant, on every run: each --wrt/--of name's variable has a derivative at the head
    (``active``), and every real leaf under a --wrt path may carry one (``components``: the
    per-component activity, None when it did not run). A leaf dropped here would come back
    with the caller's derivative untouched: a silent wrong gradient. Internal located error."""
    for path in sorted(paths):
        var, *parts = path.split("%")
        if var not in active:
            raise FortranADError(
                r.loc, f"internal: --wrt/--of name '{path}' has no derivative at the head"
            )
        sym = r.symbol(var)
        for part in parts:
            sym = inherited(types, type_name(sym) or "", lambda t, part=part: t.component(part))
        tname = type_name(sym)
        if components is None or tname is None and not parts:
            continue
        if tname is None:
            owner = type_name(_parent(r, types, var, parts))
            keys = [(owner, parts[-1])]
        else:
            keys = _leaf_keys(types, tname)
        missing = [k for k in keys if k not in components]
        if missing:
            raise FortranADError(
                r.loc,
                f"internal: component '{missing[0][1]}' of type '{missing[0][0]}' under "
                f"'{path}' is passive in the per-component activity",
            )


def _parent(r: ir.Routine, types, var: str, parts: list[str]) -> ir.Symbol | None:
    sym = r.symbol(var)
    for part in parts[:-1]:
        sym = inherited(types, type_name(sym) or "", lambda t, part=part: t.component(part))
    return sym


def _leaf_keys(types, tname: str, seen: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(type, component) of every real leaf of ``tname``, as analysis/components.py keys them."""
    out: list[tuple[str, str]] = []
    for c in components(types, tname):
        inner = type_name(c)
        if inner is not None and inner not in seen:
            out += _leaf_keys(types, inner, seen | {tname})
        elif is_real(c) and "pointer" not in c.attrs:
            out.append((tname, c.name))
    return out
