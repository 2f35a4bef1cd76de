"""The whole pipeline, readable top to bottom.

sources → read/preprocess → parse+lower (IR) → normalize → analyses (call graph, activity,
overwrites) → transform (adjoint | tangent) → Fortran back end → write (all or nothing).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fortran_ad.backends.fortran import source_file
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.lower import ModuleRegistry, lower_source
from fortran_ad.frontend.preprocess import Preprocessing, read_source
from fortran_ad.ir import nodes as ir

DEFAULT_MEMORY_LIMIT = 4 * 1024**3


@dataclass(frozen=True)
class Options:
    """What the user asked for (the CLI and the Python API both build one)."""

    sources: tuple[str, ...]
    out: Path = Path(".")
    mode: str = "reverse"  # reverse | forward
    wrt: tuple[str, ...] = ()
    of: tuple[str, ...] | None = None
    head: str | None = None
    memory_limit: int = DEFAULT_MEMORY_LIMIT
    fixed_form: bool | None = None
    explain: bool = False
    sizes: dict[str, int] = field(default_factory=dict)
    checkpoint: str = "ilp"  # ilp | store-all | recompute-all
    calls: str = "auto"  # call sites: auto (the ilp decides) | joint | split
    defines: tuple[str, ...] = ()  # -D NAME[=VAL]
    include_dirs: tuple[str, ...] = ()  # -I DIR
    cpp: bool = False  # --cpp: preprocess every file, not only upper-case suffixes
    backend: str = "fortran"  # fortran | sdfg (--emit sdfg) | dace (--backend dace)

    parallelize_adjoint: bool = False  # adjoints of loops proved parallel run in parallel
    omp_increments: str = "auto"  # auto (gather, reduction, atomic) | atomic (ad/parallel.py)
    loop_rewrites: bool = True  # the optional loop rewrites, all on or off (ad/rewrites.py)
    rewrites: str = ""  # single ones on/off after that: "-simd,-gather" (ad/rewrites.py)
    gradient_only: bool = False  # reverse: the head's adjoint skips dead primal code (ad/liveness)

    @property
    def preprocessing(self) -> Preprocessing:
        return Preprocessing(self.defines, self.include_dirs, self.cpp)


def load(
    paths: tuple[str, ...] | list[str],
    fixed_form: bool | None = None,
    pp: Preprocessing | None = None,
) -> list[ir.SourceFile]:
    """Read, preprocess and lower every source, in the order given (modules first)."""
    if not paths:
        raise FortranADError(None, "no source files given")
    modules = ModuleRegistry()
    return [lower_source(read_source(p, fixed_form, pp), modules) for p in paths]


def write_outputs(files: dict[str, str | bytes], out: Path) -> list[Path]:
    """Write all files or none: render into a scratch folder, then move into ``out``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FortranADError(str(out), f"output path '{out}' exists and is not a directory")
    parent = out if out.exists() else out.parent
    while not parent.exists():
        parent = parent.parent
    import os

    if not os.access(parent, os.W_OK):
        raise FortranADError(str(out), f"cannot write to output directory '{out}'")
    with tempfile.TemporaryDirectory(prefix="fortran-ad-") as tmp:
        for name, text in files.items():
            if isinstance(text, bytes):  # the DaCe back end's shared library
                (Path(tmp) / name).write_bytes(text)
            else:
                (Path(tmp) / name).write_text(text)
        try:
            out.mkdir(parents=True, exist_ok=True)
            written = []
            for name in files:
                dest = out / name
                shutil.copyfile(Path(tmp) / name, dest)
                written.append(dest)
        except OSError as exc:
            raise FortranADError(str(out), f"cannot write output: {exc.strerror}") from None
    return written


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

    from fortran_ad.ad.generate import Plan
    from fortran_ad.ad.transforms import plan_checkpoints

    if options.mode not in ("reverse", "vector-reverse"):
        options = replace(options, mode="reverse")
    return plan_checkpoints(
        Plan(load(options.sources, options.fixed_form, options.preprocessing), options)
    )


def differentiate(options: Options) -> list[Path]:
    """Generate derivative code (adjoint or tangent) plus the runtime it needs."""
    from fortran_ad.ad.generate import generate

    if options.backend != "fortran":
        from fortran_ad.backends.sdfg_build import dace_files
        from fortran_ad.backends.sdfg_emit import sdfg_files

        files = (sdfg_files if options.backend == "sdfg" else dace_files)(options)
        return write_outputs(files, options.out)
    program = load(options.sources, options.fixed_form, options.preprocessing)
    files = generate(program, options)
    return write_outputs(files, options.out)
