"""Interface blocks for derivative routines of EXTERNAL procedures.

A derivative routine of an external procedure (not in a module, not internal) is itself
external: ``inner_b``, ``inner_d``, and the split sweeps ``inner_fwd`` / ``inner_bwd``. When one
of its dummies needs an explicit interface (assumed shape, OPTIONAL, ALLOCATABLE, POINTER,
TARGET, VALUE, ...), a call to it from other generated code is illegal without one ("Explicit
interface required"). The emitter therefore

1. ``record``\\ s the interface of each such routine it writes: its header, the USE and
   IMPLICIT statements and the declarations of its dummies (and of the parameters those may
   need), taken from what it emits for the routine itself;
2. writes a ``marker`` line in the specification part of every derivative routine, naming the
   routines its body calls;
3. ``resolve``\\ s the markers once all files are written: each becomes an interface block for
   the called routines that have a recorded interface, or disappears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir import printer as fw
from fortran_ad.ir.walk import walk_stmts
from fortran_ad.ir.writer import Writer

MARK = "!fad-interfaces:"
_EXPLICIT = ("optional", "allocatable", "pointer", "target", "value", "contiguous")


def _needs_explicit(sym: ir.Symbol) -> bool:
    if any(d.kind in ("assumed", "deferred") for d in sym.dims):
        return True
    return any(a.split("(")[0].strip() in _EXPLICIT for a in sym.attrs)


def needs_interface(r: ir.Routine, dummies: Iterable[str]) -> bool:
    """Does a derivative routine of ``r`` with ``dummies`` need an explicit interface?"""
    for a in dummies:
        sym = r.symbol(a)
        if sym is not None and _needs_explicit(sym):
            return True
    return False


def _spec(spec: Iterable[ir.SpecItem], keep: set[str]) -> list[ir.SpecItem]:
    """The specification items an interface body of dummies ``keep`` needs."""
    out: list[ir.SpecItem] = []
    for item in spec:
        if isinstance(item, ir.Use | ir.Implicit):
            out.append(item)
        elif isinstance(item, ir.TypeDecl):
            if "parameter" in item.attrs:
                out.append(item)
                continue
            ents = tuple(e for e in item.entities if e.name in keep)
            if ents:
                out.append(replace(item, entities=ents))
        elif isinstance(item, ir.AttrStmt) and not isinstance(item, ir.Interface):
            names = {e.name for e in item.targets}
            if item.attr == "parameter" or (names and names <= keep):
                out.append(item)
    return out


def _decl_name(line: str) -> str | None:
    if "::" not in line or line.lstrip().startswith("!"):
        return None
    return line.split("::", 1)[1].split("(", 1)[0].split("=", 1)[0].strip().lower()


def record(
    plan,
    name: str,
    dummies: list[str],
    spec: Iterable[ir.SpecItem],
    decls: Iterable[str],
) -> None:
    """Keep the interface of the external derivative routine ``name``."""
    keep = set(dummies)
    w = Writer()
    w.line(f"subroutine {name}({', '.join(dummies)})")
    w.indent()
    for item in _spec(spec, keep):
        fw.spec_item(w, item)
    for line in decls:
        if _decl_name(line) in keep:
            w.line(line.strip())
    w.dedent()
    w.line(f"end subroutine {name}")
    store: dict[str, list[str]] = plan.__dict__.setdefault("external_interfaces", {})
    store[name] = w.lines


def marker(w: Writer, body: Iterable[ir.Stmt], self_name: str) -> None:
    """A placeholder for the interfaces of the routines ``body`` calls."""
    called = sorted(
        {s.name for s in walk_stmts(tuple(body)) if isinstance(s, ir.CallStmt)} - {self_name}
    )
    if called:
        w.comment(MARK + ",".join(called))


def resolve(plan, files: dict[str, str], is_fortran: Callable[[str], bool]) -> dict[str, str]:
    """Replace every marker by an interface block of the recorded routines it names."""
    store: dict[str, list[str]] = plan.__dict__.get("external_interfaces", {})
    out: dict[str, str] = {}
    for fname, text in files.items():
        if not is_fortran(fname) or MARK not in text:
            out[fname] = text
            continue
        lines: list[str] = []
        for line in text.split("\n"):
            stripped = line.strip()
            if not stripped.startswith(MARK):
                lines.append(line)
                continue
            names = [n for n in stripped[len(MARK) :].split(",") if n in store]
            if not names:
                continue
            pad = line[: len(line) - len(line.lstrip())]
            lines.append(pad + "interface")
            for n in names:
                lines += [pad + "  " + x if x else x for x in store[n]]
            lines.append(pad + "end interface")
        out[fname] = "\n".join(lines)
    return out
