"""``fortran-ad check`` on real models: module state set by a setup routine named in the sample
file, values and ranges on the command line (``--set``, ``--range``), and one clear sentence
when the primal is not finite at the drawn inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

MODEL = """\
module params
  implicit none
  integer, parameter :: jprb = selected_real_kind(13, 300)
  type :: coefs_t
    real(jprb), pointer :: c(:) => null()
    real(jprb), allocatable :: w(:)
  end type
  type(coefs_t) :: yrc
  real(jprb) :: scale = 0.0_jprb
contains
  subroutine setup_params()
    if (associated(yrc%c)) deallocate(yrc%c)
    if (allocated(yrc%w)) deallocate(yrc%w)
    allocate(yrc%c(3), yrc%w(3))
    yrc%c = [1.0_jprb, 2.0_jprb, 3.0_jprb]
    yrc%w = [0.5_jprb, 0.25_jprb, 0.125_jprb]
    scale = 4.0_jprb
  end subroutine
end module params

module scheme
  use params, only: jprb, yrc, scale
  implicit none
contains
  subroutine step(n, x, y)
    integer, intent(in) :: n
    real(jprb), intent(in) :: x(n)
    real(jprb), intent(out) :: y
    integer :: i
    y = 0.0_jprb
    do i = 1, n
      y = y + yrc%w(mod(i, 3) + 1)*x(i)**2/(scale*yrc%c(mod(i, 3) + 1))
    end do
  end subroutine
end module scheme
"""

SAMPLE = """\
sources = ["model.f90"]
[[case]]
head = "step"
wrt = ["x"]
of = ["y"]
{setup}
[case.check]
n = 5
"""

_ARGS = ["check", "--head", "step", "--wrt", "x", "--of", "y", "--modes", "reverse,forward"]


def _model(tmp_path: Path, setup: str) -> Path:
    (tmp_path / "model.f90").write_text(MODEL)
    (tmp_path / "sample.toml").write_text(SAMPLE.format(setup=setup))
    return tmp_path


@pytest.mark.gfortran
def test_setup_routine_sets_module_state_before_every_run(tmp_path: Path) -> None:
    root = _model(tmp_path, "")  # without the setup the pointer member is null
    proc = run_cli([*_ARGS, str(root / "model.f90"), "--sample", str(root / "sample.toml")])
    assert proc.returncode == 1 and "check program failed" in proc.stdout, proc.stdout
    root = _model(tmp_path, 'setup = "setup_params"')
    proc = run_cli([*_ARGS, str(root / "model.f90"), "--sample", str(root / "sample.toml")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fd_adjoint" in proc.stdout and "dot_product" in proc.stdout
    assert "check of step: passed" in proc.stdout


@pytest.mark.gfortran
def test_non_finite_primal_is_one_sentence(tmp_path: Path) -> None:
    """The setup leaves scale = 0: the outputs are Inf. One sentence naming them and the
    inputs drawn, no rows of NaN."""
    root = _model(tmp_path, "")
    model = MODEL.replace("scale = 4.0_jprb", "scale = 0.0_jprb")
    (root / "model.f90").write_text(model)
    (root / "sample.toml").write_text(SAMPLE.format(setup='setup = "setup_params"'))
    proc = run_cli([*_ARGS, str(root / "model.f90"), "--sample", str(root / "sample.toml")])
    assert proc.returncode == 1
    assert "not finite (NaN or Inf) at the drawn inputs: y" in proc.stdout
    assert "x uniform in [0.5, 1.5]" in proc.stdout and "--range name=lo:hi" in proc.stdout
    assert "nan" not in proc.stdout.lower().replace("nan or inf", "")


@pytest.mark.gfortran
def test_set_and_range_on_the_command_line(tmp_path: Path) -> None:
    src = tmp_path / "lin.f90"
    src.write_text(
        "subroutine lin(n, wet, x, y)\n  integer, intent(in) :: n\n  logical, intent(in) :: wet\n"
        "  real(8), intent(in) :: x(n)\n  real(8), intent(out) :: y\n"
        "  y = sum(log(x))\n  if (wet) y = 2*y\nend subroutine\n"
    )
    args = ["check", str(src), "--wrt", "x", "--of", "y", "--modes", "reverse"]
    # x drawn from [-2, -1]: log is NaN, and the message says which range was used
    proc = run_cli([*args, "--set", "n=4,wet=.true.", "--range", "x=-2:-1"])
    assert proc.returncode == 1
    assert "x uniform in [-2, -1]" in proc.stdout
    proc = run_cli([*args, "--set", "n=4,wet=.true.", "--range", "x=1:2"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_cli([*args, "--set", "n=4", "--range", "x=1"])
    assert proc.returncode == 2 and "bad range 'x=1'" in proc.stderr
