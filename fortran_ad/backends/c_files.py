"""``--emit c``: the derivative Fortran, re-read through the frontend, written as C99.

The derivative generator stays the single source of truth: its Fortran output is lowered again
(with the primal modules known), normalized like any input (array syntax and SUM → loops), and
every routine is translated by backends/c.py. Each derivative file ``<stem>_b.f90`` becomes
* ``fadc_<stem>_b.c``: the derivative routines (external symbols ``fadc_<module>__<name>``) and
  ``static`` copies of the primal routines they call;
* ``<stem>_b.f90``: an ISO_C_BINDING module with the module and routine names and the
  signatures of the Fortran output (backends/c_iface.py), so a build swaps one for the other;
plus ``fadc.h``, ``fadc_tape.c`` and ``fad_tape.f90`` (the C tape and its Fortran interface).
Module PARAMETERs become ``static const`` values in each C file; anything the C side cannot
express (module variables, internal procedures, I/O, ...) is a located FortranADError.
"""

from __future__ import annotations

from pathlib import Path

from fortran_ad.backends.c import Linker, RoutineC, cid, param_items
from fortran_ad.backends.c_iface import interface_file
from fortran_ad.backends.c_types import ctype_of_spec, unsupported
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.lower import ModuleRegistry, lower_source
from fortran_ad.frontend.preprocess import Source, read_source
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import walk_stmts
from fortran_ad.normalize.entry import split_entries
from fortran_ad.normalize.operators import resolved_program
from fortran_ad.runtime import RUNTIME_DIR

C_RUNTIME = ("fadc.h", "fadc_tape.c")
TAPE_INTERFACE = "fad_tape_c.f90"  # shipped as fad_tape.f90 in the C output
_HINT = "use the Fortran back end (--emit fortran) for this code"


def emit_c(options, generated: dict[str, str] | None = None, pp=None) -> dict[str, str]:
    """All files of the C output for ``options`` (``generated``: the Fortran derivative files,
    computed when not given; ``pp``: the preprocessing, default the options')."""
    pp = pp if pp is not None else options.preprocessing
    if generated is None:
        from fortran_ad.ad.core.generate import generate
        from fortran_ad.frontend.load import load

        generated = generate(load(options.sources, options.fixed_form, pp), options)
    modules = ModuleRegistry()
    primal = [
        lower_source(read_source(p, options.fixed_form, pp), modules) for p in options.sources
    ]
    primal = [split_entries(f) for f in primal]  # ENTRYs as routines, as the generator sees them
    derived = {
        name: lower_source(Source(name, text, False), modules)
        for name, text in generated.items()
        if name.endswith(".f90") and not name.startswith("fad_tape")
    }
    program = CProgram(primal, list(derived.values()))
    out: dict[str, str] = {}
    for name, f in derived.items():
        stem = Path(name).stem
        out[f"fadc_{stem}.c"] = program.c_file(f)
        out[name] = interface_file(f, program)
    for rt in C_RUNTIME:
        out[rt] = (RUNTIME_DIR / rt).read_text()
    if any(n.endswith(".f90") for n in generated if n.startswith("fad_tape")):
        out["fad_tape.f90"] = (RUNTIME_DIR / TAPE_INTERFACE).read_text()
    return out


def write_c(options) -> list[Path]:
    """``fortran-ad FILES --wrt ... --emit c``: write the C output (all files or none)."""
    from fortran_ad.outputs import write_outputs

    return write_outputs(emit_c(options), options.out)


