"""Adjoint/primal time ratios of the MPI sample (legacy_samples/mpi_diffusion) on 1, 2, 4 ranks.

    python scripts/bench_mpi.py [--n 24000] [--nt 200] [--ranks 1,2,4] [--head diff_run]

The global problem (n cells, nt steps) is the same for every rank count (n/P cells per rank).
A generated Fortran program times the primal and the adjoint (MPI_Wtime, the slowest rank,
best of --repeat runs) after one warm-up of each; it is built with mpif90 -O2 and run with
mpirun --oversubscribe (on a machine with fewer cores than ranks the times include
oversubscription, the ratio stays meaningful). Waiting ranks yield the core
(OMPI_MCA_mpi_yield_when_idle=1; --busy-poll keeps Open MPI's default): on a shared machine a
busy-polling rank can stall its partner for a whole time slice, which distorts the ratio.
Prints a table: ranks, primal s, adjoint s, ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fortran_ad import cli  # noqa: E402
from fortran_ad.checks import mpi as mpi_check  # noqa: E402

SAMPLE = ROOT / "legacy_samples" / "mpi_diffusion"

PROGRAM = """\
program bench_mpi
  use mpi
  use mpi_diffusion, only: dp, {head}
  use mpi_diffusion_b, only: {head}_b
  implicit none
  integer, parameter :: n = {n}, nt = {nt}, repeat = {repeat}
  real(dp), allocatable :: u(:), ub(:), u0(:)
  real(dp) :: kappa, kappab, cost, costb, t0, tp, ta, tbest(2)
  integer :: rank, nproc, nloc, i, r, ierr
  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nproc, ierr)
  nloc = n/nproc
  allocate(u(0:nloc + 1), ub(0:nloc + 1), u0(0:nloc + 1))
  u0 = 0.0_dp
  do i = 1, nloc
    u0(i) = 0.5_dp + 0.4_dp*sin(6.283185307179586_dp*(rank*nloc + i)/n)
  end do
  tbest = huge(1.0_dp)
  do r = 0, repeat
    u = u0
    kappa = 0.4_dp
    call MPI_Barrier(MPI_COMM_WORLD, ierr)
    t0 = MPI_Wtime()
    call {head}(nloc, nt, 0.05_dp, kappa, u, cost)
    tp = MPI_Wtime() - t0
    u = u0
    kappa = 0.4_dp
    kappab = 0.0_dp
    ub = 0.0_dp
    costb = merge(1.0_dp, 0.0_dp, rank == 0)
    call MPI_Barrier(MPI_COMM_WORLD, ierr)
    t0 = MPI_Wtime()
    call {head}_b(nloc, nt, 0.05_dp, kappa, kappab, u, ub, cost, costb)
    ta = MPI_Wtime() - t0
    call MPI_Allreduce(MPI_IN_PLACE, tp, 1, MPI_DOUBLE_PRECISION, MPI_MAX, MPI_COMM_WORLD, ierr)
    call MPI_Allreduce(MPI_IN_PLACE, ta, 1, MPI_DOUBLE_PRECISION, MPI_MAX, MPI_COMM_WORLD, ierr)
    if (r > 0) tbest = min(tbest, [tp, ta])
  end do
  if (rank == 0) write(*, '(a, 2es14.6)') 'TIMES', tbest
  call MPI_Finalize(ierr)
end program bench_mpi
"""


def build(head: str, n: int, nt: int, repeat: int, tmp: Path) -> Path:
    tools = mpi_check.tools()
    if tools is None:
        raise SystemExit("bench_mpi: mpif90/mpirun not found (scripts/setup.sh installs Open MPI)")
    gen = tmp / "gen"
    src = SAMPLE / "mpi_diffusion.f90"
    args = [str(src), "--head", head, "--wrt", "u,kappa", "--of", "cost", "-o", str(gen)]
    if cli.main(args) != 0:
        raise SystemExit("bench_mpi: generation failed")
    prog = tmp / "bench_mpi.f90"
    prog.write_text(PROGRAM.format(head=head, n=n, nt=nt, repeat=repeat))
    order = [src, gen / "fad_tape.f90", gen / "fad_mpi.f90", gen / "mpi_diffusion_b.f90", prog]
    exe = tmp / "bench_mpi"
    cmd = [tools[0], "-O2", "-J", str(tmp), *map(str, order), "-o", str(exe)]
    subprocess.run(cmd, cwd=tmp, check=True, capture_output=True, text=True)
    return exe


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24000, help="global cells (multiple of ranks)")
    ap.add_argument("--nt", type=int, default=200)
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--head", default="diff_run", choices=["diff_run", "diff_run_nb"])
    ap.add_argument("--busy-poll", action="store_true", help="Open MPI's default waiting")
    a = ap.parse_args(argv)
    env = dict(os.environ)
    if not a.busy_poll:
        env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    ranks = [int(r) for r in a.ranks.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-mpi-") as tmp:
        exe = build(a.head, a.n, a.nt, a.repeat, Path(tmp))
        print(f"{a.head}: n={a.n} cells, nt={a.nt} steps, best of {a.repeat}")
        print(f"{'ranks':>5} {'primal s':>12} {'adjoint s':>12} {'ratio':>7}")
        for p in ranks:
            cmd = [x for x in mpi_check.mpirun_command(p, exe) if x != "--tag-output"]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
            tp, ta = (float(x) for x in out.split("TIMES")[1].split())
            print(f"{p:>5} {tp:>12.4e} {ta:>12.4e} {ta / tp:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
