"""The derivative check of the vector modes (``vector`` → ``_dv``, ``vector-reverse`` → ``_bv``).

Generated code of real samples passes every row; generated code with one statement corrupted
by a regex (a flipped sign, or every column computed from direction 1) fails exactly the rows
of the corrupted mode. Everything is compiled and run with the real gfortran.

The generated vector code decides where the direction dimension goes (leading: ``xd(nbdirs,
n)``); the corruptions below and the checker handle either layout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SAMPLES_DIR, run_cli
from test_checks import OF, PRIMAL, SIG, TANGENT, WRT  # the toy and its scalar tangent

from fortran_ad.api import check
from fortran_ad.checks.inputs import find_head
from fortran_ad.checks.report import CheckReport, evaluate
from fortran_ad.checks.run import (
    PreparedCheck,
    check_files,
    check_modes,
    prepare_check,
    vector_axis_of,
)
from fortran_ad.checks.spec import MODES
from fortran_ad.driver import Options, load
from fortran_ad.errors import FortranADError

pytestmark = pytest.mark.gfortran

K = 3  # directions: the vector modes get all of them in one call
SCALAR_ROWS = {"fd_adjoint", "fd_tangent", "dot_product", "taylor", "adjoint_primal",
               "tangent_primal", "adjoint_seed", "tape_balanced"}  # fmt: skip
VECTOR_ROWS = {"vector_fd", "vector_scalar", "vector_primal", "vector_dot"}
VREVERSE_ROWS = {"vreverse_fd", "vreverse_scalar", "vreverse_primal", "vreverse_seed",
                 "vreverse_tape"}  # fmt: skip


def _failed(report: CheckReport) -> set[str]:
    return {r.test for r in report.rows if not r.passed}


def _failed_directions(report: CheckReport, test: str) -> set[int]:
    return {r.direction for r in report.rows if r.test == test and not r.passed}


# -------------------------------------------------------------------------------- passing


@pytest.mark.parametrize(
    ("name", "head"),
    [("lorenz96", None), ("npbench", "gemm")],
)
def test_samples_pass_every_row_in_all_four_modes(name: str, head: str | None) -> None:
    report = check([], head=head, sample=SAMPLES_DIR / name)
    assert report.error is None, report.error
    assert report.ok, report.table()
    tests = {r.test for r in report.rows}
    assert tests == SCALAR_ROWS | VECTOR_ROWS | VREVERSE_ROWS
    for test in ("vector_fd", "vector_scalar", "vreverse_fd", "vreverse_scalar"):
        assert {r.direction for r in report.rows if r.test == test} == set(range(1, K + 1))
    dots = {(r.direction, r.weight) for r in report.rows if r.test == "vector_dot"}
    assert dots == {(k, j) for k in range(1, K + 1) for j in range(1, K + 1)}
    # a vector column and the scalar derivative of the same direction agree to rounding
    scalar = [r for r in report.rows if r.test in ("vector_scalar", "vreverse_scalar")]
    assert all(r.error < 1e-12 for r in scalar), report.table()
    tape = [r for r in report.rows if r.test == "vreverse_tape"]
    assert len(tape) == 1 and tape[0].direction == 0 and tape[0].a == 0.0


# -------------------------------------------------------------------------------- failing


@pytest.fixture(scope="module")
def lorenz() -> PreparedCheck:
    """lorenz96 with all four modes generated once (each test compiles its own copy)."""
    return prepare_check(Options(sources=()), sample=SAMPLES_DIR / "lorenz96")


def _corrupt(text: str, pattern: str, fix: Callable[[re.Match[str]], str]) -> str:
    """Rewrite the first statement matching ``pattern`` (multiline) with ``fix``."""
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match is not None, f"no statement matches {pattern!r}"
    new = fix(match)
    assert new != match.group(0)
    return text[: match.start()] + new + text[match.end() :]


# an adjoint increment  ub(i, :) = ub(i, :) + ...  (vector reverse)
INCREMENT = r"^(?P<lhs>\s*(?P<v>\w+b)\((?P<i>[^=\n]*)\)) = (?P=v)\((?P=i)\) \+ (?P<rest>.*[^&])$"
# a tangent statement  ud(i, :) = ...  that is not an initialisation (vector tangent)
TANGENT_STMT = r"^(?P<lhs>\s*\w+d\([^=\n]*\)) = (?P<rest>(?!0\.0).*[^&])$"


def _flip_increment(m: re.Match[str]) -> str:
    return m.group(0).replace(" + ", " - ", 1)


def _negate_tangent(m: re.Match[str]) -> str:
    return f"{m.group('lhs')} = -({m.group('rest')})"


def _first_column_only(m: re.Match[str]) -> str:
    """Right-hand side read from direction 1 only: column 1 stays right, the others not.
    (Sections of all directions: ``ud(:, i)`` with a leading, ``ud(i, :)`` with a trailing
    direction dimension, ``ud(:)`` for scalars.)"""
    lhs, _, rhs = m.group(0).partition(" = ")
    rhs = re.sub(r"\(:(?=[,)])", "(1", rhs)
    rhs = re.sub(r"(?<=, ):\)", "1)", rhs)
    return f"{lhs} = {rhs}"


ALL = MODES
BV = ("reverse", "vector-reverse")  # just what the vreverse rows compare with: faster
DV = ("forward", "vector")
BV_ROWS = {"vreverse_fd", "vreverse_scalar"}
DV_ROWS = {"vector_fd", "vector_scalar"}


@pytest.mark.parametrize(
    ("suffix", "pattern", "fix", "modes", "rows", "directions"),
    [
        ("_bv", INCREMENT, _flip_increment, ALL, BV_ROWS | {"vector_dot"}, {1, 2, 3}),
        ("_bv", INCREMENT, _first_column_only, BV, BV_ROWS, {2, 3}),
        ("_dv", TANGENT_STMT, _negate_tangent, DV, DV_ROWS, {1, 2, 3}),
        ("_dv", TANGENT_STMT, _first_column_only, DV, DV_ROWS, {2, 3}),
    ],
    ids=["bv-sign", "bv-column", "dv-sign", "dv-column"],
)
def test_corrupted_vector_derivative_fails(
    lorenz: PreparedCheck,
    suffix: str,
    pattern: str,
    fix: Callable[[re.Match[str]], str],
    modes: tuple[str, ...],
    rows: set[str],
    directions: set[int],
) -> None:
    name = f"l96{suffix}.f90"
    files = dict(lorenz.files)
    files[name] = _corrupt(files[name], pattern, fix)
    report = lorenz.run(files, modes=modes)
    assert report.error is None, report.error
    assert not report.ok
    # the corrupted mode's rows fail (and the dot products that use it), nothing else does
    assert _failed(report) == rows, report.table()
    for test in rows - {"vector_dot"}:
        assert _failed_directions(report, test) == directions, report.table()
    # the conventions still hold: only the derivative values are wrong
    primal = "vreverse_primal" if suffix == "_bv" else "vector_primal"
    assert any(r.test == primal for r in report.rows)
    assert all(r.passed for r in report.rows if r.test in {primal, "vreverse_seed"})


def test_run_a_subset_of_the_generated_modes(lorenz: PreparedCheck) -> None:
    assert set(lorenz.signatures) == set(MODES)
    assert lorenz.file_modes["fad_tape.f90"] == ("reverse", "vector-reverse")
    assert lorenz.file_modes["l96_dv.f90"] == ("vector",)
    with pytest.raises(FortranADError, match="unknown check modes: sideways"):
        lorenz.run(modes="sideways")


def test_work_array_larger_than_dummy(tmp_path: Path) -> None:
    """F77 habit: a work array larger than the callee's explicit-shape dummy. Found by this
    check on box_model_f77 while the direction dimension was trailing (columns >= 2 were
    misread through sequence association); the leading layout keeps them right."""
    src = tmp_path / "seqassoc.f90"
    src.write_text("""\
