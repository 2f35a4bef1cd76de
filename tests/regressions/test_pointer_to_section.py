"""Regression: a pointer associated with a section of a local array, written in a loop.

``p => w(2:n)`` makes ``p(i)`` a second name for ``w(i + 1)``. The loop
``p(i) = p(i)*sin(w(i)) + y(i)`` reads in iteration ``i`` the element iteration ``i - 1``
wrote through ``p``. The block-tape rewrite (ad/rewrites/block_tape.py) decides by names that
no iteration reads what another writes, saved the block ``p(1:size(p))`` before the loop,
restored it before the backward loop and so gave every iteration the values from before the
loop: gradient silently wrong (relative error 0.4-0.9), both reverse modes, for every section
(``w(2:n)``, ``w(n:1:-1)``, ``w(1:n:2)``, ``w(n:1:-2)``). The plain adjoint was right.

Fixed by an invariant on every rewrite (ad/rewrites/__init__.py ``on``): none runs in a routine
where a pointer stays a second name for part of another variable (whole-variable pointers are
replaced by their target, normalize/pointers.py, and keep the rewrites)."""

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
    real(dp), target :: w(n)
    real(dp), pointer :: p(:)
    integer :: i
    w = 0.5_dp*x
    p => SECTION
    do i = 1, size(p)
      p(i) = p(i)*sin(w(i)) + y(i)
    end do
    do i = 2, size(p)
      y(i) = y(i) + w(i)**2 - p(i - 1)*w(i - 1)
    end do
    p = p*p + 1.0_dp
    cost = sum(w**2) + sum(y)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("section", ["w(2:n)", "w(n:1:-2)"])
def test_pointer_to_a_section_written_in_a_loop(tmp_path: Path, section: str) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE.replace("SECTION", section))
    report = api.check(src, wrt="x,y", of="y,cost", head="head", sizes={"n": 8})
    assert report.ok, report.table()
    assert {"fd_adjoint", "dot_product", "vreverse_fd"} <= {r.test for r in report.rows}
