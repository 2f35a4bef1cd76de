"""The whole pipeline, readable top to bottom.

sources → read/preprocess → parse+lower (IR) → normalize → analyses (call graph, activity,
overwrites) → transform (adjoint | tangent) → Fortran back end → write (all or nothing).
"""

from __future__ import annotations

from pathlib import Path

from fortran_ad.frontend.load import load
from fortran_ad.frontend.preprocess import Preprocessing
from fortran_ad.ir.printer import source_file
from fortran_ad.options import DEFAULT_MEMORY_LIMIT, Options
from fortran_ad.outputs import write_outputs

__all__ = ["DEFAULT_MEMORY_LIMIT", "Options", "load", "write_outputs"]


def roundtrip(
    paths: list[str], out: Path, fixed_form: bool | None = None, pp: Preprocessing | None = None
) -> list[Path]:
    """Re-emit sources through the IR (free form, ``<stem>.f90``)."""
    program = load(paths, fixed_form, pp)
    files = {f"{Path(f.path).stem}.f90": source_file(f) for f in program}
    return write_outputs(files, out)


def checkpoint_plan(options: Options):
    """The checkpoint plan the adjoint would follow (``fortran-ad plan``)."""
    from dataclasses import replace

    from fortran_ad.ad.core.generate import Plan
    from fortran_ad.ad.core.transforms import plan_checkpoints

    if options.mode not in ("reverse", "vector-reverse"):
        options = replace(options, mode="reverse")
    return plan_checkpoints(
        Plan(load(options.sources, options.fixed_form, options.preprocessing), options)
    )


def differentiate(options: Options) -> list[Path]:
    """Generate derivative code (adjoint or tangent) plus the runtime it needs."""
    from fortran_ad.ad.core.generate import generate

    if options.backend != "fortran":
        from fortran_ad.backends.sdfg_build import dace_files
        from fortran_ad.backends.sdfg_emit import sdfg_files

        files = (sdfg_files if options.backend == "sdfg" else dace_files)(options)
        return write_outputs(files, options.out)
    program = load(options.sources, options.fixed_form, options.preprocessing)
    files = generate(program, options)
    return write_outputs(files, options.out)
