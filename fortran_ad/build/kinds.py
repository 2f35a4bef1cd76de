"""Kind parameters as the compiler sees them, for f90wrap's kind map.

f90wrap writes wrappers with literal kinds (``real(8)``) and needs a map from the kinds as
written (``dp``, ``r8``, ``kind(1.0d0)``, ``selected_real_kind(15)``) to C types. Rather than
evaluating kind expressions in Python (``selected_real_kind``, ``iso_fortran_env``, parameters
imported through chains of USE), a small probe program declares one variable per kind in the
head's own scope and prints ``kind()`` of each: the answer is the compiler's own.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fortran_ad.errors import FortranADError

#: (type, kind value) -> the C type name f2py understands.
C_TYPES: dict[tuple[str, int], str] = {
    ("real", 4): "float",
    ("real", 8): "double",
    ("integer", 1): "signed_char",
    ("integer", 2): "short",
    ("integer", 4): "int",
    ("integer", 8): "long_long",
    ("logical", 4): "int",
    ("complex", 4): "complex_float",
    ("complex", 8): "complex_double",
}

#: NumPy dtype of each C type (what the Python layer allocates).
NUMPY_DTYPES: dict[str, str] = {
    "float": "float32",
    "double": "float64",
    "signed_char": "int8",
    "short": "int16",
    "int": "int32",
    "long_long": "int64",
    "complex_float": "complex64",
    "complex_double": "complex128",
}


@dataclass(frozen=True)
class KindText:
    """One ``type(kind)`` as f90wrap reads it: ``key`` is f90wrap's kind-map key (the kind
    without parentheses), ``text`` the kind expression to declare it with in Fortran."""

    base: str
    key: str
    text: str


def split_kind(typename: str) -> KindText | None:
    """``real(dp)`` -> KindText('real', 'dp', 'dp'); ``double precision`` -> None (no kind).

    Keys follow f90wrap's ``f2c_type`` (the kind text with ``kind=`` and every parenthesis
    removed), so the map built here is the one f90wrap looks up."""
    from f90wrap.fortran import split_type_kind

    base, kind = split_type_kind(typename.strip().lower())
    if not kind:
        return None
    text = kind.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    key = kind.replace("(", "").replace(")", "")
    return KindText(base, key, text)


def probe_source(uses: Sequence[str], kinds: Sequence[KindText]) -> str:
    """A program printing ``<index> kind`` for every kind, declared after ``uses``."""
    lines = ["program fad_kinds", *(f"  {u}" for u in uses), "  implicit none"]
    for i, k in enumerate(kinds):
        lines.append(f"  {k.base}({k.text}) :: fad_v{i}")
    for i in range(len(kinds)):
        lines.append(f"  print '(i0, 1x, i0)', {i}, kind(fad_v{i})")
    lines.append("end program fad_kinds")
    return "\n".join(lines) + "\n"


def kind_map(
    fc: str,
    build: Path,
    uses: Sequence[str],
    kinds: Sequence[KindText],
    fflags: Sequence[str],
) -> dict[str, dict[str, str]]:
    """f90wrap's kind map (``{'real': {'dp': 'double'}}``) for ``kinds``, resolved by compiling
    and running a probe in ``build`` (which holds the compiled modules in ``build/mod``)."""
    kinds = list(dict.fromkeys(kinds))
    if not kinds:
        return {}
    src = build / "fad_kinds.f90"
    exe = build / "fad_kinds"
    src.write_text(probe_source(uses, kinds))
    mod = build / "mod"
    cmd = [fc, *fflags, "-ffree-line-length-none", "-I", str(mod), "-J", str(build)]
    cmd += [str(src), "-o", str(exe)]
    proc = subprocess.run(cmd, cwd=build, capture_output=True, text=True)
    if proc.returncode != 0:
        raise FortranADError(
            None,
            "cannot resolve the kind parameters of the head's arguments for f90wrap",
            (proc.stdout + proc.stderr).strip(),
        )
    run = subprocess.run([str(exe)], cwd=build, capture_output=True, text=True)
    out: dict[str, dict[str, str]] = {}
    for line in run.stdout.split("\n"):
        if not line.strip():
            continue
        index, value = (int(x) for x in line.split())
        k = kinds[index]
        ctype = C_TYPES.get((k.base, value))
        if ctype is None:
            raise FortranADError(
                None,
                f"{k.base}({k.text}) is kind {value}, which Python bindings cannot pass",
                "f2py supports real kinds 4 and 8, integer kinds 1, 2, 4, 8",
            )
        out.setdefault(k.base, {})[k.key] = ctype
    return out
