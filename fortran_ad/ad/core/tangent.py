"""Forward (tangent) mode for one routine: every active assignment is preceded by the
assignment of its tangent, computed from the same rule table as the adjoint."""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ad.constructs import derived_alloc, matmul, pointers
from fortran_ad.ad.core.common import RoutineAD
from fortran_ad.ad.core.naming import routine_name
from fortran_ad.ad.core.rules import signed_sum
from fortran_ad.ad.parallel import loops as parallel
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import mul
from fortran_ad.ir.walk import bodies


class Tangent(RoutineAD):
    def body(self, body: tuple[ir.Stmt, ...]) -> list[ir.Stmt]:
        r = self.routine
        parallel.check_directives(r)
        init: list[ir.Stmt] = []
        for sym in r.symbols:
            if sym.name in self.active and sym.name not in r.args and sym.name != r.result:
                if "parameter" in sym.attrs or any(a.startswith("common") for a in sym.attrs):
                    continue
                if sym.attrs & {"allocatable", "pointer"}:
                    continue  # allocated (and zeroed) next to the primal ALLOCATE, or associated
                init.append(
                    ir.Assign(
                        ir.Name(self.namer.derivative(sym.name)), self.zero(ir.Name(sym.name))
                    )
                )
        return init + self.stmts(body)

    def stmts(self, body: tuple[ir.Stmt, ...]) -> list[ir.Stmt]:
        return parallel.tangent_stmts(self, body)

    def stmt(self, s: ir.Stmt) -> list[ir.Stmt]:
        if isinstance(s, ir.Assign):
            return self.assign(s)
        if isinstance(s, ir.CallStmt):
            return self.call(s)
        if isinstance(s, ir.Opaque):
            return self.opaque(s)
        if isinstance(s, ir.PointerAssign):
            return pointers.derivative(self, s)
        if isinstance(s, ir.If):
            branches = tuple((c, tuple(self.stmts(b))) for c, b in s.branches)
            els = tuple(self.stmts(s.else_body)) if s.else_body is not None else None
            inline = s.inline and all(len(b) == 1 for _, b in branches)
            return [replace(s, branches=branches, else_body=els, inline=inline)]
        if isinstance(s, ir.Select):
            return [
                replace(
                    s, cases=tuple(ir.Case(c.selectors, tuple(self.stmts(c.body))) for c in s.cases)
                )
            ]
        if isinstance(s, ir.Do) and s.parallel is not None:
            return [parallel.tangent_loop(self, s, tuple(self.stmts(s.body)))]
        if bodies(s):
            return [replace(s, body=tuple(self.stmts(s.body)))]
        return [s]

    def assign(self, s: ir.Assign) -> list[ir.Stmt]:
        self.check_target(s)
        effects = self.side_effects(s)
        if effects is not None:  # a passive result, active side effects: the tangent call
            result = self.effects_result(s, effects, "resd")
            args = self.derivative_args(effects, s.value.args, s.loc, result)
            args = (*args, *self.nbdirs_after(args))
            call = ir.CallStmt(routine_name(effects.name, self.mode), args, s.loc, s.label)
            if not self.is_active(s.target):
                return [call]
            return [ir.Assign(self.deriv(s.target), self.zero(s.target), s.loc), call]
        if not self.is_active(s.target):
            return [s]
        if matmul.kept(s):
            return matmul.tangent(self, s)
        vd = self.deriv(s.target)
        if isinstance(s.value, ir.Call) and self.program.get(s.value.name):
            callee = self.program.get(s.value.name).routine
            if callee.result in self.callee_active(s.value.name):
                args = self.derivative_args(callee, s.value.args, s.loc, (s.target, vd))
                args = (*args, *self.nbdirs_after(args))
                return [ir.CallStmt(routine_name(callee.name, self.mode), args, s.loc, s.label)]
            return [ir.Assign(vd, self.zero(s.target), s.loc), s]
        terms = self.linearize(s.value, s.loc)
        total = signed_sum([mul(coeff, self.deriv(ref)) for ref, coeff in terms])
        if total is None:
            total = self.zero(s.target)
        return [ir.Assign(vd, total, s.loc, s.label), replace(s, label=None)]

    def call(self, s: ir.CallStmt) -> list[ir.Stmt]:
        info = self.program.get(s.name)
        if info is None:
            from fortran_ad.ad.constructs import mpi

            if mpi.is_mpi(s.name):
                return mpi.tangent(self, s)
            self.check_external(s)
            return [s]
        if not self.activity.differentiated(info.routine):
            return [s]
        args = self.derivative_args(info.routine, s.args, s.loc)
        args = (*args, *self.nbdirs_after(args))
        return [ir.CallStmt(routine_name(s.name, self.mode), args, s.loc, s.label)]

    def opaque(self, s: ir.Opaque) -> list[ir.Stmt]:
        self.refuse_entry(s)
        text = s.text.strip().lower()
        active = sorted(set(s.writes) & self.active)
        mirror = derived_alloc.mirror_allocation(self, s) if "%" in text else None
        if mirror is not None:  # components: see ad/constructs/derived.py
            return [s, *mirror]
        if text.startswith("allocate"):
            extra: list[ir.Stmt] = []
            for n in active:
                d = self.namer.derivative(n)
                extra += [
                    self.allocate_like(n),
                    ir.Assign(ir.Name(d), self.zero(ir.Name(n))),
                ]
            return [s, *extra]
        if text.startswith("deallocate"):
            return [s, *(ir.Opaque(f"deallocate({self.namer.derivative(n)})") for n in active)]
        if text.startswith(("print", "write")):
            return [s]
        touched = (set(s.reads) | set(s.writes)) & self.active
        if touched:
            raise FortranADError(
                s.loc,
                f"cannot differentiate this statement: it touches active "
                f"variable '{sorted(touched)[0]}'",
            )
        return [s]
