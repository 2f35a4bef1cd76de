"""Activity analysis: active = varied (depends on a --wrt input) × useful (influences an --of
output), interprocedural through per-routine dependence summaries. Flow-insensitive, so it
over-approximates (safe: an extra active variable costs time, never correctness).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from fortran_ad.analysis import mpi_calls as mpi
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.intrinsic_table import NONDIFF
from fortran_ad.ir.program import Program, RoutineInfo, dummy_map
from fortran_ad.ir.symbols import is_real, may_carry, type_name
from fortran_ad.ir.walk import base_name, var_of, walk_stmts

Edge = tuple[str, str, ir.SourceLoc]  # value flows from source to target


def diff_refs(e: ir.Expr, info: RoutineInfo, program: Program) -> set[str]:
    """Real variables whose value can flow differentiably into ``e`` (subscripts excluded)."""
    out: set[str] = set()

    def visit(x: ir.Expr) -> None:
        if isinstance(x, ir.Name | ir.ArrayRef):
            sym = info.scope.lookup(x.name)
            if may_carry(sym) or (sym is None and type_name(info.scope.lookup(var_of(x.name)))):
                out.add(var_of(x.name))  # a component path s%h makes s active (unknown: too)
            return
        if isinstance(x, ir.Call):
            if x.name in NONDIFF:
                return
            for a in x.args:
                visit(a.value if isinstance(a, ir.Keyword) else a)
            return
        if isinstance(x, ir.OpaqueExpr):
            out.update(n for n in x.names if may_carry(info.scope.lookup(n)))
            return
        if isinstance(x, ir.BinOp) and x.op not in ("+", "-", "*", "/", "**"):
            return  # relational/logical: no derivative flows through
        from fortran_ad.ir.walk import children

        for c in children(x):
            visit(c)

    visit(e)
    return out


@dataclass
class Activity:
    varied: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    useful: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    forced: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    why: dict[tuple[str, str], str] = field(default_factory=dict)
    globals: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    active_globals: set[tuple[str, str]] = field(default_factory=set)

    through_globals: set[str] = field(default_factory=set)  # routines reaching active globals
    # (type, component) pairs that may carry derivatives (analysis/components.py); None: all
    components: frozenset[tuple[str, str]] | None = None
    head: str | None = None  # the routine differentiated for the user

    def active(self, routine: str) -> set[str]:
        return (self.varied[routine] & self.useful[routine]) | self.forced[routine]

    def differentiated(self, r: ir.Routine) -> bool:
        """Does ``r`` get a derivative routine that callers must call?"""
        interface = set(r.args) | ({r.result} if r.result else set())
        return bool(self.active(r.name) & interface) or r.name in self.through_globals

    def has_derivative(self, routine: str) -> bool:
        return bool(self.active(routine))


class ActivityAnalysis:
    def __init__(self, program: Program, order: list[str]):
        self.program = program
        self.order = order  # callees before callers
        self.edges: dict[str, list[Edge]] = {}
        self.summary: dict[str, dict[str, set[str]]] = {}  # out dummy -> in dummies
        for name in order:
            self.edges[name] = self._edges(program.routines[name])
            self.summary[name] = self._summarize(program.routines[name])

    # -- edges -------------------------------------------------------------------------------
    def _edges(self, info: RoutineInfo) -> list[Edge]:
        out: list[Edge] = []
        for s in walk_stmts(info.routine.body):
            if isinstance(s, ir.Assign):
                tgt = base_name(s.target)
                if tgt and may_carry(info.scope.lookup(tgt)):
                    for src in self._expr_sources(s.value, info):
                        out.append((src, tgt, s.loc))
            elif isinstance(s, ir.CallStmt):
                out.extend(self._call_edges(s.name, s.args, info, s.loc))
            elif isinstance(s, ir.PointerAssign):  # aliases: activity flows both ways
                p = base_name(s.target)
                for t in diff_refs(s.value, info, self.program):
                    out += [(t, p, s.loc), (p, t, s.loc)]
            elif isinstance(s, ir.Opaque):
                for w in s.writes:
                    for r in s.reads:
                        if may_carry(info.scope.lookup(w)) and may_carry(info.scope.lookup(r)):
                            out.append((r, w, s.loc))
        out += mpi.cross_edges(info.routine.body, lambda a: diff_refs(a, info, self.program))
        return out

    def _expr_sources(self, e: ir.Expr, info: RoutineInfo) -> set[str]:
        # A user function's result may depend on any argument (conservative, flow-insensitive).
        return diff_refs(e, info, self.program)

    def _call_edges(self, name, args, info: RoutineInfo, loc) -> list[Edge]:
        out: list[Edge] = []
        callee = self.program.get(name)
        if callee is None and mpi.is_mpi(name):
            return mpi.call_edges(name, args, lambda a: diff_refs(a, info, self.program), loc)
        if callee is None:  # external without source: everything may flow to everything
            bases = [b for a in args for b in diff_refs(a, info, self.program)]
            return [(s, t, loc) for s in bases for t in bases if s != t]
        amap = dummy_map(args, callee.routine)
        for d_out, d_ins in self.summary.get(name, {}).items():
            if d_out not in amap:
                continue
            tgt = base_name(amap[d_out])
            if tgt is None or not may_carry(info.scope.lookup(tgt)):
                continue
            for d_in in d_ins:
                if d_in in amap:
                    for src in diff_refs(amap[d_in], info, self.program):
                        out.append((src, tgt, loc))
        return out

    def _summarize(self, info: RoutineInfo) -> dict[str, set[str]]:
        r = info.routine
        outs = list(r.args) + ([r.result] if r.result else [])
        written = {t for _, t, _ in self.edges[r.name]} | _written_names(r)
        summary: dict[str, set[str]] = {}
        for o in outs:
            if o in written or o == r.result:
                summary[o] = self._backward({o}, self.edges[r.name]) & set(r.args)
        return summary

    # -- closures ----------------------------------------------------------------------------
    @staticmethod
    def _forward(seeds: set[str], edges: list[Edge], why=None, routine="") -> set[str]:
        result = set(seeds)
        changed = True
        while changed:
            changed = False
            for s, t, loc in edges:
                if s in result and t not in result:
                    result.add(t)
                    if why is not None:
                        why[(routine, t)] = f"varied: gets {s} at {loc}"
                    changed = True
        return result

    @staticmethod
    def _backward(seeds: set[str], edges: list[Edge], why=None, routine="") -> set[str]:
        result = set(seeds)
        changed = True
        while changed:
            changed = False
            for s, t, loc in edges:
                if t in result and s not in result:
                    result.add(s)
                    if why is not None:
                        why.setdefault((routine, s + "#u"), f"useful: flows into {t} at {loc}")
                    changed = True
        return result

    def _globals(self, info: RoutineInfo) -> dict[str, tuple[str, str]]:
        """Local name -> global key for module and host variables the routine touches."""
        from fortran_ad.ir.walk import exprs_of_body, names_in

        names: set[str] = set()
        for e in exprs_of_body(info.routine.body):
            names |= names_in(e)
        for st in walk_stmts(info.routine.body):
            if isinstance(st, ir.Opaque):
                names |= set(st.reads) | set(st.writes)
        out = {}
        for n in sorted(names):
            key = self.program.global_key(info, n)
            if key is not None and may_carry(info.scope.lookup(n)):
                out[n] = key
        return out

    def run(
        self, head: str, wrt: set[str], of: set[str], paths: set[str] | None = None
    ) -> Activity:
        """Fixpoint over the call tree: seeds flow to callees (actual → dummy), results flow
        back (callee dummy → actual), and module/host variables share one activity.
        ``paths``: the --wrt names as given, component paths (``state%h``) included; they seed
        the per-component activity (default: ``wrt``)."""
        act = Activity()
        vseed: dict[str, set[str]] = defaultdict(set)
        useed: dict[str, set[str]] = defaultdict(set)
        vseed[head], useed[head] = set(wrt), set(of)
        for n in wrt:
            act.why[(head, n)] = "varied: --wrt"
        for n in of:
            act.why[(head, n + "#u")] = "useful: --of"
        gmap = {name: self._globals(self.program.routines[name]) for name in self.order}
        for name in self.order:  # a host's own variables, where its internal procedures use them
            for owner, var in list(gmap[name].values()):
                if owner.startswith("host:") and owner[5:] in gmap:
                    gmap[owner[5:]][var] = (owner, var)
        gvaried: set[tuple[str, str]] = set()
        guseful: set[tuple[str, str]] = set()
        while True:
            before = (
                sum(map(len, vseed.values())),
                sum(map(len, useed.values())),
                len(gvaried),
                len(guseful),
            )
            for name in reversed(self.order):  # callers first
                self._visit(name, act, vseed, useed, gmap[name], gvaried, guseful)
            after = (
                sum(map(len, vseed.values())),
                sum(map(len, useed.values())),
                len(gvaried),
                len(guseful),
            )
            if after == before:
                break
        act.globals = {name: {n: k for n, k in gmap[name].items()} for name in self.order}
        act.active_globals = gvaried & guseful
        act.forced[head] |= set(wrt) | set(of)  # the head's interface has derivatives anyway
        act.head = head
        self._force(act)
        from fortran_ad.analysis.components import varied_components

        # a forced dummy gets a derivative at every call: a component passed to it must too
        carry = {r: act.varied[r] | act.forced[r] for r in act.varied}
        act.components = varied_components(self.program, carry, head, paths or wrt)
        return act

    def _visit(self, name, act, vseed, useed, gl, gvaried, guseful) -> None:
        info = self.program.routines[name]
        vs = vseed[name] | {n for n, k in gl.items() if k in gvaried}
        us = useed[name] | {n for n, k in gl.items() if k in guseful}
        act.varied[name] = varied = self._forward(vs, self.edges[name], act.why, name)
        act.useful[name] = useful = self._backward(us, self.edges[name], act.why, name)
        gvaried |= {gl[n] for n in varied if n in gl}
        guseful |= {gl[n] for n in useful if n in gl}
        for site_name, args in _call_sites(info.routine):
            callee = self.program.get(site_name)
            if callee is None:
                continue
            written = _written_names(callee.routine)
            for d, actual in dummy_map(args, callee.routine).items():
                refs = diff_refs(actual, info, self.program)
                if refs & varied:
                    vseed[site_name].add(d)
                if refs & useful:
                    useed[site_name].add(d)
                b = base_name(actual)
                if b and d in act.varied[site_name] and d in written:
                    vseed[name].add(b)  # the callee makes it varied (e.g. from a global)
                if d in act.useful[site_name]:
                    useed[name] |= refs
        for st in walk_stmts(info.routine.body):  # results of user functions
            if not isinstance(st, ir.Assign):
                continue
            from fortran_ad.ir.walk import subexprs

            tgt = base_name(st.target)
            for sub in subexprs(st.value):
                callee = self.program.get(sub.name) if isinstance(sub, ir.Call) else None
                if callee is None or not callee.routine.result:
                    continue
                if tgt in useful:
                    useed[sub.name].add(callee.routine.result)
                if tgt and callee.routine.result in act.varied[sub.name]:
                    vseed[name].add(tgt)

    def _force(self, act: Activity) -> None:
        """An actual argument passed where the callee's dummy is active becomes active too,
        so derivative arguments always line up (iterate: it can reach callers' dummies)."""
        changed = True
        while changed:
            changed = False
            for name in self.order:
                info = self.program.routines[name]
                for site_name, args in _call_sites(info.routine):
                    callee = self.program.get(site_name)
                    if callee is None:
                        continue
                    active_callee = act.active(site_name)
                    written = _written_names(callee.routine)
                    for d, actual in dummy_map(args, callee.routine).items():
                        b = base_name(actual)
                        dummy = callee.routine.symbol(d)
                        if (  # the callee may overwrite an active actual: its adjoint must
                            b in act.active(name)  # see that (an assignment kills it)
                            and d in written
                            and d not in active_callee
                            and (is_real(dummy) or type_name(dummy) is not None)
                        ):
                            act.forced[site_name].add(d)
                            act.why[(site_name, d)] = f"active: overwrites active {name}:{b}"
                            changed = True
                        if (
                            d in active_callee
                            and b
                            and b not in act.active(name)
                            and may_carry(info.scope.lookup(b))
                        ):
                            act.forced[name].add(b)
                            act.why[(name, b)] = f"active: passed to active dummy {site_name}:{d}"
                            changed = True
            changed |= mpi.force(self.program, act, self.order, may_carry)


def _call_sites(r: ir.Routine) -> list[tuple[str, tuple[ir.Expr, ...]]]:
    from fortran_ad.ir.walk import exprs_of_body, subexprs

    out = [(s.name, s.args) for s in walk_stmts(r.body) if isinstance(s, ir.CallStmt)]
    for e in exprs_of_body(r.body):
        for sub in subexprs(e):
            if isinstance(sub, ir.Call):
                out.append((sub.name, sub.args))
    return out


def _written_names(r: ir.Routine) -> set[str]:
    out = set()
    for s in walk_stmts(r.body):
        if isinstance(s, ir.Assign):
            b = base_name(s.target)
            if b:
                out.add(b)
        elif isinstance(s, ir.CallStmt):
            for a in s.args:
                b = base_name(a.value if isinstance(a, ir.Keyword) else a)
                if b:
                    out.add(b)
        elif isinstance(s, ir.Opaque):
            out.update(s.writes)
    return out
