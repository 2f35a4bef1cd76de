"""INTENT of dummies declared without one, inferred from what the routine does with them.

A dummy without INTENT may be written, so callers would record and restore the actual
around the call, even when the actual is the caller's INTENT(IN) dummy (derivative code
gfortran rejects: a restore of an intent(in) object) or a derived-type object the tape has no
specific for. Here a dummy without INTENT that nothing can write is given intent "in" in the
routine's symbol table (the analyses' view; the declaration is copied as written).

A dummy may be written by: an assignment to it or a part of it, a DO variable, a statement
kept verbatim that names it as written (ALLOCATE, READ, ...), a pointer assignment, an actual
argument of a call whose dummy may be written (known routines: their declared or inferred
intent; anything else: written), and any internal procedure that mentions it (host
association; taken as written). Routines are visited callees first (``order``).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import Program, RoutineInfo, dummy_map
from fortran_ad.ir.symbols import ScopeTable
from fortran_ad.ir.walk import base_name, names_in, stmt_exprs, subexprs, walk_stmts


def infer_intents(program: Program, order: list[str]) -> None:
    for name in order:
        info = program.routines[name]
        r = info.routine
        open_ = [a for a in r.args if (s := r.symbol(a)) is not None and s.intent is None]
        if not open_:
            continue
        written = _may_write(r, program)
        fixed = {a for a in open_ if a not in written}
        if not fixed:
            continue
        symbols = tuple(replace(s, intent="in") if s.name in fixed else s for s in r.symbols)
        r = replace(r, symbols=symbols)
        local = {s.name: s for s in symbols}
        scope = ScopeTable(local, info.scope.host, info.scope.modules, info.scope.types)
        program.routines[name] = RoutineInfo(r, info.file, info.module, info.host, scope)


def _may_write(r: ir.Routine, program: Program) -> set[str]:
    out: set[str] = set()
    for c in r.contains:  # host association: whatever an internal procedure mentions
        for s in walk_stmts(c.body):
            for e in stmt_exprs(s):
                out |= names_in(e)
    for s in walk_stmts(r.body):
        if isinstance(s, ir.Assign | ir.PointerAssign):
            out.add(base_name(s.target) or "")
        elif isinstance(s, ir.Do):
            out.add(s.var)
        elif isinstance(s, ir.Opaque):
            out.update(s.writes)
        elif isinstance(s, ir.CallStmt):
            out |= _call_writes(s.name, s.args, program)
        for e in stmt_exprs(s):
            for sub in subexprs(e):
                if isinstance(sub, ir.Call) and program.get(sub.name) is not None:
                    out |= _call_writes(sub.name, sub.args, program)
    return out


def _call_writes(name: str, args: tuple[ir.Expr, ...], program: Program) -> set[str]:
    info = program.get(name)
    if info is None:
        return {b for a in args if (b := base_name(_value(a))) is not None}
    out: set[str] = set()
    for d, a in dummy_map(args, info.routine).items():
        sym = info.routine.symbol(d)
        if sym is None or sym.intent != "in":
            b = base_name(a)
            if b is not None:
                out.add(b)
    return out


def _value(a: ir.Expr) -> ir.Expr:
    return a.value if isinstance(a, ir.Keyword) else a
