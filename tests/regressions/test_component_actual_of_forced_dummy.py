"""Regression: an allocatable component passed where the callee's dummy is forced active.

``relax(n, a, b)`` gets the head's output ``y`` (``--of y``: forced active) as ``b`` at one
call, so its adjoint takes a derivative for ``b`` at every call; at the other the actual is
``st%v`` of a derived-type local. The per-component activity (analysis/components.py) asked
only whether ``b`` is *varied* in the callee (it is not: nothing from ``--wrt x`` reaches it),
found ``st%v`` passive, and the derivative object's ``stb%v`` was never allocated, while the
call passed it: "Allocatable actual argument 'stb' is not allocated" at run time. A
component passed to a dummy that is varied *or forced* now carries a derivative. Found by the
fuzzer (features derived-type, side-effect-function; seeds 20260121-20260125)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type :: state_t
    real(dp) :: s
    real(dp), allocatable :: v(:)
  end type state_t
contains
  subroutine relax(n, a, b)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp), intent(inout) :: b(n)
    b(1) = 0.5_dp*b(1) + 0.25_dp*tanh(sum(a))
  end subroutine relax

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    type(state_t) :: st
    allocate(st%v(n))
    st%v = 0.5_dp*y
    call relax(n, y, st%v)
    call relax(n, st%v, y)
    cost = sum(st%v) + sum(x**2)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_component_actual_of_a_forced_dummy(tmp_path: Path) -> None:
    path = tmp_path / "m.f90"
    path.write_text(SOURCE)
    report = api.check(
        path, wrt="x", of="y,cost", head="head", sizes={"n": 5}, modes="reverse,forward"
    )
    assert report.ok, report.table()
