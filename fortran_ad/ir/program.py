"""The whole program as the analyses see it: every routine with its module, host and scope."""

from __future__ import annotations

from dataclasses import dataclass

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import ScopeTable
from fortran_ad.ir.walk import walk_stmts


@dataclass
class RoutineInfo:
    routine: ir.Routine
    file: ir.SourceFile
    module: ir.Module | None
    host: ir.Routine | None
    scope: ScopeTable

    @property
    def name(self) -> str:
        return self.routine.name


class Program:
    """Index of routines (module, external and internal) and module symbols."""

    def __init__(self, files: list[ir.SourceFile]):
        self.files = files
        self.modules: dict[str, ir.Module] = {}
        self.routines: dict[str, RoutineInfo] = {}
        self.types: dict[str, ir.TypeDef] = {}  # derived types by name (assumed unique)
        for f in files:
            for unit in f.units:
                if isinstance(unit, ir.Module):
                    self.modules[unit.name] = unit
                self._collect_types(unit)
        for f in files:
            for unit in f.units:
                if isinstance(unit, ir.Module):
                    mod_scope = ScopeTable(
                        {s.name: s for s in unit.symbols},
                        modules=self._used_symbols(unit.spec),
                        types=self.types,
                    )
                    for r in unit.routines:
                        self._add(r, f, unit, None, mod_scope)
                elif isinstance(unit, ir.Routine):
                    self._add(unit, f, None, None, None)

    def _collect_types(self, unit: ir.Unit) -> None:
        if isinstance(unit, ir.OpaqueUnit):
            return
        for item in unit.spec:
            if isinstance(item, ir.TypeDef):
                self.types.setdefault(item.name, item)
        for r in unit.contains if isinstance(unit, ir.Routine) else unit.routines:
            self._collect_types(r)

    def _used_symbols(self, spec: tuple[ir.SpecItem, ...]) -> dict[str, ir.Symbol]:
        return used_symbols(spec, self.modules)

    def _add(self, r: ir.Routine, f, module, host, host_scope: ScopeTable | None) -> None:
        scope = ScopeTable(
            {s.name: s for s in r.symbols}, host_scope, self._used_symbols(r.spec), self.types
        )
        if r.name in self.routines:
            other = self.routines[r.name].routine
            raise FortranADError(
                r.loc, f"routine '{r.name}' is defined twice (also at {other.loc})"
            )
        self.routines[r.name] = RoutineInfo(r, f, module, host, scope)
        for c in r.contains:
            self._add(c, f, module, r, scope)

    def global_key(self, info: RoutineInfo, name: str) -> tuple[str, str] | None:
        """(owner, variable) for a name ``info``'s routine reaches by use or host association:
        owner is a module name, ``host:<routine>`` or ``common:<block>`` (a COMMON member,
        keyed by its name: ad/core/common_blocks.py checks that every routine uses the same names);
        None for locals and unknown names."""
        local = info.routine.symbol(name)
        if local is not None:  # a COMMON member is shared like a module variable
            from fortran_ad.ir.symbols import OWNER, block_of

            block = block_of(local)
            return (f"{OWNER}{block}", name) if block is not None else None
        host = self.get(info.host.name) if info.host is not None else None
        while host is not None:
            if host.routine.symbol(name) is not None:
                return (f"host:{host.name}", name)
            host = self.get(host.host.name) if host.host is not None else None
        sym = info.scope.lookup(name)
        if sym is None:
            return None
        for mod in self.modules.values():
            for s in mod.symbols:
                if s is sym:
                    return (mod.name, s.name)
        return None

    def get(self, name: str) -> RoutineInfo | None:
        return self.routines.get(name)

    def function_result(self, name: str) -> ir.Symbol | None:
        """The result symbol of a function of the program (for ir/types.Typer)."""
        info = self.routines.get(name)
        if info is None or info.routine.kind != "function":
            return None
        return info.routine.symbol(info.routine.result or info.routine.name)

    def callees(self, r: ir.Routine) -> set[str]:
        """Names of routines in this program that ``r`` calls (subroutines and functions)."""
        cache = self.__dict__.setdefault("_callees", {})
        key = id(r)
        if key not in cache or cache[key][0] is not r:
            cache[key] = (r, frozenset(self._find_callees(r)))
        return set(cache[key][1])

    def _find_callees(self, r: ir.Routine) -> set[str]:
        from fortran_ad.ir.walk import exprs_of_body, subexprs

        out = set()
        for s in walk_stmts(r.body):
            if isinstance(s, ir.CallStmt) and s.name in self.routines:
                out.add(s.name)
        for e in exprs_of_body(r.body):
            for sub in subexprs(e):
                if isinstance(sub, ir.Call) and sub.name in self.routines:
                    out.add(sub.name)
        return out

    def reachable(self, head: str) -> list[str]:
        """Routines reachable from ``head``, callees before callers (recursion is an error)."""
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                info = self.routines[name]
                raise FortranADError(
                    info.routine.loc, "recursion is not supported: " + " -> ".join([*trail, name])
                )
            state[name] = 1
            for c in sorted(self.callees(self.routines[name].routine)):
                visit(c, [*trail, name])
            state[name] = 2
            order.append(name)

        visit(head, [])
        return order


def used_symbols(
    spec: tuple[ir.SpecItem, ...], modules: dict[str, ir.Module]
) -> dict[str, ir.Symbol]:
    """The symbols USE statements of ``spec`` bring in, by local name (through renames)."""
    out: dict[str, ir.Symbol] = {}
    for item in spec:
        if not isinstance(item, ir.Use) or item.module not in modules:
            continue
        mod = modules[item.module]
        visible = {s.name: s for s in mod.symbols}
        visible.update(
            {k: v for k, v in used_symbols(mod.spec, modules).items() if k not in visible}
        )
        if item.only is not None:
            for local, remote in item.only:
                if remote in visible:
                    out[local] = visible[remote]
        else:
            renamed = dict(item.renames)
            for name, sym in visible.items():
                out[next((k for k, v in renamed.items() if v == name), name)] = sym
    return out


def dummy_map(call_args: tuple[ir.Expr, ...], callee: ir.Routine) -> dict[str, ir.Expr]:
    """Callee dummy name → actual argument expression (positional, then keywords)."""
    out: dict[str, ir.Expr] = {}
    for i, a in enumerate(call_args):
        if isinstance(a, ir.Keyword):
            out[a.name] = a.value
        elif i < len(callee.args):
            out[callee.args[i]] = a
    return out
