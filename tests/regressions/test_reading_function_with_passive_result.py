"""Regression (found by scripts/fuzz.py, batches 7100425 and 7100440): a function with an
active argument whose result no output depends on, referenced inside a DO WHILE loop under an
IF the backward sweep evaluates again.

``f`` writes nothing; ``y`` does not depend on ``w2``, so the result of ``f`` is passive. The
rule for function references with side effects took every differentiated function as having
some (``activity.differentiated``: it has an active dummy), so the adjoint called ``f_b`` with
no result adjoint inside the re-evaluated IF, whose condition reads the loop counter ``m`` the
adjoint does not restore; the re-evaluated-condition invariant stopped generation. Side
effects are now what a function writes (an active argument or module variable), in one place
(``RoutineAD.active_effects``), and the needed analysis counts such references as backward
content.
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
  function f(n, a, c) result(r)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n), c
    real(dp) :: r
    r = tanh(sum(a)*c)
  end function f

  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp) :: cost
    call inner(n, x, y, cost)
  end subroutine head

  subroutine inner(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: w2(n), t1
    integer :: m
    w2 = 0.5_dp*y
    t1 = 0.0_dp
    m = 0
    do while (m < 3)
      m = m + 1
      if (m > 1 .and. m < n - 1) then
        w2(m + 2) = 0.1_dp*real(m, dp)
      else if (m > 0 .and. m < n - 1) then
        w2(m + 2) = f(n, x, x(n + 1 - m) + 0.1_dp*real(m, dp))
      else
        t1 = t1 + w2(m)
      end if
    end do
    y(1) = y(1)*x(1)
    cost = t1 + sum(w2)
  end subroutine inner
end module m
"""


@pytest.mark.gfortran
def test_function_with_passive_result_and_no_side_effects(tmp_path: Path) -> None:
    src = tmp_path / "reading.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y", head="head", sizes={"n": 6}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
