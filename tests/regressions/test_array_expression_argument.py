"""Regression (found while writing scripts/fuzz.py): an array expression as the actual
argument of an active array dummy, ``call axpy(n, 2.0_dp*x, y, x(1))``.

Valid Fortran; scalar expression arguments are already moved into temporaries, array ones are
not, and the error blames the wrong thing: "cannot differentiate through '2.0_dp*x':
derived-type components and other designators fortran-ad does not model yet" (ad/core/common.py
RoutineAD.deriv via normalize/__init__.py _Hoister._hoist_args, which only hoists rank-0).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine axpy(n, a, b, c)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp), intent(inout) :: b(n)
    real(dp), intent(in) :: c
    integer :: i
    do i = 1, n
      b(i) = b(i) + c*sin(a(i))
    end do
  end subroutine axpy

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    call axpy(n, 2.0_dp*x, y, x(1))
    cost = sum(y**2)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_array_expression_as_actual_argument(tmp_path: Path) -> None:
    src = tmp_path / "arrarg.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 5}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
