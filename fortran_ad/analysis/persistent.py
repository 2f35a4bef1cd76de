"""Locals that keep their value from one call to the next (SAVE, DATA, initialized locals),
and the ones whose value at entry depends on the history of calls.

A derivative routine is a separate procedure: it declares the primal's SAVE locals again and
so owns a second copy of them. The two copies agree only if the value a call finds at entry
does not depend on which earlier calls ran: a table filled once from constants
(``if (first) then; tab(i) = exp(-0.1*i); first = .false.; end if``) ends the same in both
copies; an accumulator (``acc = 0.5*acc + v``), a call counter (``ncall = ncall + 1``) or a
value kept from the previous call (``last = x``) does not. When the primal runs some calls
(a passive routine that resets the state, the user's own primal run) and the derivative
others, the derivative reads a value the primal never had: silently wrong derivatives.

``history_reads`` finds, in one routine, the persistent locals that

* are read before they are written in some call (upward-exposed, analysis/exposed.py), and
* may be written from something other than constants: a dummy, a module or COMMON
  variable, a non-persistent local (other than a DO variable whose bounds are constants),
  a persistent local carried from a past call (a counter ``ncall = ncall + 1``), a
  function result, or a call that may change them.

Such a local is *history-dependent*; the driver refuses to differentiate a routine that has
one (a located error that tells the user to make the state explicit: a module variable or an
argument, both of which the derivative shares with the primal).
"""

from __future__ import annotations

import re

from fortran_ad.analysis.exposed import Callee, Lookup, exposed
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import (
    base_name,
    bodies,
    names_in,
    stmt_exprs,
    subexprs,
    subscript_names,
    value_names,
    walk_stmts,
)


def saved_by_spec(r: ir.Routine) -> set[str]:
    """Names a SAVE statement (a bare SAVE: every local) or DATA statement keeps between
    calls."""
    out: set[str] = set()
    for item in r.spec:
        if isinstance(item, ir.AttrStmt) and item.attr == "save":
            names = {e.name for e in item.targets}
            out |= names or {s.name for s in r.symbols if s.name not in r.args}
        text = getattr(item, "text", "").strip().lower()
        if text.startswith("data"):
            out |= set(re.findall(r"[a-z_][a-z0-9_]*", text[4:]))
    return out


def persistent_locals(r: ir.Routine) -> set[str]:
    """Locals of ``r`` that keep their value between calls (not dummies, results, named
    constants, COMMON members)."""
    out = saved_by_spec(r)
    for s in r.symbols:
        if "parameter" in s.attrs or any(a.startswith("common") for a in s.attrs):
            out.discard(s.name)
        elif "save" in s.attrs or s.init is not None:
            out.add(s.name)
    return out - set(r.args) - {r.result}


def refuse_history_dependent(program, activity, names: list[str]) -> None:
    """Raise a located error for the first routine of ``names`` (the routines that get a
    derivative; program: ir.program.Program, activity: analysis.activity.Activity) with a
    history-dependent persistent local."""
    internal = {n: i.routine for n, i in program.routines.items() if i.host is not None}

    def callee(name: str) -> ir.Routine | None:
        info = program.get(name)
        return info.routine if info is not None else None

    for name in names:
        info = program.routines[name]
        useful = activity.useful[name]
        found = history_reads(info.routine, info.scope.lookup, callee, internal, useful)
        for var, at in found.items():
            raise FortranADError(
                at.loc,
                f"'{var}' keeps its value from one call of '{name}' to the next (SAVE) and "
                "is set here from values that change between calls: the derivative routine "
                "would keep a copy of it apart from the primal's",
                f"make '{var}' a module variable or an argument of '{name}'",
            )


def history_reads(
    r: ir.Routine,
    lookup: Lookup,
    callee: Callee,
    internal: dict[str, ir.Routine],
    useful: set[str],
) -> dict[str, ir.Stmt]:
    """Persistent locals of ``r`` whose value at entry depends on earlier calls, each with a
    statement that writes it from something other than constants."""
    saved = persistent_locals(r)
    if not saved or r.kind == "program":
        return {}
    carried = exposed(r.body, lookup, callee, internal) & saved  # values from a past call
    ue = carried & _consequential(r.body, useful)
    if not ue:
        return {}
    constant = {s.name for s in r.symbols if "parameter" in s.attrs}
    writers: dict[str, ir.Stmt] = {}
    # a SAVE local written before it is read holds this call's value: as good as a constant
    # if its own writes are; one carried from a past call is not (``ncall = ncall + 1``)
    _Scan(saved, callee, writers).body(r.body, constant | (saved - carried))
    return {n: writers[n] for n in sorted(ue) if n in writers}


class _Scan:
    """Record the first statement that writes each persistent local from a value outside
    ``ok`` (named constants, persistent locals each call writes before reading, DO
    variables with constant bounds)."""

    def __init__(self, saved: set[str], callee: Callee, out: dict[str, ir.Stmt]) -> None:
        self.saved, self.callee, self.out = saved, callee, out

    def body(self, body: tuple[ir.Stmt, ...], ok: set[str]) -> None:
        for s in body:
            if isinstance(s, ir.Do):
                ends = (s.start, s.stop, s.step)
                bounds = {n for e in ends if e is not None for n in names_in(e)}
                self.body(s.body, ok | {s.var} if bounds <= ok else ok)
                continue
            if isinstance(s, ir.Assign):
                tgt = base_name(s.target)
                if tgt in self.saved and tgt not in self.out:
                    used = value_names(s.value) | (names_in(s.target) - {tgt})
                    if not used <= ok or self._user_call(s.value):
                        self.out[tgt] = s
            elif isinstance(s, ir.CallStmt | ir.Opaque):
                for n in sorted(_mentioned(s) & self.saved):  # a call may change its actuals
                    self.out.setdefault(n, s)
            for sub in bodies(s):
                self.body(sub, ok)

    def _user_call(self, e: ir.Expr) -> bool:
        """A user function, which may depend on anything, somewhere in ``e``."""
        return any(isinstance(x, ir.Call) and self.callee(x.name) for x in subexprs(e))


def _consequential(body: tuple[ir.Stmt, ...], useful: set[str]) -> set[str]:
    """Names whose values can change a derivative: read by an assignment to a variable the
    outputs depend on (``useful``), by a call, or by control flow (conditions, loop bounds).
    A counter only printed, or feeding a value no output depends on, changes nothing."""
    out: set[str] = set()
    for s in walk_stmts(body):
        if isinstance(s, ir.Opaque):
            continue
        if isinstance(s, ir.Assign):
            if base_name(s.target) in useful:
                out |= value_names(s.value) | subscript_names(s.target)
        elif isinstance(s, ir.Do):
            out |= {n for e in (s.start, s.stop, s.step) if e is not None for n in names_in(e)}
        elif not isinstance(s, ir.Forall | ir.Where | ir.Associate):
            for e in stmt_exprs(s):
                out |= value_names(e)
    return out


def _mentioned(s: ir.Stmt) -> set[str]:
    out: set[str] = set()
    for e in stmt_exprs(s):
        out |= names_in(e)
    return out
