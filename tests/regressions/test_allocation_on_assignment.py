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


RESHAPED = """\
module sh
  implicit none
contains
  subroutine head(n, a, cost)
    integer, intent(in) :: n
    real(8), intent(in) :: a(n)
    real(8), intent(out) :: cost
    real(8), allocatable :: w(:)
    w = a*2
    cost = sum(w*w)
    w = a(2:n)*3
    cost = cost + sum(w)
  end subroutine head
end module sh
"""


@pytest.mark.gfortran
def test_a_shape_change_on_assignment_stops_loudly(tmp_path: Path) -> None:
    """Reallocation to another shape is not reproduced: the derivative program stops with
    the line instead of running over the old bounds."""
    src = tmp_path / "reshaped.f90"
    src.write_text(RESHAPED)
    report = api.check(src, wrt="a", of="cost", head="head", sizes={"n": 5}, modes=("reverse",))
    assert not report.ok
    assert "reshaped.f90:11: w reshaped by assignment (not supported)" in report.error
