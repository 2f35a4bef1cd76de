"""Call sites in the checkpoint plan: JOINT (the adjoint re-runs the callee) or SPLIT (the
callee's tape is kept: ``<name>_fwd`` / ``<name>_bwd``). The ILP's choice equals brute force
on small call trees, and split and joint adjoints of time-stepping samples pass the
finite-difference and dot-product checks."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.checkpoint.calls import CallSite, Model, evaluate
from fortran_ad.checkpoint.ilp import Candidate, options, plan
from fortran_ad.driver import Options, differentiate
from fortran_ad.errors import FortranADError

ROOT = Path(__file__).resolve().parent.parent


def site(key: str, caller: str, callee: str, loop: str | None, **kw) -> CallSite:
    values = dict(mult=1.0, execs=1.0, joint_snapshot=0.0, extra=0.0, callee_cost=100.0)
    return CallSite(key, caller, callee, f"m.f90:{key}", loop, **{**values, **kw})


def test_split_when_the_budget_allows_joint_when_it_is_tight() -> None:
    # a time loop (100 steps, 800 B state pushed per step) calls a step routine whose own
    # tape is 8000 B per call; re-running the step costs as much as the step itself
    loop = Candidate("head:1", "head", "m.f90:1", 100, 800.0, 800.0, 1e6)
    inner = Candidate("step:5", "step", "m.f90:5", 10, 800.0, 80.0, 1e5)
    call = site("head:2:step", "head", "step", "head:1", execs=100.0, joint_snapshot=800.0,
                extra=-800.0, callee_cost=1e6)  # fmt: skip
    args = dict(base_memory=0.0, calls=[call], head="head", bases={"step": 0.0})
    roomy = plan([loop, inner], 10**9, policy="ilp", **args)
    assert roomy.split_sites() == {"head:2:step"}
    assert roomy.peak == pytest.approx(100 * 8000.0)  # the step tapes of every iteration
    joint = plan([loop, inner], 10**9, policy="store-all", **args)
    assert not joint.split_sites()
    assert joint.peak == pytest.approx(100 * 800.0 + 8000.0)  # snapshots + one step's tape
    tight = plan([loop, inner], int(joint.peak), policy="ilp", **args)
    assert tight.peak <= joint.peak
    assert tight.extra_time <= joint.extra_time  # never worse than the joint store-all plan
    forced = plan([loop, inner], int(joint.peak), policy="ilp", call_policy="joint", **args)
    assert not forced.split_sites() and forced.schedule()["head:1"].stores
    with pytest.raises(FortranADError, match="smallest tape"):
        plan([loop, inner], 1000, policy="ilp", **args)


def test_ilp_equals_brute_force_on_call_trees() -> None:
    """head: loop L0 calling a (mult 2) and a top-level call of b; a: loop L1 calling b."""
    rng = random.Random(11)
    for _ in range(25):
        u = lambda lo, hi: rng.uniform(lo, hi)  # noqa: E731
        loops = [
            Candidate("L0", "head", "m.f90:1", 8, u(100, 2000), u(100, 2000), u(10, 1000)),
            Candidate("L1", "a", "m.f90:2", 6, u(10, 500), u(50, 500), u(1, 100)),
        ]
        calls = [
            site("c1", "head", "a", "L0", mult=2.0, execs=16.0, joint_snapshot=u(0, 300),
                 extra=u(-300, 300), callee_cost=u(10, 2000), after=u(0, 100)),
            site("c2", "a", "b", "L1", mult=1.0, execs=96.0, joint_snapshot=u(0, 50),
                 extra=u(-50, 50), callee_cost=u(1, 200)),
            site("c3", "head", "b", None, execs=1.0, joint_snapshot=u(0, 50), extra=u(0, 50),
                 callee_cost=u(1, 200), after_loops=("L0",)),
        ]  # fmt: skip
        bases = {"head": u(0, 500), "a": u(0, 200), "b": u(10, 400)}
        model = Model(loops, [options(c) for c in loops], calls, bases, "head")
        combos = []
        for picks in itertools.product(*model.options):
            for bits in itertools.product((False, True), repeat=len(calls)):
                split = {c.key: b for c, b in zip(calls, bits, strict=True)}
                combos.append(evaluate(model, list(picks), split))
        store = evaluate(model, [o[0] for o in model.options], {})[0]
        budget = int(store * rng.uniform(0.1, 3.0))
        feasible = [t for m, t in combos if m <= budget]
        args = dict(calls=calls, head="head", bases={k: v for k, v in bases.items() if k != "head"})
        if not feasible:
            with pytest.raises(FortranADError):
                plan(loops, budget, bases["head"], "ilp", **args)
            continue
        got = plan(loops, budget, bases["head"], "ilp", **args)
        assert got.peak <= budget
        assert got.extra_time == pytest.approx(min(feasible), rel=1e-6)


def _sample(name: str) -> tuple[list[str], dict]:
    folder = ROOT / "legacy_samples" / name
    cfg = tomllib.loads((folder / "sample.toml").read_text())
    return [str(folder / s) for s in cfg["sources"]], cfg["case"][0]


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("name", "calls"),
    [("lorenz96", "split"), ("lorenz96", "joint"), ("shallow_water", "split")],
)
def test_split_and_joint_adjoints_are_right(name: str, calls: str, tmp_path: Path) -> None:
    """Calls inside a time loop (lorenz96: a step routine calling a tendency routine four
    times; shallow_water: a module routine and an internal procedure), the plan forced to
    split or joint: finite differences, dot product, tape balanced."""
    sources, case = _sample(name)
    opts = Options(sources=tuple(sources), out=tmp_path, head=case["head"],
                   wrt=tuple(case["wrt"]), of=tuple(case["of"]), calls=calls)  # fmt: skip
    text = "".join(p.read_text() for p in differentiate(opts) if p.name != "fad_tape.f90")
    step = "l96_rk4_step" if name == "lorenz96" else "update_depth"
    assert (f"call {step}_fwd(" in text) == (calls == "split")
    assert (f"call {step}_bwd(" in text) == (calls == "split")
    folder = ROOT / "legacy_samples" / name
    report = api.check(sources, wrt=case["wrt"], of=case["of"], head=case["head"],
                       sample=folder / "sample.toml", modes=("reverse",), calls=calls)  # fmt: skip
    assert report.ok, report.error or report.table()


def test_plan_command_shows_call_sites() -> None:
    l96 = ROOT / "legacy_samples" / "lorenz96" / "l96.f90"
    args = [sys.executable, "-m", "fortran_ad", "plan", str(l96), "--wrt", "x,forcing", "--of",
            "cost", "--size", "n=4000,nt=10000"]  # fmt: skip
    table = subprocess.run([*args, "--calls", "split"], capture_output=True, text=True)
    assert table.returncode == 0, table.stderr
    row = next(x for x in table.stdout.splitlines() if x.startswith("call l96_rk4_step"))
    assert "l96.f90:60" in row and " split" in row
    out = subprocess.run([*args, "--calls", "joint", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    calls = json.loads(out.stdout)["calls"]
    assert {c["callee"] for c in calls} == {"l96_rk4_step", "l96_tendency"}
    assert all(c["decision"] == "joint" for c in calls)


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("name", "sizes"),
    [
        ("lorenz96", {"nt": 1000, "dt": 0.001}),
        ("advection_diffusion", {"nt": 200}),
        ("vertical_diffusion", {"nt": 50}),  # record buffers of block_tape sized by their loop
    ],
)
def test_budget_of_store_alls_measured_peak_admits_store_all(name: str, sizes: dict) -> None:
    """The predicted store-all peak is the measured one (never above it), so at a budget of
    exactly that peak the ILP may keep store-all and picks nothing it predicts slower."""
    from fortran_ad.driver import checkpoint_plan

    sources, case = _sample(name)
    folder = ROOT / "legacy_samples" / name
    report = api.check(sources, wrt=case["wrt"], of=case["of"], head=case["head"],
                       sample=folder / "sample.toml", sizes=sizes, modes=("reverse",),
                       directions=1, checkpoint="store-all")  # fmt: skip
    assert report.ok, report.error or report.table()
    values = {k: v for k, v in {**case["check"], **sizes}.items() if not isinstance(v, bool)}
    opts = Options(sources=tuple(sources), head=case["head"], wrt=tuple(case["wrt"]),
                   of=tuple(case["of"]), sizes=values)  # fmt: skip
    store = checkpoint_plan(replace(opts, checkpoint="store-all"))
    assert report.peak_tape is not None
    assert 0.99 * report.peak_tape <= store.peak <= report.peak_tape
    ilp = checkpoint_plan(replace(opts, memory_limit=report.peak_tape))
    assert ilp.peak <= report.peak_tape
    assert ilp.work <= store.work
