"""Regression: one variable passed to two differentiated dummies of a call (aliasing Fortran
allows while neither dummy is defined through).

``call hal(x, x, r)`` with two intent(in) array dummies: the adjoint declared a scalar buffer
``fad_aliasb1`` for the second adjoint argument and gfortran rejected the call (rank mismatch);
overlapping sections ``a(1:4)``, ``a(3:6)`` passed the same adjoint array twice to two intent(inout)
dummies. Buffers now take the shape of the whole derivative variable (ad/constructs/aliasing.py).
The in + inout case has the inout dummy unwritten (anything else would not conform).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  type st
    real(8) :: v(6)
    real(8) :: w
  end type st
contains
  subroutine hal(x, y, r)
    real(8), intent(in) :: x(4), y(4)
    real(8), intent(inout) :: r
    r = r + sum(x*y) + x(1)*y(2)**2
  end subroutine hal
  subroutine hs(x, y, r)
    real(8), intent(in) :: x, y
    real(8), intent(inout) :: r
    r = r + x*y*y
  end subroutine hs
  subroutine hio(x, y, r)
    real(8), intent(in) :: x
    real(8), intent(inout) :: y
    real(8), intent(inout) :: r
    r = r + x*sin(y)
  end subroutine hio
  subroutine head(a, cost)
    real(8), intent(in) :: a(6)
    real(8), intent(out) :: cost
    real(8) :: x(4), z(6)
    type(st) :: s
    integer :: k
    x = a(1:4)*a(3:6)
    z = a*a
    s%v = a
    s%w = a(2)*a(3)
    cost = 0.0d0
    call hal(x, x, cost)
    call hal(a(2:5), a(2:5), cost)
    call hal(a(1:4), a(3:6), cost)
    call hal(s%v(1:4), s%v(2:5), cost)
    call hs(a(2), a(2), cost)
    k = 3
    call hs(z(k), z(k), cost)
    call hs(s%w, s%w, cost)
    call hio(z(4), z(4), cost)
    call hio(x(2), x(2), cost)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("calls", ["joint", "split"])
def test_aliased_actual_arguments(tmp_path: Path, calls: str) -> None:
    src = tmp_path / "alias.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="a", of="cost", head="head", modes=("reverse", "forward"), calls=calls
    )
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_aliased_actual_arguments_vector_modes(tmp_path: Path) -> None:
    src = tmp_path / "alias.f90"
    # (vector modes refuse sections of derived-type components: ad/constructs/derived.py)
    src.write_text(SOURCE.replace("    call hal(s%v(1:4), s%v(2:5), cost)\n", ""))
    report = api.check(src, wrt="a", of="cost", head="head", modes=("vector", "vector-reverse"))
    assert report.ok, report.table()
