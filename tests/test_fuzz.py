"""Fuzzing the AD engine with random valid, smooth programs (fortran_ad/checks/fuzzgen/).

* the generator's promises: deterministic, valid standard Fortran that runs without
  out-of-bounds access or floating-point exceptions and keeps its state bounded;
* hypothesis-drawn programs differentiate in both modes without errors (fast, no compiler;
  a failure shrinks to a small program);
* 50 programs pass every derivative check (``fortran_ad.api.check``, reverse and forward):
  the same run as ``python scripts/fuzz.py --count 50 --seed 20260101``.

Constructs that trigger a bug still open can be left out with ``KNOWN_OPEN`` (feature names
from ``fuzzgen.FEATURES``), each with a regression test in tests/regressions/; every bug the
fuzzer found so far is fixed and pinned there, so the set is empty.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import GFORTRAN, REPO_ROOT
from hypothesis import HealthCheck, given, settings

from fortran_ad.checks.fuzzgen import (
    FEATURES,
    NMAX,
    NMIN,
    OPT_IN,
    FuzzProgram,
    FuzzResult,
    R,
    generate,
    programs,
    run_fuzz,
)
from fortran_ad.driver import Options, load

KNOWN_OPEN: frozenset[str] = frozenset()  # e.g. {"named-loop"} while that bug is open
SEED = 20260101
COUNT = 50

DRIVER = """\
program drive
  use {module}
  implicit none
  integer, parameter :: n = {n}
  real(dp) :: x(n), y(n), cost
  integer :: i
  do i = 1, n
    x(i) = 0.5_dp + mod(0.37_dp*i, 1.0_dp)
    y(i) = 1.5_dp - mod(0.61_dp*i, 1.0_dp)
  end do
  call {head}(n, x, y, cost)
  print *, cost, maxval(abs(y))
end program drive
"""


def test_same_seed_same_program_and_seeds_differ() -> None:
    assert generate(7).source == generate(7).source
    assert len({generate(s).source for s in range(20)}) == 20
    assert generate(7, KNOWN_OPEN).source == generate(7, KNOWN_OPEN).source


def test_unknown_feature_is_refused() -> None:
    with pytest.raises(ValueError, match="no-such-thing"):
        generate(1, frozenset({"no-such-thing"}))


def test_excluded_features_do_not_appear() -> None:
    every = frozenset(FEATURES)
    counter_subscript = re.compile(r"\b(?!real\b|mod\b)[a-z]\w*\((?:n \+ 1 - m|m(?: [+-] \d)?)[,)]")
    function_ref = re.compile(r"(?<!call )\bfuzz_h\d\(([^()]*)\)")
    for seed in range(60):
        src = generate(seed, every).source
        assert not re.search(r"\bcall fuzz_h\d\(n - 1, [^)]*\b[a-z]\w*\(2\)", src), src
        for line in src.splitlines():
            if line.lstrip().startswith("call "):
                assert "sum(" not in line, line
        joined = re.sub(r"&\s*\n\s*&\s*", "", src)  # continuation lines
        for args in function_ref.findall(joined):
            assert not any(re.fullmatch(r"\d+\.\d+(_dp|d0)", a.strip()) for a in args.split(","))
        assert not re.search(r"\w+: do ", src), src
        assert not re.search(r"\bdo [ijkl] =", src), src
        assert "private ::" not in src
        assert not counter_subscript.search(src), src
        assert "y(1) = y(1) + 0.01_dp*x(n)" in src
        assert not re.search(r"\bkk\b", src), src
        assert not re.search(r"\b(size|lbound|ubound|maxloc|minloc|nint|count)\(", src), src


def test_every_feature_is_on_by_default() -> None:
    """No construct is opt-in any more (``OPT_IN`` is where a new one waits): 80 programs
    of the default grammar use every construct the coverage report knows of, integer
    intrinsics as divisors among them."""
    from fortran_ad.checks.fuzzgen.coverage import PATTERNS, constructs

    assert not OPT_IN
    used = set().union(*(constructs(generate(s).source) for s in range(80)))
    assert used == set(PATTERNS), set(PATTERNS) - used


def test_suffix_renames_every_routine_and_the_module() -> None:
    p = generate(3, suffix="_3")
    assert p.head == "fuzz_head_3" and p.module == "fuzz_mod_3"
    names = re.findall(r"^\s*(?:subroutine|function) (\w+)", p.source, re.M)
    assert names and all(n.endswith("_3") for n in names), names


def test_script_keeps_a_failing_program(tmp_path: Path) -> None:
    """scripts/fuzz.py writes the program, its table and the command that reproduces it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fuzz_script", REPO_ROOT / "scripts/fuzz.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    result = FuzzResult(4, "failed", "check of fuzz_head: FAILED (1 of 30 rows)", 1.0)
    folder = script.keep_failure(result, tmp_path / "keep", frozenset())
    program = generate(4)
    assert (folder / "fuzz_4.f90").read_text() == program.source
    assert "FAILED (1 of 30 rows)" in (folder / "check.txt").read_text()
    command = (folder / "command.sh").read_text()
    assert f"--head fuzz_head --wrt {','.join(program.wrt)}" in command
    assert f"--size n={program.n}" in command


@pytest.mark.gfortran
@pytest.mark.parametrize("seed", range(12))
def test_generated_program_is_valid_and_bounded(tmp_path: Path, seed: int) -> None:
    """Standard Fortran, no out-of-bounds access, no FP exception, |y| <= R at the end."""
    assert GFORTRAN is not None
    p = generate(seed)
    assert NMIN <= p.n <= NMAX
    src = p.write(tmp_path)
    (tmp_path / "drive.f90").write_text(DRIVER.format(module=p.module, head=p.head, n=p.n))
    flags = ["-std=f2018", "-Wall", "-fcheck=all", "-ffpe-trap=invalid,zero,overflow"]
    build = subprocess.run(
        [GFORTRAN, *flags, "-o", "prog", src.name, "drive.f90"], cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr + p.source
    run = subprocess.run(["./prog"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr + p.source
    cost, ymax = (float(v) for v in run.stdout.split())
    assert abs(cost) < 1e6 and ymax <= R + 1e-12, (cost, ymax)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(programs(KNOWN_OPEN))
def test_drawn_programs_differentiate_in_both_modes(program: FuzzProgram) -> None:
    """Generation only (no compiler): neither mode refuses or crashes on a valid program."""
    import tempfile

    from fortran_ad.ad.core.generate import generate as generate_derivatives

    with tempfile.TemporaryDirectory() as tmp:
        path = program.write(Path(tmp))
        files = load([str(path)])
        for mode in ("reverse", "forward"):
            opts = Options(
                sources=(str(path),), mode=mode, wrt=program.wrt, of=program.of,
                head=program.head,
            )  # fmt: skip
            out = generate_derivatives(files, opts)
            assert any(name.startswith("fuzz_") for name in out), sorted(out)


@pytest.mark.gfortran
@pytest.mark.slow
def test_fifty_fuzz_programs_pass_every_check() -> None:
    summary = run_fuzz(COUNT, SEED, jobs=2, batch=5, exclude=KNOWN_OPEN)
    exclude = f" --exclude {','.join(sorted(KNOWN_OPEN))}" if KNOWN_OPEN else ""
    report = "\n\n".join(
        f"seed {r.seed} ({r.status}): python scripts/fuzz.py --count 1 --seed {r.seed}{exclude}"
        f"\n{r.detail[-3000:]}"
        for r in summary.failures
    )
    print(summary.line())
    assert len(summary.results) == COUNT
    assert summary.ok, f"{summary.line()}\n{report}"
