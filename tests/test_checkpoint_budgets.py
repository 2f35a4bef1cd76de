"""Checkpointed adjoints under memory budgets (issue: ILP checkpointing).

For three time-stepping samples (Lorenz-96, shallow water, and the DO WHILE time loop of
advection-diffusion), with time loops long enough for checkpointing to matter:
the gradient is right under every policy, and under ``ilp`` at 100%, 30%, 10% and 3% of the
peak tape store-all measures. The check program runs with the budget as its tape limit (a push
beyond it stops the program) and reports the measured peak, which must not exceed the budget.
When the planner finds a budget infeasible, its error names the smallest budget it can reach;
the test then checks that budget is really met.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.checks.report import CheckReport
from fortran_ad.errors import FortranADError

ROOT = Path(__file__).resolve().parent.parent
FRACTIONS = (1.0, 0.3, 0.1, 0.03)
LONG_RUNS = {  # check sizes with longer time loops (smaller steps keep FD well conditioned)
    "lorenz96": {"nt": 1000, "dt": 0.001},
    "shallow_water": {"nt": 500, "dt": 10.0},
    "advection_diffusion": {"nt": 1000, "dt": 0.0004},
}


def _check(name: str, policy: str, limit: int | None = None) -> CheckReport:
    folder = ROOT / "legacy_samples" / name
    cfg = tomllib.loads((folder / "sample.toml").read_text())
    case = cfg["case"][0]
    extra = {"memory_limit": limit} if limit is not None else {}
    return api.check(
        [str(folder / s) for s in cfg["sources"]],
        wrt=case["wrt"],
        of=case["of"],
        head=case["head"],
        sample=folder / "sample.toml",
        sizes=LONG_RUNS[name],
        modes=("reverse",),
        directions=1,
        checkpoint=policy,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.gfortran
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LONG_RUNS))
def test_budgets_are_met_and_gradients_stay_right(name: str) -> None:
    store = _check(name, "store-all")
    assert store.ok, store.error or store.table()
    assert store.peak_tape and store.peak_tape > 0
    least = _check(name, "recompute-all")
    assert least.ok, least.error or least.table()
    assert least.peak_tape is not None and least.peak_tape < store.peak_tape / 4
    for fraction in FRACTIONS:
        budget = int(fraction * store.peak_tape)
        try:
            report = _check(name, "ilp", budget)
        except FortranADError as exc:
            found = re.search(r"can reach is (\d+) bytes", str(exc))
            assert found, str(exc)
            smallest = int(found.group(1))
            assert smallest > budget and fraction <= 0.1, f"{fraction:.0%}: {exc}"
            budget = smallest
            report = _check(name, "ilp", budget)
        assert report.ok, f"{fraction:.0%} of store-all: {report.error or report.table()}"
        assert report.peak_tape is not None and report.peak_tape <= budget
