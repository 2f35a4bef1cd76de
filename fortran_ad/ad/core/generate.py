"""From the lowered program and the user's options to derivative source files.

Head and names are validated here (located errors), routines reachable from the head are
normalized, activity runs once for the whole call tree, and each routine with active data gets
a derivative routine, placed like its primal: module procedures in ``<module>_<b|d>``,
external procedures as externals, internal procedures inside their host's derivative.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fortran_ad.ad.core import naming
from fortran_ad.ad.core.naming import Namer
from fortran_ad.analysis.activity import Activity, ActivityAnalysis
from fortran_ad.analysis.unknown_names import refuse_unknown_active
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import RoutineInfo
from fortran_ad.ir.symbols import ScopeTable, is_real
from fortran_ad.ir.walk import routine_names
from fortran_ad.normalize import normalize_routine
from fortran_ad.normalize.entry import split_entries
from fortran_ad.normalize.operators import resolved_program


class Plan:
    """Everything decided before code is written: head, activity, normalized routines."""

    def __init__(self, files: list[ir.SourceFile], options):
        self.options = options
        self.mode = options.mode
        if getattr(options, "gradient_only", False) and not naming.is_reverse(self.mode):
            raise FortranADError(
                None,
                f"--gradient-only applies to reverse modes, not --mode {self.mode}",
                "a tangent computes the primal outputs anyway: drop --gradient-only",
            )
        self.checkpoints = None  # a checkpoint.ilp.Plan once transforms.plan_checkpoints ran
        # the modules as lowered, printed into derivative modules that copy them
        self.source_modules = {
            u.name: u for f in files for u in f.units if isinstance(u, ir.Module)
        }
        from fortran_ad.normalize.generics import resolve_generics
        from fortran_ad.normalize.scoping import scope_routines
        from fortran_ad.normalize.typebound import resolve_type_bound

        files = resolve_type_bound(scope_routines([split_entries(f) for f in files]))
        self.program = resolved_program(resolve_generics(files))
        self.head = self._head(options)
        order = self.program.reachable(self.head)
        self.namers: dict[str, Namer] = {}
        # MATMUL statements stay library calls in the scalar modes of the Fortran back end
        # (not with --parallelize-adjoint: parallel adjoints reason element by element)
        keep = self.mode in ("reverse", "forward") and options.backend == "fortran"
        keep = keep and not options.parallelize_adjoint
        for name in order:
            info = self.program.routines[name]
            namer = Namer(routine_names(info.routine), self.mode)
            self.namers[name] = namer
            norm = normalize_routine(info, self.program, namer, keep)
            local = {s.name: s for s in norm.symbols}
            scope = ScopeTable(local, info.scope.host, info.scope.modules, info.scope.types)
            self.program.routines[name] = RoutineInfo(
                norm, info.file, info.module, info.host, scope
            )
        self.order = order
        from fortran_ad.analysis.intents import infer_intents

        infer_intents(self.program, order)  # dummies without INTENT nothing writes: in
        wrt, of = self._names(options)
        self.activity: Activity = ActivityAnalysis(self.program, order).run(
            self.head, wrt, of, self.wrt_paths
        )
        self.activity.forced[self.head] |= set(wrt) | set(of)
        self.wrt, self.of = wrt, of
        from fortran_ad.ad.core.head_names import check_seeded

        head = self.program.routines[self.head]
        check_seeded(
            head.routine,
            head.scope.types,
            self.wrt_paths,
            self.activity.active(self.head),
            self.activity.components,
        )
        refuse_unknown_active(self.program, self.activity, order)
        self._refuse_equivalenced()
        from fortran_ad.analysis.persistent import refuse_history_dependent

        refuse_history_dependent(
            self.program, self.activity, [n for n in order if self.needs_derivative(n)]
        )
        from fortran_ad.ad.constructs.module_copies import plan_copies

        self.copies = plan_copies(self)  # derivative modules that copy their primal module
        self._refuse_unstructured(files)
        from fortran_ad.ad.core.globals import Globals

        self.globals = Globals(self.program, self.activity, self.mode, order)
        for name in order:
            self.globals.seed_namer(name, self.namers[name])
        for (owner, var), dname in self.globals.names.items():
            if owner.startswith("host:"):
                self.namers[owner[5:]].derivs[var] = dname

    def _refuse_unstructured(self, files: list[ir.SourceFile]) -> None:
        """A GO TO normalization could not structure, in a routine that gets a derivative."""
        from fortran_ad.ir.walk import walk_stmts
        from fortran_ad.normalize.goto import GotoStructurer

        for name in self.order:
            r = self.program.routines[name].routine
            left = [s for s in walk_stmts(r.body) if isinstance(s, ir.Goto)]
            if left and self.needs_derivative(name):
                original = resolved_program(files).routines[name].routine
                again = GotoStructurer(Namer(set(), self.mode))
                again.routine_body(original.body)
                raise again.failure or FortranADError(
                    left[0].loc, f"cannot differentiate GO TO {left[0].targets[0]}"
                )

    def _refuse_equivalenced(self) -> None:
        """An active variable EQUIVALENCEd with another would change behind the analysis."""
        import re

        for name in self.order:
            r = self.program.routines[name].routine
            active = (self.activity.varied[name] | self.activity.useful[name]) & {
                s.name for s in r.symbols if is_real(s)
            }
            for item in r.spec:
                text = getattr(item, "text", "")
                if isinstance(item, ir.OpaqueSpec) and text.lower().startswith("equivalence"):
                    names = set(re.findall(r"[a-z_][a-z0-9_]*", text.lower()[11:]))
                    both = sorted(names & active)
                    if both:
                        others = ", ".join(f"'{n}'" for n in sorted(names - {both[0]}))
                        raise FortranADError(
                            item.loc,
                            f"variable '{both[0]}' carries derivatives and is EQUIVALENCEd "
                            f"with {others}; fortran-ad cannot follow the alias",
                            "EQUIVALENCE is fine for passive data; copy active values instead",
                        )

    def _head(self, options) -> str:
        if options.head:
            if options.head not in self.program.routines:
                raise FortranADError(
                    None, f"--head '{options.head}' is not a routine in the given sources"
                )
            return options.head
        want = {n.split("%", 1)[0] for n in (*options.wrt, *(options.of or ()))}
        every = set().union(*(set(i.routine.args) for i in self.program.routines.values()))
        for flag, names in (("--wrt", options.wrt), ("--of", options.of or ())):
            for n in names:
                if n.split("%", 1)[0] not in every:
                    raise FortranADError(
                        None, f"{flag} name '{n}' is not a dummy argument of any routine"
                    )
        candidates = [n for n, i in self.program.routines.items() if want <= set(i.routine.args)]
        if len(candidates) > 1:  # prefer the roots of the call graph
            called = set().union(
                *(self.program.callees(i.routine) for i in self.program.routines.values())
            )
            candidates = [n for n in candidates if n not in called] or candidates
        if len(candidates) == 1:
            return candidates[0]
        if not candidates and options.of:
            raise FortranADError(
                None,
                "no routine has all the --wrt and --of names "
                f"({', '.join(sorted(want))}) as dummy arguments; use --head",
            )
        if not candidates:
            raise FortranADError(
                None,
                "no routine has all the --wrt names "
                f"({', '.join(options.wrt)}) as dummy arguments; use --head",
            )
        raise FortranADError(
            None,
            f"several routines have all the --wrt names: "
            f"{', '.join(sorted(candidates))}; choose one with --head",
        )

    def _names(self, options) -> tuple[set[str], set[str]]:
        """The head's --wrt and --of as variables (a component path ``state%h`` or a whole
        derived-type dummy ``state`` names its object, head_names.py); the component paths
        are kept in ``self.wrt_paths``/``self.of_paths`` for the per-component activity."""
        from fortran_ad.ad.core.head_names import check_head_name, default_of

        info = self.program.routines[self.head]
        r = info.routine
        if not options.wrt:
            raise FortranADError(None, "--wrt needs at least one variable")
        self.wrt_paths = {check_head_name(r, info.scope.types, n, "--wrt") for n in options.wrt}
        if options.of is None:
            of = default_of(r)
            if not of:
                raise FortranADError(r.loc, f"'{r.name}' has no real outputs; give --of")
            self.of_paths = set(of)
        else:
            self.of_paths = {check_head_name(r, info.scope.types, n, "--of") for n in options.of}
            for n in self.of_paths:
                var = n.split("%", 1)[0]
                if r.symbol(var).intent == "in":
                    raise FortranADError(
                        r.loc, f"--of name '{n}' is intent(in) in '{r.name}': it is not an output"
                    )
        wrt = {n.split("%", 1)[0] for n in self.wrt_paths}
        return wrt, {n.split("%", 1)[0] for n in self.of_paths}

    def needs_derivative(self, name: str) -> bool:
        return name == self.head or self.activity.differentiated(
            self.program.routines[name].routine
        )


def generate(files: list[ir.SourceFile], options) -> dict[str, str]:
    from fortran_ad.ad.core.emit import emit_files

    plan = Plan(files, options)
    if options.explain:
        print(explain(plan))
    return emit_files(plan)


def head_signature(files: list[ir.SourceFile], options) -> list[tuple[str, bool]]:
    plan = Plan(files, options)
    r = plan.program.routines[plan.head].routine
    active = plan.activity.active(plan.head)
    return [(a, a in active) for a in r.args]


def explain(plan: Plan) -> str:
    lines = []
    for name in reversed(plan.order):
        act = plan.activity.active(name)
        if not act:
            continue
        lines.append(f"{name}: active {', '.join(sorted(act))}")
        for v in sorted(act):
            why = plan.activity.why.get((name, v), "")
            use = plan.activity.why.get((name, v + "#u"), "")
            lines.append(f"  {v}: {'; '.join(x for x in (why, use) if x)}")
    return "\n".join(lines)


def stem_of(f: ir.SourceFile) -> str:
    return Path(f.path).stem


__all__ = ["Plan", "generate", "head_signature", "naming", "replace"]
