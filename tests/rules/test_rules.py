"""Every derivative rule in ``fortran_ad/ad/core/rules.py``, checked numerically with gfortran.

One row per intrinsic spelling or operator form: a Fortran expression in ``x`` and ``y``
(double precision through a ``dp`` kinds module) and domain-aware input ranges that keep
``log``/``sqrt`` positive, ``asin``/``acos`` inside (-1, 1) and ``abs``/``max``/``min``/
``sign``/``mod``/``dim`` away from their kinks. The row's routine is

    subroutine f(x, y, z)
      z = <expression>

and ``api.check`` verifies it in reverse and forward mode (finite differences, dot-product
and Taylor tests).

Speed: one compile-and-run per row would take over a minute, so the rows are checked in
batches: each batch is one routine with one ``x_k, y_k, z_k`` triple per row (own ranges per
row). A row's test passes when its batch passes; when the batch fails, the row is re-checked
alone, so a failure names the rule that is wrong (the test id is the row's name).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_cli

from fortran_ad import api
from fortran_ad.ad.core.rules import NONDIFF, RULES
from fortran_ad.checks.report import CheckReport
from fortran_ad.errors import FortranADError

pytestmark = pytest.mark.gfortran

Range = tuple[float, float]
POS: Range = (0.5, 1.5)
SYM: Range = (-1.0, 1.0)

KINDS_MODULE = """\
module rule_kinds
  implicit none
  integer, parameter :: dp = kind(1.0d0)
