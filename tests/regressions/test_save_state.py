"""Regression: SAVE and DATA locals, the state a routine keeps from one call to the next.

A derivative routine is a separate procedure with its own copy of the primal's SAVE locals.

* History-dependent state (``acc = 0.5*acc + ...``, a counter, reset through a passive call
  of the primal) cannot be shared: the derivative copy was never reset, and both modes were
  silently wrong (the tangent even changed the primal output). Now a located error names the
  variable and the statement (analysis/persistent.py).
* A table filled on the first call (``if (first) ... first = .false.``) from constants is the
  same in both copies, but the adjoint popped the table back to its pre-fill contents at the
  end of the backward sweep while ``first`` stayed false: every later call read garbage
  (relative error 1.7). Now the SAVE locals a backward sweep restores are put back to the
  values the primal leaves (``fad_final``, ad/rewrites/callee_outputs.py).
* A SAVE local of the head that is written before it is read: the vector modes declared its
  derivative ``save :: totd(nbdirs)``, an automatic object gfortran rejects with SAVE.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from fortran_ad import api

HEAD = """\
  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    real(dp), save :: tot
    real(dp) :: t
    integer :: i
    call prepare()
    tot = 0
    do i = 1, n
      call step(x(i), t)
      tot = tot + t*x(n + 1 - i)
    end do
    y = tot
  end subroutine head
end module m
"""

ACCUMULATOR = (
    """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine prepare()
    real(dp) :: t
    call step(0.0_dp, t, .true.)
  end subroutine prepare

  subroutine step(v, a, reset)
    real(dp), intent(in) :: v
    real(dp), intent(out) :: a
    logical, intent(in), optional :: reset
    real(dp), save :: acc = 0.0_dp
    if (present(reset)) then
      acc = 0.0_dp
    else
      acc = 0.5_dp*acc + sin(v)
    end if
    a = acc
  end subroutine step

"""
    + HEAD
)

TABLE = (
    """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine prepare()
  end subroutine prepare

  subroutine step(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    logical, save :: first = .true.
    real(dp), save :: tab(8)
    real(dp) :: w
    integer :: i, ncall
    data ncall /0/
    if (first) then
      do i = 1, 8
        tab(i) = exp(-0.1_dp*i)
      end do
      first = .false.
    end if
    ncall = ncall + 1  ! a counter nothing reads: it changes no derivative
    w = x*x
    y = tab(3)*w + tab(5)*sin(x)
  end subroutine step

"""
    + HEAD
)


COUNTER = (
    ACCUMULATOR.replace(
        "    real(dp), save :: acc = 0.0_dp\n",
        "    real(dp), save :: acc = 0.0_dp\n    integer, save :: k\n",
    )
    .replace("      acc = 0.0_dp\n", "      acc = 0.0_dp\n      k = 0\n")
    .replace("      acc = 0.5_dp*acc + sin(v)\n", "      k = k + 1\n      acc = v*k\n")
)


@pytest.mark.parametrize(
    ("source", "where", "var"), [(ACCUMULATOR, "18:7", "acc"), (COUNTER, "20:7", "k")]
)
def test_history_dependent_save_is_located(
    tmp_path: Path, source: str, where: str, var: str
) -> None:
    """An accumulator and a call counter (``k = k + 1``: read from the past call)."""
    src = tmp_path / "acc.f90"
    src.write_text(source)
    out = tmp_path / "out"
    proc = run_cli([str(src), "--head", "head", "--wrt", "x", "--of", "y", "-o", str(out)])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{src}:{where}: error: '{var}' keeps its value from one call of 'step'" in proc.stderr
    assert f"make '{var}' a module variable or an argument" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.gfortran
def test_table_filled_on_first_call(tmp_path: Path) -> None:
    src = tmp_path / "table.f90"
    src.write_text(TABLE)
    report = api.check(src, wrt="x", of="y", head="head", sizes={"n": 7})
    assert report.ok, report.table()
    assert {"fd_adjoint", "fd_tangent", "vector_dot"} <= {r.test for r in report.rows}
