"""Tests for the derivative checker (``fortran_ad.checks``, ``fortran_ad.api.check``).

The checker is verified independently of the AD generator: a small primal module comes with
hand-written adjoint (``_b``) and tangent (``_d``) modules following the generated-code
conventions. Correct derivatives must pass every row; derivatives with one deliberate mistake
(a flipped sign, a seed left behind, an unbalanced tape) must fail the rows that catch it.
Everything is compiled and run with the real gfortran.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SAMPLES_DIR, run_cli

from fortran_ad.checks.harness import harness_source
from fortran_ad.checks.inputs import find_head, load_case
from fortran_ad.checks.report import CheckReport, evaluate
from fortran_ad.checks.run import check_files, report_exit
from fortran_ad.checks.spec import build_spec
from fortran_ad.driver import load
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.runtime import TAPE_SOURCE

pytestmark = pytest.mark.gfortran

# y is intent(inout) with bounds from a PRIVATE module constant; the module also exports a
# variable named like the dummy ``a``: the harness must cope with both.
PRIMAL = """\
module toy_kinds
  implicit none
  integer, parameter :: dp = selected_real_kind(12, 200)
end module toy_kinds

module toy
  use toy_kinds, only: dp
  implicit none
  private
  integer, parameter :: halo = 1
  real(dp), public :: a = 3.0_dp
  public :: toy_run
