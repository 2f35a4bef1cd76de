"""Regression (found by scripts/fuzz.py's differential test, seed 7300097): block_tape's
once-record saved a global ``gs`` once before a loop and restored it once after the reversed
loop, because no adjoint statement of the loop read ``gs``. But a function the loop calls
reads it, and that function's adjoint re-runs its primal in every backward iteration: it ran
on the final ``gs`` instead of the iteration's, and the adjoint of ``x`` was silently wrong
(relative error 6e-6; the plain adjoint was right). A global a call in the loop may read is
now recorded per iteration (ad/rewrites/block_tape.py, ad/core/globals.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.checks.fuzzgen.differential import differential

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: gs
contains
  function f(n, a) result(res)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp) :: res
    res = tanh(0.5_dp*gs + 0.1_dp*a(1))
  end function f

  subroutine head(n, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: cost
    integer :: i
    gs = 1.0_dp
    cost = 0.0_dp
    do i = n - 2, 1, -1
      gs = atan2(0.7_dp*f(n, x), 1.0_dp + (x(i)*x(i + 2))**2)
      cost = cost + x(i + 1)*x(i)
    end do
    cost = cost + gs
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_global_read_by_a_callee_in_a_loop(tmp_path: Path) -> None:
    src = tmp_path / "loop_global.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="cost", head="head", sizes={"n": 7})
    assert report.ok, report.table()
    d = differential(src, "head", ["x"], ["cost"], {"n": 7}, tmp_path / "diff")
    assert d.status == "agree", d.detail
