"""The static cost model: trip counts and extents it derives from size hints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fortran_ad.ad.core.generate import Plan
from fortran_ad.ad.core.transforms import cost_model
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
    envs, _ = cost_model(plan)
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
    envs, _ = cost_model(plan)
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


def test_tape_traffic_counts_pushes_and_bytes() -> None:
    # a scalar integer pushed in every one of n iterations, then the whole real(8) array once
    k = ir.Symbol("k", ir.TypeSpec("integer"))
    x = ir.Symbol("x", ir.TypeSpec("real", "8"), (ir.Dim("explicit", None, ir.Name("n")),))
    loop = ir.Do("i", ir.Literal("1", "integer"), ir.Name("n"), None,
                 (ir.CallStmt("fad_push", (ir.Name("k"),)),))  # fmt: skip
    body = (loop, ir.CallStmt("fad_push", (ir.Name("x"),)))
    lookup = {"k": k, "x": x}.get
    assert costs.tape_traffic(body, lookup, {"n": 10}) == (11, 10 * 4 + 10 * 8)
    assert costs.tape_bytes(body, lookup, {"n": 10}) == 120


def test_traffic_costs_a_call_per_push_and_a_copy_per_byte(monkeypatch) -> None:
    monkeypatch.setattr(costs, "PUSH_COST", 10.0)
    monkeypatch.setattr(costs, "BYTE_COST", 0.5)
    assert costs.traffic_cost(3, 800) == 3 * 10.0 + 800 * 0.5
    # 1000 scalar pushes cost far more than one push of the same 8000 bytes
    assert costs.traffic_cost(1000, 8000) > 2 * costs.traffic_cost(1, 8000)


def test_option_times_by_hand(monkeypatch) -> None:
    """Extra time of each way to reverse a loop of n = 8 iterations that runs 3 times per run
    of the head: C = 50 flops per iteration, T = 100 bytes in 2 pushes per recorded
    iteration, S = 1000 bytes in 4 pushes per snapshot; PUSH_COST 10, BYTE_COST 1."""
    from fortran_ad.checkpoint.ilp import Candidate, options

    monkeypatch.setattr(costs, "PUSH_COST", 10.0)
    monkeypatch.setattr(costs, "BYTE_COST", 1.0)
    c = Candidate("L", "r", "m.f90:1", 8, 100.0, 1000.0, 50.0, runs=3.0, pushes_per_iter=2.0,
                  snapshot_pushes=4.0)  # fmt: skip
    got = {o.label: o.time for o in options(c)}
    tape = 8 * (2 * 10 + 100)  # 960: the recorded iterations' traffic, in every option
    snap = 4 * 10 + 1000  # 1040: one snapshot pushed and popped
    assert got["store"] == 3 * tape
    # one primal run of the loop, snapshots at iterations 1 and 5
    assert got["checkpoint/4"] == 3 * (8 * 50 + tape + 2 * snap)
    # two primal runs; snapshots: 1 at the start, then 4 per segment of 8
    assert got["checkpoint/8/2"] == 3 * (2 * 8 * 50 + tape + (1 + 4) * snap)
    # binomial, 2 slots: the forward sweep's run (8) + advances 4 (to the split at 4), 3+2+1
    # (the last 4 with one slot), 1 (to the split at 1), 2+1 (iterations 1-3 with one slot):
    # 14; snapshots: the one at the start + 14 taken or restored
    assert got["revolve/2"] == 3 * ((8 + 14) * 50 + tape + (1 + 14) * snap)


def test_revolve_counts_by_hand() -> None:
    from fortran_ad.checkpoint.ilp import revolve_counts

    assert revolve_counts(1, 3) == (0, 0)
    assert revolve_counts(4, 0) == (0 + 1 + 2 + 3, 3)  # from the start each time
    assert revolve_counts(3, 1) == (2 + 1, 4)
    assert revolve_counts(4, 5) == (3, 6)  # a snapshot after every iteration
    # n = 5, 2 slots: advance 2, reverse 2..4 with 1 slot (3 advances, 4 copies), then 0..1
    # with 2 slots (1 advance, 2 copies)
    assert revolve_counts(5, 2) == (2 + 3 + 1, 2 + 4 + 2)


def test_split_costs_its_extra_traffic_and_joint_a_rerun(monkeypatch) -> None:
    from fortran_ad.checkpoint.calls import CallSite, Model, evaluate

    monkeypatch.setattr(costs, "PUSH_COST", 10.0)
    monkeypatch.setattr(costs, "BYTE_COST", 1.0)
    site = CallSite("h:3:f", "h", "f", "m.f90:3", None, 1.0, 40.0, 0.0, 800.0, 5000.0,
                    extra_pushes=3.0)  # fmt: skip
    m = Model([], [], [site], {"h": 0.0, "f": 0.0}, "h")
    assert evaluate(m, [], {"h:3:f": False})[1] == 40 * 5000.0  # one more run of f per call
    assert evaluate(m, [], {"h:3:f": True})[1] == 40 * (3 * 10.0 + 800.0)


def test_loops_of_callees_cost_once_per_call(tmp_path: Path) -> None:
    from fortran_ad.ad.core.transforms import plan_checkpoints

    src = tmp_path / "m.f90"
    src.write_text(SOURCE)
    sizes = {"n": 40, "nt": 200, "dt": 5.0, "dz": 25.0}  # nsub = floor(2*10*5/25) + 1 = 5
    opts = Options(sources=(str(src),), mode="reverse", head="head", wrt=("x",), of=("cost",),
                   sizes=sizes, checkpoint="store-all")  # fmt: skip
    p = plan_checkpoints(Plan(load([str(src)]), opts))
    runs = {d.candidate.routine: d.candidate.runs for d in p.decisions}
    assert runs["leaf"] == 5 and runs["head"] == 1
