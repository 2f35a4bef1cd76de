"""The C back end (``--emit c``) against the Fortran back end.

For every sample case the C back end supports, the derivative check harness (the same driver
as ``fortran-ad check``) is built twice: with the Fortran derivative files, and with the C
files plus their ISO_C_BINDING wrapper modules in their place. Both must pass the check
(finite differences, dot product, primal outputs after the adjoint), and the C derivatives
must equal the Fortran ones to 1e-12 (relative) along every random direction, in reverse and
forward mode. Unsupported constructs are located errors; the CLI writes all files or none.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from fortran_ad import cli
from fortran_ad.backends.c_files import emit_c
from fortran_ad.checks.run import PreparedCheck, prepare_check
from fortran_ad.driver import Options
from fortran_ad.errors import FortranADError

pytestmark = [pytest.mark.gfortran, pytest.mark.slow]

SAMPLES = REPO_ROOT / "legacy_samples"
MODES = ("reverse", "forward")
RTOL = 1e-12
# (sample folder, head): the cases the C back end supports (docs/architecture.md lists them)
SUPPORTED = [
    ("lorenz96", "l96_run"),
    ("npbench", "jacobi_2d"),
    ("npbench", "heat_3d"),
    ("npbench", "seidel_2d"),
    ("npbench", "gemm"),
    ("npbench", "cholesky"),
    ("npbench", "lu"),
    ("shallow_water", "swm_run"),
    ("advection_diffusion", "advdif_run"),
    ("vertical_diffusion", "vdiff_run"),
    ("warm_rain", "kessler_run"),
    ("box_model_f77", "npzrun"),
    ("radiation_column", "radiation_run"),
    ("ocean_box_f77", "ocnrun"),
    ("cpp_column", "column_run"),
    ("entry_f77", "relax"),
]

SEMANTICS = """
module csem
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp), parameter :: scale = 0.1_dp
contains
  subroutine mix(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y(n)
    integer :: i, k, m
    integer(8) :: big
    real :: s
    real(dp) :: double, errno  ! C keywords and libc names are renamed
    do i = 1, n
      double = 0.5_dp*x(i)
      errno = double + 1.0_dp
      k = i - 4
      m = mod(k, 3) + modulo(k, 3) + sign(2, k) + nint(x(i)*3.3_dp) + int(-x(i)*2.7_dp) + k/2
      m = m + modulo(-7, k + 20) + 2**abs(k) + max(k, 1, -k, 2) + min(k, 0) + floor(-x(i))
      big = int(k, 8)*3000000000_8
      s = 0.1*real(i)
      y(i) = x(i)**3 + scale*x(i)**k + real(m, dp)*x(i) + max(x(i), 0.3_dp, x(n - i + 1)) &
        - min(x(i), 0.5_dp)*x(n) + sign(x(i), real(k, dp)) + mod(x(i)*7.0_dp, 2.5_dp) &
        + modulo(-x(i)*7.0_dp, 2.5_dp) + real(big/1000000000_8, dp)*x(i) + s*x(i) &
        + x(i)**1.5_dp + exp(-x(i))*log(x(i)) + sqrt(x(i))*atan2(x(i), 2.0_dp) + dble(s) &
        + double*errno
    end do
  end subroutine mix
end module csem
"""


def _c_files(prepared: PreparedCheck, head: str, modes=MODES) -> dict[str, str]:
    """The C output of every mode, merged (each mode has its own .c and wrapper files)."""
    files: dict[str, str] = {}
    for mode in modes:
        generated = {n: t for n, t in prepared.files.items() if mode in prepared.file_modes[n]}
        opts = Options(
            sources=prepared.sources, wrt=prepared.wrt, of=prepared.of, head=head, mode=mode
        )
        files.update(emit_c(opts, generated, prepared.pp))
    return files


FD_ROWS = {
    "reverse": "fd_adjoint",
    "forward": "fd_tangent",
    "vector": "vector_fd",
    "vector-reverse": "vreverse_fd",
}


def _derivatives(report) -> dict[tuple[str, int], float]:
    """The derivative along each random direction, per mode (the check's FD rows)."""
    tests = set(FD_ROWS.values())
    return {(r.test, r.direction): r.b for r in report.rows if r.test in tests}


def _compare(prepared: PreparedCheck, head: str, modes=MODES) -> None:
    c_files = _c_files(prepared, head, modes)
    with ThreadPoolExecutor(2) as pool:  # two compilers at once (CI has two cores)
        fortran_run = pool.submit(prepared.run)
        c_run = pool.submit(prepared.run, c_files)
        fortran, c = fortran_run.result(), c_run.result()
    assert fortran.ok, fortran.table()
    assert c.error is None, c.error
    assert c.ok, c.table()
    want, got = _derivatives(fortran), _derivatives(c)
    assert set(want) == {(FD_ROWS[m], k) for m in modes for k in (1, 2, 3)}
    assert set(got) == set(want)
    for key, value in want.items():
        assert abs(got[key] - value) <= RTOL * abs(value), (key, got[key], value)


@pytest.mark.parametrize(("folder", "head"), SUPPORTED, ids=[h for _, h in SUPPORTED])
def test_c_matches_fortran_on_sample(folder: str, head: str) -> None:
    prepared = prepare_check(Options(sources=(), head=head), SAMPLES / folder, modes=MODES)
    _compare(prepared, head)


def test_vector_modes_on_lorenz96() -> None:
    vector = ("vector", "vector-reverse")
    options = Options(sources=(), head="l96_run")
    prepared = prepare_check(options, SAMPLES / "lorenz96", modes=vector)
    _compare(prepared, "l96_run", vector)


def test_fortran_semantics_of_intrinsics(tmp_path: Path) -> None:
    """MOD/MODULO/SIGN/NINT/INT/FLOOR with negative operands, integer powers, MIN/MAX with
    many arguments, integer(8), default-real constants: the primal outputs after the C
    adjoint equal the Fortran primal's (the check's adjoint_primal rows) and derivatives agree."""
    src = tmp_path / "csem.f90"
    src.write_text(SEMANTICS)
    opts = Options(sources=(str(src),), wrt=("x",), of=("y",), head="mix", sizes={"n": 9})
    prepared = prepare_check(opts, None, {"x": (0.6, 1.4)}, MODES)
    _compare(prepared, "mix")


def test_c_output_is_c99_with_column_major_macros(tmp_path: Path) -> None:
    out = tmp_path / "out"
    npb = SAMPLES / "npbench"
    args = [str(npb / "npb_kinds.f90"), str(npb / "npb_stencils.f90"), "--head", "jacobi_2d"]
    assert cli.main([*args, "--wrt", "a,b", "--of", "cost", "--emit", "c", "-o", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    want = ["fad_tape.f90", "fadc.h", "fadc_npb_stencils_b.c", "fadc_tape.c", "npb_stencils_b.f90"]
    assert names == want  # no two files share a stem (object files would collide)
    c = (out / "fadc_npb_stencils_b.c").read_text()
    assert "#define A_(i1, i2) a[((i1) - a__lo1) + a__n1 * (((i2) - a__lo2))]" in c
    assert "void fadc_npb_stencils_b__jacobi_2d_b(" in c
    wrapper = (out / "npb_stencils_b.f90").read_text()
    assert "module npb_stencils_b" in wrapper
    assert "subroutine jacobi_2d_b(tsteps, n, a, ab, b, bb, cost, costb)" in wrapper
    assert 'name="fadc_npb_stencils_b__jacobi_2d_b")' in wrapper and "bind(C" in wrapper


def test_assumed_shape_wrapper_passes_extents(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = SAMPLES / "lorenz96" / "l96.f90"
    assert (
        cli.main([str(src), "--wrt", "x,forcing", "--of", "cost", "--emit", "c", "-o", str(out)])
        == 0
    )
    c = (out / "fadc_l96_b.c").read_text()
    assert "double *restrict x, int64_t x__n1, double *restrict xb, int64_t xb__n1" in c


MODULE_VARIABLE = """
module state
  implicit none
  real(8) :: drag = 0.5d0
contains
  subroutine f(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    y = drag*x*x
  end subroutine f
end module state
"""


def test_unsupported_is_located_error(tmp_path: Path, capsys) -> None:
    """A module variable (not a PARAMETER) cannot be shared with C: exit 2, a located error
    naming it, nothing written."""
    src = tmp_path / "state.f90"
    src.write_text(MODULE_VARIABLE)
    out = tmp_path / "out"
    assert cli.main([str(src), "--wrt", "x", "--of", "y", "--emit", "c", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: the C back end does not support the module or host variable 'drag'" in err
    where = err.split(": error:")[0]
    assert where.rsplit(":", 2)[1].isdigit() and where.rsplit(":", 2)[2].isdigit()
    assert not out.exists()


def test_io_in_active_code_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "io.f90"
    src.write_text(
        "module io\n  implicit none\ncontains\n  subroutine f(x, y)\n"
        "    real(8), intent(in) :: x\n    real(8), intent(out) :: y\n"
        "    y = x*x\n    print *, y\n  end subroutine f\nend module io\n"
    )
    with pytest.raises(FortranADError) as info:
        emit_c(Options(sources=(str(src),), wrt=("x",), of=("y",), head="f"))
    assert "does not support the statement 'print" in info.value.message.lower()
    assert info.value.loc is not None and info.value.loc.line > 0


def test_c_output_is_deterministic(tmp_path: Path) -> None:
    """Identical input gives identical bytes, whatever the hash seed."""
    import os
    import subprocess
    import sys

    src = SAMPLES / "shallow_water"
    texts = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        argv = [str(src / "swm_params.f90"), str(src / "swm.f90"), "--wrt", "h,u,v", "--of"]
        argv += ["cost", "--emit", "c", "-o", str(out)]
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-m", "fortran_ad", *argv], env=env, check=False)
        assert run.returncode == 0
        texts.append({p.name: p.read_text() for p in sorted(out.iterdir())})
    assert texts[0] == texts[1]
    assert "fadc_swm_b.c" in texts[0]
