"""``--emit sdfg``: the primal and derivative routines of the head as ``.sdfg`` files.

The derivative routine is the one the Fortran back end writes: we generate the Fortran files,
lower them again with our own frontend (so every generated declaration is a typed Symbol), and
lower that IR to an SDFG. The primal is the head after normalization (array syntax and
reductions already loops), taken from the same Plan.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from fortran_ad.ad.core import naming
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir


@dataclass(frozen=True)
class Lowered:
    """What the DaCe back end needs: SDFGs by file name, the Fortran files, the derivative."""

    sdfgs: dict[str, object]  # file name -> dace.SDFG
    fortran: dict[str, str]  # the Fortran back end's files
    derivative: ir.Routine
    module: str | None  # the head's module (the interface module is ``<module>_b``)
    spec: tuple[ir.SpecItem, ...]  # declarations of the derivative routine
    uses: tuple[ir.Use, ...] = ()  # the head module's own USE statements (kinds such as dp)


def lower(options) -> Lowered:
    from fortran_ad.ad.core.emit import emit_files
    from fortran_ad.ad.core.generate import Plan
    from fortran_ad.frontend.load import load

    if options.mode != "reverse":
        raise FortranADError(None, "the SDFG back end supports --mode reverse only")
    from dataclasses import replace

    # the SDFG tape is per routine: split call sites (<name>_fwd/_bwd) share it across two;
    # block records (array sections, allocatable buffers) and simd loops are Fortran tuning
    options = replace(options, calls="joint", loop_rewrites=False)
    plan = Plan(load(options.sources, options.fixed_form, options.preprocessing), options)
    files = emit_files(plan)
    head = plan.program.routines[plan.head]
    if head.host is not None:
        raise FortranADError(head.routine.loc, "internal procedures as head (SDFG back end)")
    generated = _reparse(options, files)
    resolver = _Resolver(plan, generated)
    deriv = generated[naming.routine_name(plan.head, plan.mode)]
    sdfgs = {
        f"{plan.head}.sdfg": resolver(plan.head)[1],
        f"{deriv.name}.sdfg": resolver(deriv.name)[1],
    }
    module = head.module.name if head.module is not None else None
    uses = tuple(x for x in head.module.spec if isinstance(x, ir.Use)) if head.module else ()
    return Lowered(sdfgs, files, deriv, module, deriv.spec, uses)


class _Resolver:
    """Routine and SDFG by name, lowered once: primal routines as normalized by the Plan,
    derivative routines as re-read from the generated Fortran."""

    def __init__(self, plan, generated: dict[str, ir.Routine]) -> None:
        self.plan, self.generated = plan, generated
        self.done: dict[str, tuple[ir.Routine, object]] = {}
        self.busy: set[str] = set()

    def __call__(self, name: str):
        from fortran_ad.backends.sdfg import lower_routine

        if name in self.done:
            return self.done[name]
        routines = self.plan.program.routines
        if name in routines:
            r, lookup = routines[name].routine, routines[name].scope.lookup
        elif name in self.generated:
            r = self.generated[name]
            primal = routines.get(name.removesuffix("_b")) or routines[self.plan.head]
            lookup = primal.scope.lookup
        else:
            return None
        if name in self.busy:
            raise FortranADError(r.loc, f"recursive call of '{name}' (SDFG back end)")
        self.busy.add(name)
        try:
            sdfg = lower_routine(r, lookup, self)
        except FortranADError as exc:  # in generated code: name the file users can write
            loc = exc.loc
            if not isinstance(loc, ir.SourceLoc) or not Path(loc.file).name.startswith(
                tuple(f"{Path(p).stem}_b" for p in self.plan.options.sources)
            ):
                raise
            loc = ir.SourceLoc(Path(loc.file).name, loc.line, loc.col)
            hint = "the line is in the adjoint the Fortran back end writes (run without --emit)"
            raise FortranADError(loc, exc.message, exc.hint or hint) from None
        finally:
            self.busy.discard(name)
        self.done[name] = (r, sdfg)
        return self.done[name]


def _reparse(options, files: dict[str, str]) -> dict[str, ir.Routine]:
    """The routines of the generated Fortran, lowered by our frontend."""
    from fortran_ad.frontend.load import load

    with tempfile.TemporaryDirectory(prefix="fortran-ad-sdfg-") as tmp:
        paths = list(options.sources)
        for fname, text in files.items():
            if fname == "fad_tape.f90":
                continue
            (Path(tmp) / fname).write_text(text.replace("use fad_tape\n", "\n"))
            paths.append(str(Path(tmp) / fname))
        program = load(paths, options.fixed_form, options.preprocessing)
    out = {}
    for f in program[len(options.sources) :]:
        for unit in f.units:
            for r in unit.routines if isinstance(unit, ir.Module) else [unit]:
                if isinstance(r, ir.Routine):
                    out[r.name] = r
    return out


def sdfg_files(options) -> dict[str, str]:
    """``.sdfg`` JSON text by file name (written all-or-nothing by the driver)."""
    import json

    low = lower(options)
    return {name: json.dumps(s.to_json(), indent=1) for name, s in low.sdfgs.items()}
