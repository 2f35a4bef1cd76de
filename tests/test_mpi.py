"""Adjoints and tangents of MPI programs (issue #13), run under mpirun (Open MPI).

* the derivative check (FD, dot product, Taylor) of every MPI sample case passes on several
  rank counts: the harness runs on every rank and the global sums are judged;
* the sample driver (the same global problem on 1, 2, 4 ranks) gathers the adjoint gradient:
  it is the same for every rank count and matches central finite differences;
* MPI routines fortran-ad has no rule for are a located error on active data.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import MPI_SAMPLES, RUN_TIMEOUT, sample_sources

from fortran_ad import cli
from fortran_ad.checks import mpi as mpi_check

TOOLS = mpi_check.tools()
pytestmark = [
    pytest.mark.gfortran,
    pytest.mark.skipif(TOOLS is None, reason="mpif90/mpirun missing (scripts/setup.sh installs)"),
]
SAMPLE = next(s for s in MPI_SAMPLES if s["name"] == "mpi_diffusion")
# (head, rank counts of the full check): the blocking exchange on 1 and 4 ranks, the
# non-blocking one on 2 (the driver test below runs both heads on 1, 2 and 4)
CHECKS = [("diff_run", 1), ("diff_run", 4), ("diff_run_nb", 2)]


@pytest.mark.parametrize(("head", "nprocs"), CHECKS, ids=[f"{h}-np{n}" for h, n in CHECKS])
def test_check_passes_under_mpirun(head: str, nprocs: int) -> None:
    from fortran_ad.checks.run import prepare_check
    from fortran_ad.driver import Options

    opts = Options(sources=tuple(map(str, sample_sources(SAMPLE))), head=head)
    prepared = prepare_check(opts, sample=SAMPLE["dir"] / "sample.toml", modes="reverse,forward")
    report = prepared.run(nprocs=nprocs)
    assert report.ok, report.table()
    assert {"fd_adjoint", "fd_tangent", "dot_product", "taylor"} <= {r.test for r in report.rows}


def _build_driver(head: str, tmp: Path) -> Path:
    """Primal, runtime, generated adjoint and the sample driver, built with mpif90."""
    assert TOOLS is not None
    out = tmp / "gen"
    srcs = [str(p) for p in sample_sources(SAMPLE)]
    rc = cli.main([*srcs, "--head", head, "--wrt", "u,kappa", "--of", "cost", "-o", str(out)])
    assert rc == 0
    order = [*srcs, out / "fad_tape.f90", out / "fad_mpi.f90", out / "mpi_diffusion_b.f90"]
    define = ["-DNONBLOCKING"] if head == "diff_run_nb" else []
    exe = tmp / "driver"
    cmd = [TOOLS[0], "-O2", "-fcheck=all", "-cpp", *define, "-J", str(tmp), *map(str, order)]
    cmd += [str(SAMPLE["dir"] / SAMPLE["driver"]), "-o", str(exe)]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    return exe


def _run(exe: Path, nprocs: int) -> dict[str, Any]:
    cmd = [a for a in mpi_check.mpirun_command(nprocs, exe) if a != "--tag-output"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out: dict[str, Any] = {"grad": {}, "fd": {}}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in ("GRAD", "FD"):
            out["grad" if parts[0] == "GRAD" else "fd"][int(parts[1])] = float(parts[2])
        elif parts and parts[0] in ("COST", "KAPPAB", "FDKAPPA"):
            out[parts[0]] = float(parts[1])
    return out


@pytest.mark.parametrize("head", ["diff_run", "diff_run_nb"])
def test_gradient_is_the_same_on_1_2_4_ranks_and_matches_fd(head: str, tmp_path: Path) -> None:
    exe = _build_driver(head, tmp_path)
    runs = {n: _run(exe, n) for n in SAMPLE["nprocs"]}
    one = runs[1]
    assert len(one["grad"]) == 48 and len(one["fd"]) == 4
    scale = max(abs(g) for g in one["grad"].values())
    for n, r in runs.items():
        assert r["COST"] == pytest.approx(one["COST"], rel=1e-13), n
        assert r["KAPPAB"] == pytest.approx(one["KAPPAB"], rel=1e-12), n
        for i, g in one["grad"].items():  # rank counts only change the summation order
            assert abs(r["grad"][i] - g) <= 1e-12 * scale, (n, i)
        for i, fd in r["fd"].items():
            assert r["grad"][i] == pytest.approx(fd, rel=1e-6, abs=1e-8), (n, i)
        assert r["KAPPAB"] == pytest.approx(r["FDKAPPA"], rel=1e-6), n


UNSUPPORTED = """\
subroutine gsum(n, x, y)
  use mpi
  implicit none
  integer, intent(in) :: n
  double precision, intent(in) :: x(n)
  double precision, intent(out) :: y(n)
  integer :: ierr
  call MPI_Scan(x, y, n, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD, ierr)
