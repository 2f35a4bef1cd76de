"""The manifest ``NAME.fad.json`` written next to a Python module built by ``--python NAME``.

It records what each argument of the wrapped derivative routine is (primal or derivative of
which dummy, dtype, declared bounds, intent), so :mod:`fortran_ad.bindings` can seed, call and
unpack the routine without parsing Fortran. Kept apart from the build so that loading a
built module needs only NumPy (not fparser, not a compiler).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

MANIFEST_SUFFIX = ".fad.json"


@dataclass(frozen=True)
class Arg:
    """One argument of the wrapped derivative routine, as the Python layer passes it."""

    name: str  # Fortran dummy name
    pyname: str  # keyword of the f90wrap Python wrapper (f90wrap renames Python keywords)
    dtype: str  # NumPy dtype
    dims: tuple[str, ...]  # declared bounds, "n" or "0:n + 1" per dimension; () for scalars
    intent: str | None  # in | out | inout | None (no INTENT: f2py passes it in)
    derivative_of: str | None  # the primal dummy this derivative belongs to
    wrt: bool = False
    of: bool = False
    returned: bool = False  # intent(out) scalar: the wrapper returns it


@dataclass(frozen=True)
class Manifest:
    """What ``fortran_ad.load`` needs to seed, call and unpack the derivative routine."""

    name: str  # the Python module
    mode: str  # reverse | forward
    head: str
    routine: str  # <head>_b / <head>_d
    module: str | None  # <module>_b, None for an external routine (then NAME.<routine>)
    wrt: tuple[str, ...]
    of: tuple[str, ...]
    args: tuple[Arg, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1) + "\n"

    @staticmethod
    def from_json(text: str) -> Manifest:
        data = json.loads(text)
        args = tuple(Arg(**{**a, "dims": tuple(a["dims"])}) for a in data.pop("args"))
        return Manifest(
            **{**data, "wrt": tuple(data["wrt"]), "of": tuple(data["of"]), "args": args}
        )
