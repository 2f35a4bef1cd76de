"""Regression: ``!$omp atomic`` updates in derivative code.

An atomic update of an active array by a passive increment:
``w(ix(i)) = w(ix(i)) + tanh(z(i)**2)/n`` with ``z`` passive: the tangent of the update is
``wd(ix(i)) = wd(ix(i))``, and the tangent loop put ``!$omp atomic`` in front of it, which
gfortran rejects (an atomic needs an operator on the right). A derivative that does not
change is now left out of the tangent (ad/parallel/loops.tangent_stmts). Found by the fuzzer
(feature indirect, seed 7420123).

In the vector adjoint (``--mode vector-reverse``) the forward sweep of a parallel loop saved
the updated element into a buffer between the directive and its update (``!$omp atomic``,
``fad_save1(j) = y(ix(j))``, the update): rejected by gfortran, and a race had it compiled (the
save reads an element other threads update). Records now go before the directive
(ad/parallel/loops.atomic_before_update) and such a loop's forward copy runs serially
(``serial_copy``). Found by the fuzzer (feature indirect, seeds 7422015, 7422020).

The invariant behind both: every atomic directive of generated code is followed by an update
of its target (ad/invariants/atomic_check.py, run on every generated routine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.ad.core import adjoint
from fortran_ad.ad.invariants import atomic_check
from fortran_ad.driver import Options, differentiate
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir

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
    real(dp) :: w(n), z(n)
    integer :: i, ix(n)
    do i = 1, n
      ix(i) = mod(3*i + 1, n) + 1
      z(i) = 0.1_dp*i
    end do
    w = sin(x) + y
    !$omp parallel do
    do i = 1, n
      !$omp atomic
      w(ix(i)) = w(ix(i)) + tanh(z(i)**2)/n
    end do
    !$omp parallel do
    do i = 1, n
      !$omp atomic
      y(ix(i)) = y(ix(i)) + 0.5_dp*w(i)*x(i)
    end do
    cost = sum(w**2) + sum(y)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
def test_atomic_update_with_passive_increment(tmp_path: Path) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x,y", of="y,cost", head="head", sizes={"n": 7}, modes="reverse,forward"
    )
    assert report.ok, report.table()


RECORDED = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(n)
    real(dp), intent(out) :: cost
    integer :: j, m, ix(n)
    do j = 1, n
      ix(j) = mod(5*j + 3, n) + 1
    end do
    cost = 0.0_dp
    do m = 1, 2
      y = 0.75_dp*y
      !$omp parallel do
      do j = 1, n
        !$omp atomic
        y(ix(j)) = y(ix(j)) + tanh(x(j)*x(j))/n
      end do
      cost = cost + sum(sin(y))
    end do
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("modes", ["vector,vector-reverse", "reverse,forward"])
def test_atomic_update_whose_target_is_recorded(tmp_path: Path, modes: str) -> None:
    src = tmp_path / "m.f90"
    src.write_text(RECORDED)
    report = api.check(src, wrt="x,y", of="y,cost", head="head", sizes={"n": 7}, modes=modes)
    assert report.ok, report.table()


def _update(target: ir.Expr) -> ir.Assign:
    return ir.Assign(target, ir.BinOp("+", target, ir.Name("e")))


def test_atomic_directive_must_govern_an_update() -> None:
    elem = ir.ArrayRef("y", (ir.Name("j"),))
    atomic = ir.Comment("!$omp atomic")
    save = ir.Assign(ir.ArrayRef("fad_save1", (ir.Name("j"),)), elem)
    loc = ir.SourceLoc("m.f90", 3, 1)
    atomic_check.check_generated([save, atomic, _update(elem)], loc)  # records before: fine
    for bad in ([atomic, save, _update(elem)], [atomic, ir.Assign(elem, elem)], [atomic]):
        with pytest.raises(FortranADError, match="atomic directive"):
            atomic_check.check_generated(bad, loc)
    loop = ir.Do("j", ir.Name("a"), ir.Name("b"), None, (atomic, save))
    with pytest.raises(FortranADError, match="atomic directive"):  # nested bodies too
        atomic_check.check_generated([loop], loc)


@pytest.mark.gfortran
def test_misplaced_atomic_is_a_located_error(tmp_path: Path, monkeypatch) -> None:
    """With the records placed after the directive again, generation stops (no code
    gfortran rejects)."""
    monkeypatch.setattr(adjoint.parallel, "atomic_before_update", lambda d, f, s: [d, *f])
    src = tmp_path / "m.f90"
    src.write_text(RECORDED)
    with pytest.raises(FortranADError, match="atomic directive"):
        differentiate(
            Options(
                (str(src),), tmp_path / "out", "vector-reverse", ("x", "y"), ("y", "cost"), "head"
            )
        )
