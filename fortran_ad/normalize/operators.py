"""Defined operators: ``a + b`` on derived types becomes a call of the module procedure that
``interface operator(+)`` names for the operands' types, so the call graph, activity and both
transforms see an ordinary function reference (``c = vec_add(a, b)``, differentiated as one).

Interfaces are read from every module's specification part (``module procedure`` and
``procedure`` lines); a specific matches when its dummies have the operands' types (derived-type
names, or the intrinsic type class) and ranks. An operator on a derived type left unresolved is
refused where it carries derivatives (``ad/derived.refuse_derived_operators``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import Program
from fortran_ad.ir.types import Typer, family
from fortran_ad.ir.walk import map_body, names_in, var_of

_INTERFACE = re.compile(
    r"^\s*interface\s+operator\s*\(\s*(\S+?)\s*\)(.*?)end\s*interface", re.I | re.S | re.M
)
_PROCEDURE = re.compile(r"^\s*(?:module\s+)?procedure\s*(?:::)?\s*(.+)$", re.I | re.M)
_SPELLING = {".eq.": "==", ".ne.": "/=", ".lt.": "<", ".le.": "<=", ".gt.": ">", ".ge.": ">="}


def operator_table(program) -> dict[str, list[str]]:
    """Operator (lower case, relational ones symbolic) → names of its specific functions."""
    table: dict[str, list[str]] = {}
    for m in program.modules.values():
        for item in m.spec:
            text = getattr(item, "text", "")
            for op, body in _INTERFACE.findall(text):
                op = _SPELLING.get(op.lower(), op.lower())
                for line in _PROCEDURE.findall(body):
                    table.setdefault(op, []).extend(
                        n.strip().lower() for n in line.split(",") if n.strip()
                    )
    return table


class _Resolver:
    def __init__(self, program, info, table: dict[str, list[str]]):
        self.program = program
        self.info = info
        self.table = table

    def type_of(self, e: ir.Expr) -> tuple[str, int] | None:
        """(type class or derived-type name, rank) of an operand (ir/types.py), None when
        unknown (an operand that is itself a defined operation)."""
        t = Typer(self.info.scope.lookup, self.program.function_result).of(e)
        return (_klass_of(t.spec), t.rank) if t is not None else None

    def specific(self, op: str, operands: tuple[ir.Expr, ...]) -> str | None:
        types = [self.type_of(o) for o in operands]
        if not any(t is not None and t[0] not in _INTRINSIC for t in types):
            return None  # intrinsic operands: the intrinsic operator
        for name in self.table.get(op, []):
            info = self.program.get(name)
            if info is None or len(info.routine.args) != len(operands):
                continue
            dummies = [info.routine.symbol(a) for a in info.routine.args]
            if all(
                d is not None and t is not None and _klass(d) == t[0] and d.rank == t[1]
                for d, t in zip(dummies, types, strict=True)
            ):
                return name
        return None

    def expr(self, e: ir.Expr) -> ir.Expr:
        if isinstance(e, ir.BinOp):
            e = ir.BinOp(e.op, self.expr(e.left), self.expr(e.right))
            name = self.specific(e.op, (e.left, e.right))
            return ir.Call(name, (e.left, e.right)) if name else e
        if isinstance(e, ir.UnOp):
            e = ir.UnOp(e.op, self.expr(e.operand))
            name = self.specific(e.op, (e.operand,))
            return ir.Call(name, (e.operand,)) if name else e
        if isinstance(e, ir.Paren):
            inner = self.expr(e.expr)
            return inner if isinstance(inner, ir.Call) else ir.Paren(inner)
        if isinstance(e, ir.Call):
            return replace(e, args=tuple(self.expr(a) for a in e.args))
        if isinstance(e, ir.Keyword):
            return ir.Keyword(e.name, self.expr(e.value))
        return e

    def stmt(self, s: ir.Stmt) -> list[ir.Stmt] | None:
        if isinstance(s, ir.Assign):
            s = replace(s, value=self.expr(s.value))
            return self.constructor(s) or [s]
        if isinstance(s, ir.CallStmt):
            return [replace(s, args=tuple(self.expr(a) for a in s.args))]
        return None

    def constructor(self, s: ir.Assign) -> list[ir.Stmt] | None:
        """``v = v_t(x, b=y)`` → ``v%a = x; v%b = y`` (components not given take their default
        initialization), so each component is differentiated as an ordinary assignment. Kept
        as written when the value mentions ``v`` or a component has no value."""
        v, td = s.value, None
        if isinstance(v, ir.Call) and isinstance(s.target, ir.Name):
            td = self.program.types.get(v.name)
        if td is None or var_of(s.target.name) in names_in(v) or len(v.args) > len(td.components):
            return None
        values: dict[str, ir.Expr] = {}
        for c, a in zip(td.components, v.args, strict=False):
            if isinstance(a, ir.Keyword):
                break
            values[c.name] = a
        values.update({a.name: a.value for a in v.args if isinstance(a, ir.Keyword)})
        out: list[ir.Stmt] = []
        for c in td.components:
            value = values.get(c.name, c.init)
            if value is None or "pointer" in c.attrs:
                return None
            target = ir.Name(f"{s.target.name}%{c.name}")
            part = ir.Assign(target, value, s.loc, s.label if not out else None)
            out += self.constructor(part) or [part]  # nested constructors too
        return out


_INTRINSIC = ("complex", "integer", "logical", "real")  # ordered: max() is the result class


def _klass(sym: ir.Symbol) -> str:
    return _klass_of(sym.type) if sym.type is not None else "real"


def _klass_of(t: ir.TypeSpec) -> str:
    """The derived-type name of ``type(name)``/``class(name)``, else the intrinsic family."""
    if t.base.startswith(("type(", "class(")):
        return t.base.split("(", 1)[1].rstrip(")").strip()
    return family(t)


def resolve_operators(program: Program) -> None:
    """Rewrite defined operators on derived types into function references, in place of the
    program's routines (the modules' own copies stay as written, for re-emission)."""
    table = operator_table(program)
    if not table and not program.types:
        return
    for info in list(program.routines.values()):
        body = map_body(info.routine.body, _Resolver(program, info, table).stmt)
        if body != info.routine.body:
            info.routine = replace(info.routine, body=body)


def resolved_program(files: list[ir.SourceFile]) -> Program:
    """The program index the analyses and transforms see: defined operators on derived types
    already rewritten into calls of their module procedures."""
    program = Program(files)
    resolve_operators(program)
    return program
