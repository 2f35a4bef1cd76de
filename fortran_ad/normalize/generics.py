"""Generic interfaces → specific procedures, before the call graph is built.

``interface norm; module procedure norm_s, norm_v; end interface`` makes ``norm(x)`` a call
to the specific whose dummies match the actual arguments by number, type and rank (an
ELEMENTAL specific matches any rank; an exact rank match is preferred). A generic call that
matches no specific, or several equally, is a located error.
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import component
from fortran_ad.ir.types import Typer
from fortran_ad.ir.walk import map_expr, subexprs

INT1 = ir.Literal("1", "integer")


def resolve_generics(files: list[ir.SourceFile]) -> list[ir.SourceFile]:
    generics: dict[str, tuple[str, ...]] = {}
    routines: dict[str, ir.Routine] = {}
    modules: dict[str, ir.Module] = {}
    types: dict[str, ir.TypeDef] = {}
    for f in files:
        for unit in f.units:
            specs = unit.spec if isinstance(unit, ir.Module | ir.Routine) else ()
            for item in specs:
                if isinstance(item, ir.TypeDef):
                    types[item.name] = item
                if isinstance(item, ir.Interface) and item.name is not None:
                    generics[item.name] = generics.get(item.name, ()) + item.procedures
            if isinstance(unit, ir.Module):
                modules[unit.name] = unit
                for r in unit.routines:
                    routines[r.name] = r
            elif isinstance(unit, ir.Routine):
                routines[unit.name] = unit
    generics = {g: ps for g, ps in generics.items() if g not in routines}
    if not generics:
        return files
    out = []
    for f in files:
        units = []
        for unit in f.units:
            if isinstance(unit, ir.Module):
                mod_syms = {s.name: s for s in unit.symbols}
                rs = tuple(_routine(r, generics, routines, mod_syms, types) for r in unit.routines)
                unit = replace(unit, routines=rs)
            elif isinstance(unit, ir.Routine):
                unit = _routine(unit, generics, routines, {}, types)
            units.append(unit)
        out.append(replace(f, units=tuple(units)))
    return out


def _routine(r: ir.Routine, generics, routines, outer: dict, types) -> ir.Routine:
    syms = {**outer, **{s.name: s for s in r.symbols}}
    resolver = _Resolver(generics, routines, syms, types)
    from fortran_ad.normalize.constructs import map_body_exprs

    def stmt(s: ir.Stmt) -> list[ir.Stmt] | None:
        if isinstance(s, ir.CallStmt) and s.name in generics:
            name = resolver.specific(s.name, s.args, s.loc)
            return [replace(s, name=name, spelled=_spelling(name, s))]
        return None

    from fortran_ad.ir.walk import map_body

    body = map_body(r.body, stmt)
    body = map_body_exprs(body, lambda e: resolver.expr(e, r.loc))
    contains = tuple(_routine(c, generics, routines, syms, types) for c in r.contains)
    return replace(r, body=body, contains=contains)


class _Resolver:
    def __init__(self, generics, routines, syms, types: dict[str, ir.TypeDef]) -> None:
        self.generics = generics
        self.routines = routines
        self.syms = syms
        self.types = types  # derived types by name

    def expr(self, e: ir.Expr, loc) -> ir.Expr:
        if not any(isinstance(x, ir.Call) and x.name in self.generics for x in subexprs(e)):
            return e

        def fn(x: ir.Expr) -> ir.Expr | None:
            if isinstance(x, ir.Call) and x.name in self.generics:
                args = tuple(map_expr(a, fn) for a in x.args)
                name = self.specific(x.name, args, loc)
                return ir.Call(name, args, _spelling(name, x))
            return None

        return map_expr(e, fn)

    def specific(self, generic: str, args: tuple[ir.Expr, ...], loc) -> str:
        found: list[tuple[int, str]] = []
        for name in self.generics[generic]:
            r = self.routines.get(name)
            if r is None:
                continue
            score = self._match(r, args)
            if score is not None:
                found.append((score, name))
        found.sort()
        if not found or (len(found) > 1 and found[0][0] == found[1][0]):
            what = "no specific" if not found else "several specifics"
            raise FortranADError(
                loc, f"generic '{generic}': {what} of {', '.join(self.generics[generic])} match"
            )
        return found[0][1]

    def _match(self, r: ir.Routine, args: tuple[ir.Expr, ...]) -> int | None:
        """0 for an exact match, more for elemental or kind-unsure ones, None for none."""
        elemental = "elemental" in r.prefix
        score = 0
        given: dict[str, ir.Expr] = {}
        for i, a in enumerate(args):
            if isinstance(a, ir.Keyword):
                given[a.name] = a.value
            elif i < len(r.args):
                given[r.args[i]] = a
            else:
                return None
        for d in r.args:
            sym = r.symbol(d)
            if d not in given:
                if sym is None or "optional" not in sym.attrs:
                    return None
                continue
            if sym is None:
                continue
            t, rank = self._type_rank(given[d])
            if t is not None and sym.type is not None:
                fit = _compatible(t, sym.type)
                if fit is None:
                    return None
                score += fit
            if rank != sym.rank:
                if not elemental or sym.rank != 0:
                    return None
                score += 1
        return score

    def _type_rank(self, e: ir.Expr) -> tuple[ir.TypeSpec | None, int]:
        """The declared type and rank of an actual argument (ir/types.py); components
        ``y%a`` by their type's declaration. Unknown: (None, 0)."""
        t = Typer(self.lookup, self.function_result).of(e)
        return (t.spec, t.rank) if t is not None else (None, 0)

    def lookup(self, name: str) -> ir.Symbol | None:
        if "%" in name:
            base, *parts = name.split("%")
            return component(self.syms.get(base), parts, self.types)
        return self.syms.get(name)

    def function_result(self, name: str) -> ir.Symbol | None:
        r = self.routines.get(name)
        if r is None or r.kind != "function":
            return None
        return r.symbol(r.result or r.name)


