"""Regression: functions with side effects in ELSE IF, SELECT CASE and DO WHILE conditions.

``else if (f(x(1), y) > 0)`` changes ``y`` only when the conditions before it are false.
Normalization hoisted such references out of the first condition of an IF construct only,
so a later one stayed inside the condition and the tangent referenced ``f`` as its primal,
losing the derivative of its side effect (stopped by the side-effect invariant with an
internal error). The construct now nests (``else; if (f(...)) ...``) and the reference is
hoisted in front of the inner IF, inside the ELSE, where it is evaluated exactly when the
original one is (normalize/__init__.py).

The same internal error stopped ``select case (pick(x(1), y))`` and ``do while (pick(x(k), y)
> 2 ...)``: a selector is evaluated once, so its reference is hoisted in front of the
construct; a DO WHILE condition before every iteration, so the loop becomes ``do; if (.not.
(...)) exit; ...`` and the reference is hoisted in front of that IF."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function f(a, b) result(res)
    real(dp), intent(in) :: a
    real(dp), intent(inout) :: b
    real(dp) :: res
    res = a - 0.3_dp
    b = b*a + 0.1_dp
  end function f

  subroutine head(x, y, cost)
    real(dp), intent(in) :: x(2)
    real(dp), intent(inout) :: y
    real(dp), intent(out) :: cost
    cost = 0.0_dp
    if (x(1) > LIMIT) then
      cost = x(2)
    else if (f(x(1), y) > 0.0_dp) then
      cost = cost + x(2)**2
    else if (f(x(2), y) > 0.0_dp) then
      cost = cost - x(1)*y
    end if
    cost = cost + y**2
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("limit", ["5.0_dp", "-5.0_dp"], ids=["else-if", "if"])
def test_side_effect_function_in_else_if(tmp_path: Path, limit: str) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE.replace("LIMIT", limit))
    report = api.check(src, wrt="x,y", of="y,cost", head="head")
    assert report.ok, report.table()
    assert {"fd_tangent", "fd_adjoint", "vector_dot"} <= {r.test for r in report.rows}


SELECT_WHILE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: g = 0.0_dp
contains
  integer function pick(a, b)
    real(dp), intent(in) :: a
    real(dp), intent(inout) :: b
    b = b*cos(a) + 0.2_dp
    g = g + a*b
    pick = 1 + mod(int(abs(a)*10.0_dp), 3)
  end function pick

  subroutine head(x, y, cost)
    real(dp), intent(in) :: x(3)
    real(dp), intent(inout) :: y
    real(dp), intent(out) :: cost
    integer :: k
    g = 0.1_dp
    cost = 0.0_dp
    select case (pick(x(1), y))
    case (1)
      cost = x(2)**2
    case (2)
      cost = sin(x(3))*y
    case default
      cost = y*y
    end select
    do k = 1, 3
      do while (pick(x(k), y) > 1 .and. cost < 4.0_dp)
        cost = cost + 1.0_dp + x(k)*y
      end do
    end do
    cost = cost + g**2 + y
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_side_effect_function_in_select_case_and_do_while(tmp_path: Path) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SELECT_WHILE)
    report = api.check(src, wrt="x,y", of="y,cost", head="head")
    assert report.ok, report.table()
    assert {"fd_tangent", "fd_adjoint", "vector_dot"} <= {r.test for r in report.rows}
