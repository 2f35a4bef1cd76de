"""Regression: a SELECT CASE (or IF) whose only backward content is an ALLOCATE/DEALLOCATE
(a local pointer allocated and freed in one arm) inside a loop with EXIT. The backward sweep
re-evaluates the selector, so what it reads (``i``, the counter of the loop EXIT turned into
a DO WHILE) must be restored; the needed analysis closes over the control of constructs with
backward content, but its test for backward content knew assignments and calls only, not the
re-allocation and deallocation the adjoint emits for ALLOCATE/DEALLOCATE. Generation stopped
with the internal error "re-evaluates a condition reading i, which it does not restore" (the
invariant of ad/core/needed.py; found by the fuzzer's ``allocatable`` feature). Now
ALLOCATE/DEALLOCATE and opaque statements writing needed names count as backward content."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp), pointer :: pa(:)
    integer :: i, j
    cost = sum(x)
    y = y*x
    do i = 2, n - 1
    end do
    do i = 3, n - 2
      if (mod(i, 4) == 0) exit
      do j = 2, n - 1
      end do
      select case (mod(i, 3))
        case (0)
          allocate(pa(n))
          deallocate(pa)
      end select
    end do
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("extra", [{}, {"gradient_only": True}])
def test_select_with_only_an_allocation_in_a_loop_with_exit(tmp_path: Path, extra: dict) -> None:
    src = tmp_path / "sel.f90"
    src.write_text(SOURCE)
    modes = ("reverse",) if extra else ("reverse", "forward")
    report = api.check(src, wrt="x", of="y,cost", head="head", sizes={"n": 9}, modes=modes, **extra)
    assert report.ok, report.table()
