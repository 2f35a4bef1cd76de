"""Reading sources: decoding, source form detection, preprocessing (frontend/cpp.py).

Fixed form is decided by the file suffix (``.f``, ``.for``, ``.f77`` and upper-case variants),
unless the caller overrides it. Files with an upper-case suffix (``.F``, ``.F90``, ...) go
through the C preprocessor, as gfortran does (``cpp=True`` forces it for every file); Fortran
INCLUDE lines are always inlined. ``Source.origins`` maps each line of the text to the file and
line it came from, so diagnostics name the original files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fortran_ad.errors import FortranADError
from fortran_ad.frontend.cpp import Origin, Preprocessor
from fortran_ad.ir.nodes import SourceLoc

FIXED_SUFFIXES = {".f", ".for", ".f77", ".ftn", ".fpp"}
FREE_SUFFIXES = {".f90", ".f95", ".f03", ".f08"}


@dataclass(frozen=True)
class Source:
    path: str  # as the user named it (used in diagnostics)
    text: str
    fixed_form: bool
    origins: tuple[Origin, ...] = ()  # per line of ``text``: (file, line) it came from

    def origin(self, line: int) -> Origin:
        if 0 < line <= len(self.origins):
            return self.origins[line - 1]
        return (self.path, line)


@dataclass(frozen=True)
class Preprocessing:
    """What the user asked of the preprocessor: ``-D NAME[=VAL]``, ``-I DIR``, ``--cpp``."""

    defines: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    force_cpp: bool = False


CPP_SUFFIXES = {".F", ".FOR", ".F77", ".FTN", ".F90", ".F95", ".F03", ".F08", ".fpp", ".FPP"}


def wants_cpp(path: str) -> bool:
    """gfortran's rule: an upper-case suffix (or .fpp) means "preprocess me"."""
    return Path(path).suffix in CPP_SUFFIXES


def detect_fixed_form(path: str) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix in FIXED_SUFFIXES:
        return True
    if suffix in FREE_SUFFIXES:
        return False
    raise FortranADError(
        SourceLoc(path, 1, 1),
        f"cannot tell the source form of '{path}' from its suffix",
        "use .f/.F for fixed form or .f90/.F90 for free form",
    )


def read_source(
    path: str, fixed_form: bool | None = None, pp: Preprocessing | None = None
) -> Source:
    """Read and preprocess one source file; errors are located FortranADErrors."""
    p = Path(path)
    if not p.is_file():
        raise FortranADError(SourceLoc(path, 1, 1), f"no such file: '{path}'")
    form = detect_fixed_form(path) if fixed_form is None else fixed_form
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FortranADError(
            SourceLoc(path, line, col), "invalid UTF-8 in source file", "save the file as UTF-8"
        ) from None
    if "\0" in text:
        raise FortranADError(SourceLoc(path, 1, 1), "source file contains NUL bytes (binary?)")
    if not text.strip():
        raise FortranADError(SourceLoc(path, 1, 1), "source file is empty")
    pp = pp or Preprocessing()
    cpp = Preprocessor(pp.defines, pp.include_dirs, pp.force_cpp or wants_cpp(path), form)
    out, origins = cpp.run(path, text)
    return Source(path, out, form, origins)