end module rule_kinds
"""


@dataclass(frozen=True)
class Row:
    """One rule under test: ``z = expr`` with x in ``x`` and y in ``y``."""

    name: str
    expr: str
    x: Range = POS
    y: Range = POS
    decls: str = ""  # extra declarations (with {k} for the batch suffix)
    pre: str = ""  # statements before the assignment (with {k})
    x_dims: str = ""  # e.g. "(3)" when x is an array

    def uses_y(self) -> bool:
        return re.search(r"\by\b", self.expr) is not None


# fmt: off
ROWS: tuple[Row, ...] = (
    # --- operators -------------------------------------------------------------------------
    Row("add", "x + y", SYM, SYM),
    Row("sub", "x - y", SYM, SYM),
    Row("mul", "x*y", SYM, SYM),
    Row("div", "x/y", SYM, POS),
    Row("div-const-numerator", "2.5_dp/x"),
    Row("neg", "-x", SYM),
    Row("neg-product", "-(x*y) + x*(-y)", SYM, SYM),
    Row("div-by-int-literal", "x/2 + y/4", SYM, SYM),
    Row("div-by-int-var", "x/n{k}", SYM, decls="integer :: n{k}", pre="n{k} = 3"),
    Row("div-int-numerator", "3/x"),
    Row("pow-int-0", "x**0*y + x", SYM, SYM),
    Row("pow-int-1", "(x*y)**1", SYM, SYM),
    Row("pow-int-2", "x**2", SYM),
    Row("pow-int-3", "x**3", SYM),
    Row("pow-int-neg", "x**(-2)"),
    Row("pow-int-var", "x**n{k}", decls="integer :: n{k}", pre="n{k} = 3"),
    Row("pow-real", "x**2.5_dp"),
    Row("pow-real-d0", "x**0.5d0"),
    Row("pow-active-exponent", "x**y"),
    Row("pow-active-exponent-only", "2.0_dp**x", SYM),
    Row("pow-int-base-active-exponent", "2**x + 3**(x*y)", SYM, SYM),
    Row("chain", "exp(sin(x))*log(y) + sqrt(x*y)**3"),
    # --- elementary functions and their double-precision specific names --------------------
    Row("sqrt", "sqrt(x)"),
    Row("dsqrt", "dsqrt(x)"),
    Row("exp", "exp(x)", SYM),
    Row("dexp", "dexp(x)", SYM),
    Row("log", "log(x)", (0.2, 3.0)),
    Row("dlog", "dlog(x)", (0.2, 3.0)),
    Row("log10", "log10(x)", (0.2, 3.0)),
    Row("dlog10", "dlog10(x)", (0.2, 3.0)),
    Row("sin", "sin(x)", (-2.0, 2.0)),
    Row("dsin", "dsin(x)", (-2.0, 2.0)),
    Row("cos", "cos(x)", (-2.0, 2.0)),
    Row("dcos", "dcos(x)", (-2.0, 2.0)),
    Row("tan", "tan(x)", SYM),
    Row("dtan", "dtan(x)", SYM),
    Row("asin", "asin(x)", (-0.9, 0.9)),
    Row("dasin", "dasin(x)", (-0.9, 0.9)),
    Row("acos", "acos(x)", (-0.9, 0.9)),
    Row("dacos", "dacos(x)", (-0.9, 0.9)),
    Row("atan", "atan(x)", (-2.0, 2.0)),
    Row("datan", "datan(x)", (-2.0, 2.0)),
    Row("atan2", "atan2(y, x)", POS, SYM),
    Row("atan2-left-half-plane", "atan2(y, x)", (-1.5, -0.5), (0.5, 1.5)),
    Row("datan2", "datan2(y, x)", POS, SYM),
    Row("sinh", "sinh(x)", SYM),
    Row("dsinh", "dsinh(x)", SYM),
    Row("cosh", "cosh(x)", SYM),
    Row("dcosh", "dcosh(x)", SYM),
    Row("tanh", "tanh(x)", SYM),
    Row("dtanh", "dtanh(x)", SYM),
    Row("asinh", "asinh(x)", (-2.0, 2.0)),
    Row("acosh", "acosh(x)", (1.2, 3.0)),
    Row("atanh", "atanh(x)", (-0.9, 0.9)),
    Row("erf", "erf(x)", (-2.0, 2.0)),
    Row("erfc", "erfc(x)", (-2.0, 2.0)),
    Row("hypot", "hypot(x, y)", SYM, POS),
    # --- piecewise smooth: ranges keep every input away from the kinks ---------------------
    Row("abs-negative", "abs(x)", (-1.5, -0.5)),
    Row("abs-positive", "abs(x)", POS),
    Row("dabs", "dabs(x)", (-1.5, -0.5)),
    Row("sign-neg-a-pos-b", "sign(x, y)", (-1.5, -0.5), POS),
    Row("sign-pos-a-neg-b", "sign(x, y)", POS, (-1.5, -0.5)),
    Row("dsign", "dsign(x, y)", (-1.5, -0.5), (-1.5, -0.5)),
    Row("merge-true", "merge(x, y, x > 1.0_dp)", (1.5, 2.0), SYM),
    Row("merge-false", "merge(x*y, y, x > 1.0_dp)", (0.2, 0.8), SYM),
    Row("max-first", "max(x, y)", (2.0, 3.0), POS),
    Row("max-second", "max(x, y)", POS, (2.0, 3.0)),
    Row("max-const", "max(x, 0.1_dp)", POS),
    Row("max-3-args", "max(x, y, x*y)", (1.5, 2.0), (1.5, 2.0)),
    Row("max-4-args-middle", "max(x - 3.0_dp, y, x, 0.0_dp)", (2.0, 3.0), POS),
    Row("dmax1", "dmax1(x, y, 0.1d0)", (2.0, 3.0), POS),
    Row("min-first", "min(x, y)", POS, (2.0, 3.0)),
    Row("min-second", "min(x, y)", (2.0, 3.0), POS),
    Row("min-3-args", "min(x, y, x*y)", (0.2, 0.5), (2.0, 3.0)),
    Row("min-4-args-last", "min(x + 1.0_dp, y + 1.0_dp, 5.0_dp, x*y)", POS, POS),
    Row("dmin1", "dmin1(x, y, 9.0d0)", POS, (2.0, 3.0)),
    Row("mod", "mod(x, y)", (2.3, 2.7), (1.0, 1.1)),
    Row("mod-negative", "mod(x, y)", (-2.7, -2.3), (1.0, 1.1)),
    Row("dmod", "dmod(x, y)", (2.3, 2.7), (1.0, 1.1)),
    Row("modulo", "modulo(x, y)", (2.3, 2.7), (1.0, 1.1)),
    Row("modulo-negative", "modulo(x, y)", (-2.7, -2.3), (1.0, 1.1)),
    Row("dim-positive", "dim(x, y)", (2.0, 3.0), POS),
    Row("dim-zero", "dim(x, y)*x + y", POS, (2.0, 3.0)),
    Row("ddim", "ddim(x, y)", (2.0, 3.0), POS),
    # --- conversions ---------------------------------------------------------------------
    Row("real-kind-dp", "real(x, dp)*y", SYM, SYM),
    Row("real-kind-keyword", "real(x*y, kind=8)", SYM, SYM),
    Row("dble", "dble(x)*y", SYM, SYM),
    # --- non-differentiable intrinsics of active data contribute exactly zero ---------------
    Row("nondiff-int", "x*y + int(x)*y", (1.2, 1.8)),
    Row("nondiff-nint", "x*y + nint(x)*y", (1.1, 1.4)),
    Row("nondiff-floor", "x*y + floor(x)*y", (1.2, 1.8)),
    Row("nondiff-ceiling", "x*y + ceiling(x)*y", (1.2, 1.8)),
    Row("nondiff-aint", "x*y + aint(x)*y", (1.2, 1.8)),
    Row("nondiff-anint", "x*y + anint(x)*y", (1.1, 1.4)),
    Row(
        "nondiff-size-lbound-ubound",
        "x(2)*y + size(x)*y + lbound(x, 1)*x(1) + ubound(x, 1)*x(3)*y",
        x_dims="(3)",
    ),
)
# fmt: on

# Spellings that cannot be called with a real(8) argument in gfortran, so no row tests them:
# specific names of default-real (alog, alog10, amax1, amin1, amod) or integer (float)
# intrinsics, SNGL (a real(4) result: finite differences are noise), DREAL (complex).
UNTESTABLE = {"alog", "alog10", "amax1", "amin1", "amod", "float", "sngl", "dreal"}
NONDIFF_TESTED = ("int", "nint", "floor", "ceiling", "aint", "anint", "size", "lbound", "ubound")
BATCH_SIZE = 20
BATCHES = [ROWS[i : i + BATCH_SIZE] for i in range(0, len(ROWS), BATCH_SIZE)]
BATCH_OF = {row.name: b for b, rows in enumerate(BATCHES) for row in rows}


def _subst(text: str, k: str) -> str:
    return text.replace("{k}", k)


def _rename(expr: str, k: str) -> str:
    """``x``/``y`` → ``x<k>``/``y<k>`` (whole words only; ``{k}`` placeholders too)."""
    expr = re.sub(r"\bx\b", f"x{k}", expr)
    expr = re.sub(r"\by\b", f"y{k}", expr)
    return _subst(expr, k)


def routine_source(name: str, rows: tuple[Row, ...] | list[Row], single: bool) -> str:
    """``subroutine name(x, y, z)`` for one row, or one (x_k, y_k, z_k) triple per row."""
    args: list[str] = []
    decls: list[str] = []
    body: list[str] = []
    for i, row in enumerate(rows, start=1):
        k = "" if single else f"_{i:02d}"
        ins = [f"x{k}"] + ([f"y{k}"] if row.uses_y() or single else [])
        args += [*ins, f"z{k}"]
        decls.append(f"  real(dp), intent(in) :: x{k}{row.x_dims}")
        if len(ins) == 2:
            decls.append(f"  real(dp), intent(in) :: y{k}")
        decls.append(f"  real(dp), intent(out) :: z{k}")
        if row.decls:
            decls.append("  " + _subst(row.decls, k))
        if row.pre:
            body.append("  " + _subst(row.pre, k))
        body.append(f"  z{k} = {_rename(row.expr, k)}")
    arglist = ", &\n    ".join(", ".join(args[j : j + 6]) for j in range(0, len(args), 6))
    return "\n".join(
        [
            KINDS_MODULE,
            f"subroutine {name}({arglist})",
            "  use rule_kinds, only: dp",
            "  implicit none",
            *decls,
            *body,
            f"end subroutine {name}",
            "",
        ]
    )


def _check(src: Path, rows: list[Row] | tuple[Row, ...], single: bool) -> CheckReport:
    wrt: list[str] = []
    of: list[str] = []
    ranges: dict[str, Range] = {}
    for i, row in enumerate(rows, start=1):
        k = "" if single else f"_{i:02d}"
        wrt.append(f"x{k}")
        ranges[f"x{k}"] = row.x
        if row.uses_y():
            wrt.append(f"y{k}")
        if row.uses_y() or single:
            ranges[f"y{k}"] = row.y
        of.append(f"z{k}")
    return api.check([src], wrt=wrt, of=of, ranges=ranges, modes=("reverse", "forward"))


def _run(src: Path, rows: tuple[Row, ...] | list[Row], single: bool) -> tuple[bool, str]:
    try:
        report = _check(src, rows, single)
    except FortranADError as exc:
        return False, f"generation failed: {exc.render()}"
    return report.ok, report.table()


class Batches:
    """Each batch is checked once, the first time one of its rows asks."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.results: dict[int, tuple[bool, str]] = {}

    def result(self, index: int) -> tuple[bool, str]:
        if index not in self.results:
            src = self.folder / f"batch{index}.f90"
            src.write_text(routine_source(f"rules{index}", BATCHES[index], single=False))
            self.results[index] = _run(src, BATCHES[index], single=False)
        return self.results[index]


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Batches:
    return Batches(tmp_path_factory.mktemp("rule-batches"))


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_rule(row: Row, batches: Batches, tmp_path: Path) -> None:
    ok, _ = batches.result(BATCH_OF[row.name])
    if ok:
        return
    # the batch failed: check this row alone, so the failure names the rule
    src = tmp_path / "f.f90"
    src.write_text(routine_source("f", [row], single=True))
    ok, text = _run(src, [row], single=True)
    assert ok, f"rule row '{row.name}' (z = {row.expr}) failed:\n{src.read_text()}\n{text}"


