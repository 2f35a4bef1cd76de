"""Regression: derivatives of a module's procedures that read PRIVATE components of its types.

The derivative routines lived in ``<module>_b`` / ``_d``, which only USEs the primal module and
cannot see PRIVATE components (``this%acc``, ``this%mass`` below); generation stopped with a located
error (and before that, wrote code gfortran rejects). Now such a derivative module is a copy of the
primal module with the derivative routines added (ad/constructs/module_copies.py), modules that use
it are copied too, and what a copy still cannot see is refused with its location
(ad/invariants/private_access.py, also checked on the emitted statements).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.errors import FortranADError

PARTICLE = """\
module particle_mod
  implicit none
  private
  public :: particle_t, kinetic
  integer, parameter :: dp = kind(1.0d0)
  type :: particle_t
    private
    real(dp) :: mass = 1.0_dp
    real(dp) :: acc(3) = 0.0_dp
  contains
    procedure :: init
    procedure :: accumulate
    procedure :: total
  end type particle_t
contains
  subroutine init(this, m)
    class(particle_t), intent(inout) :: this
    real(dp), intent(in) :: m
    this%mass = m
    this%acc = 0.0_dp
  end subroutine init

  subroutine accumulate(this, v)
    class(particle_t), intent(inout) :: this
    real(dp), intent(in) :: v(3)
    integer :: i
    do i = 1, 3
      this%acc(i) = this%acc(i) + this%mass*v(i)**2
    end do
  end subroutine accumulate

  subroutine total(this, e)
    class(particle_t), intent(in) :: this
    real(dp), intent(out) :: e
    e = 0.5_dp*sum(this%acc)*sin(this%mass)
  end subroutine total

  subroutine kinetic(v, m, e)
    real(dp), intent(in) :: v(3), m
    real(dp), intent(out) :: e
    type(particle_t) :: p
    call p%init(m)
    call p%accumulate(v)
    call p%accumulate(2.0_dp*v)
    call p%total(e)
  end subroutine kinetic
end module particle_mod
"""

# a module using the copied one is copied too (its derivative module uses particle_mod_b)
TOP = """\
module top_mod
  use particle_mod, only: kinetic
  implicit none
  integer, parameter :: wp = kind(1.0d0)
contains
  subroutine run(v, m, e)
    real(wp), intent(in) :: v(3), m
    real(wp), intent(out) :: e
    call kinetic(v, m, e)
    e = e*m
  end subroutine run
end module top_mod
"""

# derivative objects of particle_t outside particle_mod: their components cannot be reached
OUTSIDE = """\
module outside_mod
  use particle_mod, only: particle_t
  implicit none
contains
  subroutine run(v, e)
    real(kind(1.0d0)), intent(in) :: v(3)
    real(kind(1.0d0)), intent(out) :: e
    type(particle_t) :: p
    call p%init(2.0d0)
    call p%accumulate(v)
    call p%total(e)
  end subroutine run
end module outside_mod
"""


@pytest.mark.gfortran
def test_private_components_in_type_bound_procedures(tmp_path: Path) -> None:
    (tmp_path / "particle.f90").write_text(PARTICLE)
    report = api.check(
        [tmp_path / "particle.f90"], wrt="v,m", of="e", head="kinetic",
        modes=("reverse", "forward"),
    )  # fmt: skip
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_module_using_a_copied_module_is_copied(tmp_path: Path) -> None:
    (tmp_path / "particle.f90").write_text(PARTICLE)
    (tmp_path / "top.f90").write_text(TOP)
    report = api.check(
        [tmp_path / "particle.f90", tmp_path / "top.f90"], wrt="v,m", of="e", head="run",
        modes=("reverse", "forward"),
    )  # fmt: skip
    assert report.ok, report.table()


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_private_component_outside_its_module_is_refused(tmp_path: Path, mode: str) -> None:
    (tmp_path / "particle.f90").write_text(PARTICLE)
    (tmp_path / "outside.f90").write_text(OUTSIDE)
    with pytest.raises(FortranADError) as err:
        api.check(
            [tmp_path / "particle.f90", tmp_path / "outside.f90"], wrt="v", of="e",
            head="run", modes=(mode,),
        )  # fmt: skip
    text = str(err.value)
    assert "outside.f90:" in text and "is PRIVATE" in text and "particle_t" in text


def test_copied_module_with_a_variable_is_refused(tmp_path: Path) -> None:
    source = PARTICLE.replace(
        "  type :: particle_t\n", "  integer :: ncalls = 0\n  type :: particle_t\n"
    )
    (tmp_path / "particle.f90").write_text(source)
    with pytest.raises(FortranADError) as err:
        api.check([tmp_path / "particle.f90"], wrt="v,m", of="e", head="kinetic")
    text = str(err.value)
    assert "particle.f90:6:" in text and "'ncalls'" in text and "particle_mod_b" in text
