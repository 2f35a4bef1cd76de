"""Regression: a local POINTER associated with a whole local TARGET array, read and written
beside it (``p => w``; ``w(i) = p(k)**2``; ``p(2:n) = p(2:n)*w(1:n - 1)``). The analyses name
variables: with two names for one storage, the adjoint did not save ``w(i)`` for the reads of
``p(k)`` (to-be-recorded saw no later read of ``w``), and the section assignment was
scalarized into an ascending loop as if ``p`` and ``w`` did not overlap, in the derivative
code's copy of the primal too: 24 of 30 check rows wrong in both modes (found by the fuzzer's
``pointer-alias`` feature, seed 7406021). Now a local pointer associated once, at the top
level, with a whole variable is replaced by that variable (normalize/pointers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: y(n)
    real(dp), intent(out) :: cost
    real(dp), target :: w(n)
    real(dp), pointer :: p(:)
    integer :: i, k
    w = 0.5_dp*y
    p => w
    k = 1
    do i = 1, n
      w(i) = 0.5_dp*(p(k)*p(k)) + y(i)
      k = mod(k, n) + 1
    end do
    p(2:n) = p(2:n)*w(1:n - 1)
    cost = sum(w) + sum(p**2)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("modes", "extra"), [(("reverse", "forward"), {}), (("reverse",), {"gradient_only": True})]
)
def test_pointer_to_a_whole_local_array(tmp_path: Path, modes: tuple, extra: dict) -> None:
    src = tmp_path / "alias.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="y", of="cost", head="head", sizes={"n": 5}, modes=modes, **extra)
    assert report.ok, report.table()
