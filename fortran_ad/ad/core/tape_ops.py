"""The tape as statements: a push and a pop of one value (``fad_push`` / ``fad_pop`` of the
run-time tape, runtime/), and ``Sweep``, the (forward, backward) statement lists every reverse
rule returns."""

from __future__ import annotations

from fortran_ad.ir import nodes as ir

INT = ir.TypeSpec("integer")
Sweep = tuple[list[ir.Stmt], list[ir.Stmt]]


def push(e: ir.Expr) -> ir.Stmt:
    return ir.CallStmt("fad_push", (e,))


def pop(e: ir.Expr) -> ir.Stmt:
    return ir.CallStmt("fad_pop", (e,))


def lit(n: int) -> ir.Literal:
    return ir.Literal(str(n), "integer")