end subroutine gsum
"""


EXPRESSION_BUFFER = UNSUPPORTED.replace("MPI_Scan(x, y,", "MPI_Allreduce(2*x, y,")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (UNSUPPORTED, "MPI_Scan is not supported on active data"),
        (EXPRESSION_BUFFER, "MPI_Allreduce: the buffer '2*x' is not a variable"),
    ],
    ids=["unsupported-routine", "expression-buffer"],
)
def test_unsupported_mpi_use_on_active_data_is_a_located_error(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "gsum.f90"
    src.write_text(text)
    out = tmp_path / "out"
    args = [str(src), "--head", "gsum", "--wrt", "x", "--of", "y", "-o", str(out)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert f"{src}:8:" in err and message in err, err
    assert not out.exists() or not any(out.iterdir())


OPS = """\
module comm_ops
  use mpi
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  !> Every other recognised call on active data: blocking ring shift (MPI_Send/Recv),
  !> Isend/Irecv completed by single MPI_Wait calls, Reduce SUM and MIN to rank 0, Bcast.
  subroutine ops(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y(n)
    real(dp) :: a(n), b(n), s(n), m(n)
    integer :: rank, nproc, right, left, ierr, req1, req2
    call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
    call MPI_Comm_size(MPI_COMM_WORLD, nproc, ierr)
    right = mod(rank + 1, nproc)
    left = mod(rank - 1 + nproc, nproc)
    a = x**2
    call MPI_Send(a, n, MPI_DOUBLE_PRECISION, right, 7, MPI_COMM_WORLD, ierr)
    call MPI_Recv(b, n, MPI_DOUBLE_PRECISION, left, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE, ierr)
    b = b*x
    call MPI_Irecv(a, n, MPI_DOUBLE_PRECISION, right, 8, MPI_COMM_WORLD, req1, ierr)
    call MPI_Isend(b, n, MPI_DOUBLE_PRECISION, left, 8, MPI_COMM_WORLD, req2, ierr)
    call MPI_Wait(req2, MPI_STATUS_IGNORE, ierr)
    call MPI_Wait(req1, MPI_STATUS_IGNORE, ierr)
    s = 0.0_dp
    m = 0.0_dp
    call MPI_Reduce(a, s, n, MPI_DOUBLE_PRECISION, MPI_SUM, 0, MPI_COMM_WORLD, ierr)
    b = a + x
    call MPI_Reduce(b, m, n, MPI_DOUBLE_PRECISION, MPI_MIN, 0, MPI_COMM_WORLD, ierr)
    call MPI_Bcast(s, n, MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, ierr)
    call MPI_Bcast(m, n, MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, ierr)
    y = s*m + a
  end subroutine ops
end module comm_ops
"""

F77 = """\
      subroutine gsum(n, x, y)
      implicit none
      include 'mpif.h'
      integer n, ierr
      double precision x(n), y(n), t(n)
      t = x**3
      call MPI_Allreduce(t, y, n, MPI_DOUBLE_PRECISION, MPI_MAX,
     &                   MPI_COMM_WORLD, ierr)
      end
"""


@pytest.mark.parametrize(
    ("name", "text", "head", "nprocs"),
    [("ops.f90", OPS, "ops", 3), ("gsum.f", F77, "gsum", 2)],
    ids=["send-recv-wait-reduce-bcast-np3", "f77-mpif.h-allreduce-max-np2"],
)
def test_other_calls_check_under_mpirun(
    name: str, text: str, head: str, nprocs: int, tmp_path: Path
) -> None:
    from fortran_ad.checks.run import prepare_check
    from fortran_ad.driver import Options

    src = tmp_path / name
    src.write_text(text)
    opts = Options(sources=(str(src),), head=head, wrt=("x",), of=("y",), sizes={"n": 4})
    report = prepare_check(opts, modes="reverse,forward").run(nprocs=nprocs)
    assert report.ok, report.table()
    assert {"fd_adjoint", "fd_tangent", "dot_product", "taylor"} <= {r.test for r in report.rows}
