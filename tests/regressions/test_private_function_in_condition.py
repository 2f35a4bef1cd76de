"""Regression (found by scripts/fuzz.py, seed 7100000): a private function with an active
result referenced where its value carries no derivative, in a DO WHILE condition, and reading
an active module variable.

Two faults. The side-effect invariant (ad/invariants/effects_check.py) counted every function
*reaching* an active module variable as writing one, so reading ``gs`` in ``f`` failed
generation with an internal error. Once past it, emit.py copied private functions into the
tangent module only when their result was passive; the condition's primal reference to ``f``
(its result active elsewhere) found no copy and gfortran stopped with "Function 'f' has no
IMPLICIT type" in m_d.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: gs
  private :: f
contains
  function f(n, a) result(r)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp) :: r
    r = tanh(sum(a)*gs)
  end function f

  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    integer :: m
    gs = 0.5_dp*x(1)
    y = 0.0_dp
    m = 0
    do while (m < 3 .and. f(n, x) > -3.0_dp)
      m = m + 1
      y = y + x(m)*gs
    end do
    y = y + f(n, x)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_private_function_in_a_condition_reading_an_active_module_variable(
    tmp_path: Path,
) -> None:
    src = tmp_path / "cond.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x", of="y", head="head", sizes={"n": 4}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
