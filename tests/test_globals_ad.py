"""Derivatives that travel through module variables and host association (no arguments).

Both programs would give a silently zero gradient if the activity of globals were lost; the
check compares adjoint and tangent with finite differences, so it fails in that case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

DATA = Path(__file__).parent / "data"


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("source", "head", "wrt", "sizes"),
    [
        ("module_state.f90", "run", ["h0"], {"n": 6, "nt": 4}),
        ("host_assoc.f90", "outer", ["x"], {"n": 5}),
    ],
    ids=["module-variables", "host-association"],
)
def test_gradient_through_globals(source: str, head: str, wrt: list[str], sizes: dict) -> None:
    report = api.check(
        [str(DATA / source)],
        wrt=wrt,
        of=["cost"],
        head=head,
        sizes=sizes,
        ranges={wrt[0]: (0.5, 1.5)},
        modes=("reverse", "forward"),
    )
    assert report.ok, report.table()


def test_module_variable_derivative_lives_in_the_derivative_module(tmp_path: Path) -> None:
    from fortran_ad.cli import main

    assert main([str(DATA / "module_state.f90"), "--wrt", "h0", "--of", "cost",
                 "-o", str(tmp_path)]) == 0  # fmt: skip
    text = (tmp_path / "module_state_b.f90").read_text()
    assert "module state_b" in text
    assert "real(dp) :: hb(nmax)" in text
    assert "use state_b, only: energyb, hb" in text
    assert "call step_b(n)" in text or "call step_bwd(n)" in text  # joint or split


@pytest.mark.gfortran
def test_call_into_another_modules_derivative() -> None:
    """mmod_b calls misfit_b from cmod_b: the derivative module must USE cmod_b."""
    report = api.check(
        [str(DATA / "cross_module_cost.f90"), str(DATA / "cross_module_model.f90")],
        wrt=["u"],
        of=["cost"],
        head="model",
        sizes={"n": 5},
        ranges={"u": (0.5, 1.5)},
        modes=("reverse", "forward", "vector", "vector-reverse"),
    )
    assert report.ok, report.table()
