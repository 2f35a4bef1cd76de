"""Regression: a condition that inquires an allocation status its arm changes,
``if (.not. allocated(al)) allocate(al)`` (also what allocation on assignment becomes inside a
loop that deallocates ``al`` again). The backward sweep re-evaluated the condition: names
read by inquiry intrinsics did not count as reads, so the arm's ALLOCATE did not count as a
change. After the reverse of the DEALLOCATE the array is allocated again, the condition is
false and the adjoint of the ALLOCATE (deallocating ``al`` and its adjoint) was skipped: the
next backward iteration stopped with "already allocated" (found by the fuzzer's
``allocatable`` feature). Now an IF or SELECT whose condition inquires the status of what its
arms allocate, deallocate or associate records its branch (``RoutineAD.reshapes``,
``ir.walk.status_names``), and a DO's bounds inquiring such a variable are recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, y, cost)
    integer, intent(in) :: n
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp), allocatable :: al(:), b(:)
    integer :: i, j
    cost = 0.0_dp
    do i = 1, 3
      al = sin(y)
      y = 0.5_dp*y + 0.25_dp*al
      deallocate(al)
    end do
    do i = 1, 2
      if (.not. allocated(b)) then
        allocate(b(n))
        b = cos(y)
      else
        b = b*y
      end if
      do j = 1, size(b)
        cost = cost + b(j)*y(j)
      end do
    end do
    deallocate(b)
    cost = cost + sum(y**2)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("extra", [{}, {"gradient_only": True}])
def test_condition_on_allocation_status_changed_by_its_arm(tmp_path: Path, extra: dict) -> None:
    src = tmp_path / "status.f90"
    src.write_text(SOURCE)
    modes = ("reverse",) if extra else ("reverse", "forward")
    report = api.check(src, wrt="y", of="cost", head="head", sizes={"n": 5}, modes=modes, **extra)
    assert report.ok, report.table()
