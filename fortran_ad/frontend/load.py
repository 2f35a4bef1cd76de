"""Read, preprocess and lower a list of source files into the IR."""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.frontend.lower import ModuleRegistry, lower_source
from fortran_ad.frontend.preprocess import Preprocessing, read_source
from fortran_ad.ir import nodes as ir


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
