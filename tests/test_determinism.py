"""Generated code is a function of the input only: same bytes every time, whatever the order
of independent source files or of the --wrt/--of names, and a large module (20,000 lines of
fuzz-generated routines) differentiates within 120 s of CPU and 2 GiB (a guard against
blow-ups, not a benchmark: the 2-core AMD EPYC machine takes 65-90 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import SAMPLES_DIR, run_cli
from test_fuzz import KNOWN_OPEN  # fuzz features that trigger bugs still open

from fortran_ad.checks.fuzzgen import generate
from fortran_ad.checks.fuzzgen.program import module_spec

MODES = ("reverse", "forward")


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def differentiate(cwd: Path, args: list[str], out: str) -> dict[str, bytes]:
    proc = run_cli([*args, "-o", out], cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return outputs(cwd / out)


# -- same input, same bytes ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_lorenz96_twice_gives_identical_bytes(tmp_path: Path, mode: str) -> None:
    src = str(SAMPLES_DIR / "lorenz96" / "l96.f90")
    args = [src, "--head", "l96_run", "--wrt", "x,forcing", "--of", "cost", "--mode", mode]
    first = differentiate(tmp_path, args, "a")
    second = differentiate(tmp_path, args, "b")
    assert first == second
    assert any(name.startswith("l96_") for name in first)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_fuzz_program_twice_gives_identical_bytes(tmp_path: Path, seed: int) -> None:
    program = generate(seed, KNOWN_OPEN)
    assert program.source == generate(seed, KNOWN_OPEN).source
    path = program.write(tmp_path)
    for mode in MODES:
        args = [path.name, "--head", program.head, "--wrt", ",".join(program.wrt)]
        args += ["--of", ",".join(program.of), "--mode", mode]
        assert differentiate(tmp_path, args, f"{mode}1") == differentiate(
            tmp_path, args, f"{mode}2"
        )


# -- order does not matter ----------------------------------------------------------------------
LIB_A = """\
module lib_a
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine grow(n, u, s)
    integer, intent(in) :: n
    real(dp), intent(inout) :: u(n)
    real(dp), intent(in) :: s
    integer :: i
    do i = 2, n
      u(i) = u(i) + s*u(i - 1)**2
    end do
  end subroutine grow
end module lib_a
"""

LIB_B = """\
module lib_b
  implicit none
  integer, parameter :: wp = kind(1.0d0)
contains
  function energy(n, u) result(e)
    integer, intent(in) :: n
    real(wp), intent(in) :: u(n)
    real(wp) :: e
    e = 0.5_wp*sum(sin(u)**2)
  end function energy
end module lib_b
"""

TOP = """\
module top
  use lib_a, only: dp, grow
  use lib_b, only: energy
  implicit none
contains
  subroutine run(n, u, s, cost)
    integer, intent(in) :: n
    real(dp), intent(inout) :: u(n)
    real(dp), intent(in) :: s
    real(dp), intent(out) :: cost
    call grow(n, u, s)
    cost = energy(n, u)*s
  end subroutine run