def test_batches_pass_as_a_whole(batches: Batches) -> None:
    """Guards the batching itself: a batch may only fail when one of its rows fails."""
    for index in range(len(BATCHES)):
        ok, text = batches.result(index)
        assert ok, f"batch {index} ({', '.join(r.name for r in BATCHES[index])}):\n{text}"


def _called(expr: str) -> set[str]:
    return {m.lower() for m in re.findall(r"\b([a-z]\w*)\s*\(", expr, re.I)}


def test_table_covers_every_rule_group() -> None:
    """Every alias group of RULES has a tested spelling; every d-prefixed alias is tested."""
    groups: dict[int, set[str]] = defaultdict(set)
    for spelling, rule in RULES.items():
        groups[id(rule)].add(spelling)
    tested = set().union(*(_called(r.expr) for r in ROWS))
    missing = [sorted(g) for g in groups.values() if not g & tested]
    assert not missing, f"rule groups without a row: {missing}"
    d_aliases = {s for s in RULES if s.startswith("d") and s not in UNTESTABLE}
    assert d_aliases <= tested, f"untested double-precision aliases: {d_aliases - tested}"
    assert set(NONDIFF_TESTED) <= NONDIFF
    assert set(NONDIFF_TESTED) <= tested


def test_table_routine_shape() -> None:
    """The single-row routine is literally ``subroutine f(x, y, z)`` with double precision."""
    src = routine_source("f", [ROWS[0]], single=True)
    assert "subroutine f(x, y, z)" in src
    assert "real(dp), intent(out) :: z" in src
    assert "integer, parameter :: dp = kind(1.0d0)" in src


