"""Reading sources: decoding, source form detection.

Fixed form is decided by the file suffix (``.f``, ``.for``, ``.f77`` and upper-case variants),
unless the caller overrides it. Preprocessor support (``-D``/``-I``) grows here (issue #8).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fortran_ad.errors import FortranADError
from fortran_ad.ir.nodes import SourceLoc

FIXED_SUFFIXES = {".f", ".for", ".f77", ".ftn"}
FREE_SUFFIXES = {".f90", ".f95", ".f03", ".f08"}


@dataclass(frozen=True)
class Source:
    path: str  # as the user named it (used in diagnostics)
    text: str
    fixed_form: bool


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


def read_source(path: str, fixed_form: bool | None = None) -> Source:
    """Read one source file; errors are located FortranADErrors."""
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
    return Source(path, text, form)
