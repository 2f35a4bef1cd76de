"""OpenMP and DO CONCURRENT: parsing and re-emission of directives, the dependence analysis,
and parallel derivatives checked at 1, 2 and 4 threads.

The parallel samples (legacy_samples/omp_*) also run through tests/test_samples_ad.py (all
modes at the machine's default thread count); here each is compiled once and its check program
run with OMP_NUM_THREADS=1, 2 and 4: every run must pass (finite differences, dot product,
conventions) and the 2-thread adjoint values must equal the 1-thread ones to 1e-12 relative.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLES, SAMPLES_DIR, sample_sources

from fortran_ad import api, cli
from fortran_ad.analysis.dependence import analyse
from fortran_ad.checks.report import evaluate
from fortran_ad.checks.run import prepare_check
from fortran_ad.driver import Options, load
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import walk_stmts

OMP_CASES = [(s, c) for s in SAMPLES if s["name"].startswith("omp_") for c in s["case"]]
OMP_IDS = [f"{s['name']}-{c['head']}" for s, c in OMP_CASES]

LOOPS = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine s(n, idx, a, b, c)
    integer, intent(in) :: n, idx(n)
    real(dp), intent(in) :: b(n)
    real(dp), intent(inout) :: a(n)
    real(dp), intent(out) :: c
    real(dp) :: t
    integer :: i
    c = 0
    !$omp parallel do private(t) &
    !$omp& reduction(+:c) schedule(static)
    do i = 2, n - 1
      t = b(i)**2
      a(i) = t*b(i - 1) + b(i + 1)
      c = c + a(i)
    end do
    !$omp end parallel do
    !$omp parallel private(t)
    !$omp do
    do i = 1, n
      t = a(i)
      a(i) = t*2
    end do
    !$omp end do
    !$omp end parallel
    do concurrent (i = 1:n) local(t) shared(a)
      t = a(i)
      a(i) = t*2
    end do
    do i = 2, n
      a(i) = a(i - 1)*b(i)
    end do
    do i = 1, n
      a(idx(i)) = b(i)
    end do
    do i = 1, n
      t = t + b(i)
      a(i) = t
    end do
  end subroutine s
end module m
"""


def _loops(tmp_path: Path, text: str = LOOPS) -> list[ir.Do]:
    src = tmp_path / "loops.f90"
    src.write_text(text)
    routine = load([str(src)])[0].units[0].routines[0]
    return [s for s in routine.body if isinstance(s, ir.Do)]


def test_directives_are_parsed_into_the_ir(tmp_path: Path) -> None:
    first, region, conc, *_ = _loops(tmp_path)
    assert first.parallel == ir.Parallel(
        "parallel do", private=("t",), reduction=(("+", ("c",)),), schedule="static"
    )
    # a parallel region holding one !$omp do loop is one parallel do
    assert region.parallel == ir.Parallel("parallel do", private=("t",))
    assert conc.parallel == ir.Parallel("concurrent", private=("t",), shared=("a",))


