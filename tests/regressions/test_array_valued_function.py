"""Regression: functions with an ARRAY result, assigned to an array or a section.

``c(2:n+1) = farr(...)`` was scalarized as if ``farr`` were elemental: the adjoint assigned the
whole result to one element (``c(i) = farr(x)``, a rank error) and the tangent passed one
element ``c(i)`` as the whole result array of ``farr_d`` (memory corruption at run time). The
assignment now stays whole (normalize/scalarize.py), the tangent calls ``farr_d`` once with the
target, the adjoint passes ``farr_b`` a copy of the target's adjoint array.

An array result used inside an expression (``y = 2*farr(x) + x``) was a located error; it is
now assigned to a temporary before the statement (normalize/__init__.py ``_result_temp``):
an automatic array shaped like the declared result at the call when its bounds read only
INTENT(IN) dummies and constants, else an allocatable one allocated before the call and
deallocated after the statement (``g(size(a) - k)`` called with a local ``k``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module a2
  implicit none
contains
  function farr(x, n) result(r)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8) :: r(n)
    r = x*x + sin(x)
  end function farr
  subroutine head(x, y, n)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(out) :: y(n+1)
    real(8) :: c(n+2)
    integer :: i
    c = 1
    do i = 1, 2
      c(2:n+1) = farr(c(1:n)*x, n)
    end do
    y(2:n+1) = farr(x, n)
    y(1) = sum(c)
    y(2:n+1) = y(2:n+1) * c(3:n+2)
  end subroutine head
end module a2
"""

IN_EXPRESSION = """\
module a3
  implicit none
contains
  function farr(x) result(r)
    real(8), intent(in) :: x(3)
    real(8) :: r(3)
    r = x*x + sin(x)
  end function farr
  subroutine head(x, y)
    real(8), intent(in) :: x(3)
    real(8), intent(out) :: y(3)
    y = 2*farr(x) + x
  end subroutine head
end module a3
"""


@pytest.mark.gfortran
def test_array_result_assigned_to_sections(tmp_path: Path) -> None:
    src = tmp_path / "a2.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x", of="y", head="head", sizes={"n": 4}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_array_result_inside_an_expression(tmp_path: Path) -> None:
    src = tmp_path / "a3.f90"
    src.write_text(IN_EXPRESSION)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()


SHAPED = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function f(n, a, c) result(res)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n), c
    real(dp) :: res(n)
    res = c*sin(a) + a**2
  end function f

  function g(a, k)
    real(dp), intent(in) :: a(:)
    integer, intent(in) :: k
    real(dp) :: g(size(a) - k)
    g = a(1 + k:)*a(1:size(a) - k)
  end function g

  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    integer :: i, m
    cost = 0.0_dp
    do i = 1, 2
      y = 0.5_dp*y + 0.1_dp*f(n, x, y(i))
      cost = cost + sum(f(n, y, 0.5_dp)*x)
    end do
    m = n - 1
    y(2:n) = y(2:n) + g(y, 1)
    cost = cost + sum(f(m, y(2:n), x(1))) + sum(g(x, m - 2)**2)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("extra", [{}, {"gradient_only": True}])
def test_array_results_shaped_at_the_call(tmp_path: Path, extra: dict) -> None:
    """Automatic temporaries (``f(n, ...)``: ``n`` an INTENT(IN) dummy), allocatable ones
    (``f(m, ...)``, ``g(x, m - 2)``: a local in the bounds; inside a loop too)."""
    src = tmp_path / "shaped.f90"
    src.write_text(SHAPED)
    modes = ("reverse",) if extra else ("reverse", "forward")
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 6}, modes=modes, **extra
    )
    assert report.ok, report.table()


REALLOCATED = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function f(n, a) result(res)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp) :: res(n)
    res = 0.5_dp*tanh(a) + a**2
  end function f

  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), allocatable :: al(:)
    integer :: i
    do i = 1, n, 2
      al = f(n, x*y)
      y = 0.5_dp*y + 0.25_dp*al
      deallocate(al)
    end do
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_array_result_allocates_its_target(tmp_path: Path) -> None:
    """``al = f(...)`` with ``al`` an unallocated ALLOCATABLE: the assignment allocates it.
    Kept whole, the adjoint never allocated ``al``'s adjoint and its DEALLOCATE stopped the
    program ("DEALLOCATE unallocated 'alb'", fuzz seed 7340082); now the result goes through
    a temporary and the assignment allocates ``al`` like any array expression's."""
    src = tmp_path / "realloc.f90"
    src.write_text(REALLOCATED)
    report = api.check(
        src, wrt="x,y", of="y", head="head", sizes={"n": 5}, modes=("reverse", "forward")
    )
    assert report.ok, report.table()
