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

from fortran_ad.ad import naming
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


def lower(options) -> Lowered:
    from fortran_ad.ad.emit import emit_files
    from fortran_ad.ad.generate import Plan
    from fortran_ad.backends.sdfg import lower_routine
    from fortran_ad.driver import load

    if options.mode != "reverse":
        raise FortranADError(None, "the SDFG back end supports --mode reverse only")
    plan = Plan(load(options.sources, options.fixed_form), options)
    files = emit_files(plan)
    head = plan.program.routines[plan.head]
    if head.host is not None:
        raise FortranADError(head.routine.loc, "internal procedures as head (SDFG back end)")
    deriv = _reparse(options, files, naming.routine_name(plan.head, plan.mode))
    callees = plan.program.callees(head.routine)
    if callees:
        name = sorted(callees)[0]
        raise FortranADError(
            head.routine.loc,
            f"'{plan.head}' calls '{name}': the SDFG back end lowers single routines only",
        )
    lookup = head.scope.lookup
    sdfgs = {f"{plan.head}.sdfg": lower_routine(head.routine, lookup)}
    try:
        sdfgs[f"{deriv.name}.sdfg"] = lower_routine(deriv, lookup)
    except FortranADError as exc:  # located in generated code: name the file users can write
        loc = exc.loc
        if isinstance(loc, ir.SourceLoc):
            loc = ir.SourceLoc(Path(loc.file).name, loc.line, loc.col)
        hint = "the line is in the adjoint the Fortran back end writes (run without --emit)"
        raise FortranADError(loc, exc.message, exc.hint or hint) from None
    module = head.module.name if head.module is not None else None
    return Lowered(sdfgs, files, deriv, module, deriv.spec)


def _reparse(options, files: dict[str, str], name: str) -> ir.Routine:
    from fortran_ad.driver import load

    with tempfile.TemporaryDirectory(prefix="fortran-ad-sdfg-") as tmp:
        paths = list(options.sources)
        for fname, text in files.items():
            if fname == "fad_tape.f90":
                continue
            (Path(tmp) / fname).write_text(text.replace("use fad_tape\n", "\n"))
            paths.append(str(Path(tmp) / fname))
        program = load(paths, options.fixed_form)
    for f in program[len(options.sources) :]:
        for unit in f.units:
            routines = unit.routines if isinstance(unit, ir.Module) else [unit]
            for r in routines:
                if isinstance(r, ir.Routine) and r.name == name:
                    return r
    raise FortranADError(None, f"internal: derivative routine '{name}' not found")


def sdfg_files(options) -> dict[str, str]:
    """``.sdfg`` JSON text by file name (written all-or-nothing by the driver)."""
    import json

    low = lower(options)
    return {name: json.dumps(s.to_json(), indent=1) for name, s in low.sdfgs.items()}