# --- intrinsics without a rule -----------------------------------------------------------


@pytest.mark.parametrize("func", ["gamma", "log_gamma", "bessel_j0"])
def test_active_argument_without_rule_is_an_error(tmp_path: Path, func: str) -> None:
    src = (
        "subroutine f(x, y, z)\n"
        "  implicit none\n"
        "  real(8), intent(in) :: x, y\n"
        "  real(8), intent(out) :: z\n"
        "  z = y\n"
        f"  z = z + 2.0d0*{func}(x)\n"
        "end subroutine f\n"
    )
    (tmp_path / "nofn.f90").write_text(src)
    proc = run_cli(["nofn.f90", "--wrt", "x,y", "--of", "z", "-o", "out"], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    m = re.search(r"^nofn\.f90:(\d+):(\d+): error: (.*)$", proc.stderr, re.M)
    assert m, proc.stderr
    assert int(m.group(1)) == 6, proc.stderr
    assert int(m.group(2)) >= 1
    assert f"'{func}'" in m.group(3), proc.stderr
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


def test_passive_argument_without_rule_is_fine(tmp_path: Path) -> None:
    """``gamma`` of passive data needs no rule: the check passes."""
    src = tmp_path / "passive.f90"
    src.write_text(
        "subroutine f(x, y, z)\n"
        "  implicit none\n"
        "  real(8), intent(in) :: x, y\n"
        "  real(8), intent(out) :: z\n"
        "  z = x*gamma(y)\n"
        "end subroutine f\n"
    )
    report = api.check([src], wrt="x", of="z", modes=("reverse", "forward"))
    assert report.ok, report.table()
