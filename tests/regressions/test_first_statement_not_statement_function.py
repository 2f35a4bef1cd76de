"""Regression: an element assignment opening a routine's body was taken for a statement
function definition and dropped when its array was not a local one: a component
(``this%h(i) = ...``, found in an object-oriented sample) or a module array (``w(i) = ...``).
The derivative silently lost the statement. Statement functions are now only names that are
no array anywhere in scope and no component (normalize/stmtfunc.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module firsts
  implicit none
  type :: st_t
    real(8) :: h(3) = 1d0
  end type
  real(8) :: w(3) = 2d0
contains
  subroutine bump(this, r, i)
    type(st_t), intent(inout) :: this
    real(8), intent(in) :: r
    integer, intent(in) :: i
    this%h(i) = this%h(i)*r**2
  end subroutine
  subroutine bump_w(r, i)
    real(8), intent(in) :: r
    integer, intent(in) :: i
    w(i) = w(i)*sin(r)
  end subroutine
  subroutine head(a, b)
    real(8), intent(in) :: a
    real(8), intent(out) :: b
    type(st_t) :: s
    w = 2d0
    s%h = a
    call bump(s, a, 2)
    call bump_w(a, 1)
    b = sum(s%h) + w(1)
  end subroutine
end module
"""


@pytest.mark.gfortran
def test_element_assignment_first_is_kept(tmp_path: Path) -> None:
    (tmp_path / "firsts.f90").write_text(SOURCE)
    report = api.check(tmp_path / "firsts.f90", wrt="a", of="b", head="head",
                       modes=("reverse", "forward"))  # fmt: skip
    assert report.ok, report.table()
