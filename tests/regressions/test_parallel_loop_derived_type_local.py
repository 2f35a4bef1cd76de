"""Regression: a parallel loop reading components of a derived-type local.

``!$omp parallel do`` over ``i`` reads ``st%v(i)``, ``st%v(i - 1)`` and ``st%s``: its adjoint
increments ``stb%v`` at elements other iterations touch and ``stb%s`` in every iteration. The
race analysis (ad/parallel/races.py) grouped them under ``stb``, a scalar, and listed it in
``reduction(+:stb)``: gfortran rejects a reduction of a derived type. Components now get no
reduction or buffer of their own: such an adjoint loop runs serially, with a comment saying
why. Found by the fuzzer (feature derived-type, seeds 7710008 and 7710058).

A DO CONCURRENT loop assigning ``st%v(j)`` made ``st`` a private scalar of the adjoint loop
(``private(j, stb)``, the private ``stb%v`` allocated and zeroed in every iteration): the
increments never reached the shared derivative, a silently wrong gradient (fuzz seeds 7415141,
7415587). A derived-type scalar is now one object the iterations share."""

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
  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    type(state_t) :: st
    integer :: i
    allocate(st%v(n))
    st%v = 0.5_dp*x
    st%s = 0.3_dp*sum(x)
    !$omp parallel do
    do i = 2, n
      y(i) = y(i) + st%v(i)*st%v(i - 1) + st%s*sin(x(i))
    end do
    !$omp end parallel do
    cost = sum(y**2) + st%s
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_parallel_loop_over_components_of_a_derived_type_local(tmp_path: Path) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 8}, modes="reverse,forward"
    )
    assert report.ok, report.table()
    assert {"fd_adjoint", "dot_product", "fd_tangent"} <= {r.test for r in report.rows}


CONCURRENT = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type :: st_t
    real(dp), allocatable :: v(:)
  end type st_t
contains
  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    type(st_t) :: st
    integer :: i, j
    allocate(st%v(n))
    st%v = 0.5_dp*tanh(y)
    do i = 1, 2
      do concurrent (j = 2:n - 1)
        st%v(j) = 0.76_dp*(0.5_dp*y(j - 1) + 0.3_dp*y(j)*x(j) + 0.5_dp*y(j + 1))
      end do
    end do
    cost = sum(st%v) + y(1)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_do_concurrent_writing_a_component_of_a_derived_type_local(tmp_path: Path) -> None:
    src = tmp_path / "m.f90"
    src.write_text(CONCURRENT)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 7}, modes="reverse,forward"
    )
    assert report.ok, report.table()
    assert {"fd_adjoint", "dot_product"} <= {r.test for r in report.rows}