def test_roundtrip_keeps_directives(tmp_path: Path) -> None:
    src = tmp_path / "loops.f90"
    src.write_text(LOOPS)
    assert cli.main(["roundtrip", str(src), "-o", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "loops.f90").read_text()
    assert "!$omp parallel do private(t) reduction(+:c) schedule(static)\n" in text
    assert text.count("!$omp end parallel do") == 2
    assert "do concurrent (i = 1:n) local(t) shared(a)" in text
    assert "!$omp end parallel\n" not in text  # the region became one parallel do


def test_dependence_analysis(tmp_path: Path) -> None:
    loops = _loops(tmp_path)
    ranks = {"a": 1, "b": 1, "idx": 1}

    def rank(n: str) -> int:
        return ranks.get(n, 0)

    first = analyse(loops[0], rank)
    assert first.parallel, first.explain()
    assert first.private == {"t"} and first.reduction == {"c"}
    recurrence = analyse(loops[3], rank)
    assert not recurrence.parallel
    assert "meet 1 iteration(s) apart" in recurrence.explain()
    indirect = analyse(loops[4], rank)
    assert not indirect.parallel and "cannot separate 'a(idx(i))'" in indirect.explain()
    carried = analyse(loops[5], rank)
    assert not carried.parallel
    assert "scalar 't' is carried" in carried.explain()


def test_unsupported_directive_is_a_located_error(tmp_path: Path, capsys) -> None:
    src = tmp_path / "barrier.f90"
    src.write_text(
        LOOPS.replace(
            "    c = 0\n", "    c = 0\n    !$omp parallel\n    !$omp barrier\n", 1
        ).replace(
            "    !$omp parallel private(t)\n",
            "    !$omp end parallel\n    !$omp parallel private(t)\n",
        )
    )
    rc = cli.main([str(src), "--wrt", "b", "--of", "c", "-o", str(tmp_path / "out")])
    assert rc == 2
    err = capsys.readouterr().err
    assert (
        "barrier.f90:13:5: error: OpenMP directive '!$omp parallel'" in err
        and "is not supported in differentiated code" in err
    )
    assert not (tmp_path / "out").exists()


def _parallel_regions(text: str) -> list[str]:
    """The text of each generated !$omp parallel do ... !$omp end parallel do."""
    out, cur = [], None
    for line in text.splitlines():
        if line.strip().startswith("!$omp parallel do"):
            cur = []
        if cur is not None:
            cur.append(line)
            if line.strip() == "!$omp end parallel do":
                out.append("\n".join(cur))
                cur = None
    return out


def _generate(cfg, case, tmp_path: Path, *extra: str) -> str:
    out = tmp_path / "gen"
    args = [*map(str, sample_sources(cfg)), "--head", case["head"], "--wrt", ",".join(case["wrt"])]
    assert cli.main([*args, "--of", ",".join(case["of"]), *extra, "-o", str(out)]) == 0
    return "".join(p.read_text() for p in sorted(out.glob("*_b.f90")))


def test_stencil_adjoint_gathers_without_tape_or_atomics(tmp_path: Path) -> None:
    cfg = next(s for s in SAMPLES if s["name"] == "omp_stencil")
    text = _generate(cfg, cfg["case"][0], tmp_path)
    regions = _parallel_regions(text.split("backward sweep", 1)[1])
    assert len(regions) >= 2  # copy loop, stencil loop (two colours of blocks)
    for r in regions:
        assert "fad_push" not in r and "fad_pop" not in r and "atomic" not in r
    assert "fad_gather" not in text and "even blocks of j, then odd ones" in text
    buffered = _generate(cfg, cfg["case"][0], tmp_path / "buf", "--rewrites=-omp_colour")
    regions = _parallel_regions(buffered.split("backward sweep", 1)[1])
    assert len(regions) >= 3  # copy loop, stencil loop, gather loops
    for r in regions:
        assert "fad_push" not in r and "fad_pop" not in r and "atomic" not in r
    assert "fad_gather" in buffered and "! gather the increments of ub" in buffered
    forced = _generate(cfg, cfg["case"][0], tmp_path / "atomic", "--omp-atomic")
    assert "fad_gather" not in forced and forced.count("!$omp atomic") >= 4


def test_scatter_adjoint_uses_per_thread_partial_arrays(tmp_path: Path) -> None:
    """The adjoint of the indirect gather increments a per-thread partial array (a
    reduction) added to xb after the loop; without the rewrite, atomics."""
    cfg = next(s for s in SAMPLES if s["name"] == "omp_scatter")
    text = _generate(cfg, cfg["case"][0], tmp_path / "p").split("backward sweep", 1)[1]
    regions = _parallel_regions(text)
    loop = next(r for r in regions if "fad_part1(right(e)) = fad_part1(right(e)) +" in r)
    assert "reduction(+:fad_part1)" in loop and "atomic" not in loop
    assert not re.search(r"\bxb\(", loop)
    after = text.split(loop, 1)[1]
    assert "xb = xb + fad_part1" in after.split("!$omp parallel", 1)[0]
    assert "!$omp atomic" not in text
    plain = _generate(cfg, cfg["case"][0], tmp_path / "a", "--rewrites=-omp_partials")
    plain = plain.split("backward sweep", 1)[1]
    assert "!$omp atomic\n" in plain and "fad_part" not in plain
    assert "xb(right(e)) = xb(right(e)) +" in plain


def _run(exe: Path, threads: int):
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.gfortran
@pytest.mark.parametrize(("cfg", "case"), OMP_CASES, ids=OMP_IDS)
def test_parallel_derivatives_at_1_2_4_threads(cfg, case, tmp_path: Path) -> None:
    options = Options(sources=tuple(map(str, sample_sources(cfg))), head=case["head"])
    prepared = prepare_check(options, cfg["dir"] / "sample.toml", modes=("reverse",))
    assert any("!$omp parallel do" in t for t in prepared.files.values())
    first = prepared.run(workdir=tmp_path / "build")
    assert first.ok, first.table()
    reports = {
        n: evaluate(case["head"], _run(tmp_path / "build" / "fad_check", n)) for n in (1, 2, 4)
    }
    for n, report in reports.items():
        assert report.ok, f"{n} threads:\n{report.table()}"
    one = {(r.test, r.direction): r.a for r in reports[1].rows}
    two = {(r.test, r.direction): r.a for r in reports[2].rows}
    adjoint = [k for k in one if k[0] in ("fd_adjoint", "dot_product")]
    assert len(adjoint) >= 3  # one per random direction
    for key in adjoint:
        assert two[key] == pytest.approx(one[key], rel=1e-12, abs=0.0), key


@pytest.mark.gfortran
def test_forced_atomics_pass_the_check() -> None:
    cfg = next(s for s in SAMPLES if s["name"] == "omp_stencil")
    report = api.check(
        [], sample=cfg["dir"] / "sample.toml", head="heat3d_run", modes="reverse", omp_atomic=True
    )
    assert report.ok, report.table()


SERIAL = """\
module plain
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine smooth(n, x, y, cost)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y(n), cost
    integer :: i
    y = 0.0_dp
    do i = 2, n - 1
      y(i) = x(i - 1)*x(i) + sin(x(i + 1))
    end do
    do i = 2, n
      y(i) = y(i) + y(i - 1)*0.5_dp
    end do
    cost = sum(y**2)
  end subroutine smooth
end module plain
"""


@pytest.mark.gfortran
def test_parallelize_adjoint_of_a_proved_loop(tmp_path: Path) -> None:
    src = tmp_path / "plain.f90"
    src.write_text(SERIAL)
    out = tmp_path / "out"
    args = [str(src), "--wrt", "x", "--of", "cost", "--parallelize-adjoint", "-o", str(out)]
    assert cli.main(args) == 0
    text = (out / "plain_b.f90").read_text().split("backward sweep", 1)[1]
    regions = "".join(_parallel_regions(text))
    assert "xb(i) = xb(i) + x(i - 1)*yb(i)" in regions  # the smoothing loop is parallel
    assert "yb(i - 1) = yb(i - 1) + 0.5_dp*" in text  # the recurrence is not
    assert "yb(i - 1) = yb(i - 1) + 0.5_dp*" not in regions
    assert "reduction(+:" not in regions  # sum's adjoint only reads the seed
    tangent_free = api.check(
        [str(src)],
        wrt="x",
        of="cost",
        head="smooth",
        modes="reverse",
        sizes={"n": 9},
        parallelize_adjoint=True,
    )
    assert tangent_free.ok, tangent_free.table()


def test_no_tape_inside_generated_parallel_loops_of_vector_reverse(tmp_path: Path) -> None:
    """vector-reverse keeps adjoint loops serial, and forward-sweep loops that record values
    lose their directive (the tape is per thread)."""
    cfg = next(s for s in SAMPLES if s["name"] == "omp_scatter")
    case = cfg["case"][0]
    out = tmp_path / "gen"
    args = [*map(str, sample_sources(cfg)), "--head", case["head"], "--wrt", "w,x"]
    assert cli.main([*args, "--of", "cost", "--mode", "vector-reverse", "-o", str(out)]) == 0
    text = (out / "edges_bv.f90").read_text()
    for r in _parallel_regions(text):
        assert "fad_push" not in r and "fad_pop" not in r
    routine = load([str(p) for p in sample_sources(cfg)])[0].units[0].routines[0]
    assert (
        sum(isinstance(s, ir.Do) and s.parallel is not None for s in walk_stmts(routine.body)) == 3
    )


def test_derivatives_updated_by_calls_are_reduced(tmp_path: Path) -> None:
    """A call in a parallel adjoint loop that increments whole shared derivatives (intent(in)
    dummies of the callee) makes them reduction variables; own-column actuals stay shared."""
    cfg = next(s for s in SAMPLES if s["name"] == "radiation_column")
    text = _generate(cfg, cfg["case"][0], tmp_path, "--parallelize-adjoint")
    head = next(r for r in _parallel_regions(text) if "channel_radiance_b" in r)
    assert "reduction(+:t_surfb, tempb, wvpb)" in head
    column = next(s for s in SAMPLES if s["name"] == "omp_column")
    text = _generate(column, column["case"][0], tmp_path / "column")
    region = next(r for r in _parallel_regions(text) if "column_step_b" in r)
    assert "reduction" not in region and "tb(:, ic)" in region


def test_directive_right_after_the_declarations(tmp_path: Path) -> None:
    """fparser files a directive that follows the declarations under the specification part;
    it still belongs to the loop (default(none) is dropped in the tangent: its derivatives are
    shared)."""
    src = tmp_path / "first.f90"
    src.write_text(
        "subroutine first(n, u, v)\n  integer, intent(in) :: n\n  real(8), intent(in) :: u(n)\n"
        "  real(8), intent(out) :: v(n)\n  real(8) :: t\n  integer :: i\n"
        "  !$omp parallel do default(none) shared(u, v, n) private(t)\n  do i = 1, n\n"
        "    t = sin(u(i))\n    v(i) = t*u(i)\n  end do\n  !$omp end parallel do\n"
        "end subroutine first\n"
    )
    routine = load([str(src)])[0].units[0]
    assert not any(isinstance(x, ir.CommentSpec) for x in routine.spec)
    (loop,) = routine.body
    assert loop.parallel == ir.Parallel(
        "parallel do", private=("t",), shared=("u", "v", "n"), default="none"
    )
    assert (
        cli.main([str(src), "--wrt", "u", "--of", "v", "--mode", "forward", "-o", str(tmp_path)])
        == 0
    )
    text = (tmp_path / "first_d.f90").read_text()
    assert "!$omp parallel do private(t, td) shared(u, ud, v, vd, n)\n" in text


MATMUL_IN_PARALLEL = """\
subroutine p(n, a, x, y, cost)
  implicit none
  integer, intent(in) :: n
  real(8), intent(in) :: a(n, n), x(n, n)
  real(8), intent(out) :: y(n, n), cost
  integer :: j
  !$omp parallel do
  do j = 1, n
    y(:, j) = matmul(a, x(:, j))
  end do
  cost = sum(y**2)
end subroutine p
"""


@pytest.mark.gfortran
def test_lowering_temporaries_in_parallel_loops_are_private(tmp_path: Path, monkeypatch) -> None:
    """The MATMUL of an iteration is lowered to loops over a temporary column: each thread
    needs its own (it was shared: a race that failed the tangent check about 1 run in 4)."""
    src = tmp_path / "p.f90"
    src.write_text(MATMUL_IN_PARALLEL)
    for mode, stem in (("forward", "p_d"), ("reverse", "p_b")):
        out = tmp_path / mode
        assert (
            cli.main([str(src), "--wrt", "a,x", "--of", "cost", "--mode", mode, "-o", str(out)])
            == 0
        )
        text = (out / f"{stem}.f90").read_text()
        directives = [ln for ln in text.splitlines() if "!$omp parallel do" in ln]
        assert directives and all("fad_mm1" in ln for ln in directives), directives
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    report = api.check(src, wrt="a,x", of="cost", head="p", sizes={"n": 48},
                       modes=("reverse", "forward"), directions=2)  # fmt: skip
    assert report.ok, report.error or report.table()


SHARED_RECORD = """\
module ps
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine syrk_omp(n, m, alpha, beta, a, c, cost)
    integer, intent(in) :: n, m
    real(dp), intent(in) :: alpha, beta, a(n, m)
    real(dp), intent(inout) :: c(n, n)
    real(dp), intent(out) :: cost
    integer :: i, j, k
    !$omp parallel do private(i, k)
    do j = 1, n
      do i = j, n
        c(i, j) = c(i, j)*beta
      end do
      do k = 1, m
        do i = j, n
          c(i, j) = c(i, j) + alpha*a(i, k)*a(j, k)*c(i, j)
        end do
      end do
    end do
    !$omp end parallel do
    cost = sum(c)
  end subroutine syrk_omp
end module ps
"""


def test_rerun_recording_a_whole_shared_array_runs_serially(tmp_path: Path, monkeypatch) -> None:
    """The re-run of an iteration records the whole shared ``c`` around its inner loops; in
    parallel one thread's pop would overwrite the columns other threads are updating (the
    gradient was off by 7e-4 relative at 2 threads, and by 1e2 for NPBench's syrk at preset M
    with --parallelize-adjoint). That adjoint loop runs serially, and says why."""
    src = tmp_path / "ps.f90"
    src.write_text(SHARED_RECORD)
    assert cli.main([str(src), "--wrt", "alpha,beta,a,c", "--of", "cost", "-o", str(tmp_path)]) == 0
    text = (tmp_path / "ps_b.f90").read_text()
    backward = text.split("backward sweep", 1)[1]
    assert "runs serially: the re-run iteration records the shared 'c'" in backward
    assert "!$omp parallel do" not in backward
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    report = api.check(src, wrt="alpha,beta,a,c", of="cost", head="syrk_omp",
                       sizes={"n": 200, "m": 6}, ranges={"alpha": (0.1, 0.2), "beta": (0.9, 1.0)},
                       modes=("reverse",))  # fmt: skip
    assert report.ok, report.error or report.table()


@pytest.mark.parametrize("threads", ["1", "2"])
def test_parallelized_stencil_with_offsets_and_reruns(threads: str, monkeypatch) -> None:
    """NPBench's hdiff under --parallelize-adjoint (found by the runner's 2-thread column): the
    ``lap`` loop's adjoint gathers in_field increments at j+2 and j, whose buffers each
    iteration writes at its base offset j+1 and must zero there (it zeroed j: the next
    iteration wiped the previous one's increments); the ``flx`` loop's re-run reads ``lap``,
    which every k overwrites, so ``lap`` is needed and saved (it was not). Both were wrong at
    1 thread already."""
    monkeypatch.setenv("OMP_NUM_THREADS", threads)
    npb = SAMPLES_DIR / "npbench"
    report = api.check([npb / "npb_kinds.f90", npb / "npb_weather.f90"], wrt="in_field,coeff",
                       of="cost", head="hdiff", sizes={"ni": 24, "nj": 20, "nk": 6},
                       ranges={"in_field": (0.0, 1.0), "coeff": (0.0, 1.0)},
                       modes=("reverse",), parallelize_adjoint=True)  # fmt: skip
    assert report.ok, report.error or report.table()