end module top
"""


@pytest.mark.parametrize("mode", MODES)
def test_order_of_independent_files_does_not_matter(tmp_path: Path, mode: str) -> None:
    for name, text in (("lib_a.f90", LIB_A), ("lib_b.f90", LIB_B), ("top.f90", TOP)):
        (tmp_path / name).write_text(text)
    opts = ["--head", "run", "--wrt", "u,s", "--of", "u,cost", "--mode", mode]
    ab = differentiate(tmp_path, ["lib_a.f90", "lib_b.f90", "top.f90", *opts], "ab")
    ba = differentiate(tmp_path, ["lib_b.f90", "lib_a.f90", "top.f90", *opts], "ba")
    assert ab == ba
    suffix = "b" if mode == "reverse" else "d"
    assert {f"lib_a_{suffix}.f90", f"top_{suffix}.f90"} <= set(ab)


@pytest.mark.parametrize("mode", MODES)
def test_order_of_wrt_and_of_names_does_not_matter(tmp_path: Path, mode: str) -> None:
    (tmp_path / "lib_a.f90").write_text(LIB_A)
    (tmp_path / "lib_b.f90").write_text(LIB_B)
    (tmp_path / "top.f90").write_text(TOP)
    files = ["lib_a.f90", "lib_b.f90", "top.f90", "--head", "run", "--mode", mode]
    one = differentiate(tmp_path, [*files, "--wrt", "u,s", "--of", "u,cost"], "one")
    two = differentiate(tmp_path, [*files, "--wrt", "s,u", "--of", "cost,u"], "two")
    three = differentiate(tmp_path, [*files, "--wrt", "s,u,s", "--of", "cost,u"], "three")
    assert one == two
    assert one == three


# -- a large module -----------------------------------------------------------------------------
def big_module(lines_wanted: int) -> tuple[str, int]:
    """Fuzz programs' routines in one module, and ``fuzz_all(n, x, y, cost)`` calling every
    head in turn (y flows from one to the next). Returns (source, number of programs)."""
    parts: list[str] = []
    heads: list[str] = []
    state: list[str] = []  # module variables the programs set and read
    generics: list[tuple[str, str]] = []  # generic interfaces the programs call through
    types: list[str] = []  # derived types of their locals
    bindings: list[tuple[str, str, str]] = []  # type-bound procedures of those types
    count = 0
    seed = 100_000
    while count < lines_wanted:
        p = generate(seed, KNOWN_OPEN, f"_{seed}")
        parts.append(p.routines)
        heads.append(p.head)
        state += p.state
        generics += p.generics
        types += p.types
        bindings += p.bindings
        count += p.routines.count("\n") + 2
        seed += 1
    calls = [f"    call {h}(n, x, y, c)\n    cost = cost + c" for h in heads]
    body = "\n".join(calls)
    top = textwrap.dedent("""\
      subroutine fuzz_all(n, x, y, cost)
        integer, intent(in) :: n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: y(n)
        real(dp), intent(out) :: cost
        real(dp) :: c
        cost = 0.0_dp
    """)
    top = textwrap.indent(top, "  ") + body + "\n  end subroutine fuzz_all\n"
    head = "\n".join(["module fuzz_big", *module_spec((), state, generics, types, bindings)]) + "\n"
    return head + "\n".join(parts) + "\n" + top + "end module fuzz_big\n", len(heads)


MEASURE = """\
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": proc.returncode, "wall": seconds, "maxrss_kib": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime, "stderr": proc.stderr[-3000:]}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_20000_line_module_within_120_s_and_2_gib(tmp_path: Path, mode: str) -> None:
    source, programs = big_module(20_000)
    lines = source.count("\n")
    assert lines >= 20_000
    (tmp_path / "big.f90").write_text(source)
    cli = [sys.executable, "-m", "fortran_ad", "big.f90", "--head", "fuzz_all"]
    cli += ["--wrt", "x,y", "--of", "y,cost", "--mode", mode, "-o", "out"]
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *cli], cwd=tmp_path, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert m["rc"] == 0, m["stderr"]
    written = outputs(tmp_path / "out")
    suffix = "b" if mode == "reverse" else "d"
    assert f"big_{suffix}.f90" in written
    gib = m["maxrss_kib"] / 1024**2
    print(
        f"{lines} lines, {programs} programs, {mode}: {m['cpu']:.1f} s CPU "
        f"({m['wall']:.1f} s wall), {gib:.2f} GiB"
    )
    # CPU time, not wall time: parallel test runs and other load must not make this flaky
    assert m["cpu"] < 120, f"{lines} lines took {m['cpu']:.1f} s of CPU"
    assert gib < 2.0, f"{lines} lines used {gib:.2f} GiB"