def _spelling(specific: str, call: ir.Call | ir.CallStmt) -> ir.Spelling:
    """The generic as the source wrote it (a USE rename's local name, see scoping.py)."""
    before = call.spelled
    written = before.name if before is not None and before.specific == call.name else call.name
    return ir.Spelling(specific, written)


def _compatible(actual: ir.TypeSpec, dummy: ir.TypeSpec) -> int | None:
    """None: different types; 0: same kind; 2: kinds spelled differently (maybe equal)."""

    def family(t: ir.TypeSpec) -> str:
        if t.base.startswith(("type(", "class(")):  # TYPE(t) actual, CLASS(t) dummy
            return t.base.split("(", 1)[1]
        return "real" if t.is_real else t.base

    if family(actual) != family(dummy):
        return None
    ka = actual.kind if actual.base != "double precision" else "8"
    kd = dummy.kind if dummy.base != "double precision" else "8"
    return 0 if ka is None or kd is None or ka == kd else 2


def best_match(
    options: list[tuple[str, tuple[ir.Expr, ...]]],
    routines: dict[str, ir.Routine],
    syms: dict[str, ir.Symbol],
    loc,
    what: str,
    types: dict[str, ir.TypeDef] | None = None,
) -> int:
    """Index of the (specific, full actual arguments) pair that matches best, as a generic
    interface's specific is chosen; none or several equally: a located error."""
    resolver = _Resolver({}, routines, syms, types or {})
    found = sorted(
        (score, k)
        for k, (name, args) in enumerate(options)
        if (score := resolver._match(routines[name], args)) is not None
    )
    if not found or (len(found) > 1 and found[0][0] == found[1][0]):
        names = ", ".join(n for n, _ in options)
        raise FortranADError(
            loc, f"{what}: {'no specific' if not found else 'several specifics'} of {names} match"
        )
    return found[0][1]
