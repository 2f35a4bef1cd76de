"""What a routine's statements and calls write, for the transforms (a base of
ad/core/common.RoutineAD): the actuals and globals a call may change (saved around it), the
names a body assigns, and those whose allocation or association status it changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import dummy_map
from fortran_ad.ir.walk import base_name, stmt_exprs, subexprs, var_of, walk_stmts

if TYPE_CHECKING:
    from fortran_ad.ir.program import Program


class WriteSets:
    """Needs ``routine``, ``program``, ``globals``, ``namer``, ``extra_keys`` and ``lookup``
    (RoutineAD)."""

    routine: ir.Routine
    program: Program
    globals: object
    namer: object
    extra_keys: dict

    def lookup(self, name: str) -> ir.Symbol | None:
        raise NotImplementedError

    def written_by_call(self, s: ir.CallStmt) -> list[ir.Expr]:
        """Actual designators the callee may write (intent out/inout, or no intent), except
        INTENT(IN) dummies of this routine: no callee may redefine those (its dummy may lack
        an intent, a write to it is then not executed), so nothing restores them."""
        fixed = {
            a for a in self.routine.args if getattr(self.routine.symbol(a), "intent", "") == "in"
        }
        return [a for a in self._written_by_call(s) if base_name(a) not in fixed]

    def _written_by_call(self, s: ir.CallStmt) -> list[ir.Expr]:
        info = self.program.get(s.name)
        out = []
        if info is None:
            from fortran_ad.ad.constructs import mpi

            known = mpi.written(self, s) if mpi.is_mpi(s.name) else None
            return known if known is not None else [a for a in s.args if base_name(a) is not None]
        for d, a in dummy_map(s.args, info.routine).items():
            sym = info.routine.symbol(d)
            if base_name(a) is not None and (sym is None or sym.intent != "in"):
                element = isinstance(a, ir.ArrayRef) and not any(
                    isinstance(x, ir.Range) for x in a.subs
                )
                parts = self._written_parts(info.routine, d, a)
                if parts is not None:  # a whole object: the components the callee changes
                    out += parts
                elif element and sym is not None and sym.rank:
                    # sequence association: the callee may write from a(i) onwards
                    out.append(ir.Name(a.name))
                else:
                    out.append(a)
        return out + self.globals_written_by_call(s)

    def globals_written_by_call(self, s: ir.CallStmt) -> list[ir.Expr]:
        """Module and host variables the callee (transitively) writes that some backward sweep
        needs, by their names here: saved around the call like written actuals, also when
        this routine does not mention them (its adjoint re-runs the callee's primal from its
        state at the call)."""
        out: list[ir.Expr] = []
        if self.globals is not None and self.program.get(s.name) is not None:
            for key in sorted(self.globals.call_writes(s.name) & self.globals.needed):
                name = self.global_name(key)
                if name is not None:
                    out.append(ir.Name(name))
        return out

    def global_name(self, key: tuple[str, str]) -> str | None:
        """The name under which the derivative routine reaches module or COMMON variable
        ``key`` (None for another routine's host variable): the routine's own name for it, or
        one a USE the derivative adds brings in, renamed ``fad_<var>N`` (``use owner, only:
        fad_g1 => g``) when a local or another global of this routine takes the name. Naming
        the shadowing variable instead would save, restore or size the wrong object."""
        visible = {k: n for n, k in self.globals.visible(self.routine.name).items()}
        info = self.program.get(self.routine.name)
        if key in visible:
            return visible[key]
        if key[0].startswith("host:"):
            return None
        if info is not None and self.program.global_key(info, key[1]) == key:
            return key[1]  # in scope, not mentioned here
        if key not in self.extra_keys:
            free = self.lookup(key[1]) is None and key[1] not in self.extra_keys.values()
            self.extra_keys[key] = key[1] if free else self.namer.temp(key[1])
        return self.extra_keys[key]

    def _written_parts(self, callee: ir.Routine, d: str, a: ir.Expr) -> list[ir.Expr] | None:
        """``a%c`` for each component ``c`` the callee may change when ``a`` is a whole scalar
        derived-type variable (analysis/reads.py: ``written_components``); None otherwise
        (the whole actual is written). Saving ``state%clock`` around ``call
        state%advance_clock(dt)`` instead of the whole model state."""
        from fortran_ad.ad.invariants.private_access import private_component, type_modules
        from fortran_ad.analysis.reads import written_components
        from fortran_ad.ir.symbols import type_name

        sym = self.lookup(a.name) if isinstance(a, ir.Name) and "%" not in a.name else None
        if sym is None or sym.rank or type_name(sym) is None or sym.type.base.startswith("class"):
            return None
        comps = written_components(callee, d, self._routine_of)
        if comps is None:
            return None
        paths = [f"{a.name}%{c}" for c in sorted(comps)]
        owners = type_modules(self.program)
        module = self.info.module.name if self.info.module is not None else None
        for path in paths:  # derivative code outside the type's module cannot name them
            hit = private_component(path, self.lookup, self.program.types)
            if hit is not None and owners.get(hit[0].name) != module:
                return None
            comp = self.lookup(path)  # a pointer's target may be anything: the object whole
            if comp is None or "pointer" in comp.attrs:
                return None
        return [ir.Name(p) for p in paths]

    def _routine_of(self, name: str) -> ir.Routine | None:
        info = self.program.get(name)
        return info.routine if info is not None else None

    def writes(self, body: tuple[ir.Stmt, ...]) -> set[str]:
        """Variables ``body`` may write, also through the side effects of the functions its
        expressions reference (an INOUT argument of ``t = f(n, y(2))`` is written)."""
        out: set[str] = set()
        for s in walk_stmts(body):
            for e in stmt_exprs(s):
                for x in subexprs(e):
                    info = self.program.get(x.name) if isinstance(x, ir.Call) else None
                    if info is not None and info.routine.kind == "function":
                        call = ir.CallStmt(x.name, x.args, s.loc)
                        out.update(base_name(a) or "" for a in self.written_by_call(call))
            if isinstance(s, ir.Assign):
                out.add(base_name(s.target) or "")
            elif isinstance(s, ir.CallStmt):
                out.update(base_name(a) or "" for a in self.written_by_call(s))
            elif isinstance(s, ir.Do):
                out.add(s.var)
            elif isinstance(s, ir.Opaque):
                out.update(s.writes)
        return out

    def reshapes(self, body: tuple[ir.Stmt, ...]) -> set[str]:
        """Variables whose allocation or association status ``body`` may change: ALLOCATE,
        DEALLOCATE (also of allocation on assignment), pointer assignment, and allocatable or
        pointer actuals a callee may write (its dummy may be allocatable or a pointer)."""
        out: set[str] = set()
        for s in walk_stmts(body):
            if isinstance(s, ir.Opaque) and s.text.lstrip().lower().startswith(
                ("allocate", "deallocate")
            ):
                out.update(s.writes)
            elif isinstance(s, ir.PointerAssign):
                out.add(base_name(s.target) or "")
            elif isinstance(s, ir.CallStmt):
                for a in self.written_by_call(s):
                    sym = (
                        self.lookup(var_of(a.name))
                        if isinstance(a, ir.Name | ir.ArrayRef)
                        else None
                    )
                    if sym is None or {"allocatable", "pointer"} & set(sym.attrs):
                        out.add(base_name(a) or "")
        return out
