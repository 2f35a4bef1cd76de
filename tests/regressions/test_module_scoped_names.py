"""Regression: procedure names are scoped by module (normalize/scoping.py).

Two modules each with a private ``sq`` (or a private constructor ``new`` behind their types'
generic interfaces) used to fail with "routine 'sq' is defined twice"; a procedure called
through a USE rename was "no source". Now each gets a unique name, so do their derivatives,
and primal code keeps the source's names.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SAME_NAMES = """\
module ma
  implicit none
  private
  public :: run_a
contains
  subroutine sq(x)
    real(8), intent(inout) :: x
    x = x**2
  end subroutine
  subroutine run_a(x)
    real(8), intent(inout) :: x
    call sq(x)
  end subroutine
end module
module mb
  implicit none
  private
  public :: run_b
contains
  subroutine sq(x)
    real(8), intent(inout) :: x
    x = 3*sin(x)
  end subroutine
  subroutine run_b(x)
    real(8), intent(inout) :: x
    call sq(x)
  end subroutine
end module
module top
  use ma
  use mb
  implicit none
contains
  subroutine head(a, b)
    real(8), intent(in) :: a
    real(8), intent(out) :: b
    b = a
    call run_a(b)
    call run_b(b)
  end subroutine
end module
"""

CONSTRUCTORS = """\
module ca
  implicit none
  private
  public :: a_t
  type :: a_t
    real(8) :: v = 0d0
  end type
  interface a_t
    module procedure new
  end interface
contains
  type(a_t) function new(x)
    real(8), intent(in) :: x
    new%v = x**2
  end function
end module
module cb
  implicit none
  private
  public :: b_t
  type :: b_t
    real(8) :: w = 0d0
  end type
  interface b_t
    module procedure new
  end interface
contains
  type(b_t) function new(x)
    real(8), intent(in) :: x
    new%w = sin(x)
  end function
end module
module ctop
  use ca, only: a_t
  use cb, only: b_t
  use ca, only: sqa => a_t
  implicit none
contains
  subroutine head(a, b)
    real(8), intent(in) :: a
    real(8), intent(out) :: b
    type(a_t) :: p, r
    type(b_t) :: q
    p = a_t(a)
    q = b_t(a)
    r = sqa(q%w)
    b = p%v*q%w + r%v
  end subroutine
end module
"""

USE_RENAME = """\
module rlib
  implicit none
contains
  subroutine cube(x)
    real(8), intent(inout) :: x
    x = x**3
  end subroutine
end module
module rtop
  use rlib, only: c3 => cube
  implicit none
contains
  subroutine head(a, b)
    real(8), intent(in) :: a
    real(8), intent(out) :: b
    b = a
    call c3(b)
  end subroutine
end module
"""


@pytest.mark.gfortran
@pytest.mark.parametrize(
    "source", [SAME_NAMES, CONSTRUCTORS, USE_RENAME], ids=["private", "constructor", "rename"]
)
def test_module_scoped_names(tmp_path: Path, source: str) -> None:
    (tmp_path / "src.f90").write_text(source)
    report = api.check(tmp_path / "src.f90", wrt="a", of="b", head="head",
                       modes=("reverse", "forward"))  # fmt: skip
    assert report.ok, report.table()