subroutine scale2(n, a, b)
  integer, intent(in) :: n
  double precision, intent(in) :: a(n)
  double precision, intent(out) :: b(n)
  integer :: k
  do k = 1, n
    b(k) = 2.0d0*a(k)
  end do
end subroutine scale2

subroutine outer(n, x, y)
  integer, intent(in) :: n
  double precision, intent(in) :: x(n)
  double precision, intent(out) :: y
  double precision :: s(10), t(10)
  integer :: k
  do k = 1, n
    s(k) = x(k)
  end do
  call scale2(n, s, t)
  y = 0.0d0
  do k = 1, n
    y = y + t(k)**2
  end do
end subroutine outer
""")  # fmt: skip
    report = check(src, wrt="x", of="y", head="outer", sizes={"n": 4},
                   modes="vector,vector-reverse")  # fmt: skip
    assert report.ok, report.table()
    assert {r.direction for r in report.rows if r.test == "vreverse_fd"} == {1, 2, 3}


# hand-written vector tangent of the toy in test_checks.py, direction dimension leading
TOY_DV = """\
module toy_dv
  use toy_kinds, only: dp
  use toy
  implicit none
contains
  subroutine toy_run_dv(n, a, s, sd, x, xd, y, yd, cost, costd, nbdirs)
    integer, intent(in) :: n, nbdirs
    real(dp), intent(in) :: a, s, sd(nbdirs)
    real(dp), intent(in) :: x(n), xd(nbdirs, n)
    real(dp), intent(inout) :: y(0:n - 1), yd(nbdirs, 0:n - 1)
    real(dp), intent(out) :: cost, costd(nbdirs)
    integer :: i
    cost = 0.0_dp
    costd = 0.0_dp
    do i = 1, n
      yd(:, i - 1) = yd(:, i - 1)*sin(x(i)) + y(i - 1)*cos(x(i))*xd(:, i) + a*sd*x(i) &
          + a*s*xd(:, i)
      y(i - 1) = y(i - 1)*sin(x(i)) + a*s*x(i)
      costd = costd + xd(:, i)/x(i)*y(i - 1)**2 + log(x(i))*2.0_dp*y(i - 1)*yd(:, i - 1)
      cost = cost + log(x(i))*y(i - 1)**2
    end do
  end subroutine toy_run_dv
