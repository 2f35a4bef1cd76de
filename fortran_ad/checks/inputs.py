"""Where the check's inputs come from: the head routine, sample.toml cases, size hints.

Kept apart from ``run.py`` so the rules (which case applies, who overrides whom) are small,
readable and testable without a compiler.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fortran_ad.checks.spec import FixedValue
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import walk_stmts


@dataclass(frozen=True)
class CaseValues:
    """Fixed values and ranges for the head's dummies, plus the case's wrt/of if any."""

    head: str | None = None
    fixed: dict[str, FixedValue] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    wrt: tuple[str, ...] = ()
    of: tuple[str, ...] | None = None
    sources: tuple[str, ...] = ()  # the sample's sources, resolved against its folder
    defines: tuple[str, ...] = ()  # -D NAME[=VAL] for this case (sample.toml: defines = [...])
    setup: str | None = None  # a subroutine without arguments run before every call of the head


def _ranges(raw: Mapping[str, Any], where: str) -> dict[str, tuple[float, float]]:
    out = {}
    for name, pair in raw.items():
        ok = isinstance(pair, list | tuple) and len(pair) == 2
        if not ok or not all(isinstance(x, int | float) for x in pair):
            raise FortranADError(where, f"range for '{name}' must be [low, high]")
        out[name.lower()] = (float(pair[0]), float(pair[1]))
    return out


def _fixed(raw: Mapping[str, Any], where: str) -> dict[str, FixedValue]:
    out: dict[str, FixedValue] = {}
    for name, value in raw.items():
        if "%" in name and isinstance(value, list) and all(isinstance(n, int) for n in value):
            out[name.lower()] = tuple(value)  # bounds of an allocatable component "s%h" = [n]
            continue
        if not isinstance(value, bool | int | float):
            raise FortranADError(where, f"value for '{name}' must be a number or a logical")
        out[name.lower()] = value
    return out


def load_case(sample: Path, head: str | None, defines: tuple[str, ...] | None = None) -> CaseValues:
    """The [[case]] of ``sample`` (a sample.toml or its folder) whose head is ``head``, or the
    only case when ``head`` is None; among cases of one head, the one whose ``defines`` are
    ``defines`` (default: the first). Source paths come back relative to the sample's folder."""
    path = Path(sample)
    if path.is_dir():
        path = path / "sample.toml"
    where = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise FortranADError(where, f"cannot read sample: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FortranADError(where, f"invalid TOML: {exc}") from None
    cases = data.get("case", [])
    if not cases:
        raise FortranADError(where, "the sample has no [[case]]")
    if head is None:
        if len(cases) > 1:
            heads = ", ".join(str(c.get("head")) for c in cases)
            raise FortranADError(where, "the sample has several cases", f"pick one: --head {heads}")
        case = cases[0]
    else:
        matching = [c for c in cases if str(c.get("head", "")).lower() == head.lower()]
        if not matching:
            if len(cases) != 1:
                raise FortranADError(where, f"no case with head '{head}' in the sample")
            matching = cases
        if defines is not None:
            same = [c for c in matching if tuple(c.get("defines", ())) == tuple(defines)]
            matching = same or matching
        case = matching[0]
    folder = path.parent
    of = case.get("of")
    return CaseValues(
        head=str(case["head"]).lower() if "head" in case else None,
        fixed=_fixed(case.get("check", {}), where),
        ranges=_ranges(case.get("ranges", {}), where),
        wrt=tuple(w.lower() for w in case.get("wrt", ())),
        of=tuple(o.lower() for o in of) if of is not None else None,
        sources=tuple(str(folder / s) for s in data.get("sources", ())),
        defines=tuple(str(d) for d in case.get("defines", ())),
        setup=str(case["setup"]).lower() if "setup" in case else None,
    )


def _routines(program: list[ir.SourceFile]) -> list[tuple[ir.Module | None, ir.Routine]]:
    out: list[tuple[ir.Module | None, ir.Routine]] = []
    for f in program:
        for unit in f.units:
            if isinstance(unit, ir.Module):
                out.extend((unit, r) for r in unit.routines if r.kind == "subroutine")
            elif isinstance(unit, ir.Routine) and unit.kind == "subroutine":
                out.append((None, unit))
    return out


def find_setup(program: list[ir.SourceFile], name: str) -> tuple[str, str | None]:
    """The setup subroutine ``name`` (no arguments) and its module (None: external)."""
    for mod, r in _routines(program):
        if r.name == name:
            if r.args:
                raise FortranADError(
                    None, f"the setup routine '{name}' takes arguments", "it must take none"
                )
            return name, mod.name if mod is not None else None
    raise FortranADError(None, f"no subroutine '{name}' (the sample's setup) in the sources")


def find_head(
    program: list[ir.SourceFile], head: str | None, wrt: tuple[str, ...]
) -> tuple[ir.Module | None, ir.Routine]:
    """The head subroutine: by name, else the one taking every --wrt name as a dummy that no
    other such candidate calls (the outermost)."""
    units = _routines(program)
    if head is not None:
        for mod, r in units:
            if r.name == head.lower():
                return mod, r
        names = ", ".join(r.name for _, r in units) or "none"
        raise FortranADError(None, f"no subroutine '{head}' in the sources", f"found: {names}")
    cands = [(m, r) for m, r in units if all(w in r.args for w in wrt)]
    if len(cands) > 1:
        calls = (s for _, r in cands for s in walk_stmts(r.body))
        called = {s.name for s in calls if isinstance(s, ir.CallStmt)}
        outer = [(m, r) for m, r in cands if r.name not in called]
        cands = outer or cands
    if len(cands) == 1:
        return cands[0]
    if not cands:
        raise FortranADError(
            None,
            f"no subroutine has all of {', '.join(wrt)} as dummies",
            "name the routine to differentiate with --head",
        )
    names = ", ".join(r.name for _, r in cands)
    raise FortranADError(None, f"several candidate heads: {names}", "pick one with --head")
