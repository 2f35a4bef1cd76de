"""Distinct components of one derived-type variable passed to two dummies of a call
(``call upd(s%u, s%v, s%h)``, SENA's update kernels on the model state) do not alias: the
adjoint call passes ``sb%u``, ``sb%v``, ``sb%h`` directly. A whole-array buffer per component
(allocated, zeroed, added back and freed around every call) made SENA's time-step adjoint
copy three extra state-sized arrays per kernel call. The same component twice (``s%u(1:4)``,
``s%u(2:5)``) and a component with its object still get buffers (ad/constructs/aliasing.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli

SOURCE = """\
module m
  implicit none
  type st
    real(8), allocatable :: u(:), v(:), h(:)
  end type st
contains
  subroutine upd(u, v, h, r)
    real(8), intent(inout) :: u(:), v(:), h(:)
    real(8), intent(inout) :: r
    r = r + sum(u*v) + sum(h*h*u)
    u = 0.5d0*u + v*h
    v = v*v
  end subroutine upd
  subroutine pair(x, y, r)
    real(8), intent(in) :: x(4), y(4)
    real(8), intent(inout) :: r
    r = r + sum(x*y)
  end subroutine pair
  subroutine head(a, cost)
    real(8), intent(in) :: a(6)
    real(8), intent(out) :: cost
    type(st) :: s
    s%u = a
    s%v = a*a
    s%h = sin(a)
    cost = 0.0d0
    call upd(s%u, s%v, s%h, cost)
    call pair(s%u(1:4), s%u(2:5), cost)
    cost = cost + sum(s%u) + sum(s%v*s%h)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("calls", ["joint", "split"])
def test_distinct_components_passed_together(tmp_path: Path, calls: str) -> None:
    src = tmp_path / "comps.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="a", of="cost", head="head", modes=("reverse", "forward"), calls=calls
    )
    assert report.ok, report.table()


def test_only_overlapping_components_get_buffers(tmp_path: Path) -> None:
    src = tmp_path / "comps.f90"
    src.write_text(SOURCE)
    args = [str(src), "--head", "head", "--wrt", "a", "--of", "cost", "--calls", "split"]
    assert cli.main([*args, "-o", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "comps_b.f90").read_text()
    assert re.search(r"call upd_bwd\(s%u, sb%u, s%v, sb%v, s%h, sb%h, ", text), text
    overlapping = r"call pair_bwd\(s%u\(1:4\), sb%u\(1:4\), s%u\(2:5\), fad_aliasb\d+\(2:5\)"
    assert re.search(overlapping, text), text