end module toy_dv
"""


def _trailing(text: str) -> str:
    for old, new in (("xd(nbdirs, n)", "xd(n, nbdirs)"), ("(nbdirs, 0:n - 1)", "(0:n - 1, nbdirs)"),
                     ("(:, i - 1)", "(i - 1, :)"), ("(:, i)", "(i, :)")):  # fmt: skip
        assert old in text
        text = text.replace(old, new)
    return text


def test_hand_written_vector_tangent_in_either_layout(tmp_path: Path) -> None:
    """The checker, independently of the generator: the layout is read from the code."""
    (tmp_path / "toy.f90").write_text(PRIMAL)
    (tmp_path / "toy_d.f90").write_text(TANGENT)
    module, routine = find_head(load([str(tmp_path / "toy.f90")]), "toy_run", ())

    def run(dv: str, **kw: str) -> CheckReport:
        (tmp_path / "toy_dv.f90").write_text(dv)
        derivative = [tmp_path / "toy_d.f90", tmp_path / "toy_dv.f90"]
        return check_files(routine, module, {"forward": SIG, "vector": SIG},
                           [tmp_path / "toy.f90"], derivative, WRT, OF, {"n": 7, "a": 0.7},
                           {"y": (-1.0, 1.0)}, **kw)  # fmt: skip

    trailing = run(_trailing(TOY_DV))
    assert trailing.ok, trailing.table()
    assert {"vector_fd", "vector_scalar", "vector_primal"} <= {r.test for r in trailing.rows}
    # the leading layout read as trailing: every direction is scrambled
    wrong = run(TOY_DV, vector_axis="trailing")
    assert {"vector_fd", "vector_scalar"} <= _failed(wrong), wrong.table()


# -------------------------------------------------------------------------------- pieces


def test_modes_are_parsed_and_validated() -> None:
    assert check_modes("vector-reverse, reverse") == ("reverse", "vector-reverse")
    assert check_modes(["VECTOR", "forward", "vector"]) == ("forward", "vector")
    assert check_modes(MODES) == MODES
    with pytest.raises(FortranADError, match="unknown check modes: sideways"):
        check_modes("reverse,sideways")
    with pytest.raises(FortranADError, match="no check mode"):
        check_modes("")


def test_vector_only_refusal_names_the_mode(tmp_path: Path) -> None:
    """Code the vector modes refuse (an assumed-size dummy below the head) is an input error
    of the default four-mode check that says how to check the scalar modes."""
    src = tmp_path / "asz.f90"
    src.write_text("""\
subroutine inner(n, a, b)
  integer, intent(in) :: n
  double precision, intent(in) :: a(*)
  double precision, intent(inout) :: b
  integer :: k
  do k = 1, n
    b = b + a(k)**2
  end do
end subroutine inner

subroutine outer(n, x, y)
  integer, intent(in) :: n
  double precision, intent(in) :: x(n)
  double precision, intent(out) :: y
  y = 0.0d0
  call inner(n, x, y)
end subroutine outer
""")  # fmt: skip
    options = Options(sources=(str(src),), head="outer", wrt=("x",), of=("y",), sizes={"n": 4})
    with pytest.raises(FortranADError, match="assumed-size") as info:
        prepare_check(options)
    assert info.value.hint == "in vector mode; the scalar modes can be checked with --modes " \
        "reverse,forward"  # fmt: skip
    with pytest.raises(FortranADError, match="assumed-size") as info:
        prepare_check(options, modes="vector-reverse")
    assert info.value.hint is None
    scalar = prepare_check(options, modes="reverse,forward")
    assert set(scalar.signatures) == {"reverse", "forward"}


def test_vector_axis_is_read_from_the_generated_head() -> None:
    leading = """\
