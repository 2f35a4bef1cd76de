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
harness cannot set them), components that are arrays of derived type, and the vector modes.
An explicit-shape array of derived type ``cs(n)`` (n fixed) is an object per element: its parts
are ``cs(1)%q``, ``cs(2)%q``, … (at most MAX_ELEMENTS elements), sized and ranged as ``cs%q``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from fortran_ad.ad.core.head_names import components
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
    """The range of ``path`` or of its nearest parent path that has one (an element's
    component ``cs(2)%q`` is known as ``cs%q``)."""
    parts = bare(path).split("%")
    for k in range(len(parts), 0, -1):
        key = "%".join(parts[:k])
        if key in ranges:
            return ranges[key]
    return default


def under(path: str, names: Sequence[str]) -> bool:
    """Is the leaf ``path`` one of ``names`` or inside one of them (``cs(2)%q`` is in ``cs``
    and in ``cs%q``)?"""
    path = bare(path)
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
                leaves.append((p, c, _bounds(where, bare(p), c, fixed)))
            elif bare(p) in fixed:
                if c.dims or c.attrs & {"allocatable", "pointer"}:
                    raise FortranADError(where, f"the check sets scalar components only: '{p}'")
                if all(bare(p) != q for q, _ in passive):  # cs%id = 5 sets every element's
                    passive.append((bare(p), fixed[bare(p)]))

    for element in elements(routine, a, sym, fixed, where):
        visit(element, type_name(sym) or "", 0)
    used = {bare(p) for p, _, b in leaves if b is not None} | {p for p, _ in passive}
    for key in fixed:
        if key.startswith(a + "%") and key not in used:
            raise FortranADError(
                where,
                f"value for '{key}': not an allocatable real component nor a scalar integer or "
                f"logical component of '{a}'",
            )
    return leaves, passive


def bare(path: str) -> str:
    """``cs(2)%q`` → ``cs%q``: the name sizes and ranges know a component by."""
    return re.sub(r"\([^)]*\)", "", path)


def elements(routine: ir.Routine, a: str, sym: ir.Symbol, fixed, where) -> list[str]:
    """The designators of the objects of dummy ``a``: ``a`` itself, or every element of an
    explicit-shape array of derived type (``cs(1)``, ``cs(2)``, …; bounds from the fixed
    values), each of whose real components is a part of its own."""
    if not sym.dims:
        return [a]
    ranges = []
    for d in sym.dims:
        lo = _value(d.lo, fixed) if d.lo is not None else 1
        hi = _value(d.hi, fixed) if d.kind == "explicit" else None
        if lo is None or hi is None:
            raise FortranADError(
                where,
                f"the check cannot size dummy '{a}', an array of derived type: its bounds "
                "must be explicit and follow from the fixed values",
                "declare it cs(n) and give n a value",
            )
        ranges.append(range(lo, hi + 1))
    count = 1
    for r in ranges:
        count *= len(r)
    if count > MAX_ELEMENTS:
        raise FortranADError(
            where, f"the check sets arrays of derived type of at most {MAX_ELEMENTS} elements"
        )
    out = [""]
    for r in ranges:  # column-major order of the subscripts is irrelevant here
        out = [f"{o}, {i}" if o else str(i) for o in out for i in r]
    return [f"{a}({o})" for o in out]


MAX_ELEMENTS = 64


def _value(e: ir.Expr, fixed) -> int | None:
    """An integer bound from literals and fixed integer dummies (``n``, ``n + 1``, ``2*n``)."""
    if isinstance(e, ir.Literal) and e.type == "integer":
        return int(e.text.split("_")[0])
    if isinstance(e, ir.Name):
        v = fixed.get(e.name)
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    if isinstance(e, ir.Paren):
        return _value(e.expr, fixed)
    if isinstance(e, ir.UnOp) and e.op == "-":
        v = _value(e.operand, fixed)
        return None if v is None else -v
    if isinstance(e, ir.BinOp) and e.op in ("+", "-", "*"):
        a, b = _value(e.left, fixed), _value(e.right, fixed)
        if a is None or b is None:
            return None
        return a + b if e.op == "+" else a - b if e.op == "-" else a * b
    return None


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
