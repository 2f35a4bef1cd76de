"""Derived-type dummies of the head in the check harness.

A dummy ``type(state_t) :: state`` is declared, copied and passed whole (its derivative
``fad_b_state``/``fad_d_state`` is an object of the same type, as the generated interface
takes it); its real leaf components (``state%h``, ``state%p%c``, nested types expanded) are
the harness's real "dummies": every one is drawn from its range (``ranges["state%h"]``, else
the range of the nearest named parent path, ``ranges["state"]``, else the default), the ones
under a --wrt path get directions, the ones under an --of path weights, and the derivatives are
compared component by component (``fad_b_state%h``).

Allocatable components get their bounds from the values: ``sizes={"state%h": (n, m)}`` (a
sample's ``[case.check]``: ``"state%h" = [24]``); integer and logical scalar components take
fixed values the same way (``"state%nsteps" = 0``), otherwise they keep their default
initialization. Refused with a located error: an allocatable real component without bounds,
pointer components (a copy of the object would alias them), PRIVATE real components (the
harness cannot set them), components that are arrays of derived type, arrays of derived type
as dummies, and the vector modes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fortran_ad.ad.head_names import components
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import is_real, type_name


def collect_types(program: Sequence[ir.SourceFile]) -> dict[str, ir.TypeDef]:
    """Every derived-type definition of the program, by name."""
    out: dict[str, ir.TypeDef] = {}

    def unit(u) -> None:
        for item in getattr(u, "spec", ()):
            if isinstance(item, ir.TypeDef):
                out.setdefault(item.name, item)
        for r in (*getattr(u, "routines", ()), *getattr(u, "contains", ())):
            unit(r)

    for f in program:
        for u in f.units:
            unit(u)
    return out


def range_of(path: str, ranges: Mapping[str, tuple[float, float]], default) -> tuple[float, float]:
    """The range of ``path`` or of its nearest parent path that has one."""
    parts = path.split("%")
    for k in range(len(parts), 0, -1):
        key = "%".join(parts[:k])
        if key in ranges:
            return ranges[key]
    return default


def under(path: str, names: Sequence[str]) -> bool:
    """Is the leaf ``path`` one of ``names`` or inside one of them?"""
    return any(path == n or path.startswith(n + "%") for n in names)


def object_parts(
    routine: ir.Routine,
    a: str,
    sym: ir.Symbol,
    types: Mapping[str, ir.TypeDef],
    fixed: Mapping[str, object],
):
    """(real leaves as (path, component symbol, allocation bounds text or None), passive
    scalar assignments (path, value)) of the derived-type dummy ``a``."""
    where = sym.loc if sym.loc != ir.NOWHERE else routine.loc
    if sym.dims:
        raise FortranADError(
            where,
            f"the check cannot set dummy '{a}', an array of derived type",
            "check a head taking one object",
        )
    leaves: list[tuple[str, ir.Symbol, str | None]] = []
    passive: list[tuple[str, object]] = []

    def visit(path: str, tname: str, depth: int) -> None:
        if tname not in types:
            raise FortranADError(
                where, f"the definition of derived type '{tname}' is not in the sources"
            )
        for c in components(types, tname):
            p = f"{path}%{c.name}"
            inner = type_name(c)
            if inner is not None:
                if c.dims or c.attrs & {"allocatable", "pointer"}:
                    if any(k.startswith(p) for k in fixed):
                        raise FortranADError(
                            where, f"the check cannot set '{p}', an array of derived type"
                        )
                    continue  # left as the type initializes it (the head may allocate it)
                if depth < 20:
                    visit(p, inner, depth + 1)
                continue
            if is_real(c) and "private" in c.attrs:
                raise FortranADError(
                    where,
                    f"the check cannot set '{p}': the component is PRIVATE to its module",
                    "check a routine of that module, or one taking the values as arrays",
                )
            if is_real(c):
                leaves.append((p, c, _bounds(where, p, c, fixed)))
            elif p in fixed:
                if c.dims or c.attrs & {"allocatable", "pointer"}:
                    raise FortranADError(where, f"the check sets scalar components only: '{p}'")
                passive.append((p, fixed[p]))

    visit(a, type_name(sym) or "", 0)
    used = {p for p, _, b in leaves if b is not None} | {p for p, _ in passive}
    for key in fixed:
        if key.startswith(a + "%") and key not in used:
            raise FortranADError(
                where,
                f"value for '{key}': not an allocatable real component nor a scalar integer or "
                f"logical component of '{a}'",
            )
    return leaves, passive


def _bounds(where, path: str, c: ir.Symbol, fixed: Mapping[str, object]) -> str | None:
    if "pointer" in c.attrs:
        raise FortranADError(
            where,
            f"the check cannot set the pointer component '{path}' (a copy of the object "
            "would alias it)",
            "make it allocatable, or check a head that takes the arrays",
        )
    value = fixed.get(path)
    if "allocatable" not in c.attrs:
        if value is not None:
            raise FortranADError(
                where,
                f"'{path}' is not allocatable: it takes no bounds",
                f'a real component is drawn from its range; to fix it: ranges={{"{path}": '
                "(v, v)} or --range " + f"{path}=v:v",
            )
        return None
    if value is None:
        raise FortranADError(
            where,
            f"allocatable component '{path}' needs bounds",
            f'give them with sizes={{"{path}": (n, ...)}} or "{path}" = [n, ...] in the '
            "sample's [case.check]",
        )
    dims = (value,) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(dims, list | tuple) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in dims
    )
    if not ok or len(dims) != len(c.dims):
        raise FortranADError(
            where, f"bounds of '{path}' must be {len(c.dims)} non-negative extent(s), not {value}"
        )
    return "(" + ", ".join(str(n) for n in dims) + ")"