subroutine run_dv(n, x, xd, y, yd, &
    & nbdirs0)
  integer, intent(in) :: nbdirs0
  real(dp), intent(in) :: xd(nbdirs0, 0:n + 1)
  real(dp), intent(out) :: yd(nbdirs0)
end subroutine run_dv
"""
    trailing = leading.replace("xd(nbdirs0, 0:n + 1)", "xd(size(x), nbdirs0)")
    assert vector_axis_of([leading], "run") == "leading"
    assert vector_axis_of(["module other\nend module\n", trailing], "run") == "trailing"
    assert vector_axis_of([trailing.replace("run_dv", "run_bv")], "run") == "trailing"
    assert vector_axis_of([trailing], "other") == "leading"  # no such head: the default
    scalar_only = leading.replace("xd(nbdirs0, 0:n + 1)", "xd(nbdirs0)")
    assert vector_axis_of([scalar_only], "run") == "leading"


def test_policy_on_synthetic_vector_output() -> None:
    eps = 2.0**-52
    lines = [f"EPS {eps}"]
    for k in (1, 2):  # <w_k, F> along d_k has slope 1000*k
        s = 1000.0 * k
        lines += [f"BASE {k} 1.0 1.0", f"FD {k} 1.0e-3 {1 + s * 1e-3} {1 - s * 1e-3} "
                  f"{1 + s * 5e-4} {1 - s * 5e-4} {1 + s * 2.5e-4} {1 - s * 2.5e-4}",
                  f"TAN {k} {s} {s} 1.0", f"ADJ {k} {s} {s} 1.0 0.0 0"]  # fmt: skip
    good = ["VTAN 1 1000.0 1000.0 1.0", "VTAN 2 2000.0 2000.0 1.0",
            "VADJ 1 1000.0 1000.0 1.0 0.0", "VADJ 2 2000.0 2000.0 1.0 0.0", "VTAPE 0 0",
            "VDOT 1 1 1000.0 1000.0 1000.0 1000.0", "VDOT 1 2 5.0 5.0 5.0 5.0",
            "VDOT 2 1 7.0 7.0 7.0 7.0", "VDOT 2 2 2000.0 2000.0 2000.0 2000.0"]  # fmt: skip
    report = evaluate("h", "\n".join(lines + good))
    assert report.ok, report.table()
    assert {(r.direction, r.weight) for r in report.rows if r.test == "vector_dot"} == {
        (1, 1), (1, 2), (2, 1), (2, 2)}  # fmt: skip
    assert "2,1" in report.table() and "all" in report.table()
    # column 2 of the vector tangent wrong, tape left over, seed left in column 1, one dot off
    bad = [g.replace("VTAN 2 2000.0", "VTAN 2 1000.0") for g in good]
    bad = [g.replace("VTAPE 0 0", "VTAPE 0 64") for g in bad]
    bad = [g.replace("VADJ 1 1000.0 1000.0 1.0 0.0", "VADJ 1 1000.0 1000.0 1.0 0.5") for g in bad]
    bad = [g.replace("VDOT 2 1 7.0 7.0 7.0", "VDOT 2 1 7.0 7.0 7.1") for g in bad]
    report = evaluate("h", "\n".join(lines + bad))
    assert _failed(report) == {"vector_fd", "vector_scalar", "vreverse_tape", "vreverse_seed",
                               "vector_dot"}  # fmt: skip
    assert _failed_directions(report, "vector_fd") == {2}
    assert [(r.direction, r.weight) for r in report.rows
            if r.test == "vector_dot" and not r.passed] == [(2, 1)]  # fmt: skip


def test_cli_modes_option(tmp_path: Path) -> None:
    sample = SAMPLES_DIR / "lorenz96"
    bad = run_cli(["check", str(sample / "l96.f90"), "--wrt", "x", "--sample", str(sample),
                   "--modes", "vector,sideways"])  # fmt: skip
    assert bad.returncode == 2 and "unknown check modes: sideways" in bad.stderr
    good = run_cli(["check", str(sample / "l96.f90"), "--wrt", "x,forcing", "--sample",
                    str(sample), "--modes", "vector", "--json"])  # fmt: skip
    assert good.returncode == 0, good.stdout + good.stderr
    tests = {r["test"] for r in json.loads(good.stdout)["rows"]}
    assert tests == {"vector_fd", "vector_primal"}
