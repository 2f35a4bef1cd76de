"""The ILP solver's library output never reaches the user's stdout.

HiGHS (under scipy.optimize.milp) prints MIP debug lines such as
"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();" on the C-level
stdout for some checkpoint plans; fortran-ad's stdout (a pipe in a build) must carry only
what it prints itself.
"""

from __future__ import annotations

import ctypes

import pytest

from fortran_ad.checkpoint.calls import quiet_stdout


def test_c_level_writes_inside_the_solver_block_are_dropped(capfd: pytest.CaptureFixture) -> None:
    libc = ctypes.CDLL(None)
    print("before", flush=True)
    with quiet_stdout():
        libc.printf(b"solver noise\n")  # buffered by C stdio, as HiGHS's printf is
    libc.printf(b"after\n")
    libc.fflush(None)
    out = capfd.readouterr().out
    assert out == "before\nafter\n", out
