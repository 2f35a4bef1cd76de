"""Small generated kernels for scripts/calibrate_costs.py: the latency of one operation on a
dependence chain, and the tape's byte rate for a tape that fits the last-level cache and for
one far beyond it. Real gfortran -O3 -march=native runs, the process's CPU time, best of 3."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench_adjoint import FLAGS

from fortran_ad.runtime import TAPE_SOURCE

CHAIN = 20_000_000  # iterations of each latency chain
# operation -> (the chain's statement, operations of the chain counted besides it)
CHAINS = {
    "+": ("s = s + x(j)", ()),
    "*": ("s = s*x(j)", ()),
    "/": ("s = x(j)/s", ()),
    "sqrt": ("s = sqrt(s + x(j))", ("+",)),
    "exp": ("s = exp(-s)*x(j)", ("*",)),
    "**": ("s = (s + x(j))**0.875_real64", ("+",)),
    "mod": ("m = mod(m + j, 7)", ()),
}

LATENCY_BENCH = """\
program fad_latency
  use iso_fortran_env, only: real64
  implicit none
  integer, parameter :: n = 1024, reps = {reps}
  real(real64) :: x(n), s, t0, t1, best({nops})
  integer :: j, r, k, m, op
  do j = 1, n
    x(j) = 1.0_real64 + merge(1.0e-7_real64, -1.0e-7_real64, mod(j, 2) == 0)
  end do
  best = huge(1.0_real64)
  s = 1.0_real64
  m = 0
  do k = 1, 3
{cases}
  end do
  print '({nops}es16.8,es12.4,i12)', best / (real(n, real64)*reps), s, m
end program fad_latency
"""

CASE = """\
    op = {op}
    call cpu_time(t0)
    do r = 1, reps
      do j = 1, n
        {stmt}
      end do
    end do
    call cpu_time(t1)
    best(op) = min(best(op), t1 - t0)
"""


def latencies(work: Path) -> dict[str, float]:
    """Seconds per operation on a chain: each kernel's time per iteration less the latencies
    of the other operations in its chain (an integer add in ``mod``'s is free)."""
    names = list(CHAINS)
    cases = "".join(CASE.format(op=i + 1, stmt=CHAINS[n][0]) for i, n in enumerate(names))
    src = LATENCY_BENCH.format(reps=CHAIN // 1024, nops=len(names), cases=cases)
    (work / "latency.f90").write_text(src)
    exe = work / "latency"
    cmd = ["gfortran", *FLAGS, "latency.f90", "-o", str(exe)]
    subprocess.run(cmd, cwd=work, check=True, capture_output=True)
    out = subprocess.run([str(exe)], cwd=work, check=True, capture_output=True, text=True)
    t = dict(zip(names, (float(x) for x in out.stdout.split()[: len(names)]), strict=True))
    lat = {}
    for n in names:
        lat[n] = max(t[n] - sum(t[o] for o in CHAINS[n][1]), 1e-12)
    return lat


TAPE_BYTES = """\
program fad_tape_bytes_rate
  use iso_fortran_env, only: int64, real64
  use fad_tape
  implicit none
  integer, parameter :: m = 4096
  integer(int64), parameter :: resident = {resident}_int64, moved = {moved}_int64
  integer(int64) :: i, r, per, reps
  real(real64) :: a(m), s, t0, t1, best
  integer :: k
  call fad_tape_set_limit(huge(0_int64))
  a = 1
  s = 0
  per = resident / (8_int64*m)
  reps = max(1_int64, moved / resident)
  best = huge(1.0_real64)
  do k = 1, 3
    call cpu_time(t0)
    do r = 1, reps
      do i = 1, per
        a(1) = a(1) + 1.0_real64
        call fad_push(a)
      end do
      do i = 1, per
        call fad_pop(a)
        s = s + a(1)
      end do
    end do
    call cpu_time(t1)
    best = min(best, (t1 - t0) / real(reps*per*8_int64*m, real64))
  end do
  print '(es16.8,es12.4)', best, s
end program fad_tape_bytes_rate
"""


def byte_rate(work: Path, resident: int, moved: int) -> float:
    """Seconds per byte pushed and popped (4096-element real64 arrays) with ``resident`` bytes
    on the tape at its peak, ``moved`` bytes in all (the best of three, so the stack's
    capacity is allocated already, as in the benchmarks' timed runs)."""
    (work / "fad_tape.f90").write_text(TAPE_SOURCE.read_text())
    (work / "bytes.f90").write_text(TAPE_BYTES.format(resident=resident, moved=moved))
    exe = work / f"bytes_{resident}"
    cmd = ["gfortran", *FLAGS, "fad_tape.f90", "bytes.f90", "-o", str(exe)]
    subprocess.run(cmd, cwd=work, check=True, capture_output=True)
    out = subprocess.run([str(exe)], cwd=work, check=True, capture_output=True, text=True)
    return float(out.stdout.split()[0])
