"""Regression: a module variable changed by a callee's callee, which the middle routine does
not mention. ``head`` calls ``h2``, ``h2`` calls ``h1``, ``h1`` reads and overwrites ``gs``.
The adjoint of ``h1`` re-runs ``h1``'s primal inside ``h2``'s backward sweep, so ``h2`` must
save ``gs`` around the call and restore it before ``h1_b``. ``gs`` was among the written
names of the call only when ``h2`` mentioned it; otherwise ``h1_b`` re-ran on the value ``h1``
had left: a silently wrong adjoint (relative error 1e-2; found by the fuzzer in vector-reverse
mode, seed 7404045, wrong in every reverse mode). Now the globals a call changes that a
backward sweep needs are needed in the caller whether it mentions them or not
(``RoutineAD.globals_written_by_call``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: gs
contains
  subroutine h1(n, a, b)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp), intent(inout) :: b(n)
    real(dp) :: w(n)
    integer :: i
    w = 0.5_dp*b
    do i = 2, n - 1
      b(i) = 0.25_dp*w(i - 1) + 0.25_dp*w(i) + 0.25_dp*w(i + 1)
    end do
    gs = 0.05_dp*(a(2) + w(2)*b(2))*(atan(gs) - w(2)/0.25_dp)
  end subroutine h1

  subroutine h2(n, a, b)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp), intent(inout) :: b(n)
    real(dp) :: w(n)
    w = 0.5_dp*a
    call h1(n, b, w)
    b(2:n) = 0.5_dp*b(1)*a(2:n) + a(1:n-1)
  end subroutine h2

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    gs = 0.5_dp
    call h2(n, x, y)
    cost = sum(y) + gs
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("modes", "extra"),
    [
        (("reverse", "forward"), {}),
        (("reverse",), {"gradient_only": True}),
        (("vector-reverse",), {}),
    ],
)
def test_global_changed_by_a_callee_of_a_callee(tmp_path: Path, modes: tuple, extra: dict) -> None:
    src = tmp_path / "nested.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 7}, modes=modes, **extra
    )
    assert report.ok, report.table()
