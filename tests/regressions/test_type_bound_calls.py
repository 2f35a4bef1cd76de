"""Regression: type-bound procedure calls must be differentiated through, never passive.

``call s%square()`` used to reach the call graph as an unknown external named "s % square":
activity treated it as passive and db/da came out 1 instead of 2a in both modes. Calls through
specific and generic bindings, the function form, PASS(name) and NOPASS, and nested object
paths into another module (``this%g%get_nx()``, the model/geometry split of SENA) are
resolved to their specific procedure with the passed object as an actual argument
(normalize/typebound.py); the specific may be private to its module, so primal calls are
emitted as the source spelled them. Dynamic dispatch that cannot be resolved statically is a
located error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.errors import FortranADError

SQUARE = """\
module m
  implicit none
  type :: st_t
    real(8) :: x = 0d0
  contains
    procedure :: square
  end type
contains
  subroutine square(this)
    class(st_t), intent(inout) :: this
    this%x = this%x**2
  end subroutine
  subroutine head(a, b)
    real(8), intent(in) :: a
    real(8), intent(out) :: b
    type(st_t) :: s
    s%x = a
    call s%square()
    b = s%x
  end subroutine
end module
"""

BINDINGS = """\
module obj
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type :: st_t
    real(dp) :: x = 0d0
    real(dp) :: w(3) = 0d0
  contains
    procedure :: scale_by, scale_vec
    generic :: scale => scale_by, scale_vec
    procedure :: energy
    procedure, pass(this) :: mix
    procedure, nopass :: twice
    procedure :: total
    procedure :: values
  end type
contains
  subroutine scale_by(this, f)
    class(st_t), intent(inout) :: this
    real(dp), intent(in) :: f
    this%x = this%x*f
  end subroutine
  subroutine scale_vec(this, f)
    class(st_t), intent(inout) :: this
    real(dp), intent(in) :: f(3)
    this%w = this%w*f + this%x
  end subroutine
  real(dp) function energy(this, c)
    class(st_t), intent(in) :: this
    real(dp), intent(in) :: c
    energy = c*this%x**2 + sum(this%w**2)
  end function
  subroutine mix(g, this)
    real(dp), intent(in) :: g
    class(st_t), intent(inout) :: this
    this%w(1) = this%w(1) + g*sin(this%x)
  end subroutine
  real(dp) function total(this)
    class(st_t), intent(in) :: this
    total = this%x + sum(this%w)
  end function

  function values(this) result(v)
    class(st_t), intent(in) :: this
    real(dp) :: v(3)
    v = this%w
  end function

  real(dp) function twice(v)
    real(dp), intent(in) :: v
    twice = 2*v
  end function
  subroutine head(a, b)
    real(dp), intent(in) :: a
    real(dp), intent(out) :: b
    type(st_t) :: s
    real(dp) :: f(3)
    s%x = a
    s%w = [a, 2*a, 1d0]
    f = [a, 0.5d0, 3d0]
    call s%scale(a)
    call s%scale(f)
    call s%mix(a)
    b = s%energy(a) + s%twice(s%x) + s%total()
  end subroutine
end module
"""

GEO = """\
module geo
  implicit none
  private
  public :: geo_t
  type :: geo_t
    private
    integer :: nx = 4
    real(8) :: dx = 0.5d0
  contains
    procedure, public :: get_nx, get_dx
  end type
  interface geo_t
    module procedure new_geo
  end interface
contains
  type(geo_t) function new_geo(nx, dx)
    integer, intent(in) :: nx
    real(8), intent(in) :: dx
    new_geo%nx = nx
    new_geo%dx = dx
  end function
  integer function get_nx(this)
    class(geo_t), intent(in) :: this
    get_nx = this%nx
  end function
  real(8) function get_dx(this)
    class(geo_t), intent(in) :: this
    get_dx = this%dx
  end function
