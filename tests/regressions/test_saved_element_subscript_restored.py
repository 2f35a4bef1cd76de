"""Regression (found by scripts/fuzz.py, batch of seeds 7045-7049): the subscript of an element
that the forward sweep saves before overwriting it must be restored too.

``v`` is passive but needed (it appears in the coefficient of ``w = x/(1 + v**2)``), so
``v(k) = 3.0_dp`` pushes v(k) and the backward sweep pops into v(k). ``k`` is needed by
nothing else, so its later overwrite ``k = 1`` is not undone: the pop writes v(1), v(n) keeps
3.0 and the adjoint of ``w = x/(1 + v**2)`` uses it: wrong gradient. (Found through a DO WHILE
counter ``m = m + 1; y(n + 1 - m) = ...`` in a callee whose y is passive but needed.)
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
  subroutine head(n, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: cost
    real(dp) :: v(n), w(n)
    integer :: k, m
    v = 1.0_dp
    w = x/(1.0_dp + v**2)
    k = n
    v(k) = 3.0_dp
    k = 1
    m = 0
    do while (m < 2)
      m = m + 1
      v(m) = 2.0_dp
    end do
    cost = sum(w) + v(1)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_pop_goes_back_to_the_element_that_was_pushed(tmp_path: Path) -> None:
    src = tmp_path / "subscript.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x", of="cost", head="head", sizes={"n": 5}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
