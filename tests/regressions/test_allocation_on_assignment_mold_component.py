"""Regression: allocation on assignment whose value reads a component, inside a loop.

``al = 0.5_dp/(1.5_dp + sin(st%s - w))`` with ``al`` an unallocated local allocatable is
lowered to ``if (.not. allocated(al)) allocate(al, mold=<value>)``. The reverse transform
took every ALLOCATE whose text holds a ``%`` for one of components (ad/constructs/
derived_alloc.py), even when the ``%`` was in the MOLD= expression: no backward DEALLOCATE was
emitted, and the next backward iteration's re-allocation for the adjoint of
``deallocate(al)`` stopped the program ("Attempting to allocate already allocated variable").
Now only allocate-objects that are components take that path; a statement mixing both is a
located error. Found by the fuzzer (seed 253, features derived-type and allocatable)."""

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
  end type state_t
contains
  subroutine head(n, x, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: cost
    real(dp), allocatable :: al(:)
    type(state_t) :: st
    integer :: i
    cost = 0.0_dp
    st%s = 0.3_dp*x(1)
    do i = 1, n
      if (mod(i, 2) == 1) then
        al = 0.5_dp/(1.5_dp + sin(st%s - x))
        cost = cost + 0.1_dp*sum(tanh(al))
        deallocate(al)
      end if
      st%s = st%s + 0.1_dp*x(i)
    end do
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_allocation_on_assignment_with_a_component_in_its_value(tmp_path: Path) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="cost", head="head", sizes={"n": 5})
    assert report.ok, report.table()
    assert {"fd_adjoint", "dot_product", "fd_tangent"} <= {r.test for r in report.rows}
