"""Compiled copies of the run-time sources, kept between builds (``--python`` builds and the
derivative checks).

``fad_tape.f90`` is the same file for every model and the largest one to compile (several
seconds at -O2), so its object and ``.mod`` are kept in ``$FORTRAN_AD_CACHE`` (default
``$XDG_CACHE_HOME/fortran-ad``, else ``~/.cache/fortran-ad``) under a key made of the source
text, the compiler's path and version and the flags. A cache that cannot be written is skipped.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path


def cache_root() -> Path:
    explicit = os.environ.get("FORTRAN_AD_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fortran-ad"


@functools.cache
def _version(fc: str) -> str:
    return subprocess.run([fc, "--version"], capture_output=True, text=True).stdout


def _key(fc: str, fflags: Sequence[str], src: Path) -> str:
    version = _version(fc)
    h = hashlib.sha256()
    for part in (src.read_text(), fc, version, "\0".join(fflags)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def cached_object(
    fc: str,
    fflags: Sequence[str],
    src: Path,
    obj: Path,
    moddir: Path,
    compile_: Callable[[], object],
) -> None:
    """Put ``src``'s object at ``obj`` and its modules in ``moddir``: from the cache when an
    identical build is there, else by ``compile_()`` (which writes them) and into the cache."""
    entry = cache_root() / f"{src.stem}-{_key(fc, fflags, src)}"
    stored = entry / f"{src.stem}.o"
    if entry.is_dir() and stored.is_file():
        shutil.copyfile(stored, obj)
        for mod in entry.glob("*.mod"):
            shutil.copyfile(mod, moddir / mod.name)
        return
    before = {p.name for p in moddir.glob("*.mod")}
    compile_()
    made = [p for p in moddir.glob("*.mod") if p.name not in before]
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=entry.parent) as tmp:
            staged = Path(tmp) / "entry"
            staged.mkdir()
            shutil.copyfile(obj, staged / stored.name)
            for mod in made:
                shutil.copyfile(mod, staged / mod.name)
            os.replace(staged, entry)  # atomic: concurrent builds see all files or none
    except OSError:
        pass  # a read-only or racing cache only costs the compile next time
