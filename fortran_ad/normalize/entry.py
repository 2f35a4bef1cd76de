"""ENTRY statements: each entry of a subroutine becomes a routine of its own.

``entry bar(c, b)`` inside ``subroutine foo(a, b)`` starts execution at the ENTRY statement
with the dummies of ``bar``. For differentiation, ``foo`` keeps its whole body (an ENTRY
statement met while running is a no-op) and ``bar`` is a new routine whose body is what follows
the ENTRY statement, with the declarations of ``foo`` minus the dummies ``bar`` lacks (a
standard-conforming entry never references them). Derivatives then follow the usual naming:
``foo_b`` and ``bar_b``. The primal sources are not changed.

Refused with a located error: ENTRY inside a construct (IF, DO), ENTRY in a FUNCTION, and
routines with saved local state (SAVE, DATA or initialised locals), which entries share in
Fortran but separate routines would not.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import exprs_of_body, names_in, walk_stmts

_ENTRY = re.compile(r"^\s*entry\s+([a-z_]\w*)\s*(?:\(([^()]*)\))?\s*$", re.I)


def split_entries(f: ir.SourceFile) -> ir.SourceFile:
    """The file with every ENTRY of a subroutine split into its own routine."""
    units: list = []
    changed = False
    for u in f.units:
        if isinstance(u, ir.Module):
            routines = tuple(x for r in u.routines for x in _split(r))
            changed |= len(routines) != len(u.routines)
            units.append(replace(u, routines=routines))
        elif isinstance(u, ir.Routine):
            parts = _split(u)
            changed |= len(parts) > 1
            units.extend(parts)
        else:
            units.append(u)
    return replace(f, units=tuple(units)) if changed else f


def _is_entry(s: ir.Stmt) -> bool:
    return isinstance(s, ir.Opaque) and _is_entry_text(s.text)


def _split(r: ir.Routine) -> list[ir.Routine]:
    r = _entries_from_spec(r)
    top = [(k, s) for k, s in enumerate(r.body) if _is_entry(s)]
    every = [s for s in walk_stmts(r.body) if _is_entry(s)]
    if not every:
        return [r]
    if len(every) > len(top):
        inner = next(s for s in every if all(s is not t for _, t in top))
        raise FortranADError(inner.loc, "ENTRY inside an IF or DO construct is not supported")
    if r.kind != "subroutine":
        raise FortranADError(top[0][1].loc, f"ENTRY in {r.kind} '{r.name}' is not supported")
    _refuse_saved_state(r, top[0][1])
    out = [replace(r, body=tuple(s for s in r.body if not _is_entry(s)))]
    for k, s in top:
        out.append(_entry_routine(r, s, tuple(x for x in r.body[k + 1 :] if not _is_entry(x))))
    return out


def _entries_from_spec(r: ir.Routine) -> ir.Routine:
    """An ENTRY before the first executable statement is parsed into the specification part:
    move it to the start of the body."""
    found = [x for x in r.spec if isinstance(x, ir.OpaqueSpec) and _is_entry_text(x.text)]
    if not found:
        return r
    spec = tuple(x for x in r.spec if all(x is not f for f in found))
    moved = tuple(ir.Opaque(f.text, loc=f.loc) for f in found)
    return replace(r, spec=spec, body=moved + r.body)


def _is_entry_text(text: str) -> bool:
    return text.strip().lower().startswith("entry ")


def _refuse_saved_state(r: ir.Routine, at: ir.Stmt) -> None:
    for sym in r.symbols:
        if sym.name in r.args or "parameter" in sym.attrs:
            continue
        if "save" in sym.attrs or sym.init is not None:
            raise FortranADError(
                at.loc,
                f"ENTRY in '{r.name}' with saved local '{sym.name}': the entries share it, "
                "separate derivative routines would not",
            )
    for item in r.spec:
        text = getattr(item, "text", "").strip().lower()
        if text.startswith(("save", "data")):
            raise FortranADError(
                at.loc, f"ENTRY in '{r.name}' with SAVE or DATA: the entries share that state"
            )


def _entry_routine(r: ir.Routine, s: ir.Opaque, body: tuple[ir.Stmt, ...]) -> ir.Routine:
    m = _ENTRY.match(s.text)
    if m is None:
        raise FortranADError(s.loc, f"cannot read the ENTRY statement '{s.text.strip()}'")
    name = m.group(1).lower()
    args = tuple(a.strip().lower() for a in (m.group(2) or "").split(",") if a.strip())
    if "*" in args:
        raise FortranADError(s.loc, "alternate returns in ENTRY are not supported")
    dropped = set(r.args) - set(args)
    used: set[str] = set()
    for e in exprs_of_body(body):
        used |= names_in(e)
    if dropped & used:
        bad = sorted(dropped & used)[0]
        raise FortranADError(
            s.loc, f"entry '{name}' uses '{bad}', a dummy of '{r.name}' that it does not receive"
        )
    spec = tuple(x for x in (_without(item, dropped, s) for item in r.spec) if x is not None)
    symbols = tuple(sym for sym in r.symbols if sym.name not in dropped)
    note = f"! entry {name} of {r.name}, split into its own routine ({_where(s.loc)})"
    return replace(
        r, name=name, args=args, spec=spec, symbols=symbols, body=body, loc=s.loc,
        comments=(note,),
    )  # fmt: skip


def _without(item: ir.SpecItem, dropped: set[str], at: ir.Stmt) -> ir.SpecItem | None:
    if isinstance(item, ir.TypeDecl):
        keep = tuple(e for e in item.entities if e.name not in dropped)
        return replace(item, entities=keep) if keep else None
    if isinstance(item, ir.AttrStmt):
        names = {e.name for e in item.targets}
        if names and names <= dropped:
            return None
        if names & dropped:
            raise FortranADError(
                item.loc,
                f"'{item.text.strip()}' names dummies of the entry and of its routine together; "
                "split the statement",
            )
    return item


def _where(loc: ir.SourceLoc) -> str:
    return f"{loc.file.rsplit('/', 1)[-1]}:{loc.line}"
