"""The binomial checkpointing schedules of the runtime (module fad_revolve in fad_tape.f90).

A Fortran program replays each plan on a model loop whose state is the iteration number, with
snapshots on the real tape, and checks every action against the rules: advances start from
the current state, reversals happen in the order n-1, ..., 0, each at the right state, the tape
holds at most c + 1 snapshots, and no iteration runs forward more than r + 1 times, r the
smallest repetition count with C(c + r, c) >= n (Griewank and Walther's bound).
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest
from conftest import GFORTRAN

from fortran_ad.checkpoint.ilp import repetitions, revolve_counts
from fortran_ad.runtime import TAPE_SOURCE

pytestmark = pytest.mark.gfortran

PROGRAM = """\
program replay
  use fad_tape
  use fad_revolve
  implicit none
  integer :: n, c, base, nact, a, kind, i1, i2, state, expect, held, most, i, copies
  integer, allocatable :: runs(:)
  do n = 1, 60
    do c = 0, 6
      allocate (runs(0:n - 1))
      runs = 0
      state = 0
      call fad_push(state)
      held = 1
      most = 1
      copies = 0
      expect = n - 1
      call fad_revolve_plan(n, c, base, nact)
      do a = 1, nact
        call fad_revolve_action(base, a, kind, i1, i2)
        select case (kind)
        case (fad_advance)
          if (state /= i1) error stop 'advance from the wrong state'
          do i = i1, i2 - 1
            runs(i) = runs(i) + 1
          end do
          state = i2
        case (fad_takeshot)
          copies = copies + 1
          call fad_push(state)
          held = held + 1
          most = max(most, held)
        case (fad_dropshot)
          call fad_pop(state)
          held = held - 1
        case (fad_restore)
          copies = copies + 1
          call fad_pop(state)
          call fad_push(state)
        case (fad_reverse)
          if (i1 /= expect .or. state /= i1) error stop 'reversal out of order'
          runs(i1) = runs(i1) + 1
          expect = expect - 1
        end select
      end do
      call fad_revolve_done()
      call fad_pop(state)
      if (expect /= -1) error stop 'not every iteration was reversed'
      if (fad_tape_bytes() /= 0) error stop 'snapshots left on the tape'
      write (*, '(6(i0, 1x))') n, c, most, maxval(runs), sum(runs), copies
      deallocate (runs)
    end do
  end do
end program replay
"""


def test_schedules_follow_the_rules_and_the_binomial_bound(tmp_path: Path) -> None:
    (tmp_path / "replay.f90").write_text(PROGRAM)
    exe = tmp_path / "replay"
    build = [GFORTRAN, "-fcheck=all", "-Wall", str(TAPE_SOURCE), "replay.f90", "-o", str(exe)]
    subprocess.run(build, cwd=tmp_path, check=True, capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [tuple(map(int, line.split())) for line in out.stdout.split("\n") if line.strip()]
    assert len(rows) == 60 * 7
    for n, c, most, runs, total, copies in rows:
        assert most <= c + 1, (n, c, most)
        # the cost model's counts: advances (every run but the reversal's) and snapshots
        # taken or restored (but the plan's first restore)
        assert revolve_counts(n, c) == (total - n, copies - 1), (n, c)
        r = repetitions(n, c) if c > 0 else n - 1
        assert runs <= r + 1, (n, c, runs, r)
        if c > 0 and n > 1:
            assert math.comb(c + r - 1, c) < n  # r is the smallest sufficient count
