"""Regression: ``x = expr`` with ``x`` an unallocated ALLOCATABLE array allocates ``x`` with
``expr``'s shape (F2003 intrinsic assignment). The assignment became loops over
``lbound(x)..ubound(x)`` of the unallocated ``x``: the derivative programs indexed an
unallocated array (a crash at best, else no iterations and a wrong derivative). Now the loops
follow ``if (.not. allocated(x)) allocate(x, mold=expr)`` (normalize/scalarize.py), for
local arrays (inside a loop too: allocated in its first iteration only), components of a
local derived-type variable, in both modes and with --gradient-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module r
  implicit none
  type st
    real(8), allocatable :: u(:), v(:)
  end type st
contains
  subroutine head(a, cost)
    real(8), intent(in) :: a(6)
    real(8), intent(out) :: cost
    real(8), allocatable :: w(:), z(:)
    type(st) :: s
    integer :: k
    cost = 0.0d0
    do k = 1, 3
      w = a*k
      cost = cost + sum(w*w)
    end do
    z = sin(w(2:5))
    s%u = a(2:6)
    s%v = cos(s%u)
    cost = cost + sum(z*a(1:4)) + sum(s%u*s%v)
  end subroutine head
end module r
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("extra", [{}, {"gradient_only": True}])
def test_assignment_allocates_its_target(tmp_path: Path, extra: dict) -> None:
    src = tmp_path / "realloc.f90"
    src.write_text(SOURCE)
    modes = ("reverse",) if extra else ("reverse", "forward")
    report = api.check(src, wrt="a", of="cost", head="head", modes=modes, **extra)
    assert report.ok, report.table()
