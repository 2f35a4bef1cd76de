"""Regression: a derived-type dummy of the head as --wrt/--of (the model-state object).

``fortran-ad f.f90 --head run --wrt state --of state`` for ``type(state_t), intent(inout) ::
state`` was refused ("is type(state_t), not real"), and so was every component path
(``--wrt state%u``): a time loop over a model-state object could not be differentiated as
written. Now ``--wrt state`` makes every real component an independent, nested types included
(integer components stay passive), ``--wrt state%u`` one component; the head's derivative is
an object of the same type (``stateb``/``stated``, ad/core/head_names.py) and ``api.check`` fills
every real component (allocatable ones get their bounds from ``sizes``), checking FD, Taylor and
the dot-product identity over all of them (checks/objects.py). A path that names no real
component is a located error.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import run_cli

from fortran_ad import api
from fortran_ad.errors import FortranADError

MODEL = """\
module ocean
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type :: params_t
    real(dp) :: visc = 0.1_dp
    real(dp) :: coef(2)
  end type params_t
  type :: state_t
    integer :: nsteps = 0
    real(dp), allocatable :: h(:)
    real(dp), allocatable :: u(:)
    type(params_t) :: p
  contains
    procedure :: step
  end type state_t
contains
  subroutine step(this, dt)
    class(state_t), intent(inout) :: this
    real(dp), intent(in) :: dt
    real(dp) :: hn(size(this%h))
    integer :: i, n, r, l
    n = size(this%h)
    do i = 1, n
      r = mod(i, n) + 1
      l = mod(i + n - 2, n) + 1
      hn(i) = this%h(i) - dt*this%p%coef(1)*this%h(i)*(this%u(r) - this%u(l))
    end do
    do i = 1, n
      r = mod(i, n) + 1
      l = mod(i + n - 2, n) + 1
      this%u(i) = this%u(i) - dt*(this%p%coef(2)*(hn(r) - hn(l)) &
        - this%p%visc*(this%u(r) - 2.0_dp*this%u(i) + this%u(l)))
    end do
    this%h = hn
    this%nsteps = this%nsteps + 1
  end subroutine step

  subroutine run(state, nt, dt)
    type(state_t), intent(inout) :: state
    integer, intent(in) :: nt
    real(dp), intent(in) :: dt
    integer :: k
    do k = 1, nt
      call state%step(dt)
    end do
  end subroutine run
end module ocean
"""

SIZES = {"nt": 6, "dt": 0.01, "state%h": (12,), "state%u": (12,), "state%nsteps": 0}
RANGES = {"state%h": (9.0, 11.0), "state%u": (-0.5, 0.5), "state%p": (0.5, 1.5)}


def source(tmp_path: Path) -> Path:
    path = tmp_path / "ocean.f90"
    path.write_text(MODEL)
    return path


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("wrt", "of"),
    [("state", "state"), ("state%u", "state%h"), ("state%p,state%h", "state%u")],
)
def test_state_object_as_wrt_and_of(tmp_path: Path, wrt: str, of: str) -> None:
    report = api.check(
        source(tmp_path),
        wrt=wrt,
        of=of,
        head="run",
        sizes=SIZES,
        ranges=RANGES,
        modes=("reverse", "forward"),
    )
    assert report.ok, report.table()
    assert {"fd_adjoint", "fd_tangent", "dot_product"} <= {r.test for r in report.rows}
    # component by component: each input part of the adjoint, each output part of the tangent
    ins = {r.detail for r in report.rows if r.test == "dot_part"}
    outs = {r.detail.split(":")[0] for r in report.rows if r.test == "fd_tangent_part"}
    leaves = ["state%h", "state%u", "state%p%visc", "state%p%coef"]
    assert ins == {c for c in leaves if any(c.startswith(w) for w in wrt.split(","))}
    assert outs == {c for c in leaves if any(c.startswith(o) for o in of.split(","))}


@pytest.mark.parametrize(
    ("flag", "name", "message"),
    [
        ("--wrt", "state%nsteps", "'state%nsteps' is integer, not real"),
        ("--wrt", "state%hh", "type 'state_t' has no component 'hh'"),
        ("--of", "state%p%visc%x", "'state%p%visc' is not a derived-type object"),
        ("--wrt", "dt%h", "'dt' is not a derived-type object"),
    ],
)
def test_path_without_real_component_is_located(
    tmp_path: Path, flag: str, name: str, message: str
) -> None:
    src = source(tmp_path)
    other = "--of" if flag == "--wrt" else "--wrt"
    args = [str(src), "--head", "run", flag, name, other, "state", "-o", str(tmp_path / "out")]
    proc = run_cli(args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{src}:" in proc.stderr and "error:" in proc.stderr, proc.stderr
    assert message in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_allocatable_component_without_bounds_is_located(tmp_path: Path) -> None:
    sizes = {k: v for k, v in SIZES.items() if k != "state%u"}
    with pytest.raises(FortranADError, match=r"allocatable component 'state%u' needs bounds"):
        api.check(
            source(tmp_path), wrt="state", of="state", head="run", sizes=sizes, modes="reverse"
        )


@pytest.mark.gfortran
def test_python_bindings_refuse_objects_located(tmp_path: Path) -> None:
    from fortran_ad.build.python import build_python
    from fortran_ad.driver import Options

    src = source(tmp_path)
    opts = Options(sources=(str(src),), out=tmp_path / "out", wrt=("state",), of=("state",))
    with pytest.raises(FortranADError, match=r"--python cannot pass dummy 'state'") as exc:
        build_python(replace(opts, head="run"), "fad_ocean")
    assert exc.value.loc is not None and str(src) in str(exc.value.loc)


def test_unseeded_component_is_an_internal_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invariant (ad/head_names.check_seeded): a --wrt component the per-component
    activity leaves passive would come back with its derivative untouched (a silent zero
    gradient); generation stops instead. Simulated by dropping the component seeds."""
    from fortran_ad.analysis import components
    from fortran_ad.driver import Options, differentiate

    run = components.ComponentActivity.run
    monkeypatch.setattr(
        components.ComponentActivity,
        "run",
        lambda self, head, wrt: run(self, head, {w for w in wrt if "%" not in w}),
    )
    src = source(tmp_path)
    opts = Options(sources=(str(src),), out=tmp_path / "out", head="run", wrt=("state%p",))
    with pytest.raises(FortranADError, match=r"internal: component 'visc' of type 'params_t'"):
        differentiate(replace(opts, of=("state%h",)))


