"""Loop snapshots without write-before-read variables, the recurrence latency term and the
tape's byte rate beyond the last-level cache (issue 5, cost model calibration)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.checkpoint import costs, latency
from fortran_ad.checkpoint.ilp import Candidate, options
from fortran_ad.ir import nodes as ir

SOURCE = """\
module fresh_m
  implicit none
contains
  subroutine tend(n, h, du)
    integer, intent(in) :: n
    real(8), intent(in) :: h(n)
    real(8), intent(out) :: du(n)
    integer :: i
    do i = 1, n
      du(i) = -0.1d0*h(i)*h(max(i - 1, 1))
    end do
  end subroutine tend

  subroutine run(n, nt, h, cost)
    integer, intent(in) :: n, nt
    real(8), intent(inout) :: h(n)
    real(8), intent(out) :: cost
    real(8) :: du(n), flux(0:n), s, acc
    integer :: i, step
    acc = 0.0d0
    do step = 1, nt
      call tend(n, h, du)
      flux(0) = 0.0d0
      do i = 1, n
        flux(i) = 0.05d0*h(i)**2
      end do
      s = 0.0d0
      do i = 1, n
        s = s + flux(i)
        h(i) = h(i) + 0.01d0*du(i) - 0.01d0*(flux(i) - flux(i - 1)) + 1.0d-4*s*acc
      end do
      acc = 0.5d0*acc + 0.1d0*h(1)
    end do
    cost = sum(h**2) + acc
  end subroutine run
end module fresh_m
"""


def _snapshot(text: str) -> set[str]:
    """Variables the checkpointed time loop pushes at the start of a segment."""
    block = re.search(r"if \(mod\(step - 1, \d+\) == 0\) then(.*?)end if", text, re.S)
    assert block is not None, text
    return set(re.findall(r"call fad_push\((\w+)\)", block.group(1)))


def _recompute_all_snapshot(src: Path) -> set[str]:
    """Names the recompute-all adjoint of ``src`` (head ``run``, wrt ``h``) snapshots."""
    out = src.parent / "out"
    args = [sys.executable, "-m", "fortran_ad", str(src), "--wrt", "h", "--of", "cost",
            "--head", "run", "--checkpoint", "recompute-all", "-o", str(out)]  # fmt: skip
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return _snapshot((out / f"{src.stem}_b.f90").read_text())


@pytest.mark.gfortran
def test_snapshot_leaves_out_write_before_read_variables(tmp_path: Path) -> None:
    src = tmp_path / "fresh.f90"
    src.write_text(SOURCE)
    saved = _recompute_all_snapshot(src)
    # h and acc are read before written in an iteration; du (intent(out) of tend), flux
    # (pieces 0 and 1..n of its declared 0:n) and s are written first in every iteration
    assert {"h", "acc"} <= saved
    assert not saved & {"du", "flux", "s"}, saved
    report = api.check(
        [src], wrt="h", of="cost", head="run", sizes={"n": 7, "nt": 40},
        ranges={"h": (0.5, 1.5)}, modes=("reverse",), directions=1, checkpoint="recompute-all",
    )  # fmt: skip
    assert report.ok, report.table()


def _do(body: list[ir.Stmt], var: str = "k") -> ir.Do:
    return ir.Do(var, ir.Literal("2", "integer"), ir.Name("n"), None, tuple(body))


def _ref(name: str, sub: ir.Expr) -> ir.ArrayRef:
    return ir.ArrayRef(name, (sub,))


K = ir.Name("k")
KM1 = ir.BinOp("-", K, ir.Literal("1", "integer"))


def _flops(loop: ir.Do) -> float:
    return costs.flops((loop,), {"n": 1001}, lambda name: 0.0)


def test_latency_makes_a_recurrence_dearer_than_the_same_independent_loop() -> None:
    # s = c(k)/s + a(k) carries s through a division; y(k) = c(k)/x(k) + a(k) does not
    chain = _do([ir.Assign(ir.Name("s"), ir.BinOp("+", ir.BinOp("/", _ref("c", K), ir.Name("s")),
                                                  _ref("a", K)))])  # fmt: skip
    free = _do([ir.Assign(_ref("y", K), ir.BinOp("+", ir.BinOp("/", _ref("c", K), _ref("x", K)),
                                                 _ref("a", K)))])  # fmt: skip
    assert latency.recurrence(free, lambda n: None) == 0.0
    per = latency.recurrence(chain, lambda n: None)
    assert per == pytest.approx(latency.LATENCY_SECONDS["/"] + latency.LATENCY_SECONDS["+"])
    assert _flops(chain) > _flops(free)


def test_element_recurrences_and_cycles_through_two_scalars(monkeypatch) -> None:
    # x(k) = x(k - 1)*p(k) carries x(k - 1) one iteration; y(k) = x(k - 1)*p(k) does not
    carried = _do([ir.Assign(_ref("x", K), ir.BinOp("*", _ref("x", KM1), _ref("p", K)))])
    other = _do([ir.Assign(_ref("y", K), ir.BinOp("*", _ref("x", KM1), _ref("p", K)))])
    assert latency.recurrence(other, lambda n: None) == 0.0
    assert latency.recurrence(carried, lambda n: None) == pytest.approx(
        latency.LATENCY_SECONDS["*"]
    )
    # the Thomas pivot: gam = c(k - 1)/pivot; pivot = b(k) - a(k)*gam (divide, multiply, add)
    thomas = _do([
        ir.Assign(ir.Name("gam"), ir.BinOp("/", _ref("c", KM1), ir.Name("pivot"))),
        ir.Assign(ir.Name("pivot"),
                  ir.BinOp("-", _ref("b", K), ir.BinOp("*", _ref("a", K), ir.Name("gam")))),
    ])  # fmt: skip
    lat = latency.LATENCY_SECONDS
    assert latency.recurrence(thomas, lambda n: None) == pytest.approx(
        lat["/"] + lat["*"] + lat["+"]
    )
    before = _flops(thomas)
    monkeypatch.setitem(latency.LATENCY_SECONDS, "/", 100 * lat["/"])
    assert _flops(thomas) > before  # a slower divide on the chain costs more


def test_bytes_of_a_tape_beyond_the_cache_cost_the_memory_rate(monkeypatch) -> None:
    monkeypatch.setattr(costs, "BYTE_COST", 1.0)
    monkeypatch.setattr(costs, "BYTE_COST_MEMORY", 4.0)
    monkeypatch.setattr(costs, "LLC_BYTES", 1 << 20)
    assert costs.byte_cost(1 << 10) == 1.0
    assert 1.0 < costs.byte_cost(4 << 20) < costs.byte_cost(64 << 20) < 4.0
    # the ILP prices a loop's stored tape by its size: beyond the cache, more per byte
    small = options(Candidate("a", "r", "m.f90:1", 100, 100.0, 100.0, 1.0))[0]
    big = options(Candidate("b", "r", "m.f90:1", 100, 1e6, 100.0, 1.0))[0]
    assert big.time / (100 * 1e6) > small.time / (100 * 100.0)


def test_the_cache_size_is_read_from_the_machine() -> None:
    assert costs.llc_bytes() >= 1 << 16
    assert costs._bytes("32768K") == 32 << 20 and costs._bytes("32 MiB") == 32 << 20


ARMS = """\
module arms_m
  implicit none
