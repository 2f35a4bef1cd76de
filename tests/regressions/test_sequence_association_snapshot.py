"""Regression (found by scripts/fuzz.py): passing an array element to an explicit-shape array
dummy (sequence association, ``call scale(n - 1, y(2), c)``) lets the callee write y(2:n).

The adjoint saves and restores only the element ``y(2)`` around the call, so the backward sweep
of the statements before the call reads y(3:n) as the call left them: wrong gradients (the
tangent is right, so the dot-product test fails too).
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
  subroutine scale(n, b, c)
    integer, intent(in) :: n
    real(dp), intent(inout) :: b(n)
    real(dp), intent(in) :: c
    integer :: i
    do i = 1, n
      b(i) = b(i)*c
    end do
  end subroutine scale

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    integer :: i
    cost = 0.0_dp
    do i = 1, n
      cost = cost + y(i)*x(i)
    end do
    call scale(n - 1, y(2), x(1))
    cost = cost + sum(y**2)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_call_with_element_for_array_dummy_restores_the_whole_sequence(tmp_path: Path) -> None:
    src = tmp_path / "seq.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 6}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
