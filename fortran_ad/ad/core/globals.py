"""Module and host variables that carry derivatives between routines.

A module variable ``g`` that is active gets one derivative ``gb`` (``gd``), declared once in the
derivative module of its owner (``<module>_b``) and reached by USE from every derivative routine
that needs it (a COMMON member's lives in a derivative COMMON block: ad/core/common_blocks.py);
a host variable's derivative is a local of the host's derivative routine, reached
by host association. In reverse mode, a global the backward sweep reads is *needed* everywhere:
routines push it before overwriting it, and callers save it around calls that write it. That
holds for passive globals too (``visible``, ``call_writes``): an integer index a callee changes
is as wrong in a backward sweep as a real value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fortran_ad.ad.core.common_blocks import is_common_key
from fortran_ad.ad.core.naming import SUFFIX
from fortran_ad.analysis.activity import Activity
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import Program
from fortran_ad.ir.walk import base_name, walk_stmts

Key = tuple[str, str]  # (owner module or "host:<routine>", variable)


@dataclass
class Globals:
    program: Program
    activity: Activity
    mode: str
    order: list[str]
    names: dict[Key, str] = field(default_factory=dict)  # active global -> derivative name
    writes: dict[str, set[Key]] = field(default_factory=dict)  # routine -> keys (transitive)
    needed: set[Key] = field(default_factory=set)

    def __post_init__(self) -> None:
        from fortran_ad.ad.core.common_blocks import CommonBlocks

        suffix = SUFFIX[self.mode]
        self.commons = CommonBlocks(self.program, {}, self.mode, self.order)
        for owner, var in sorted(self.activity.active_globals):
            taken = self._owner_names(owner)
            name = f"{var}{suffix}"
            i = 0
            while name in taken:
                name, i = f"{var}{suffix}{i}", i + 1
            self.names[(owner, var)] = name
            if owner.startswith("host:"):
                self.activity.forced[owner[5:]].add(var)
        self.commons = CommonBlocks(self.program, self.names, self.mode, self.order, self.activity)
        for r in self.order:  # callees first
            self.writes[r] = self._direct_writes(r)
            callees = self.program.callees(self.program.routines[r].routine)
            for callee in callees:
                self.writes[r] |= self.writes.get(callee, set())
            if self.local_names(r) or callees & self.activity.through_globals:
                self.activity.through_globals.add(r)

    def _owner_names(self, owner: str) -> set[str]:
        if owner.startswith("host:"):
            return {s.name for s in self.program.routines[owner[5:]].routine.symbols}
        if is_common_key((owner, "")):
            return self.commons.owner_names(owner)
        return {s.name for s in self.program.modules[owner].symbols}

    def _direct_writes(self, r: str) -> set[Key]:
        gl = self.activity.globals.get(r, {})
        out: set[Key] = set()
        for s in walk_stmts(self.program.routines[r].routine.body):
            names: set[str] = set()
            if isinstance(s, ir.Assign):
                names.add(base_name(s.target) or "")
            elif isinstance(s, ir.Opaque):
                names |= set(s.writes)
            elif isinstance(s, ir.CallStmt):
                names |= {base_name(a) or "" for a in s.args}
            out |= {gl[n] for n in names if n in gl}
        return out

    # -- per routine ---------------------------------------------------------------------------
    def visible(self, routine: str) -> dict[str, Key]:
        """Every global ``routine`` mentions, passive ones too (an integer index a callee
        changes must be restored like an active variable), by its local name; with internal
        procedures, the routine's own variables as they see them (``host:<routine>``)."""
        memo = self.__dict__.setdefault("_visible", {})
        if routine not in memo:
            from fortran_ad.ir.walk import exprs_of_body, names_in

            info = self.program.routines[routine]
            r = info.routine
            names: set[str] = set()
            for e in exprs_of_body(r.body):
                names |= names_in(e)
            for s in walk_stmts(r.body):
                if isinstance(s, ir.Opaque):
                    names |= set(s.reads) | set(s.writes)
                elif isinstance(s, ir.Do):
                    names.add(s.var)
            out: dict[str, Key] = {}
            for n in sorted(names):
                key = self.program.global_key(info, n)
                if key is None and r.contains and r.symbol(n) is not None:
                    key = (f"host:{routine}", n)
                sym = r.symbol(n) or info.scope.lookup(n)
                if key is not None and sym is not None and "parameter" not in sym.attrs:
                    out[n] = key
            memo[routine] = out
        return memo[routine]

    def call_writes(self, callee: str) -> frozenset[Key]:
        """Globals a call of ``callee`` may change, passive ones too (normalize/actuals.py)."""
        from fortran_ad.normalize.actuals import global_writes

        return global_writes(self.program, callee)

    def call_touches(self, callee: str) -> set[Key]:
        """Globals a call of ``callee`` may read or write: those it or any routine it calls
        (transitively) mentions. Its adjoint re-runs its primal, so each must hold its value
        at the call whenever the adjoint runs."""
        memo = self.__dict__.setdefault("_touches", {})
        if callee not in memo:
            seen, todo, out = {callee}, [callee], set()
            while todo:
                name = todo.pop()
                out |= set(self.visible(name).values())
                for c in self.program.callees(self.program.routines[name].routine):
                    if c in self.program.routines and c not in seen:
                        seen.add(c)
                        todo.append(c)
            memo[callee] = frozenset(out)
        return set(memo[callee])

    def touched_by_calls(self, routine: str, stmts: tuple[ir.Stmt, ...]) -> set[str]:
        """Local names (in ``routine``) of the globals the calls in ``stmts`` (subroutine
        calls and function references) may read or write."""
        from fortran_ad.ir.walk import stmt_exprs, subexprs

        called: set[str] = set()
        for s in walk_stmts(stmts):
            if isinstance(s, ir.CallStmt):
                called.add(s.name)
            for e in stmt_exprs(s):
                called |= {x.name for x in subexprs(e) if isinstance(x, ir.Call)}
        keys: set[Key] = set()
        for c in called & set(self.program.routines):
            keys |= self.call_touches(c)
        return {n for n, k in self.visible(routine).items() if k in keys}

    def local_names(self, routine: str) -> dict[Key, str]:
        """Active globals visible in ``routine`` under their local names."""
        gl = self.activity.globals.get(routine, {})
        return {k: n for n, k in gl.items() if k in self.names}

    def seed_namer(self, routine: str, namer) -> None:
        """Make ``namer.derivative(local)`` answer the global's derivative name."""
        for key, local in self.local_names(routine).items():
            namer.derivs[local] = self.names[key]
            namer.taken.add(self.names[key])

    def module_of(self, routine: str) -> str | None:
        info = self.program.routines[routine]
        return info.module.name if info.module is not None else None

    def uses(self, routine: str, extra: dict[Key, str] | None = None) -> list[str]:
        """USE lines a derivative routine needs for global derivatives and for the globals
        it saves around calls (``extra``: key -> local name, renamed where it differs)."""
        extra = extra or {}
        mine = self.module_of(routine)
        lines = []
        by_module: dict[str, list[str]] = {}
        for key in sorted(set(self.local_names(routine)) | set(extra)):
            owner, var = key
            if is_common_key(key) and key in extra:
                raise FortranADError(
                    self.program.routines[routine].routine.loc,
                    f"'{routine}' calls a routine that overwrites '{var}' of COMMON "
                    f"/{owner[7:]}/, which the adjoint needs: declare the block in '{routine}'",
                )
            renamed = key in extra and extra[key] != var
            if owner.startswith("host:") or is_common_key(key) or (owner == mine and not renamed):
                continue
            if key in self.names and owner != mine:
                by_module.setdefault(f"{owner}_{self._unit()}", []).append(self.names[key])
            if key in extra:
                local = f"{extra[key]} => {var}" if renamed else var
                by_module.setdefault(owner, []).append(local)
        for module, names in sorted(by_module.items()):
            lines.append(f"use {module}, only: {', '.join(sorted(set(names)))}")
        return lines

    def _unit(self) -> str:
        from fortran_ad.ad.core.naming import UNIT_SUFFIX

        return UNIT_SUFFIX[self.mode]

    def module_declarations(self, module: ir.Module) -> list[str]:
        """Declarations of the derivatives of ``module``'s active variables (in the vector
        modes allocatable, with the leading nbdirs dimension given at the head's entry)."""
        from dataclasses import replace

        from fortran_ad.ad.core.common import decl
        from fortran_ad.ad.core.naming import is_vector

        out = []
        for (owner, var), name in sorted(self.names.items()):
            if owner == module.name:
                sym = module.symbol(var)
                if is_vector(self.mode):
                    dims = tuple(ir.Dim("deferred") for _ in range(sym.rank + 1))
                    sym = replace(sym, dims=dims, attrs=sym.attrs | {"allocatable"})
                out.append(decl(name, sym))
        return out

    def zero_statements(self, zero, nbdirs: str = "", local=None) -> list[ir.Stmt]:
        """At the head: every module-owned global derivative starts at zero (allocated first,
        with ``nbdirs`` directions, in the vector modes, shaped like the global as the head
        reaches it: ``local(key)``, ad/core/writes.py ``global_name``)."""
        out: list[ir.Stmt] = self.commons.zero_statements(zero)
        for (owner, var), name in sorted(self.names.items()):
            if owner.startswith("host:") or is_common_key((owner, var)):
                continue
            sym = self.program.modules[owner].symbol(var)
            if nbdirs:
                v = local((owner, var)) if local is not None and sym.rank else var
                bounds = [f"lbound({v}, {k}):ubound({v}, {k})" for k in range(1, sym.rank + 1)]
                out.append(ir.Opaque(f"if (allocated({name})) deallocate({name})"))
                out.append(ir.Opaque(f"allocate({name}({', '.join([nbdirs, *bounds])}))"))
            out.append(ir.Assign(ir.Name(name), zero(sym)))
        return out

    def module_keys(self) -> set[Key]:
        return {k for k in self.names if not k[0].startswith("host:") and not is_common_key(k)}
