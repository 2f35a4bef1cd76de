"""Regression: the state around a function reference made only for its side effects.

``if (f(n - 1, w(2), y(2)) > 0) ...``: ``f`` changes its INOUT argument (here the head's
output ``y`` from element 2 on, by sequence association) and reads ``w``, which a later
statement overwrites. Its result is passive, so the adjoint differentiates the reference as
a call (ad/constructs/function_effects.py). Two analyses did not see it as one:

* ``writes`` (ad/core/writes.py) listed only assignment targets and CALL actuals, so ``y``
  did not count as written: the head's adjoint did not put back its final value and
  returned the entry ``y`` (primal outputs after the adjoint off by 13 % in the fuzzed
  program, 2.7 % in this one);
* the to-be-recorded analysis (ad/core/tbr.py) took the reference's reads for none, so the
  later overwrite of ``w`` was not saved and the adjoint of ``f`` re-ran on the new ``w``
  (gradient off by 1.7e-5 there, 3e-3 here).

Found by the fuzzer (seed 7410488, feature side-effect-function)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function f(n, a, b) result(res)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp), intent(inout) :: b(n)
    real(dp) :: res
    res = tanh(sum(a))
    b(1) = 0.5_dp*b(1) + 0.25_dp*tanh(a(1)*b(1))
  end function f

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: w(n)
    cost = 0.0_dp
    w = 0.5_dp*tanh(x)
    if (f(n - 1, w(2), y(2)) > 0.0_dp) cost = cost + 0.25_dp
    w(2:n - 1) = 0.5_dp*w(2:n - 1) + 0.25_dp*x(1:n - 2)**2
    cost = cost + sum(w**2) + y(1) + sum(y**2)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_state_around_a_reference_made_for_its_side_effects(tmp_path: Path) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x,y", of="y,cost", head="head", sizes={"n": 7})
    assert report.ok, report.table()
    assert {"adjoint_primal", "fd_adjoint", "vector_dot"} <= {r.test for r in report.rows}


PASSIVE = """\
module p
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function g(n, a, b) result(res)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp), intent(inout) :: b(n)
    real(dp) :: res
    res = sum(a)
    b = 0.5_dp*b + 0.25_dp*a
  end function g

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: w(n), v(n)
    w = 0.5_dp*tanh(y)
    v = 0.5_dp*tanh(x)
    cost = sum(v**2/(1.0_dp + w**2))
    if (g(n, y, w) > 0.0_dp) cost = cost + 0.25_dp
    cost = cost + sum(w*v)
  end subroutine head
end module p
"""


@pytest.mark.gfortran
def test_passive_reference_that_changes_a_needed_variable(tmp_path: Path) -> None:
    """With ``--wrt x`` the reference is passive (``y`` and ``w`` carry no derivatives) but
    changes ``w``, whose value before the reference the adjoint of the line above reads: it
    is saved around the reference like the actuals of a passive CALL. Before, the adjoint
    read the changed ``w`` (gradient off by 1e-2; fuzz seed 7410587)."""
    src = tmp_path / "p.f90"
    src.write_text(PASSIVE)
    report = api.check(src, wrt="x", of="y,cost", head="head", sizes={"n": 6})
    assert report.ok, report.table()
