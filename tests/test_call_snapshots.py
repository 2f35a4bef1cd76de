"""What a caller keeps for the adjoint of a call is what the callee reads and changes, not
every actual it passes (SENA's time step: the kernel's output arrays and the model state).

* A dummy the callee never reads (a kernel's output array ``unew``, INTENT(INOUT) but only
  assigned) carries no value into the call: the caller neither keeps it alive nor saves it
  around the call (analysis/reads.py ``value_reads``, ad/core/needed.py ``_call_reads``).
* A whole derived-type actual whose dummy the callee changes only in some components (the
  clock of ``advance``) is saved component by component (``s%clock``), not as an object
  (``written_components``; PRIVATE components and pointer components keep the whole object).
* A loop that records elements of an array component (``s%u(i) = unew(i)``) fills a buffer
  and pushes it once (ad/rewrites/block_tape.py) instead of one push per element.

Each is checked against finite differences and the dot-product test, and the generated code
shows the narrower records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli

SOURCE = """\
module snap
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type model_t
    real(dp), allocatable :: u(:)
    real(dp) :: clock = 0.0_dp
    real(dp) :: visc = 0.1_dp
  end type model_t
contains
  subroutine kernel(n, u, unew, visc)
    integer, intent(in) :: n
    real(dp), intent(in) :: u(n), visc
    real(dp), intent(inout) :: unew(n)
    integer :: i
    do i = 2, n - 1
      unew(i) = u(i) + visc*(u(i - 1) - 2*u(i) + u(i + 1)) - 0.1_dp*u(i)**2
    end do
    unew(1) = u(1)
    unew(n) = u(n)
  end subroutine kernel

  subroutine advance(s, dt)
    type(model_t), intent(inout) :: s
    real(dp), intent(in) :: dt
    s%clock = s%clock + dt
  end subroutine advance

  subroutine run(n, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: cost
    type(model_t) :: s
    real(dp) :: unew(n)
    integer :: i, step
    s%u = x
    unew = 0.0_dp
    do step = 1, 3
      call kernel(n, s%u, unew, s%visc)
      do i = 1, n
        s%u(i) = unew(i)
      end do
      call advance(s, 0.5_dp)
    end do
    cost = sum(s%u**2) + s%clock
  end subroutine run
end module snap
"""


@pytest.mark.gfortran
def test_narrow_snapshots_give_the_same_derivatives(tmp_path: Path) -> None:
    src = tmp_path / "snap.f90"
    src.write_text(SOURCE)
    modes = ("reverse", "forward")  # (vector modes refuse whole array components)
    report = api.check(src, wrt="x", of="cost", head="run", sizes={"n": 8}, modes=modes)
    assert report.ok, report.table()


def test_what_the_adjoint_records(tmp_path: Path) -> None:
    src = tmp_path / "snap.f90"
    src.write_text(SOURCE)
    args = [str(src), "--head", "run", "--wrt", "x", "--of", "cost", "-o", str(tmp_path / "o")]
    assert cli.main(args) == 0
    text = (tmp_path / "o" / "snap_b.f90").read_text()
    run = text[text.index("subroutine run_b") :]
    assert not re.search(r"fad_push\(unew\)", run), run  # only assigned by the kernel
    assert "call fad_push(s%clock)" in run  # what advance changes, not the object
    assert "fad_opush" not in run
    assert re.search(r"fad_save\d+\(i\) = s%u\(i\)", run), run  # a buffer per loop run
    assert "call fad_push(s%u(i))" not in run
