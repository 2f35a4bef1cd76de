"""Regression: functions with an ARRAY result, assigned to an array or a section.

``c(2:n+1) = farr(...)`` was scalarized as if ``farr`` were elemental: the adjoint assigned the
whole result to one element (``c(i) = farr(x)``, a rank error) and the tangent passed one
element ``c(i)`` as the whole result array of ``farr_d`` (memory corruption at run time). The
assignment now stays whole (normalize/scalarize.py), the tangent calls ``farr_d`` once with the
target, the adjoint passes ``farr_b`` a copy of the target's adjoint array. An array result
used inside an expression is a located error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.errors import FortranADError

SOURCE = """\
module a2
  implicit none
contains
  function farr(x, n) result(r)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8) :: r(n)
    r = x*x + sin(x)
  end function farr
  subroutine head(x, y, n)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(out) :: y(n+1)
    real(8) :: c(n+2)
    integer :: i
    c = 1
    do i = 1, 2
      c(2:n+1) = farr(c(1:n)*x, n)
    end do
    y(2:n+1) = farr(x, n)
    y(1) = sum(c)
    y(2:n+1) = y(2:n+1) * c(3:n+2)
  end subroutine head
end module a2
"""

IN_EXPRESSION = """\
module a3
  implicit none
contains
  function farr(x) result(r)
    real(8), intent(in) :: x(3)
    real(8) :: r(3)
    r = x*x + sin(x)
  end function farr
  subroutine head(x, y)
    real(8), intent(in) :: x(3)
    real(8), intent(out) :: y(3)
    y = 2*farr(x) + x
  end subroutine head
end module a3
"""


@pytest.mark.gfortran
def test_array_result_assigned_to_sections(tmp_path: Path) -> None:
    src = tmp_path / "a2.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x", of="y", head="head", sizes={"n": 4}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_array_result_inside_an_expression_is_refused(tmp_path: Path, mode: str) -> None:
    src = tmp_path / "a3.f90"
    src.write_text(IN_EXPRESSION)
    with pytest.raises(FortranADError) as err:
        api.check(src, wrt="x", of="y", head="head", modes=(mode,))
    assert str(err.value).startswith(f"{src}:12:"), str(err.value)
    assert "farr" in str(err.value) and "array result" in str(err.value)
