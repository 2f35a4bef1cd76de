"""Regression: a function with a side effect on a module variable (through a subroutine it
calls) referenced in an IF condition, ``if (f(n, x) < 3.3) ...``. Function references with
side effects are differentiated as statements ``t = f(...)`` (ad/constructs/function_effects),
but only assignments and calls had theirs hoisted; in a condition the reference stayed, and
the invariant that no derivative routine calls a primal function with side effects stopped
generation ("references function 'f' as primal", fuzz seed 7406169). Now the first condition
of an IF is hoisted like an assignment's value when it calls such a function (it is evaluated
once, before the IF, as the standard evaluates it); ELSE IF conditions are not (their
functions run only when the earlier conditions are false)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: gs
contains
  subroutine bump(n, a)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    gs = 0.5_dp*gs + 0.25_dp*a(1)**2
  end subroutine bump

  function f(n, a)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp) :: f
    call bump(n, a)
    f = tanh(a(2))
  end function f

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    gs = 0.5_dp
    if (f(n, x) < 3.3_dp) then
      y = y*gs
    else
      y = 2*y
    end if
    cost = sum(y) + gs
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_function_with_side_effects_in_a_condition(tmp_path: Path) -> None:
    src = tmp_path / "cond.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 4}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