end module
"""

MODEL = """\
module mdl
  use geo, only: geo_t
  implicit none
  private
  public :: model_t, run
  type :: model_t
    type(geo_t) :: g
    real(8) :: dt = 0.1d0
  contains
    procedure :: adv_nsteps
  end type
contains
  subroutine adv_nsteps(this, u, n)
    class(model_t), intent(in) :: this
    real(8), intent(inout) :: u(:)
    integer, intent(in) :: n
    integer :: k, i
    do k = 1, n
      do i = 2, this%g%get_nx()
        u(i) = u(i) - this%dt/this%g%get_dx()*u(i)*(u(i) - u(i-1))
      end do
    end do
  end subroutine
  subroutine run(u, n)
    real(8), intent(inout) :: u(4)
    integer, intent(in) :: n
    type(model_t) :: model
    model%g = geo_t(4, 0.5d0)
    call model%adv_nsteps(u, n)
  end subroutine
end module
"""

POLY = """\
module poly
  implicit none
  type :: base_t
    real(8) :: x = 0d0
  contains
    procedure :: step => base_step
  end type
  type, extends(base_t) :: fast_t
  contains
    procedure :: step => fast_step
  end type
contains
  subroutine base_step(this)
    class(base_t), intent(inout) :: this
    this%x = this%x**2
  end subroutine
  subroutine fast_step(this)
    class(fast_t), intent(inout) :: this
    this%x = this%x**3
  end subroutine
  subroutine run(o)
    class(base_t), intent(inout) :: o
    call o%step()
  end subroutine
  subroutine head(a, b)
    real(8), intent(in) :: a
    real(8), intent(out) :: b
    type(fast_t) :: s
    s%x = a
    call run(s)
    b = s%x
  end subroutine
end module
"""

BOTH = ("reverse", "forward")


@pytest.mark.gfortran
def test_passed_object_call(tmp_path: Path) -> None:
    (tmp_path / "sq.f90").write_text(SQUARE)
    report = api.check(tmp_path / "sq.f90", wrt="a", of="b", head="head", modes=BOTH)
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_generic_function_pass_and_nopass_bindings(tmp_path: Path) -> None:
    (tmp_path / "ob.f90").write_text(BINDINGS)
    report = api.check(tmp_path / "ob.f90", wrt="a", of="b", head="head", modes=BOTH)
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_nested_object_in_another_module(tmp_path: Path) -> None:
    (tmp_path / "geo.f90").write_text(GEO)
    (tmp_path / "mdl.f90").write_text(MODEL)
    report = api.check(
        [tmp_path / "geo.f90", tmp_path / "mdl.f90"], wrt="u", of="u", head="run",
        sizes={"n": 3}, modes=BOTH,
    )  # fmt: skip
    assert report.ok, report.table()


def test_overridden_binding_on_polymorphic_object_is_refused(tmp_path: Path) -> None:
    (tmp_path / "poly.f90").write_text(POLY)
    with pytest.raises(FortranADError, match="dispatches dynamically") as info:
        api.check(tmp_path / "poly.f90", wrt="a", of="b", head="head", modes=BOTH)
    assert info.value.loc is not None and "poly.f90:23" in str(info.value.loc)


@pytest.mark.gfortran
def test_array_valued_binding(tmp_path: Path) -> None:
    """``f = s%values()`` (no arguments: a function reference, not a component) with an array
    result: differentiated as a whole-array call, not read as an unknown external (passive)
    nor applied element by element; inside an expression too (a temporary holds it)."""
    source = BINDINGS.replace("    f = [a, 0.5d0, 3d0]", "    f = s%values()")
    (tmp_path / "ob.f90").write_text(source)
    report = api.check(tmp_path / "ob.f90", wrt="a", of="b", head="head", modes=BOTH)
    assert report.ok, report.table()
    (tmp_path / "ob.f90").write_text(source.replace("f = s%values()", "f = 2*s%values()"))
    report = api.check(tmp_path / "ob.f90", wrt="a", of="b", head="head", modes=BOTH)
    assert report.ok, report.table()
