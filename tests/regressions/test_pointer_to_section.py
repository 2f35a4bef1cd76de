"""Regression: a pointer associated with a section of a local array, written in a loop.

``p => w(2:n)`` makes ``p(i)`` a second name for ``w(i + 1)``. The loop
``p(i) = p(i)*sin(w(i)) + y(i)`` reads in iteration ``i`` the element iteration ``i - 1``
wrote through ``p``. The block-tape rewrite (ad/rewrites/block_tape.py) decides by names that
no iteration reads what another writes, saved the block ``p(1:size(p))`` before the loop,
restored it before the backward loop and so gave every iteration the values from before the
loop: gradient silently wrong (relative error 0.4-0.9), both reverse modes, for every section
(``w(2:n)``, ``w(n:1:-1)``, ``w(1:n:2)``, ``w(n:1:-2)``). The plain adjoint was right.

The plain adjoint was wrong too in generated programs (``pw => w1(1:n)``, five of 500 fuzzed
programs): the analyses name variables, and two names for one storage break them. Fixed by
making the aliasing disappear: normalize/pointers.py replaces a pointer to a section by the
section (``p(i)`` by ``w(2 + (i - 1))``) when the section's bounds cannot change after the
association; a section pointer it must keep is a located error in reverse mode
(ad/constructs/pointers.py); and no rewrite runs in a routine where a pointer stays a second
name for part of another variable (ad/rewrites/__init__.py ``on``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_cli

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
@pytest.mark.parametrize("section", ["w(2:n)", "w(n:1:-2)", "w(1:n)", "w(:n - 1)"])
def test_pointer_to_a_section_written_in_a_loop(tmp_path: Path, section: str) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE.replace("SECTION", section))
    report = api.check(src, wrt="x,y", of="y,cost", head="head", sizes={"n": 8})
    assert report.ok, report.table()
    assert {"fd_adjoint", "dot_product", "vreverse_fd"} <= {r.test for r in report.rows}


MOVING = """\
module m7
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: cost
    real(dp), target :: w(n)
    real(dp), pointer :: p(:)
    integer :: k, i
    w = x
    k = 2
    p => w(k:n)
    k = 3
    do i = 1, size(p)
      p(i) = p(i)*w(i)
    end do
    cost = sum(w**2)
  end subroutine head
end module m7
"""


def test_section_pointer_with_bounds_changed_later_is_a_located_error(tmp_path: Path) -> None:
    """``k`` changes after ``p => w(k:n)``: the pointer cannot be replaced by the section, and
    the reverse analyses cannot follow two names for one storage."""
    (tmp_path / "m7.f90").write_text(MOVING)
    proc = run_cli(["m7.f90", "--wrt", "x", "--of", "cost", "-o", "out"], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(
        r"^m7\.f90:14:5: error: pointer 'p' stays a second name for a section", proc.stderr, re.M
    ), proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
