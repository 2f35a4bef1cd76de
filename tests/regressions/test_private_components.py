"""Regression: derivative code of a module's procedures lived in ``<module>_b``/``_d``, outside the
module, where PRIVATE components of its types cannot be reached. fortran-ad used to write ``this%x``
and ``sb%x`` there and gfortran rejected the result; then the component was a located error. Now
that derivative module is a copy of the module (ad/constructs/module_copies.py) and the derivatives
are checked; a PRIVATE module variable stays a located error (a copy would have a variable of its
own; was "no IMPLICIT type" from gfortran).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.errors import FortranADError

PRIVATE = """\
module pv
  implicit none
  private
  public :: st_t, head
  type :: st_t
    private
    real(8) :: x = 0d0
    real(8) :: c = 3d0
  contains
    procedure, public :: step
  end type
contains
  subroutine step(this)
    class(st_t), intent(inout) :: this
    this%x = this%c*sin(this%x)
  end subroutine
  subroutine head(a, b)
    real(8), intent(in) :: a
    real(8), intent(out) :: b
    type(st_t) :: s
    s%x = a
    call s%step()
    call s%step()
    b = s%x
  end subroutine
end module
"""

PRIVATE_VARIABLE = """\
module pm
  implicit none
  private
  public :: head
  real(8) :: coef = 2d0
contains
  integer function nsteps()
    nsteps = 2
  end function
  subroutine sq(x)
    real(8), intent(inout) :: x
    x = coef*x**2
  end subroutine
  subroutine head(a, b)
    real(8), intent(in) :: a
    real(8), intent(out) :: b
    integer :: k
    b = a
    do k = 1, nsteps()
      call sq(b)
    end do
  end subroutine
end module
"""


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_private_module_variable_is_a_located_error(tmp_path: Path, mode: str) -> None:
    (tmp_path / "pm.f90").write_text(PRIVATE_VARIABLE)
    with pytest.raises(FortranADError, match="module variable 'coef' of module 'pm' is PRIVATE"):
        api.check(tmp_path / "pm.f90", wrt="a", of="b", head="head", modes=(mode,))


@pytest.mark.gfortran
def test_private_components_differentiate(tmp_path: Path) -> None:
    (tmp_path / "pv.f90").write_text(PRIVATE)
    report = api.check(tmp_path / "pv.f90", wrt="a", of="b", head="head",
                       modes=("reverse", "forward"))  # fmt: skip
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_public_components_differentiate(tmp_path: Path) -> None:
    (tmp_path / "pv.f90").write_text(PRIVATE.replace("    private\n    real", "    real"))
    report = api.check(tmp_path / "pv.f90", wrt="a", of="b", head="head",
                       modes=("reverse", "forward"))  # fmt: skip
    assert report.ok, report.table()