class CProgram(Linker):
    """Primal routines plus the derivative routines (primal copies dropped: C calls the one
    translation of each primal routine)."""

    def __init__(self, primal: list[ir.SourceFile], derived: list[ir.SourceFile]):
        names = {r.name for f in primal for r in _routines(f)}
        self.primal_names = names
        self.primal_paths = tuple(f.path for f in primal)
        self.primal_blocks = {
            i.block
            for f in primal
            for r in _routines(f)
            for i in r.spec
            if isinstance(i, ir.Common)
        }
        stripped = [self._strip(f, names) for f in derived]
        self.program = resolved_program([*primal, *stripped])
        self.derived_files = stripped
        self._normalized: dict[str, ir.Routine] = {}
        self._params: dict[int, tuple[str, ir.Symbol, str]] = {}
        self._commons: set[str] = set()

    @staticmethod
    def _strip(f: ir.SourceFile, names: set[str]) -> ir.SourceFile:
        from dataclasses import replace

        def keep(rs: tuple[ir.Routine, ...]) -> tuple[ir.Routine, ...]:
            return tuple(replace(r, contains=keep(r.contains)) for r in rs if r.name not in names)

        units = []
        for u in f.units:
            if isinstance(u, ir.Module):
                u = replace(u, routines=keep(u.routines))
            elif isinstance(u, ir.Routine):
                if u.name in names:
                    continue
                u = keep((u,))[0]
            units.append(u)
        return replace(f, units=tuple(units))

    def extras(self, name: str) -> list[str]:
        """Host variables an internal procedure uses (passed as trailing arguments), including
        those of the sibling internal procedures it calls."""
        cache = self.__dict__.setdefault("_extras", {})
        if name in cache:
            return cache[name]
        cache[name] = []
        info = self.program.routines[name]
        if info.host is None:
            return []
        from fortran_ad.ir.walk import exprs_of_body, names_in

        r = self.normalized(name)
        used: set[str] = set()
        for e in exprs_of_body(r.body):
            used |= names_in(e)
        for s in r.symbols:
            for d in s.dims:
                used |= names_in(d.lo) if d.lo is not None else set()
                used |= names_in(d.hi) if d.hi is not None else set()
        for s in walk_stmts(r.body):
            if isinstance(s, ir.Opaque):
                used |= set(s.reads) | set(s.writes)
        out = {
            n
            for n in used
            if r.symbol(n) is None
            and info.host.symbol(n) is not None
            and "parameter" not in info.host.symbol(n).attrs
            and self.program.get(n) is None
        }
        for c in self.program.callees(r):
            if self.program.routines[c].host is info.host and c != name:
                out |= set(self.extras(c))
        cache[name] = sorted(out)
        return cache[name]

    # ---- Linker ---------------------------------------------------------------------------
    def routine(self, name: str) -> ir.Routine | None:
        info = self.program.get(name)
        return info.routine if info is not None else None

    def cname(self, name: str) -> str:
        info = self.program.routines[name]
        owner = info.module.name if info.module is not None else ""
        return f"fadc_{owner}__{name}"

    def parameter(self, sym: ir.Symbol) -> str:
        key = id(sym)
        if key not in self._params:
            owner = next(
                (m.name for m in self.program.modules.values() if any(s is sym for s in m.symbols)),
                "",
            )
            self._params[key] = (f"{owner}__{sym.name}", sym, owner)
        return self._params[key][0]

    def common(self, block: str) -> str:
        symbol = f"{block}_" if block else "__BLNK__"
        self._commons.add(symbol)
        return symbol

    # ---- translation ------------------------------------------------------------------------
    def normalized(self, name: str) -> ir.Routine:
        if name not in self._normalized:
            from fortran_ad.ad.core.naming import Namer
            from fortran_ad.ir.walk import routine_names
            from fortran_ad.normalize import normalize_routine

            info = self.program.routines[name]
            namer = Namer(routine_names(info.routine), "reverse")
            self._normalized[name] = normalize_routine(info, self.program, namer)
        return self._normalized[name]

    def translate(self, name: str, public: bool) -> tuple[str, str, set[str]]:
        """(prototype, definition, callees) of one routine."""
        r = self.normalized(name)
        info = self.program.routines[name]
        if r.kind == "program":
            raise unsupported(r.loc, "main programs")
        scope = type(info.scope)(
            {s.name: s for s in r.symbols}, info.scope.host, info.scope.modules
        )
        try:
            t = RoutineC(r, scope, self, public)
            text = t.text()
        except FortranADError as exc:
            origin = next((c for c in r.comments if " of " in c and "(" in c), None)
            if origin is None or exc.hint != _HINT:
                raise
            where = origin.split(" of ", 1)[1].strip()
            raise FortranADError(exc.loc, exc.message, f"in the derivative of {where}") from None
        return t.signature() + ";", text, self.program.callees(r)

    def c_file(self, f: ir.SourceFile) -> str:
        own = [
            r.name
            for u in f.units
            for r in (u.routines if isinstance(u, ir.Module) else [u])
            if isinstance(r, ir.Routine)
        ]
        protos, defs, done, todo = [], [], set(), list(own)
        while todo:
            name = todo.pop(0)
            if name in done:
                continue
            done.add(name)
            mine = self.program.routines[name].file.path in (f.path, *self.primal_paths)
            proto, text, callees = self.translate(name, public=name not in self.primal_names)
            protos.append(proto)
            if mine:
                defs.append(text)
            todo += sorted(callees - done)
        header = [
            f"/* fadc_{Path(f.path).stem}.c: C99 of {Path(f.path).name}, written by fortran-ad "
            "--emit c -- do not edit. */",
            '#include "fadc.h"',
            "",
        ]
        commons = [
            f"extern char {c}[];  /* a COMMON block of the Fortran side */"
            for c in sorted(self._commons)
        ]
        return "\n".join([*header, *commons, *self._param_lines(), "", *protos, "", *defs])

    def _param_lines(self) -> list[str]:
        lines, emitted = [], set()

        def emit(key: int) -> None:
            if key in emitted:
                return
            emitted.add(key)
            cname, sym, owner = self._params[key]
            mod = self.program.modules.get(owner)
            if sym.init is None:
                raise FortranADError(sym.loc, f"PARAMETER '{sym.name}' has no value")
            t = ParamScope(self, mod)
            value = [t.expr(x) for x in param_items(sym, sym.loc)] if sym.dims else t.expr(sym.init)
            for k in list(self._params):
                if k not in emitted and k != key and self._params[k][1] in t.used:
                    emit(k)
            ct = ctype_of_spec(sym.type, t.lookup, sym.loc)
            if sym.dims:
                items = ", ".join(t.cast(x, ct) for x in param_items(sym, sym.loc))
                lines.append(f"static const {ct.c} {cname}[] = {{{items}}};")
            else:
                lines.append(f"static const {ct.c} {cname} = {t.cast(sym.init, ct)};")
            del value

        for key in list(self._params):
            emit(key)
        return lines