contains
  subroutine run(n, nt, h, c, out, cost)
    integer, intent(in) :: n, nt
    real(8), intent(inout) :: h(n)
    real(8), intent(in) :: c(n)
    real(8), intent(out) :: out(n, nt), cost
    real(8) :: flx(n), part(n), g(n), d
    integer :: i, step
    part = 0.0d0
    g = 0.0d0
    do step = 1, nt
      do i = 1, n
        d = h(i) - 0.3d0*c(i)
        if (c(i) > 1.0d0) then
          flx(i) = 0.5d0*d*h(i)
          part(i) = d
        else
          flx(i) = 0.1d0*d
          g(i) = g(i) + 0.01d0*d*d
        end if
      end do
      do i = 1, n
        h(i) = h(i) - 0.1d0*flx(i) + 0.01d0*g(i)
        out(i, step) = h(i)**2 + part(i)
      end do
    end do
    cost = sum(out) + sum(g)
  end subroutine run
end module arms_m
"""


@pytest.mark.gfortran
def test_snapshot_leaves_out_arrays_written_in_every_arm_and_disjoint_outputs(
    tmp_path: Path,
) -> None:
    src = tmp_path / "arms.f90"
    src.write_text(ARMS)
    saved = _recompute_all_snapshot(src)
    # flx(i) is written in both arms of the IF/ELSE for every i before the second nest reads
    # it; out(i, step) is never read (each iteration writes its own column); d is a scalar
    # written first. part and g are written in one arm only and read later: they stay.
    assert {"h", "part", "g"} <= saved, saved
    assert not saved & {"flx", "out", "d"}, saved
    report = api.check(
        [src], wrt="h", of="cost", head="run", sizes={"n": 6, "nt": 12},
        ranges={"h": (0.5, 1.5), "c": (0.5, 1.5)}, modes=("reverse",), directions=1,
        checkpoint="recompute-all",
    )  # fmt: skip
    assert report.ok, report.table()
