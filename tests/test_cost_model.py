"""The static cost model: trip counts and extents it derives from size hints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fortran_ad.ad.emit import _cost_model
from fortran_ad.ad.generate import Plan
from fortran_ad.checkpoint import costs
from fortran_ad.driver import Options, load
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import walk_stmts

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp), parameter :: vmax = 10.0_dp
contains
  subroutine head(n, nt, dt, dz, x, cost)
    integer, intent(in) :: n, nt
    real(dp), intent(in) :: dt, dz
    real(dp), intent(inout) :: x(n, 4)
    real(dp), intent(out) :: cost
    real(dp) :: time, t_end
    integer :: i, j, nsub, k
    nsub = floor(2.0_dp*vmax*dt/dz) + 1
    do k = 1, nsub
      call leaf(x(:, 2))
    end do
    do i = 1, n
      do j = 1, i
        x(j, 1) = x(j, 1)*x(i, 1)
      end do
    end do
    t_end = real(nt, dp)*dt
    time = 0.0_dp
    do while (time < t_end - 0.5_dp*dt)
      x(1, 3) = sin(x(1, 3))
      time = time + dt
    end do
    call inner()
    cost = sum(x)
  contains
    subroutine inner()
      do i = 1, n
        x(i, 4) = x(i, 4)**2
      end do
    end subroutine inner
  end subroutine head
  subroutine leaf(y)
    real(dp), intent(inout) :: y(:)
    integer :: k
    do k = 1, size(y)
      y(k) = y(k)**2
    end do
  end subroutine leaf
end module m
"""


def line(text: str) -> int:
    """Line number of the first source line containing ``text``."""
    return next(k for k, x in enumerate(SOURCE.splitlines(), 1) if text in x)


def _loops(tmp_path: Path, sizes: dict) -> tuple[dict, dict]:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE)
    opts = Options(sources=(str(src),), mode="reverse", head="head", wrt=("x",), of=("cost",),
                   sizes=sizes)  # fmt: skip
    plan = Plan(load([str(src)]), opts)
    envs, _ = _cost_model(plan)
    found: dict[tuple[str, int], float] = {}
    for name, env in envs.items():
        r = plan.program.routines[name].routine
        for s in walk_stmts(r.body):
            if isinstance(s, ir.DoWhile):
                found[(name, s.loc.line)] = costs.while_trips(s, env)
            elif isinstance(s, ir.Do):
                found[(name, s.loc.line)] = costs.mean_trips(s, costs.inside(s, env))
    return found, envs


def test_trip_counts_follow_hints_parameters_and_call_sites(tmp_path: Path) -> None:
    found, envs = _loops(tmp_path, {"n": 40, "nt": 200, "dt": 5.0, "dz": 100.0})
    assert found[("head", line("do k = 1, nsub"))] == 2  # floor(2*10*5/100) + 1, vmax a parameter
    assert envs["head"].values["nsub"] == 2
    assert found[("head", line("do i = 1, n"))] == 40
    assert found[("head", line("do while"))] == 200  # time steps by dt from 0 to nt*dt
    assert found[("leaf", line("size(y)"))] == 40  # size(y) of the section x(:, 2)
    assert found[("inner", line("x(i, 4) =") - 1)] == 40  # n from the host


def test_triangular_loop_work_is_counted_exactly(tmp_path: Path) -> None:
    src = tmp_path / "m.f90"
    src.write_text(SOURCE)
    plan = Plan(load([str(src)]), Options(sources=(str(src),), mode="reverse", head="head",
                wrt=("x",), of=("cost",), sizes={"n": 40}))  # fmt: skip
    envs, _ = _cost_model(plan)
    outer = next(
        s for s in plan.program.routines["head"].routine.body
        if isinstance(s, ir.Do) and s.loc.line == line("do i = 1, n")
    )  # fmt: skip
    work = costs.flops((outer,), envs["head"], lambda name: 0.0)
    assert work == 2 * 40 * 41 / 2  # one multiply + one assignment per (i, j), j <= i


def test_unknown_sizes_fall_back_to_the_defaults(tmp_path: Path) -> None:
    found, _ = _loops(tmp_path, {})
    assert found[("head", line("do i = 1, n"))] == costs.DEFAULT_TRIPS
    assert found[("head", line("do while"))] == costs.WHILE_TRIPS


def test_calibration_file_sets_the_constants_and_defaults_apply_without_it(
    tmp_path: Path, monkeypatch
) -> None:
    data = tmp_path / "calibration.json"
    data.write_text('{"flop_seconds": 2.5e-10, "byte_cost": 12.0}')
    monkeypatch.setattr(costs, "CALIBRATION", data)
    assert costs._calibrated("flop_seconds", 1e-9) == 2.5e-10
    assert costs._calibrated("byte_cost", 0.25) == 12.0
    assert costs._calibrated("weight_exp", 20.0) == 20.0  # missing key: the default
    monkeypatch.setattr(costs, "CALIBRATION", tmp_path / "absent.json")
    assert costs._calibrated("byte_cost", 0.25) == 0.25
    shipped = json.loads(Path(costs.__file__).with_name("calibration.json").read_text())
    assert shipped["byte_seconds"] > 0 and shipped["flop_seconds"] > 0
    assert pytest.approx(shipped["byte_cost"]) == costs.BYTE_COST
