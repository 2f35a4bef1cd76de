"""Regression: derivative routines of EXTERNAL procedures with assumed-shape or OPTIONAL
dummies are called through an explicit interface.

``inner`` is external (no module) with an assumed-shape and an optional dummy; ``head`` calls
it through an interface block. The generated ``head_b`` / ``head_d`` called ``inner_b``,
``inner_fwd``/``inner_bwd`` (split calls) and ``inner_d`` with no interface: gfortran
rejected them ("Explicit interface required ... assumed-shape argument"). The emitter now
writes an interface block for each such routine into its callers (ad/constructs/interfaces.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
subroutine inner(a, y, w)
  implicit none
  real(8), intent(in) :: a(:)
  real(8), intent(inout) :: y
  real(8), intent(in), optional :: w
  y = y*a(1) + sin(a(2))
  if (present(w)) y = y*w
end subroutine inner

subroutine head(x, y)
  implicit none
  interface
    subroutine inner(a, y, w)
      real(8), intent(in) :: a(:)
      real(8), intent(inout) :: y
      real(8), intent(in), optional :: w
    end subroutine inner
  end interface
  real(8), intent(in) :: x(2)
  real(8), intent(out) :: y
  integer :: i
  y = 1
  do i = 1, 3
    call inner(x, y)
    call inner(x(2:1:-1), y, x(1))
    y = y*x(1)
  end do
end subroutine head
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("calls", ["joint", "split"])
def test_external_callee_with_assumed_shape_and_optional(tmp_path: Path, calls: str) -> None:
    src = tmp_path / "ext.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"), calls=calls)
    assert report.ok, report.table()
