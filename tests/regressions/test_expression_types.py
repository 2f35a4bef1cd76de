"""The one typer (ir/types.py with ir/intrinsic_table.py): result type, kind and rank of
intrinsics, KIND= arguments, promotion, integer division, sections and components."""

from __future__ import annotations

import pytest

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import component
from fortran_ad.ir.types import Typer

R8 = ir.TypeSpec("real", "8")
DP = ir.TypeSpec("real", "dp")


def _dims(n: int) -> tuple[ir.Dim, ...]:
    return tuple(ir.Dim("explicit", None, ir.Literal("4", "integer")) for _ in range(n))


STATE = ir.TypeDef("", ir.NOWHERE, "state_t", (ir.Symbol("a", R8, _dims(1)),
                                               ir.Symbol("n", ir.TypeSpec("integer"))))  # fmt: skip
SYMBOLS = {
    "dp": ir.Symbol(
        "dp",
        ir.TypeSpec("integer"),
        attrs=frozenset({"parameter"}),
        init=ir.Call("kind", (ir.Literal("1.0d0", "real"),)),
    ),  # fmt: skip
    "x": ir.Symbol("x", R8, _dims(1)),
    "m": ir.Symbol("m", DP, _dims(2)),
    "s": ir.Symbol("s", ir.TypeSpec("real")),
    "i": ir.Symbol("i", ir.TypeSpec("integer")),
    "k8": ir.Symbol("k8", ir.TypeSpec("integer", "8")),
    "z": ir.Symbol("z", ir.TypeSpec("complex", "8")),
    "st": ir.Symbol("st", ir.TypeSpec("type(state_t)")),
}


def lookup(name: str) -> ir.Symbol | None:
    if "%" in name:
        base, *parts = name.split("%")
        return component(SYMBOLS.get(base), parts, {"state_t": STATE})
    return SYMBOLS.get(name)


def fn_result(name: str) -> ir.Symbol | None:
    return ir.Symbol("f", DP, _dims(1)) if name == "f" else None


def N(name: str) -> ir.Name:  # noqa: N802
    return ir.Name(name)


def I(text: str) -> ir.Literal:  # noqa: N802, E743
    return ir.Literal(text, "integer")


def call(name: str, *args: ir.Expr) -> ir.Call:
    return ir.Call(name, args)


def kw(name: str, value: ir.Expr) -> ir.Keyword:
    return ir.Keyword(name, value)


CASES = [
    # (expression, base, kind as spelled, rank)
    (call("size", N("x")), "integer", None, 0),
    (call("size", N("m"), kw("kind", I("8"))), "integer", "8", 0),
    (call("size", N("m"), I("1"), I("8")), "integer", "8", 0),
    (call("lbound", N("m")), "integer", None, 1),
    (call("ubound", N("m"), I("2")), "integer", None, 0),
    (call("maxloc", N("x")), "integer", None, 1),
    (call("maxloc", N("x"), I("1")), "integer", None, 0),
    (call("minloc", N("m"), kw("dim", I("2"))), "integer", None, 1),
    (call("count", ir.BinOp(">", N("m"), I("0")), I("1")), "integer", None, 1),
    (call("sum", N("m"), ir.BinOp(">", N("m"), I("0"))), "real", "dp", 0),  # MASK, not DIM
    (call("sum", N("m"), I("2")), "real", "dp", 1),
    (call("int", N("s"), I("8")), "integer", "8", 0),
    (call("nint", N("x")), "integer", None, 1),
    (call("real", N("i"), N("dp")), "real", "dp", 0),
    (call("real", N("z")), "real", "8", 0),
    (call("abs", N("z")), "real", "8", 0),
    (call("real", N("i"), kw("kind", call("kind", N("x")))), "real", "8", 0),
    (call("dble", N("i")), "double precision", None, 0),
    (call("matmul", N("m"), N("x")), "real", "dp", 1),
    (call("transpose", N("m")), "real", "dp", 2),
    (call("spread", N("x"), I("1"), I("3")), "real", "8", 2),
    (call("epsilon", N("s")), "real", None, 0),
    (call("len", N("s")), "integer", None, 0),
    (call("f", N("x")), "real", "dp", 1),  # a function of the program
    (ir.BinOp("/", I("1"), call("size", N("x"))), "integer", None, 0),  # integer division
    (ir.BinOp("/", N("s"), call("size", N("x"))), "real", None, 0),
    (ir.BinOp("*", N("s"), N("x")), "real", "8", 1),  # the larger kind wins
    (ir.BinOp("+", N("k8"), N("i")), "integer", "8", 0),
    (ir.BinOp("*", N("z"), N("s")), "complex", "8", 0),
    (ir.BinOp("**", call("size", N("x")), N("s")), "real", None, 0),
    (ir.BinOp("<", N("x"), N("s")), "logical", None, 1),
    (ir.ArrayRef("m", (ir.Range(), I("2"))), "real", "dp", 1),
    (ir.ArrayRef("m", (I("1"), I("2"))), "real", "dp", 0),
    (ir.ArrayRef("x", (ir.ArrayCtor((I("1"), I("3"))),)), "real", "8", 1),  # vector subscript
    (N("st%a"), "real", "8", 1),
    (ir.ArrayRef("st%a", (I("2"),)), "real", "8", 0),
    (N("st%n"), "integer", None, 0),
    (ir.Literal("1.0_dp", "real"), "real", "dp", 0),
    (ir.Literal("2_8", "integer"), "integer", "8", 0),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_expression_type(case: int) -> None:
    e, base, kind, rank = CASES[case]
    t = Typer(lookup, fn_result).of(e)
    assert t is not None
    assert (t.spec.base, t.spec.kind, t.rank) == (base, kind, rank)


def test_kind_values() -> None:
    typer = Typer(lookup)
    assert typer.kind_number(DP) == 8  # dp = kind(1.0d0) through the PARAMETER
    assert typer.kind_number(ir.TypeSpec("real")) == 4
    assert typer.kind_number(ir.TypeSpec("double precision")) == 8
    assert typer.kind_number(ir.TypeSpec("complex", "*16")) == 8
    assert typer.kind_number(ir.TypeSpec("real", "selected_real_kind(12, 200)")) == 8


def test_unknown_and_defined_operations() -> None:
    typer = Typer(lookup)
    assert typer.of(call("no_such_function", N("x"))) is None
    assert typer.of(ir.BinOp("+", N("st"), N("st"))) is None  # a defined operator
    assert typer.of(ir.OpaqueExpr("x(1:2)%y")) is None


def test_nondifferentiable_intrinsics_from_the_table() -> None:
    from fortran_ad.ad.core.rules import NONDIFF

    for name in ("size", "lbound", "maxloc", "minloc", "int", "nint", "count", "len", "floor"):
        assert name in NONDIFF
    for name in ("sqrt", "real", "dble", "max", "abs", "merge", "cmplx"):
        assert name not in NONDIFF
