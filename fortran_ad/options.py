"""What the user asked for: the options of one generation (the CLI and the Python API build
them; every stage of the pipeline reads them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fortran_ad.frontend.preprocess import Preprocessing

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
    omp_increments: str = "auto"  # auto (gather, reduction, atomic) | atomic (ad/parallel/loops.py)
    # the optional loop rewrites, all on or off (ad/rewrites/__init__.py)
    loop_rewrites: bool = True
    rewrites: str = ""  # single ones on/off after that: "-simd,-gather" (ad/rewrites/__init__.py)
    gradient_only: bool = False  # reverse: the head's adjoint skips dead primal code (ad/liveness)

    @property
    def preprocessing(self) -> Preprocessing:
        return Preprocessing(self.defines, self.include_dirs, self.cpp)
