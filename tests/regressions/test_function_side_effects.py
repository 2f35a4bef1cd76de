"""Regression (found by scripts/fuzz.py, seed 300018 with module state and index arguments):
a function reference whose callee writes an active module variable.

* Passive result (``w = 2*h2(n, y)`` where ``h2 = 0`` but ``h2`` calls ``h1``, which sets
  ``gs`` from ``y``): both modes called the primal ``h2`` and lost ``d gs / d y`` (the tangent
  and the adjoint agreed with each other, 20 % off the finite differences). The derivative
  code now calls the derivative routine as for a CALL statement (ad/core/common.py
  ``side_effects``), and the tangent invariant (ad/invariants/effects_check.py) refuses any primal
  reference left to a function with active side effects.
* Active result that also reads the module variable it changes (``h2 = a(1)*gs``): the
  adjoint called ``h2_b`` with ``gs`` holding its value after the call; the adjoint now
  snapshots what the function writes as for a CALL (ad/core/adjoint.py ``_function_snapshot``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SRC = """\
module se_mod
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: gs
contains
  subroutine h1(n, a)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    integer :: m
    m = 0
    do while (m < 3)
      m = m + 1
      gs = UPDATE
    end do
  end subroutine h1
  function h2(n, a)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n)
    real(dp) :: h2
    call h1(n, a)
    h2 = RESULT
  end function h2
  subroutine head(n, y, cost)
    integer, intent(in) :: n
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    real(dp) :: w
    gs = 0.5_dp
    w = 2.0_dp*h2(n, y)
    cost = w + gs + 0.1_dp*sum(y**2)
  end subroutine head
end module se_mod
"""
SET = "0.33_dp*sum(0.25_dp*a(2:n))"
UPDATE = "0.5_dp*gs + 0.33_dp*sum(0.25_dp*a(2:n))"


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("update", "result"),
    [(SET, "0.0_dp"), (UPDATE, "0.0_dp"), (UPDATE, "a(1)*gs")],
    ids=["passive-result", "passive-result-reads-state", "active-result-reads-state"],
)
def test_function_writing_module_state(tmp_path: Path, update: str, result: str) -> None:
    path = tmp_path / "se.f90"
    path.write_text(SRC.replace("UPDATE", update).replace("RESULT", result))
    report = api.check(
        [path], wrt="y", of="cost", head="head", sizes={"n": 8},
        modes=("reverse", "forward", "vector", "vector-reverse"),
    )  # fmt: skip
    assert report.ok, report.table()


def test_invariant_refuses_a_primal_reference_with_active_side_effects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the tangent's routing, the invariant fails generation at the reference."""
    from fortran_ad.ad.core.common import RoutineAD
    from fortran_ad.ad.core.generate import generate
    from fortran_ad.driver import Options, load
    from fortran_ad.errors import FortranADError

    path = tmp_path / "se.f90"
    path.write_text(SRC.replace("UPDATE", SET).replace("RESULT", "0.0_dp"))
    monkeypatch.setattr(RoutineAD, "side_effects", lambda self, s: None)
    opts = Options(sources=(str(path),), mode="forward", wrt=("y",), of=("cost",), head="head")
    with pytest.raises(FortranADError, match="references function 'h2' as primal") as err:
        generate(load([str(path)]), opts)
    assert err.value.loc is not None and err.value.loc.line == 29
