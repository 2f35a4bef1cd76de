"""Procedure names scoped by module: same-named procedures of two modules get unique names.

Fortran scopes a module procedure by its module: two modules may each have a (private)
``get_nx``. The analyses key routines by name (ir/program.py), so before anything
else a module procedure whose name another module (or an external procedure) also defines
is renamed ``<name>_<module>`` (unique, so are its derivatives' names), and every reference
is resolved the way the compiler does: a routine's internal procedures, then its module's
procedures, then what its USE statements bring in (ONLY lists and renames followed, through
modules that re-export). Calls, type-binding targets and generic interfaces' specifics are
rewritten; primal code keeps the source's name (``Routine.source_name``, ``ir.Spelling``).

Names a USE rename brings in (``use geo, only: nx => get_nx``) are resolved the same way, so a
renamed module procedure can never be taken for an unknown (passive) external.
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import is_private
from fortran_ad.ir.walk import map_body, map_expr


def scope_routines(files: list[ir.SourceFile]) -> list[ir.SourceFile]:
    modules = {u.name: u for f in files for u in f.units if isinstance(u, ir.Module)}
    externals = {u.name for f in files for u in f.units if isinstance(u, ir.Routine)}
    count: dict[str, int] = {}
    for m in modules.values():
        for r in m.routines:
            count[r.name] = count.get(r.name, 0) + 1
    taken = set(count) | externals
    new: dict[tuple[str, str], str] = {}  # (module, name) → unique name
    for m in modules.values():
        for r in m.routines:
            if count[r.name] > 1 or r.name in externals:
                unique = f"{r.name}_{m.name}"
                while unique in taken:
                    unique += "_"
                taken.add(unique)
                new[(m.name, r.name)] = unique
    renames = _Renames(modules, new)
    if not new and not _use_renames(files):
        return files
    out = []
    for f in files:
        units = []
        for unit in f.units:
            if isinstance(unit, ir.Module):
                unit = renames.module(unit)
            elif isinstance(unit, ir.Routine):
                unit = renames.routine(unit, renames.imports(unit.spec), {})
            units.append(unit)
        out.append(replace(f, units=tuple(units)))
    return out


class _Renames:
    def __init__(self, modules: dict[str, ir.Module], new: dict[tuple[str, str], str]):
        self.modules = modules
        self.new = new
        self._exports: dict[str, dict[str, str]] = {}

    def own(self, m: ir.Module) -> dict[str, str]:
        """Procedures and generic interfaces of ``m`` by name (generics keep theirs)."""
        generics = {i.name: i.name for i in m.spec if isinstance(i, ir.Interface) and i.name}
        return {**generics, **{r.name: self.new.get((m.name, r.name), r.name) for r in m.routines}}

    def exports(self, name: str, trail: frozenset[str] = frozenset()) -> dict[str, str]:
        """Procedures module ``name`` makes visible to its users: local name → unique name."""
        if name in self._exports:
            return self._exports[name]
        m = self.modules.get(name)
        if m is None or name in trail:
            return {}
        seen = {**self.imports(m.spec, trail | {name}), **self.own(m)}
        out = {k: v for k, v in seen.items() if not is_private(m, k)}
        self._exports[name] = out
        return out

    def imports(self, spec, trail: frozenset[str] = frozenset()) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in spec:
            if not isinstance(item, ir.Use):
                continue
            visible = self.exports(item.module, trail)
            if item.only is not None:
                out.update({lo: visible[re] for lo, re in item.only if re in visible})
            else:
                renamed = {re: lo for lo, re in item.renames}
                out.update({renamed.get(k, k): v for k, v in visible.items()})
        return out

    def module(self, m: ir.Module) -> ir.Module:
        visible = {**self.imports(m.spec), **self.own(m)}
        spec = tuple(self._spec_item(item, visible) for item in m.spec)
        routines = []
        for r in m.routines:
            unique = self.new.get((m.name, r.name))
            r = self.routine(r, self.imports(r.spec), visible)
            if unique is not None:
                r = replace(r, name=unique, source_name=r.name)
            routines.append(r)
        return replace(m, spec=spec, routines=tuple(routines))

    def _spec_item(self, item: ir.SpecItem, visible: dict[str, str]) -> ir.SpecItem:
        if isinstance(item, ir.TypeDef) and item.bindings:
            bs = tuple(
                replace(b, procedure=visible.get(b.procedure, b.procedure))
                if b.procedure is not None
                else b
                for b in item.bindings
            )
            return replace(item, bindings=bs)
        if isinstance(item, ir.Interface) and item.name is not None:
            procs = tuple(visible.get(p, p) for p in item.procedures)
            return replace(item, procedures=procs)
        return item

    def routine(self, r: ir.Routine, imports: dict[str, str], outer: dict[str, str]):
        visible = {**outer, **imports, **{c.name: c.name for c in r.contains}}
        for s in r.symbols:  # a variable of the same name hides the procedure
            if s.name != r.result or r.result_clause:
                visible.pop(s.name, None)
        changed = {k: v for k, v in visible.items() if k != v}
        spec = tuple(self._spec_item(item, visible) for item in r.spec)
        body = r.body
        if changed:
            body = _rename_calls(body, changed)
        contains = tuple(self.routine(c, self.imports(c.spec), visible) for c in r.contains)
        return replace(r, spec=spec, body=body, contains=contains)


def _rename_calls(body: tuple[ir.Stmt, ...], changed: dict[str, str]) -> tuple[ir.Stmt, ...]:
    from fortran_ad.normalize.constructs import map_body_exprs

    def fn(x: ir.Expr) -> ir.Expr | None:
        if isinstance(x, ir.Call) and x.name in changed:
            args = tuple(map_expr(a, fn) for a in x.args)
            return ir.Call(changed[x.name], args, ir.Spelling(changed[x.name], x.name))
        return None

    def stmt(s: ir.Stmt) -> list[ir.Stmt] | None:
        if isinstance(s, ir.CallStmt) and s.name in changed:
            unique = changed[s.name]
            return [replace(s, name=unique, spelled=ir.Spelling(unique, s.name))]
        return None

    return map_body_exprs(map_body(body, stmt), lambda e: map_expr(e, fn))


def _use_renames(files: list[ir.SourceFile]) -> bool:
    """Does any USE statement bring a name in under another name?"""

    def specs(unit) -> list:
        if isinstance(unit, ir.Module):
            return [unit.spec, *(x for r in unit.routines for x in specs(r))]
        if isinstance(unit, ir.Routine):
            return [unit.spec, *(x for c in unit.contains for x in specs(c))]
        return []

    return any(
        local != remote
        for f in files
        for unit in f.units
        for spec in specs(unit)
        for item in spec
        if isinstance(item, ir.Use)
        for local, remote in (*(item.only or ()), *item.renames)
    )
