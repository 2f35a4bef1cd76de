"""The derivative check (API, CLI ``check``, scripts/fuzz.py; MPI checks reuse its compile
step) compiles every generated file with ``-Wall -fcheck=all``: code that writes out of bounds
fails the check instead of passing silently."""

from __future__ import annotations

from fortran_ad.checks import run


def test_check_compiles_with_warnings_and_runtime_checks() -> None:
    assert {"-Wall", "-fcheck=all"} <= set(run.FLAGS)
