"""Regression: the adjoint records a derived-type object whose type has PRIVATE components,
outside the type's module (SENA's ``state`` in ``shallow_water_model_b``).

The tape saved objects component by component, naming ``c%t``, a PRIVATE component, where
Fortran forbids it (gfortran rejected the code; since the check on emitted statements, a
located error). Now such objects are recorded whole, by intrinsic assignment onto a stack of
their type (ad/constructs/object_stacks.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

CELL = """\
module cell_mod
  implicit none
  private
  public :: cell_t
  integer, parameter, public :: dp = kind(1.0d0)
  type :: cell_t
    real(dp), public :: q(4) = 0.0_dp
    real(dp), private :: t = 1.0_dp
  contains
    procedure :: tick
  end type cell_t
contains
  subroutine tick(this)
    class(cell_t), intent(inout) :: this
    integer :: i
    do i = 1, 4
      this%q(i) = sin(this%q(i))*this%t + 0.5_dp*this%q(i)
    end do
    this%t = this%t + 0.25_dp
  end subroutine tick
end module cell_mod
"""

TOP = """\
module run_mod
  use cell_mod, only: cell_t, dp
  implicit none
contains
  subroutine run(x, y)
    real(dp), intent(in) :: x(4)
    real(dp), intent(out) :: y
    type(cell_t) :: c
    integer :: k
    c%q = x
    do k = 1, 3
      call c%tick()
    end do
    y = sum(c%q**2)
  end subroutine run
end module run_mod
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("how", [{"calls": "joint"}, {"checkpoint": "recompute-all"}])
def test_objects_with_private_components_are_recorded_whole(tmp_path: Path, how: dict) -> None:
    """Joint calls snapshot ``c`` before each ``tick``; recompute-all snapshots it too."""
    (tmp_path / "cell.f90").write_text(CELL)
    (tmp_path / "run.f90").write_text(TOP)
    report = api.check(
        [tmp_path / "cell.f90", tmp_path / "run.f90"], wrt="x", of="y", head="run",
        modes=("reverse", "forward"), **how,
    )  # fmt: skip
    assert report.ok, report.table()
