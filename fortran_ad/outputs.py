"""Write generated files all or nothing (no half-written output on an error)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from fortran_ad.errors import FortranADError


def write_outputs(files: dict[str, str | bytes], out: Path) -> list[Path]:
    """Write all files or none: render into a scratch folder, then move into ``out``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FortranADError(str(out), f"output path '{out}' exists and is not a directory")
    parent = out if out.exists() else out.parent
    while not parent.exists():
        parent = parent.parent
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
