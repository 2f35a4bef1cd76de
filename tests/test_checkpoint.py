"""Checkpoint planning: the ILP's decisions, its infeasibility message, and adjoints that
follow a checkpointed plan (they must still match finite differences)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.checkpoint.ilp import Candidate, plan
from fortran_ad.errors import FortranADError

ROOT = Path(__file__).resolve().parent.parent
L96 = ROOT / "legacy_samples" / "lorenz96"


def loop(key: str, trips: int, tape: float, state: float, cost: float = 100.0) -> Candidate:
    return Candidate(key, key, f"m.f90:{key}", trips, tape, state, cost)


def test_generous_budget_stores_everything() -> None:
    p = plan([loop("a", 1000, 800.0, 800.0)], budget=10**9, base_memory=0.0, policy="ilp")
    assert p.period("a") == 0
    assert p.peak == 1000 * 800.0


def test_tight_budget_checkpoints_and_respects_it() -> None:
    cands = [loop("a", 1000, 800.0, 800.0), loop("b", 400, 100.0, 50.0, cost=1.0)]
    p = plan(cands, budget=200_000, base_memory=1000.0, policy="ilp")
    assert p.period("a") > 0
    assert p.peak <= 200_000
    # the cheap-to-store loop keeps its tape when the budget allows it
    assert p.period("b") == 0


def test_ilp_picks_the_cheaper_loop_to_recompute() -> None:
    # both loops cannot be stored; recomputing "cheap" costs far less time than "dear"
    cands = [loop("dear", 100, 1000.0, 1000.0, cost=1e6), loop("cheap", 100, 1000.0, 1000.0)]
    p = plan(cands, budget=150_000, base_memory=0.0, policy="ilp")
    assert p.period("dear") == 0 and p.period("cheap") > 0


def test_infeasible_budget_names_the_smallest_one() -> None:
    with pytest.raises(FortranADError) as err:
        plan([loop("a", 10_000, 8000.0, 8000.0)], budget=1000, base_memory=0.0, policy="ilp")
    assert "smallest tape" in err.value.message
    assert "--memory-limit" in (err.value.hint or "")


def test_policies() -> None:
    cands = [loop("a", 1000, 800.0, 800.0)]
    assert plan(cands, 10**9, 0.0, "store-all").period("a") == 0
    assert plan(cands, 10**9, 0.0, "recompute-all").period("a") > 0


def _plan_cli(*extra: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "fortran_ad", "plan", str(L96 / "l96.f90"), "--wrt",
            "x,forcing", "--of", "cost", "--size", "n=4000,nt=10000", *extra]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True)


def test_plan_command_prints_a_table_and_follows_the_budget() -> None:
    roomy = _plan_cli()
    assert roomy.returncode == 0, roomy.stderr
    assert "l96_run l96.f90:59" in roomy.stdout and "store" in roomy.stdout
    tight = _plan_cli("--memory-limit", "100M")
    assert tight.returncode == 0, tight.stderr
    line = next(x for x in tight.stdout.splitlines() if "l96.f90:59" in x)
    assert "checkpoint/" in line


def test_plan_command_refuses_an_infeasible_budget() -> None:
    proc = _plan_cli("--memory-limit", "1k")
    assert proc.returncode == 2
    assert "infeasible" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.gfortran
@pytest.mark.parametrize("policy", ["recompute-all"])
# more samples: test_checkpoint_budgets.py. mixed_layer allocates and frees arrays in its
# checkpointed time loop (nothing to snapshot); ocean_box_f77 has named DO constructs (the
# re-run copies drop the names; active COMMON: no vector modes); omp_column's checkpointed
# loop recomputes its output cost (the primal's final value is restored)
@pytest.mark.parametrize("name", ["warm_rain", "mixed_layer", "ocean_box_f77", "omp_column"])
def test_checkpointed_adjoints_are_right(name: str, policy: str) -> None:
    folder = ROOT / "legacy_samples" / name
    import tomllib

    cfg = tomllib.loads((folder / "sample.toml").read_text())
    case = cfg["case"][0]
    report = api.check(
        [str(folder / s) for s in cfg["sources"]],
        wrt=case["wrt"],
        of=case["of"],
        head=case["head"],
        sample=folder / "sample.toml",
        modes=("reverse",) if name == "ocean_box_f77" else ("reverse", "vector-reverse"),
        checkpoint=policy,
    )
    assert report.ok, report.table()


def test_ilp_equals_brute_force_on_small_instances() -> None:
    import itertools
    import random

    from fortran_ad.checkpoint.ilp import options

    rng = random.Random(7)
    for _ in range(30):
        cands = [
            loop(f"l{k}", rng.choice([8, 50, 300]), rng.uniform(100, 5000), rng.uniform(50, 8000),
                 rng.uniform(10, 1000))
            for k in range(rng.randint(1, 3))
        ]  # fmt: skip
        groups = [options(c) for c in cands]
        store = sum(g[0].memory for g in groups)
        budget = int(store * rng.uniform(0.05, 1.2))
        feasible = [
            combo for combo in itertools.product(*groups) if sum(o.memory for o in combo) <= budget
        ]
        if not feasible:
            with pytest.raises(FortranADError):
                plan(cands, budget=budget, base_memory=0.0, policy="ilp")
            continue
        best = min(sum(o.time for o in combo) for combo in feasible)
        got = plan(cands, budget=budget, base_memory=0.0, policy="ilp")
        assert got.peak <= budget
        assert got.extra_time == pytest.approx(best, rel=1e-6)


def test_snapshot_of_derived_type_array_counts_its_allocatable_components() -> None:
    """A loop checkpoint of ``cols(:)`` (``type(column_t)`` with allocatable profiles) saves
    every column's profiles, not one descriptor per column: the cost model once counted 8 B
    per element (1.6 KiB for 200 columns against ~400 KiB saved), so the ILP checkpointed the
    column-mixing loop every 20 iterations and the adjoint pushed the whole ensemble ten
    times per time step (adjoint/primal 31.7). Storing costs 480 B per iteration."""
    folder = L96.parent / "column_ensemble"
    args = [sys.executable, "-m", "fortran_ad", "plan", str(folder / "col_types.f90"),
            str(folder / "ensemble.f90"), "--head", "ensemble_run", "--wrt",
            "t0,q0,ps0,kdiff,mix", "--of", "cost", "--size", "ncol=200,nz=60,nt=500"]  # fmt: skip
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "ensemble.f90:66" in x)
    state = line.split()[5:7]  # "396.1 KiB"
    assert state[1] == "KiB" and float(state[0]) > 300, line
    assert " store " in line, line


def test_element_bytes_sums_components_and_parents() -> None:
    from fortran_ad.checkpoint.costs import DEFAULT_EXTENT, element_bytes
    from fortran_ad.ir import nodes as ir

    r8 = ir.TypeSpec("real", "8")
    prof = ir.Symbol("t", r8, (ir.Dim("deferred"),), attrs=frozenset({"allocatable"}))
    flux = ir.Symbol("flux", r8, (ir.Dim("explicit", None, ir.Literal("2", "integer")),))
    link = ir.Symbol("next", ir.TypeSpec("type(col_t)"), (), attrs=frozenset({"pointer"}))
    base = ir.TypeDef("", name="base_t", components=(ir.Symbol("id", ir.TypeSpec("integer")),))
    col = ir.TypeDef("", name="col_t", components=(prof, flux, link), parent="base_t")
    types = {"base_t": base, "col_t": col}
    sym = ir.Symbol("cols", ir.TypeSpec("type(col_t)"), (ir.Dim("explicit", None, ir.Name("n")),))
    assert element_bytes(sym, types) == 8 * DEFAULT_EXTENT + 16 + 4
    assert element_bytes(sym, {}) == 8  # type unknown: the old default
