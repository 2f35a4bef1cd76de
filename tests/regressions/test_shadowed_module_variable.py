"""Regression: a module variable a callee changes, shadowed in the caller by a local.

``bump`` overwrites module variable ``g``; ``head`` has a local of its own called ``g``.
The joint adjoint (the vector reverse mode) saves around each call what the callee changes
and the backward sweep needs, by the name the caller knows it under. The save fell through:
``g`` was taken by the local, so nothing was pushed, ``bump_bv`` re-ran its primal with the
module ``g`` of the end of the forward sweep, and the gradient was silently wrong (relative
error 0.69). In the vector tangent the head sized the derivative of an array ``g`` with
``lbound(g, 1)`` of the scalar local (gfortran rejected it).

Fixed by one rule (ad/core/writes.py ``global_name``): the derivative routine reaches a global
it does not see under its own name through a USE it adds, renamed when the name is taken
(``use st, only: fad_g1 => g``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SCALAR = """\
module st
  implicit none
  real(8) :: g = 1.0d0
contains
  subroutine setg(v)
    real(8), intent(in) :: v
    g = v
  end subroutine setg

  subroutine bump(x)
    real(8), intent(inout) :: x
    x = x*g
    g = x
  end subroutine bump
end module st

module drv
  use st, only: bump, setg
  implicit none
contains
  subroutine head(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    real(8) :: g, t
    call setg(1.5d0)
    g = 2.0d0
    t = x
    call bump(t)
    y = sin(t)*g
    call bump(t)
    y = y + t*t
  end subroutine head
end module drv
"""

ARRAY = """\
module st
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: g(3) = 1.0_dp
contains
  subroutine setg(v)
    real(dp), intent(in) :: v
    g = v
  end subroutine setg

  subroutine bump(x)
    real(dp), intent(inout) :: x(3)
    x = x*g
    g = 0.5_dp*x
  end subroutine bump

  subroutine inner(x, s)
    real(dp), intent(inout) :: x(3)
    real(dp), intent(inout) :: s
    real(dp) :: g
    g = sum(x)
    call bump(x)
    s = s + g*x(1)
    call bump(x)
    s = s + sin(x(2))
  end subroutine inner
end module st

module drv
  use st, only: dp, bump, inner, setg, gm => g
  implicit none
contains
  subroutine head(x, y)
    real(dp), intent(in) :: x(3)
    real(dp), intent(out) :: y
    real(dp) :: g, t(3)
    call setg(1.5_dp)
    g = 2.0_dp
    t = x
    call bump(t)
    y = sin(t(1))*g
    call inner(t, y)
    call bump(t)
    y = y + sum(t*t)
  end subroutine head
end module drv
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("source", [SCALAR, ARRAY], ids=["scalar", "array"])
def test_module_variable_shadowed_by_a_local_of_the_caller(tmp_path: Path, source: str) -> None:
    src = tmp_path / "m.f90"
    src.write_text(source)
    report = api.check(src, wrt="x", of="y", head="head")
    assert report.ok, report.table()
    assert {"vreverse_fd", "vector_dot", "fd_adjoint"} <= {r.test for r in report.rows}