contains
  subroutine toy_run(n, a, s, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: a, s
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(1 - halo:n - halo)
    real(dp), intent(out) :: cost
    integer :: i
    cost = 0.0_dp
    do i = 1, n
      y(i - 1) = y(i - 1)*sin(x(i)) + a*s*x(i)
      cost = cost + log(x(i))*y(i - 1)**2
    end do
  end subroutine toy_run
end module toy
"""

ADJOINT = """\
module toy_b
  use toy_kinds, only: dp
  use toy
  use fad_tape, only: fad_push, fad_pop
  implicit none
contains
  subroutine toy_run_b(n, a, s, sb, x, xb, y, yb, cost, costb)
    integer, intent(in) :: n
    real(dp), intent(in) :: a, s
    real(dp), intent(inout) :: sb
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: xb(n)
    real(dp), intent(inout) :: y(0:n - 1), yb(0:n - 1)
    real(dp), intent(out) :: cost
    real(dp), intent(inout) :: costb
    real(dp) :: y0(0:n - 1), ynewb
    integer :: i
    call fad_push(y)
    call toy_run(n, a, s, x, y, cost)
    call fad_pop(y0)
    do i = n, 1, -1
      ynewb = yb(i - 1) + costb*2.0_dp*log(x(i))*y(i - 1)
      xb(i) = xb(i) + costb*y(i - 1)**2/x(i)
      yb(i - 1) = ynewb*sin(x(i))
      xb(i) = xb(i) + ynewb*(y0(i - 1)*cos(x(i)) + a*s)
      sb = sb + ynewb*a*x(i)
    end do
    costb = 0.0_dp
  end subroutine toy_run_b
end module toy_b
"""

TANGENT = """\
module toy_d
  use toy_kinds, only: dp
  use toy
  implicit none
contains
  subroutine toy_run_d(n, a, s, sd, x, xd, y, yd, cost, costd)
    integer, intent(in) :: n
    real(dp), intent(in) :: a, s, sd
    real(dp), intent(in) :: x(n), xd(n)
    real(dp), intent(inout) :: y(0:n - 1), yd(0:n - 1)
    real(dp), intent(out) :: cost, costd
    integer :: i
    cost = 0.0_dp
    costd = 0.0_dp
    do i = 1, n
      yd(i - 1) = yd(i - 1)*sin(x(i)) + y(i - 1)*cos(x(i))*xd(i) + a*sd*x(i) + a*s*xd(i)
      y(i - 1) = y(i - 1)*sin(x(i)) + a*s*x(i)
      costd = costd + xd(i)/x(i)*y(i - 1)**2 + log(x(i))*2.0_dp*y(i - 1)*yd(i - 1)
      cost = cost + log(x(i))*y(i - 1)**2
    end do
  end subroutine toy_run_d
end module toy_d
"""

SIG = [("n", False), ("a", False), ("s", True), ("x", True), ("y", True), ("cost", True)]
WRT = ["s", "x", "y"]
OF = ["y", "cost"]


def _mutate(text: str, old: str, new: str) -> str:
    assert old in text, f"mutation target not found: {old!r}"
    return text.replace(old, new)


@dataclass
class Toy:
    """The toy primal written and lowered in a temp folder, plus a way to check derivatives."""

    root: Path
    module: ir.Module
    routine: ir.Routine

    def check(
        self, adjoint: str | None = ADJOINT, tangent: str | None = TANGENT, **kw
    ) -> CheckReport:
        files, signatures = [], {}
        for mode, text, name in (("reverse", adjoint, "toy_b.f90"), ("forward", tangent,
                                                                     "toy_d.f90")):  # fmt: skip
            if text is not None:
                (self.root / name).write_text(text)
                files.append(self.root / name)
                signatures[mode] = SIG
        args = dict(wrt=WRT, of=OF, fixed={"n": 7, "a": 0.7}, ranges={"y": (-1.0, 1.0)},
                    runtime=[TAPE_SOURCE])  # fmt: skip
        args.update(kw)
        return check_files(self.routine, self.module, signatures, [self.root / "toy.f90"],
                           files, **args)  # fmt: skip


@pytest.fixture
def toy(tmp_path: Path) -> Toy:
    (tmp_path / "toy.f90").write_text(PRIMAL)
    program = load([str(tmp_path / "toy.f90")])
    module, routine = find_head(program, "toy_run", ())
    assert module is not None
    return Toy(tmp_path, module, routine)


def _failed(report: CheckReport) -> set[str]:
    return {r.test for r in report.rows if not r.passed}


# -------------------------------------------------------------------------------- passing


def test_correct_derivatives_pass_every_row(toy: Toy) -> None:
    report = toy.check()
    assert report.error is None, report.error
    assert report.ok, report.table()
    tests = {r.test for r in report.rows}
    assert tests == {"fd_adjoint", "fd_tangent", "dot_product", "taylor", "adjoint_primal",
                     "tangent_primal", "adjoint_seed", "tape_balanced"}  # fmt: skip
    assert {r.direction for r in report.rows} == {1, 2, 3}
    fd = [r for r in report.rows if r.test == "fd_adjoint"]
    assert all(r.error < 1e-9 for r in fd), "FD with Richardson should agree far below 1e-6"
    taylor = [r for r in report.rows if r.test == "taylor"]
    assert len(taylor) == 9 and all(3.5 < r.error < 4.5 for r in taylor)
    assert report_exit(report) == 0


def test_reverse_only_has_no_tangent_rows(toy: Toy) -> None:
    report = toy.check(tangent=None, directions=2)
    assert report.ok, report.table()
    tests = {r.test for r in report.rows}
    assert "fd_adjoint" in tests
    assert not tests & {"fd_tangent", "dot_product", "taylor", "tangent_primal"}


def test_forward_only_without_runtime(toy: Toy) -> None:
    report = toy.check(adjoint=None, runtime=[])
    assert report.ok, report.table()
    assert {"fd_tangent", "taylor"} <= {r.test for r in report.rows}


# -------------------------------------------------------------------------------- failing


def test_flipped_sign_in_adjoint_fails(toy: Toy, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = _mutate(ADJOINT, "sb = sb + ynewb", "sb = sb - ynewb")
    report = toy.check(adjoint=wrong)
    assert not report.ok
    assert _failed(report) == {"fd_adjoint", "dot_product"}
    assert report_exit(report, as_json=True) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["head"] == "toy_run"
    assert any(r["test"] == "fd_adjoint" and not r["passed"] for r in data["rows"])


def test_flipped_sign_in_tangent_fails(toy: Toy) -> None:
    wrong = _mutate(TANGENT, "+ a*sd*x(i)", "- a*sd*x(i)")
    report = toy.check(tangent=wrong)
    assert _failed(report) == {"fd_tangent", "dot_product", "taylor"}
    assert "FAIL" in report.table()


def test_seed_left_on_output_adjoint_fails(toy: Toy) -> None:
    wrong = _mutate(ADJOINT, "    costb = 0.0_dp\n", "")
    assert _failed(toy.check(adjoint=wrong, tangent=None)) == {"adjoint_seed"}


def test_unbalanced_tape_fails(toy: Toy) -> None:
    wrong = _mutate(ADJOINT, "call fad_pop(y0)\n", "call fad_pop(y0)\n    call fad_push(s)\n")
    report = toy.check(adjoint=wrong, tangent=None)
    assert _failed(report) == {"tape_balanced"}


def test_adjoint_that_does_not_compile_is_reported(toy: Toy) -> None:
    report = toy.check(adjoint=_mutate(ADJOINT, "sb = sb + ynewb", "sb = sb + undeclared"))
    assert not report.ok and report.rows == ()
    assert "toy_b.f90" in report.error and "undeclared" in report.error


def test_adjoint_that_crashes_is_reported(toy: Toy) -> None:
    report = toy.check(adjoint=_mutate(ADJOINT, "do i = n, 1, -1", "do i = n + 1, 1, -1"))
    assert not report.ok
    assert "exit" in report.error and "bound" in report.error.lower()


# -------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"wrt": ["nosuch"]}, "'nosuch' is not a dummy"),
        ({"fixed": {"a": 0.7}}, "no value for integer dummy 'n'"),
        ({"of": ["s"]}, "--of 's' is intent(in)"),
        ({"wrt": ["cost"]}, "--wrt 'cost' is intent(out)"),
        ({"ranges": {"y": (1.0, -1.0)}}, "empty range"),
    ],
)
def test_bad_input_is_a_located_error(toy: Toy, kw: dict, message: str) -> None:
    with pytest.raises(FortranADError, match=message.replace("(", r"\(").replace(")", r"\)")):
        toy.check(**kw)


def test_primal_that_does_not_compile_is_input_error(toy: Toy) -> None:
    (toy.root / "toy.f90").write_text(PRIMAL.replace("cost = 0.0_dp", "cost = nope"))
    with pytest.raises(FortranADError, match="cannot compile the primal"):
        toy.check()


def test_cli_reports_bad_input_with_exit_2(toy: Toy) -> None:
    proc = run_cli(["check", str(toy.root / "toy.f90"), "--wrt", "x", "--head", "toy_run"])
    assert proc.returncode == 2
    assert "no value for integer dummy 'n'" in proc.stderr


# -------------------------------------------------------------------------------- pieces


def test_harness_is_deterministic_and_resolves_private_constants(toy: Toy) -> None:
    spec = build_spec(toy.routine, toy.module, {"reverse": SIG}, WRT, OF, {"n": 4, "a": 1.0}, {})
    text = harness_source(spec)
    assert text == harness_source(spec)
    assert "integer, parameter :: halo = 1" in text
    assert "use toy_kinds, only: dp" in text and "use toy_b, only: toy_run_b" in text
    assert "allocate(y(1 - halo:n - halo))" in text


def test_policy_on_synthetic_output() -> None:
    eps = 2.0**-52
    fd = "FD 1 1.0e-3 2.0 0.0 1.5 0.5 1.25 0.75"  # f(x +- h d) = 1 +- 1000 h: slope 1000
    base = "BASE 1 1.0 1.0"
    good = evaluate("h", f"EPS {eps}\n{base}\n{fd}\nADJ 1 1000.0 1000.0 1.0 0.0 0\n")
    assert good.ok, good.table()
    bad = evaluate("h", f"EPS {eps}\n{base}\n{fd}\nADJ 1 NaN 1000.0 1.0 0.0 0\n")
    assert _failed(bad) == {"fd_adjoint"}
    # Taylor: quadratic decay passes; linear decay (wrong tangent) fails; rounding level passes
    quad = "\n".join(f"TAYLOR 1 {0.1 / 2**i} {1e-2 / 4**i} 1.0 1.0" for i in range(4))
    lin = "\n".join(f"TAYLOR 1 {0.1 / 2**i} {1e-2 / 2**i} 1.0 1.0" for i in range(4))
    flat = "\n".join(f"TAYLOR 1 {0.1 / 2**i} {1e-17 * (i % 2 + 1)} 1.0 1.0" for i in range(4))
    for text, ok in ((quad, True), (lin, False), (flat, True)):
        report = evaluate("h", f"EPS {eps}\n{base}\n{fd}\n{text}\n")
        assert all(r.passed == ok for r in report.rows if r.test == "taylor"), report.table()
    assert evaluate("h", "garbage\n").error is not None


def test_sample_case_selection(tmp_path: Path) -> None:
    toml = tmp_path / "sample.toml"
    toml.write_text('sources = ["a.f90"]\n[[case]]\nhead = "one"\nwrt = ["x"]\n'
                    '[case.check]\nn = 4\n[case.ranges]\nx = [1.0, 2.0]\n'
                    '[[case]]\nhead = "two"\nwrt = ["y"]\n')  # fmt: skip
    case = load_case(toml, "one")
    assert case.fixed == {"n": 4} and case.ranges == {"x": (1.0, 2.0)}
    assert case.sources == (str(tmp_path / "a.f90"),)
    assert load_case(tmp_path, "TWO").wrt == ("y",)
    with pytest.raises(FortranADError, match="several cases"):
        load_case(toml, None)
    with pytest.raises(FortranADError, match="no case with head"):
        load_case(toml, "three")


def test_head_is_the_outermost_routine_taking_wrt(tmp_path: Path) -> None:
    src = tmp_path / "m.f90"
    src.write_text("module m\ncontains\nsubroutine inner(x)\nreal :: x\nx = 2*x\nend subroutine\n"
                   "subroutine outer(x)\nreal :: x\ncall inner(x)\nend subroutine\n"
                   "end module\n")  # fmt: skip
    program = load([str(src)])
    assert find_head(program, None, ("x",))[1].name == "outer"
    with pytest.raises(FortranADError, match="no subroutine 'nope'"):
        find_head(program, "nope", ("x",))


# -------------------------------------------------------------------------------- generator


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lorenz96", "shallow_water"])
def test_generated_derivatives_of_samples_pass(name: str) -> None:
    """End to end through ``fortran_ad.api.check`` once the generator exists."""
    pytest.importorskip("fortran_ad.ad.core.generate")
    from fortran_ad.api import check

    report = check([], sample=SAMPLES_DIR / name)
    assert report.ok, report.table()
