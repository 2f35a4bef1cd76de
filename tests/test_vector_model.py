"""The cost model's view of gfortran's vectoriser (checkpoint/vector.py) and the trips of the
backward loop of a DO WHILE (costs.while_counters)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fortran_ad.ad.core.generate import Plan
from fortran_ad.ad.core.transforms import plan_checkpoints
from fortran_ad.checkpoint import costs, vector
from fortran_ad.driver import Options, load
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import walk_stmts

LOOPS = """\
module v
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  real(dp) function f(x)
    real(dp), intent(in) :: x
    f = 2*x
  end function f
  subroutine loops(n, a, b, c, s)
    integer, intent(in) :: n
    real(dp), intent(inout) :: a(n), b(n), c(n, n), s
    real(dp) :: t
    integer :: i, k
    do i = 1, n  ! axpy: yes
      a(i) = 0.5_dp*b(i) + a(i)
    end do
    do i = 1, n  ! private scalar, sqrt, max, merge: yes
      t = sqrt(b(i))
      a(i) = max(t, merge(1.0_dp, t, b(i) > 0))
    end do
    do i = 2, n  ! stencil reading an array it does not write: yes
      c(i, 1) = b(i - 1) - b(i)
    end do
    do i = 1, n  ! sum into a scalar: no
      s = s + a(i)
    end do
    do i = 2, n  ! recurrence through an element: no
      a(i) = a(i - 1)*b(i)
    end do
    do i = 1, n  ! an element the index does not select: no
      c(1, 2) = c(1, 2) + a(i)
    end do
    do i = 1, n  ! libm: no
      a(i) = exp(b(i))
    end do
    do i = 1, n  ! real power: no
      a(i) = b(i)**1.5_dp
    end do
    do i = 1, n  ! integer power: yes
      a(i) = b(i)**2
    end do
    do i = 1, n  ! user function: no
      a(i) = f(b(i))
    end do
    do i = 1, n  ! an index the iteration computes (a gather): no
      k = mod(i, n) + 1
      a(i) = b(k)*b(i)
    end do
    do i = 1, n  ! a branch: no
      if (b(i) > 0) a(i) = b(i)
    end do
  end subroutine loops
end module v
"""

WHILE = """\
module w
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine run(n, nt, dt, q, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(in) :: dt
    real(dp), intent(inout) :: q(n)
    real(dp), intent(out) :: cost
    real(dp) :: time, t_end
    integer :: i
    t_end = real(nt, dp)*dt
    time = 0.0_dp
    do while (time < t_end - 0.5_dp*dt)
      do i = 2, n
        q(i) = q(i) - 0.1_dp*sin(q(i - 1))
      end do
      time = time + dt
    end do
    cost = sum(q)
  end subroutine run
end module w
"""


def _routine(src: Path, text: str, name: str) -> ir.Routine:
    src.write_text(text)
    head = "loops" if name == "loops" else "run"
    opts = Options(sources=(str(src),), mode="reverse", head=head, wrt=("a",) if head ==
                   "loops" else ("q",), of=("s",) if head == "loops" else ("cost",))  # fmt: skip
    return Plan(load([str(src)]), opts).program.routines[name].routine


def test_loops_classified_as_gfortran_vectorises_them(tmp_path: Path) -> None:
    body = _routine(tmp_path / "v.f90", LOOPS, "loops").body
    text = LOOPS.splitlines()
    seen = 0
    for s in walk_stmts(body):
        if isinstance(s, ir.Do):
            expected = text[s.loc.line - 1].rstrip().endswith("yes")
            assert vector.vectorises(s, {"f"}) is expected, text[s.loc.line - 1]
            seen += 1
    assert seen == 12
    # the sum into a scalar, marked `!$omp simd reduction` as ad/rewrites/simd.py marks backward
    # loops
    summed = [s for s in body if isinstance(s, ir.Do)][3]
    assert not vector.vectorises(summed)
    assert vector.vectorises(replace(summed, directives=("!$omp simd reduction(+: s)",)))


def test_a_vectorised_loop_costs_its_flops_over_the_speedup(tmp_path: Path, monkeypatch) -> None:
    body = _routine(tmp_path / "v.f90", LOOPS, "loops").body
    loops = [s for s in body if isinstance(s, ir.Do)]
    axpy, summed = loops[0], loops[3]
    assert not vector.vectorises(summed)
    sizes = {"n": 1000}
    monkeypatch.setattr(vector, "VECTOR_SPEEDUP", 1.0)
    scalar = costs.flops((axpy,), sizes, lambda name: 0.0)
    chain = costs.flops((summed,), sizes, lambda name: 0.0)
    monkeypatch.setattr(vector, "VECTOR_SPEEDUP", 2.5)
    assert costs.flops((axpy,), sizes, lambda name: 0.0) == pytest.approx(scalar / 2.5)
    assert costs.flops((summed,), sizes, lambda name: 0.0) == pytest.approx(chain)
    sizes_short = {"n": vector.MIN_TRIPS - 1}  # short loops: no speed-up
    monkeypatch.setattr(vector, "VECTOR_SPEEDUP", 1.0)
    short = costs.flops((axpy,), sizes_short, lambda name: 0.0)
    monkeypatch.setattr(vector, "VECTOR_SPEEDUP", 2.5)
    assert costs.flops((axpy,), sizes_short, lambda name: 0.0) == pytest.approx(short)


def _work(src: Path, nt: int) -> float:
    opts = Options(sources=(str(src),), mode="reverse", head="run", wrt=("q",), of=("cost",),
                   sizes={"n": 1000, "nt": nt, "dt": 0.01}, checkpoint="store-all")  # fmt: skip
    plan = Plan(load([str(src)]), opts)
    plan_checkpoints(plan)
    return plan.adjoint_counts[0]


def test_the_backward_loop_of_a_do_while_runs_its_trips(tmp_path: Path) -> None:
    # the backward sweep counts `do fad_iter1 = 1, fad_count1`: as many trips as the DO WHILE
    # (not the default trip count of an unknown bound), so the work grows with nt
    src = tmp_path / "w.f90"
    src.write_text(WHILE)
    w1, w10 = _work(src, 200), _work(src, 2000)
    assert w10 / w1 == pytest.approx(10.0, rel=0.01)
    body = _routine(src, WHILE, "run").body
    loop = next(s for s in body if isinstance(s, ir.DoWhile))
    counted = ir.DoWhile(loop.cond, (ir.Assign(ir.Name("fad_count1"), ir.BinOp(
        "+", ir.Name("fad_count1"), ir.Literal("1", "integer"))), *loop.body))  # fmt: skip
    env = costs.as_env({"nt": 300, "dt": 0.01, "t_end": 3.0, "time": 0.0})
    assert costs.while_counters((counted,), env) == {"fad_count1": pytest.approx(300)}
