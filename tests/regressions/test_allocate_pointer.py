"""Regression: ALLOCATE / DEALLOCATE of a POINTER in a reversed routine.

Only ALLOCATABLE variables were handled: the derivative pointer ``pb`` of an allocated local
pointer ``p`` was never allocated (the adjoint indexed an unassociated pointer: "above upper
bound of 0" under -fcheck=all, memory corruption without) and the ``deallocate(p)`` was
dropped from the adjoint. A POINTER given storage by ALLOCATE is now handled like an
allocatable (ad/constructs/allocation.py), inside loops too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli

SOURCE = """\
module pt
  implicit none
contains
  subroutine head(x, y, n)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(out) :: y
    real(8), pointer :: p(:)
    integer :: i, k
    y = 0
    do k = 1, 2
      allocate(p(n))
      do i = 1, n
        p(i) = x(i)*x(i) + k
      end do
      do i = 1, n
        y = y + sin(p(i))*y + p(i)
      end do
      deallocate(p)
    end do
  end subroutine head
end module pt
"""


@pytest.mark.gfortran
def test_allocated_pointer_gets_an_allocated_derivative(tmp_path: Path) -> None:
    src = tmp_path / "pt.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x", of="y", head="head", sizes={"n": 3}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
    out = tmp_path / "out"
    assert cli.main([str(src), "--wrt", "x", "--of", "y", "--head", "head", "-o", str(out)]) == 0
    text = (out / "pt_b.f90").read_text().lower()
    forward = text.split("! ---- backward sweep")[0]
    assert re.search(r"deallocate\(p\)", forward), "the primal DEALLOCATE was dropped"
    assert re.search(r"allocate\(pb\b", text), "the derivative pointer is never allocated"