def test_extended_type_object_is_located(tmp_path: Path) -> None:
    """Components of an extended type are keyed by the type they are reached through (an
    inherited one seen through a CLASS(parent) dummy is another key): refused, located."""
    text = MODEL.replace(
        "  end type state_t\n",
        "  end type state_t\n  type, extends(state_t) :: big_t\n    real(dp) :: extra\n"
        "  end type big_t\n",
    ).replace("type(state_t), intent(inout) :: state", "type(big_t), intent(inout) :: state")
    src = tmp_path / "big.f90"
    src.write_text(text)
    args = [str(src), "--head", "run", "--wrt", "state", "--of", "state%h"]
    proc = run_cli([*args, "-o", str(tmp_path / "out")])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{src}:" in proc.stderr and "type 'big_t' extends 'state_t'" in proc.stderr


@pytest.mark.gfortran
def test_check_names_the_wrong_component(tmp_path: Path) -> None:
    """The check compares derivatives component by component: an adjoint that drops the
    update of one component fails, and the failing part rows name exactly that component."""
    from fortran_ad.checks.run import prepare_check
    from fortran_ad.driver import Options

    opts = Options(sources=(str(source(tmp_path)),), head="run", wrt=("state",), of=("state",))
    prepared = prepare_check(replace(opts, sizes=SIZES), modes=("reverse", "forward"))
    files = dict(prepared.files)
    name = next(n for n in files if n.endswith("_b.f90"))
    lines = files[name].splitlines()
    files[name] = "\n".join(
        "! dropped" if "thisb%p%visc = thisb%p%visc" in ln else ln for ln in lines
    )
    assert any("thisb%p%visc = thisb%p%visc" in ln for ln in lines)
    report = prepared.run(files=files)
    assert not report.ok
    failing = {r.detail for r in report.rows if r.test == "dot_part" and not r.passed}
    assert failing == {"state%p%visc"}, report.table()


@pytest.mark.gfortran
def test_cli_check_sets_component_extents(tmp_path: Path) -> None:
    """``fortran-ad check --set state%h=12`` gives an allocatable component its extents,
    ``--range state%u=lo:hi`` its values."""
    args = [str(source(tmp_path)), "--head", "run", "--wrt", "state", "--of", "state%h"]
    args += ["--modes", "reverse,forward", "--set", "nt=4,dt=0.01,state%h=12,state%u=12"]
    proc = run_cli(["check", *args, "--range", "state%u=-0.5:0.5,state%h=9:11"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "check of run: passed" in proc.stdout
    assert "dot_part" in proc.stdout and "state%p%coef" in proc.stdout


def test_check_refuses_private_components_located(tmp_path: Path) -> None:
    """The harness cannot set a PRIVATE component: a located error before anything compiles."""
    text = MODEL.replace("real(dp) :: visc = 0.1_dp", "real(dp), private :: visc = 0.1_dp")
    src = tmp_path / "priv.f90"
    src.write_text(text)
    with pytest.raises(FortranADError, match=r"cannot set 'state%p%visc'.*PRIVATE") as exc:
        api.check(src, wrt="state%u", of="state%h", head="run", sizes=SIZES, modes="reverse")
    assert str(src) in str(exc.value.loc)


CELLS = """\
module cells
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type :: cell_t
    real(dp) :: q(3)
    real(dp), allocatable :: w(:)
    integer :: id = 0
  end type
contains
  subroutine relax(cs, n, nt)
    integer, intent(in) :: n, nt
    type(cell_t), intent(inout) :: cs(n)
    integer :: i, k
    do k = 1, nt
      do i = 1, n
        cs(i)%q = cs(i)%q*(1.0_dp - 0.1_dp*cs(mod(i, n) + 1)%q(1)) + 0.05_dp*sum(cs(i)%w)
        cs(i)%w = cs(i)%w*cs(i)%q(2)
      end do
    end do
  end subroutine
end module
"""


@pytest.mark.gfortran
@pytest.mark.parametrize(("wrt", "of"), [("cs", "cs"), ("cs%w", "cs%q")])
def test_array_of_objects_as_wrt_and_of(tmp_path: Path, wrt: str, of: str) -> None:
    """An explicit-shape array of derived type: every element's real components are parts
    (``cs(2)%w``), sized and ranged by their component name (``cs%w``)."""
    src = tmp_path / "cells.f90"
    src.write_text(CELLS)
    sizes = {"n": 3, "nt": 2, "cs%w": (2,), "cs%id": 4}
    report = api.check(src, wrt=wrt, of=of, head="relax", sizes=sizes, modes=("reverse", "forward"))
    assert report.ok, report.table()
    ins = {r.detail for r in report.rows if r.test == "dot_part"}
    comps = ["q", "w"] if wrt == "cs" else ["w"]
    assert ins == {f"cs({i})%{c}" for i in (1, 2, 3) for c in comps}