class ParamScope(RoutineC):
    """Expressions at module scope (PARAMETER values)."""

    def __init__(self, prog: CProgram, mod: ir.Module | None):  # noqa: D107
        self.prog = prog
        self.linker = prog
        self.mod = mod
        self.loc = mod.loc if mod is not None else None
        self.used: list[ir.Symbol] = []
        self.vars = {}
        self.r = ir.Routine("<module>", "subroutine", (), (), (), ())

    def lookup(self, name: str) -> ir.Symbol | None:
        if self.mod is None:
            return None
        own = self.mod.symbol(name)
        if own is not None:
            return own
        return self.prog.program._used_symbols(self.mod.spec).get(name)

    def var(self, name: str):
        sym = self.lookup(name)
        if sym is None or "parameter" not in sym.attrs:
            raise unsupported(self.loc, f"'{name}' in a PARAMETER value")
        self.used.append(sym)
        from fortran_ad.backends.c import Var

        return Var(sym, ctype_of_spec(sym.type, self.lookup), self.prog.parameter(sym))


def _routines(f: ir.SourceFile) -> list[ir.Routine]:
    """Every routine of a file, internal procedures included."""
    out: list[ir.Routine] = []
    todo = [r for u in f.units for r in (u.routines if isinstance(u, ir.Module) else [u])]
    while todo:
        r = todo.pop()
        if isinstance(r, ir.Routine):
            out.append(r)
            todo += list(r.contains)
    return out


__all__ = ["CProgram", "cid", "emit_c"]
