"""Regression: a backward loop run forwards again must leave its restored scalars as the plain
backward loop leaves them (ad/rewrites/forwards.py).

MITgcm-style input counters: ``cnt`` indexes the inputs and is bumped in the inner loop. The
backward ``m`` loop restores ``cnt`` from the tape in each iteration, so its iterations are
independent and it ran forwards (``do m = 1, 2``): afterwards ``cnt`` held the value of
``m = 2`` instead of ``m = 1``, and the adjoint of ``p(i) = 2*x(cnt)`` updated the wrong
element of ``xb`` (relative error up to 7.5, silently).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module counters
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(x, n, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(2*n + 2)
    real(dp), intent(out) :: y
    real(dp) :: p(n), t(n, 2)
    integer :: i, m, cnt
    cnt = 1
    do i = 1, n
      p(i) = 2*x(cnt)
      do m = 1, 2
        t(i, m) = 3*x(cnt)BODY
        cnt = cnt + 1
      end do
    end do
    y = sum(p*p) + sum(t*t*x(1))
  end subroutine head
end module counters
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("checkpoint", ["ilp", "store-all", "recompute-all"])
@pytest.mark.parametrize("body", ["", "*x(cnt)"])
def test_counter_read_after_inner_loop(tmp_path: Path, checkpoint: str, body: str) -> None:
    src = tmp_path / "counters.f90"
    src.write_text(SOURCE.replace("BODY", body))
    report = api.check(
        src, wrt="x", of="y", head="head", sizes={"n": 2}, modes=("reverse",),
        checkpoint=checkpoint,
    )  # fmt: skip
    assert report.ok, report.table()


REDUCTION = """\
module counters
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, x, w, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(2*n + 2), w
    real(dp), intent(out) :: y
    real(dp) :: p(n), t(n, 4)
    integer :: i, m, cnt
    cnt = 1
    do i = 1, n
      p(i) = 2*x(cnt)*x(cnt)
      do m = 1, 4
        t(i, m) = w*x(m)*cnt
        cnt = cnt + 1
      end do
      cnt = cnt - 3
    end do
    y = sum(p*p) + sum(t*t)
  end subroutine head
end module counters
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("checkpoint", ["ilp", "store-all"])
def test_counter_in_simd_reduction_loop(tmp_path: Path, checkpoint: str) -> None:
    """The sibling through the simd directive: the backward m loop is a reduction into wb
    with ``lastprivate(cnt)``, run forwards; ``cnt`` must be the m = 1 value afterwards."""
    src = tmp_path / "counters.f90"
    src.write_text(REDUCTION)
    report = api.check(
        src, wrt="x,w", of="y", head="head", sizes={"n": 3}, modes=("reverse",),
        checkpoint=checkpoint,
    )  # fmt: skip
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_counter_loop_with_runtime_bounds(tmp_path: Path) -> None:
    """Inner loop bounds known only at run time: the restore after it is guarded."""
    src = tmp_path / "counters.f90"
    text = SOURCE.replace("BODY", "").replace("do m = 1, 2", "do m = 1, n")
    src.write_text(text.replace("t(n, 2)", "t(n, n)").replace("2*n + 2", "n*n + 2"))
    report = api.check(src, wrt="x", of="y", head="head", sizes={"n": 3}, modes=("reverse",))
    assert report.ok, report.table()
