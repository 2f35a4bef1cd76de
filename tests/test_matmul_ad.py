"""MATMUL kept as a library call (fortran_ad/ad/constructs/matmul.py).

tests/data/matmul/forms.f90 holds every supported statement form (matrix-matrix, matrix-vector,
vector-matrix; scaled, accumulated, the target on both sides, transposes, sections, a factor
over a parenthesized sum, active coefficients, operands overwritten later, inside a loop) and
forms that must stay loops (the target among the operands, a vector subscript, a term that is
no MATMUL, a coefficient reading the target). Each routine is checked with
``fortran_ad.api.check`` (finite differences, dot-product identity, Taylor test; the vector
modes, which keep the loop lowering, too). The MATMUL versions of the NPBench kernels
(legacy_samples/npbench/matmul.toml) are checked in reverse mode, and dropping one adjoint
term must make a check fail. symm_mm and trmm_mm, which build their matrix from a triangle,
are also checked as the runner times them (gradient-only) and must give the cost and gradient
of the PolyBench loop nests of the npbench sample on the same inputs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT

from fortran_ad import api, cli
from fortran_ad.ad.constructs import matmul
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name

pytestmark = pytest.mark.gfortran

FORMS = Path(__file__).parent / "data" / "matmul" / "forms.f90"
MM_TOML = REPO_ROOT / "legacy_samples" / "npbench" / "matmul.toml"
ALL_MODES = ("reverse", "forward", "vector", "vector-reverse")
CASES = {
    "mm2": ("alpha,beta,a,b,c", {"n": 4, "k": 3}),
    "mv": ("a,x,y,w", {"n": 5, "m": 3, "nr": 2}),
    "fallback": ("a,b,c", {"n": 3}),
}
# the kept forms also in the vector modes (which lower them to loops): same derivatives
MODES = {"mm2": ALL_MODES, "mv": ALL_MODES, "fallback": ("reverse", "forward")}
# NPBench kernels checked here (CI time): the matrix-matrix ones and two matrix-vector ones;
# atax, bicg and mvt use forms test_forms_check covers (and the runner compares all with JAX)
NPBENCH = ("gemm_mm", "k2mm_mm", "k3mm_mm", "doitgen_mm", "gesummv_mm", "gemver_mm", "symm_mm",
           "trmm_mm")  # fmt: skip
# statements of forms.f90 that must stay MATMUL calls in the generated code, and some that
# must be lowered to loops (their MATMUL disappears)
KEPT = {
    "mm2": [
        "c = alpha*matmul(a, b) + beta*c",
        "t = -matmul(transpose(b), transpose(a))/alpha",
        "s = 0.5_dp*(matmul(b, t) + matmul(transpose(a), transpose(t)))",
        "e(1:k, :) = matmul(s(:, 2:n), a(2:n, :))",
        "c = c + matmul(a, b)",
    ],
    "mv": [
        "y = 2.0_dp*y - matmul(a, x)",
        "z = matmul(y, a)",
        "v = matmul(transpose(q), w(r, :))*y(r)",
        "z = z + matmul(w(r, :), q)",
        "u = matmul(x, transpose(a(2:n, :)))*y(1)",
    ],
}
LOWERED = {
    "mm2": ["matmul(t, c(:, :)**2)"],
    "fallback": ["matmul(c, a)", "matmul(a(idx, :), b)", "c(1, 1)*matmul(a, b)"],
}


@pytest.mark.parametrize("head", sorted(CASES))
def test_forms_check(head: str) -> None:
    wrt, sizes = CASES[head]
    report = api.check(FORMS, wrt=wrt, of="cost", head=head, sizes=sizes, modes=MODES[head])
    assert report.ok, report.table()


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_supported_forms_stay_library_calls(tmp_path: Path, mode: str) -> None:
    for head, (wrt, _) in CASES.items():
        out = tmp_path / f"{head}_{mode}"
        args = [str(FORMS), "--head", head, "--wrt", wrt, "--of", "cost", "--mode", mode]
        assert cli.main([*args, "-o", str(out)]) == 0
        suffix = "b" if mode == "reverse" else "d"
        text = (out / f"forms_{suffix}.f90").read_text()
        for stmt in KEPT.get(head, []):
            assert stmt in text, (head, stmt)
        for call in LOWERED.get(head, []):
            assert call not in text, (head, call)
    if mode == "reverse":  # the rules of the docstring of ad/constructs/matmul.py, spelled out
        adj = (tmp_path / "mm2_reverse" / "forms_b.f90").read_text()
        assert "ab = ab + alpha*fad_mmb1" in adj  # the gradient of a, reused for alpha's
        assert "fad_mmb2 = matmul(transpose(a), cb)" in adj and "bb = bb + alpha*fad_mmb2" in adj
        # the products go to work arrays kept between calls (one per thread), reallocated
        # only when the bounds change
        for w in ("fad_mmb1", "fad_mmb2"):
            assert f"real(dp), allocatable, save :: {w}(:, :)\n    !$omp threadprivate({w})" in adj
            assert f"if (.not. allocated({w})) allocate({w}(" in adj
            assert re.search(rf"if \(allocated\({w}\)\) then\n\s*if \(lbound", adj)
        assert not re.search(r"^\s*deallocate\(fad_mmb", adj, re.M)
        assert "betab = betab + sum(cb*c)" in adj and "cb = beta*cb" in adj
        mv = (tmp_path / "mv_reverse" / "forms_b.f90").read_text()
        assert "fad_mmb1 = matmul(yb, a)" in mv and "xb = xb - fad_mmb1" in mv  # x̄ -= ȳᵀ A
        # Ā -= ȳ xᵀ by columns, in one loop with z = yᵀ A's Ā += y z̄ᵀ
        # (ad/rewrites/column_updates.py)
        assert "ab(:, fad_j2) = ab(:, fad_j2) + y*zb(fad_j2) - yb*x(fad_j2)" in mv


def test_npbench_matmul_cases_exist() -> None:
    heads = {c["head"] for c in tomllib.loads(MM_TOML.read_text())["case"]}
    assert set(NPBENCH) <= heads and len(heads) == 11


@pytest.mark.parametrize("head", NPBENCH)
def test_npbench_matmul_kernels(head: str) -> None:
    report = api.check([], head=head, sample=MM_TOML, modes=("reverse",))
    assert report.ok, report.table()


@pytest.mark.parametrize("head", ["symm_mm", "trmm_mm"])
def test_triangle_kernels_gradient_only(head: str) -> None:
    report = api.check([], head=head, sample=MM_TOML, modes=("reverse",), gradient_only=True)
    assert report.ok, report.table()
    assert any(r.test == "fd_adjoint" for r in report.rows)


def test_trmm_gradient_needs_no_forward_product(tmp_path: Path) -> None:
    """t = alpha*matmul(u, b): alpha's derivative comes from u's gradient (ad/constructs/matmul.py),
    so the gradient-only adjoint of trmm_mm does the two products of the gradient, no more."""
    npb = MM_TOML.parent
    srcs = [str(npb / "npb_kinds.f90"), str(npb / "npb_blas_mm.f90")]
    args = ["--head", "trmm_mm", "--wrt", "alpha,a,b", "--of", "cost", "--gradient-only"]
    assert cli.main([*srcs, *args, "-o", str(tmp_path)]) == 0
    text = (tmp_path / "npb_blas_mm_b.f90").read_text()
    body = text.split("subroutine trmm_mm_b(", 1)[1].split("end subroutine trmm_mm_b", 1)[0]
    forward, backward = body.split("! ---- backward sweep", 1)
    assert [len(re.findall(r"\bmatmul\(", x)) for x in (forward, backward)] == [0, 2]


@pytest.mark.parametrize("kernel", ["symm", "trmm"])
def test_matmul_form_equals_the_loop_nest(tmp_path: Path, kernel: str) -> None:
    """The MATMUL version and the PolyBench loop nest (the gradient-checked npbench sample):
    same cost and gradient on the same inputs (the runner's programs, gradient-only)."""
    sys.path.insert(0, str(REPO_ROOT / "scripts" / "bench"))
    import fortran_side
    from sizes import BY_HEAD

    k = BY_HEAD[kernel]
    size = {"m": 7, "n": 5}  # m > n and m > the check size: every triangle case
    runs = {}
    for head, toml in ((kernel, fortran_side.SAMPLE_TOML), (f"{kernel}_mm", MM_TOML)):
        built = fortran_side.build(head, size, tmp_path / head, 1 << 30, "ilp", toml)
        shapes = fortran_side.shapes(built.spec, size)
        rng = np.random.default_rng(3)
        data = {n: rng.uniform(lo, hi, shapes[n]) for n, (lo, hi) in k.wrt.items()}
        runs[head] = fortran_side.run(built, size, data, 1, 300.0)
    loops, mm = runs[kernel], runs[f"{kernel}_mm"]
    assert mm.cost == pytest.approx(loops.cost, rel=1e-13)
    assert sorted(mm.grads) == sorted(k.wrt)
    for name, g in loops.grads.items():
        assert np.abs(g).max() > 0, name
        np.testing.assert_allclose(mm.grads[name], g, rtol=1e-12, atol=1e-13 * np.abs(g).max())


def _drop(pred):
    """matmul.adjoint without the statements ``pred`` selects (a wrong adjoint)."""
    original = matmul.adjoint

    def adjoint(t, s: ir.Assign) -> list[ir.Stmt]:
        return [x for x in original(t, s) if not pred(x)]

    return adjoint


@pytest.mark.parametrize(
    "what",
    [
        "b increment",  # bb = bb + alpha*matmul(transpose(a), cb)
        "seed scaling",  # cb = beta*cb
    ],
)
def test_dropping_an_adjoint_term_fails(monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    def pred(x: ir.Stmt) -> bool:
        if not isinstance(x, ir.Assign):
            return False
        if what == "b increment":
            return base_name(x.target) == "bb"
        return base_name(x.target) == "cb" and isinstance(x.value, ir.BinOp)

    monkeypatch.setattr(matmul, "adjoint", _drop(pred))
    report = api.check([], head="gemm_mm", sample=MM_TOML, modes=("reverse",))
    assert not report.ok
    failed = {r.test for r in report.rows if not r.passed}
    assert failed & {"fd_adjoint", "dot_product"}, report.table()


KEEP_SRC = """\
module kept
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine prod(m, n, alpha, a, b, cost)
    integer, intent(in) :: m, n
    real(dp), intent(in) :: alpha, a(m, n), b(n, m)
    real(dp), intent(out) :: cost
    real(dp) :: c(m, m)
    c = alpha*matmul(a, b)
    cost = sum(c)
  end subroutine prod
end module kept
"""

KEEP_DRIVER = """\
program main
  use kept_b
  implicit none
  integer :: r, m, n, bad
  bad = 0
  !$omp parallel do private(m, n) reduction(+: bad) schedule(static, 1)
  do r = 1, 12
    m = 2 + mod(r, 3)
    n = 3 + mod(r, 4)
    bad = bad + one(m, n)
  end do
  !$omp end parallel do
  print '(a, i0)', 'bad ', bad
contains
  integer function one(m, n)
    integer, intent(in) :: m, n
    real(dp) :: a(m, n), b(n, m), ab(m, n), bb(n, m), alphab, cost, costb
    integer :: i, k
    one = 0
    do k = 1, n
      do i = 1, m
        a(i, k) = 0.1_dp*i + k
        b(k, i) = 1.0_dp/(i + k)
      end do
    end do
    ab = 0; bb = 0; alphab = 0; costb = 1
    call prod_b(m, n, 2.0_dp, alphab, a, ab, b, bb, cost, costb)
    ! cost = alpha * sum_ij (A B)_ij: dA(i, k) = alpha sum_j B(k, j), dB(k, j) = alpha sum_i A(i, k)
    do k = 1, n
      do i = 1, m
        if (abs(ab(i, k) - 2*sum(b(k, :))) > 1e-12_dp) one = 1
        if (abs(bb(k, i) - 2*sum(a(:, k))) > 1e-12_dp) one = 1
      end do
    end do
    if (abs(alphab - sum(matmul(a, b))) > 1e-12_dp) one = 1
  end function one
end program main
"""


@pytest.mark.parametrize("openmp", [False, True])
def test_kept_work_arrays_follow_the_sizes_and_threads(
    tmp_path: Path, fortran, openmp: bool
) -> None:
    """The work arrays the MATMUL adjoints keep between calls: calls with changing shapes
    (reallocated), and with OpenMP from two threads at once (threadprivate), give the
    analytic gradient every time."""
    src = tmp_path / "kept.f90"
    src.write_text(KEEP_SRC)
    out = tmp_path / "out"
    assert cli.main([str(src), "--head", "prod", "--wrt", "alpha,a,b", "--of", "cost",
                     "-o", str(out)]) == 0  # fmt: skip
    adj = (out / "kept_b.f90").read_text()
    assert "allocatable, save :: fad_mmb1" in adj and "!$omp threadprivate(fad_mmb1)" in adj
    driver = tmp_path / "main.f90"
    driver.write_text(KEEP_DRIVER)
    flags = ["-O0", "-g", "-Wall", "-fcheck=all", *(["-fopenmp"] if openmp else [])]
    exe = fortran.compile([out / "fad_tape.f90", src, out / "kept_b.f90", driver], flags=flags)
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    proc = subprocess.run([str(exe)], cwd=exe.parent, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["bad", "0"]
