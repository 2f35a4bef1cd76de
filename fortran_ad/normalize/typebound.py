"""Type-bound procedure calls → calls of the specific procedure, before generics and the
call graph.

``call obj%proc(a)`` (lowered as CallStmt "obj%proc") and the function form ``obj%f(a)``
(lowered as an ArrayRef "obj%f" since the parser cannot tell it from a component) become
``call proc_impl(obj, a)`` / ``f_impl(obj, a)``: the binding is looked up in the declared type
of ``obj`` (or the nearest ancestor that has it), the passed object goes in as the first
actual argument or, with PASS(name), at that dummy's position; NOPASS passes nothing. A
generic binding picks its specific as a generic interface does (normalize/generics.py).

Dispatch is static: the declared type decides. That is the dynamic type too unless the
object is polymorphic (CLASS) and some type extending its declared type (among the files
given) overrides the binding; such a call, a DEFERRED binding, a binding of an unknown type,
and a call through a procedure-pointer component are located errors.

Invariant (checked here for every routine): no call whose name is a component path
(``a%b``) leaves this pass, so a type-bound call can never reach the call graph as an
unknown external (which activity would treat as passive: silently wrong derivatives).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import used_symbols
from fortran_ad.ir.symbols import ScopeTable, inherited, type_name
from fortran_ad.ir.walk import map_body, map_expr


def resolve_type_bound(files: list[ir.SourceFile]) -> list[ir.SourceFile]:
    types: dict[str, ir.TypeDef] = {}
    modules: dict[str, ir.Module] = {}
    routines: dict[str, ir.Routine] = {}
    for f in files:
        for unit in f.units:
            if isinstance(unit, ir.OpaqueUnit):
                continue
            if isinstance(unit, ir.Module):
                modules[unit.name] = unit
            for item in unit.spec:
                if isinstance(item, ir.TypeDef):
                    types.setdefault(item.name, item)
            for r in unit.routines if isinstance(unit, ir.Module) else (unit,):
                _collect(r, routines, types)
    if not any(t.bindings for t in types.values()) and not _any_path_call(files):
        return files
    res = _TypeBound(types, routines)
    out = []
    for f in files:
        units = []
        for unit in f.units:
            if isinstance(unit, ir.Module):
                host = ScopeTable(
                    {s.name: s for s in unit.symbols}, None, used_symbols(unit.spec, modules), types
                )
                rs = tuple(res.routine(r, host, modules) for r in unit.routines)
                unit = replace(unit, routines=rs)
            elif isinstance(unit, ir.Routine):
                unit = res.routine(unit, None, modules)
            units.append(unit)
        out.append(replace(f, units=tuple(units)))
    return out


def _collect(r: ir.Routine, routines: dict[str, ir.Routine], types: dict) -> None:
    routines.setdefault(r.name, r)
    for item in r.spec:
        if isinstance(item, ir.TypeDef):
            types.setdefault(item.name, item)
    for c in r.contains:
        _collect(c, routines, types)


def _any_path_call(files: list[ir.SourceFile]) -> bool:
    from fortran_ad.ir.walk import walk_stmts

    for f in files:
        for unit in f.units:
            rs = unit.routines if isinstance(unit, ir.Module) else (unit,)
            for r in rs:
                if isinstance(r, ir.Routine) and any(
                    isinstance(s, ir.CallStmt) and "%" in s.name for s in walk_stmts(r.body)
                ):
                    return True
    return False


class _TypeBound:
    def __init__(self, types: dict[str, ir.TypeDef], routines: dict[str, ir.Routine]):
        self.types = types
        self.routines = routines

    def routine(self, r: ir.Routine, host: ScopeTable | None, modules) -> ir.Routine:
        from fortran_ad.normalize.constructs import map_body_exprs

        scope = ScopeTable(
            {s.name: s for s in r.symbols}, host, used_symbols(r.spec, modules), self.types
        )

        def expr(e: ir.Expr, loc: ir.SourceLoc) -> ir.Expr:
            def fn(x: ir.Expr) -> ir.Expr | None:
                if isinstance(x, ir.Call) and "%" in x.name:  # obj%f() read as a reference
                    obj, _, part = x.name.replace(" ", "").rpartition("%")
                    given = x.args
                elif isinstance(x, ir.ArrayRef) and "%" in x.name and not x.head:
                    obj, _, part = x.name.rpartition("%")
                    if self._binding_of(obj, part, scope) is None:
                        return None  # a component
                    given = x.subs
                else:
                    return None
                args = tuple(map_expr(a, fn) for a in given)
                name, full, how = self.resolve(obj, part, args, scope, loc, "function")
                return ir.Call(name, full, how)

            return map_expr(e, fn)

        def stmt(s: ir.Stmt) -> list[ir.Stmt] | None:
            if isinstance(s, ir.CallStmt):
                args = tuple(expr(a, s.loc) for a in s.args)
                if "%" not in s.name:
                    return [replace(s, args=args)]
                obj, _, binding = s.name.rpartition("%")
                name, args, how = self.resolve(obj, binding, args, scope, s.loc, "call")
                return [replace(s, name=name, args=args, spelled=how)]
            if isinstance(s, ir.Assign):
                return [replace(s, target=expr(s.target, s.loc), value=expr(s.value, s.loc))]
            return None

        body = map_body(r.body, stmt)  # statements with their own location, then the rest
        body = map_body_exprs(body, lambda e: expr(e, r.loc))
        contains = tuple(self.routine(c, scope, modules) for c in r.contains)
        symbols = tuple(self._monomorphic(s) for s in r.symbols)
        spec = tuple(self._monomorphic_decl(item) for item in r.spec)
        return replace(r, spec=spec, body=body, contains=contains, symbols=symbols)

    def _monomorphic_decl(self, item: ir.SpecItem) -> ir.SpecItem:
        if not isinstance(item, ir.TypeDecl):
            return item
        probe = ir.Symbol("", item.type, (), None, frozenset(item.attrs))
        new = self._monomorphic(probe)
        return item if new is probe else replace(item, type=new.type)

    def _monomorphic(self, sym: ir.Symbol) -> ir.Symbol:
        """CLASS(t) → TYPE(t) for a non-allocatable, non-pointer object when no type given
        extends t: its dynamic type is its declared type (derivative code may then assign,
        save and restore it)."""
        tname = type_name(sym)
        if tname is None or not sym.type.base.startswith("class(") or tname not in self.types:
            return sym
        if sym.attrs & {"allocatable", "pointer"} or self._extended(tname):
            return sym
        return replace(sym, type=replace(sym.type, base=f"type({tname})"))

    def _extended(self, tname: str) -> bool:
        return any(t.parent == tname for t in self.types.values())

    def _object_type(self, obj: str, scope: ScopeTable) -> tuple[str | None, bool]:
        """(declared type name, polymorphic) of the object path ``obj``."""
        sym = scope.lookup(obj)
        tname = type_name(sym)
        return tname, sym is not None and sym.type is not None and sym.type.base.startswith(
            "class("
        )

    def _binding_of(self, obj: str, name: str, scope: ScopeTable) -> ir.Binding | None:
        tname, _ = self._object_type(obj, scope)
        if tname is None:
            return None
        if inherited(self.types, tname, lambda t: t.component(name)) is not None:
            return None
        return inherited(self.types, tname, lambda t: t.binding(name))

    def resolve(self, obj, binding, args, scope, loc, what):
        full = f"{obj}%{binding}"
        tname, poly = self._object_type(obj, scope)
        if "(" in obj or tname is None:
            raise FortranADError(
                loc,
                f"{what} '{full}': the type of '{obj}' is not known"
                if "(" not in obj
                else f"{what} '{full}' through an array element is not supported",
                "pass the object to the procedure directly",
            )
        b = self._binding_of(obj, binding, scope)
        if b is None:
            kind = "a procedure-pointer component or unknown binding"
            raise FortranADError(loc, f"{what} '{full}': {kind} of type '{tname}'")
        if b.deferred:
            raise FortranADError(loc, f"{what} '{full}': binding '{binding}' is DEFERRED")
        if poly:
            self._refuse_override(tname, binding, full, loc, what)
        if not b.specifics:
            return self._specific(b, binding, obj, args, full, loc, what)
        from fortran_ad.normalize.generics import best_match

        options = []
        for spec_name in b.specifics:
            sb = inherited(self.types, tname, lambda t, n=spec_name: t.binding(n))
            if sb is None or sb.specifics or sb.deferred:
                raise FortranADError(
                    b.loc, f"generic binding '{binding}': '{spec_name}' is not a specific binding"
                )
            try:  # a specific that cannot take these arguments is no candidate
                options.append(self._specific(sb, binding, obj, args, full, loc, what))
            except FortranADError:
                continue
        syms = {n: s for n, s in scope.local.items()}
        pairs = [(name, full_args) for name, full_args, _ in options]
        what = f"generic binding '{binding}'"
        k = best_match(pairs, self.routines, syms, loc, what, self.types)
        return options[k]

    def _specific(self, b: ir.Binding, called: str, obj: str, args, full, loc, what):
        """(specific, actual arguments with the passed object, spelling) of binding ``b``
        called as ``obj%called(args)``."""
        assert b.procedure is not None
        r = self.routines.get(b.procedure)
        if r is None:
            raise FortranADError(loc, f"{what} '{full}': no source for '{b.procedure}'")
        kind = "subroutine" if what == "call" else "function"
        if r.kind != kind:
            raise FortranADError(loc, f"{what} '{full}': '{r.name}' is a {r.kind}, not a {kind}")
        if len(args) + (b.passed is not None) > len(r.args):
            raise FortranADError(loc, f"{what} '{full}': too many arguments for '{r.name}'")
        if b.passed is None:
            return b.procedure, tuple(args), ir.Spelling(b.procedure, f"{obj}%{called}")
        dummy = b.passed or (r.args[0] if r.args else "")
        if dummy not in r.args:
            raise FortranADError(b.loc, f"binding '{b.name}': '{r.name}' has no dummy '{dummy}'")
        k = r.args.index(dummy)
        positional = [a for a in args if not isinstance(a, ir.Keyword)]
        keywords = [a for a in args if isinstance(a, ir.Keyword)]
        o: ir.Expr = ir.Name(obj)
        if len(positional) < k:
            k, o = len(positional), ir.Keyword(dummy, o)
        out = (*positional[:k], o, *positional[k:], *keywords)
        return b.procedure, out, ir.Spelling(b.procedure, f"%{called}", k)

    def _refuse_override(self, tname: str, binding: str, full: str, loc, what) -> None:
        for other in self.types.values():
            if other.name == tname or other.binding(binding) is None:
                continue
            parent = other.parent
            seen: set[str] = set()
            while parent is not None and parent not in seen:
                seen.add(parent)
                if parent == tname:
                    raise FortranADError(
                        loc,
                        f"{what} '{full}' dispatches dynamically: type '{other.name}' extends "
                        f"'{tname}' and overrides '{binding}' (at {other.loc})",
                        "declare the object TYPE(...) instead of CLASS(...) to bind statically",
                    )
                parent = self.types[parent].parent if parent in self.types else None
