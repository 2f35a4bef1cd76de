"""Regression: parallel adjoints that keep the work on the threads (issue 30).

1. A copy loop ``u = unew`` after a parallel stencil loop made ``unew`` *needed* (what a
   re-run parallel iteration reads is saved), although the copy loop's adjoint never re-runs
   its iterations: the forward sweep pushed the whole of ``unew`` every time step, and popped it
   serially in the backward sweep. ``parallel_rerun.may_rerun`` now decides which loops can
   re-run; ``parallel.reverse_loop`` refuses, with a located internal error, a re-run it ruled out.
2. The stencil's increments at neighbouring ``j`` went to one buffer per offset, zeroed every
   iteration and added by gather loops after the adjoint loop (three extra passes per buffer
   per time step); they are now made in place in two colours of blocks
   (ad/parallel/colour.py), checked against the buffered form at 2 threads.
3. DO CONCURRENT ran on one thread in the forward sweep (gfortran does not parallelise it); the
   forward copy is now an OpenMP loop (rewrite ``concurrent_forward``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api, cli

STENCIL = """\
module heat
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine run(nx, ny, nt, kappa, u, cost)
    integer, intent(in) :: nx, ny, nt
    real(dp), intent(in) :: kappa(nx, ny)
    real(dp), intent(inout) :: u(nx, ny)
    real(dp), intent(out) :: cost
    real(dp) :: unew(nx, ny), uc, f
    integer :: i, j, t
    do t = 1, nt
      !$omp parallel do private(i, uc, f) schedule(static)
      do j = 3, ny - 2
        do i = 1, nx
          uc = u(i, j)
          f = kappa(i, j)*(1.0_dp + uc**2)
          unew(i, j) = uc + 0.05_dp*f*(u(i, j + 1) + u(i, j - 1) - 2*uc) &
                       + 0.01_dp*f*(u(i, j + 2) + u(i, j - 2) - 2*uc)
        end do
      end do
      !$omp end parallel do
      !$omp parallel do private(i)
      do j = 3, ny - 2
        do i = 1, nx
          u(i, j) = unew(i, j)
        end do
      end do
      !$omp end parallel do
    end do
    cost = sum(u**3)
  end subroutine run
end module heat
"""

COLUMNS = """\
module cols
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  pure subroutine relax(nz, a, b)
    integer, intent(in) :: nz
    real(dp), intent(inout) :: a(nz)
    real(dp), intent(in) :: b
    integer :: k
    do k = 2, nz
      a(k) = a(k) + b*sin(a(k - 1))
    end do
  end subroutine relax
  subroutine run(nz, ncol, nt, a, b, cost)
    integer, intent(in) :: nz, ncol, nt
    real(dp), intent(inout) :: a(nz, ncol)
    real(dp), intent(in) :: b(ncol)
    real(dp), intent(out) :: cost
    real(dp) :: s
    integer :: ic, step
    do step = 1, nt
      do concurrent (ic = 1:ncol)
        s = b(ic)**2
        call relax(nz, a(:, ic), s)
      end do
    end do
    cost = sum(a**2)
  end subroutine run
end module cols
"""

SIZES = {"nx": 5, "ny": 14, "nt": 3}  # 10 iterations of j: blocks of exactly W = 4 at 2 threads


def _generate(src: Path, wrt: str, out: Path, *flags: str) -> str:
    args = [str(src), "--head", "run", "--wrt", wrt, "--of", "cost", *flags, "-o", str(out)]
    assert cli.main(args) == 0
    return "".join(p.read_text() for p in sorted(out.glob("*_b.f90")))


def _adjoints(report) -> dict:
    rows = {(r.test, r.direction): r.a for r in report.rows}
    return {k: v for k, v in rows.items() if k[0] == "fd_adjoint"}


def test_copy_loop_source_is_not_recorded(tmp_path: Path) -> None:
    src = tmp_path / "heat.f90"
    src.write_text(STENCIL)
    text = _generate(src, "kappa,u", tmp_path / "out")
    forward, backward = text.split("! ---- backward sweep", 1)
    assert "call fad_push(u)" in forward  # the copy loop overwrites u, which the adjoint reads
    assert "fad_push(unew)" not in forward and "fad_pop(unew)" not in backward


@pytest.mark.gfortran
def test_colour_blocks_agree_with_buffers_at_2_threads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    src = tmp_path / "heat.f90"
    src.write_text(STENCIL)
    text = _generate(src, "kappa,u", tmp_path / "out")
    assert "even blocks of j, then odd ones, of at least 4 iterations" in text
    assert "fad_gather" not in text
    kw = {"wrt": "kappa,u", "of": "cost", "head": "run", "sizes": SIZES}
    coloured = api.check(src, modes=("reverse", "forward"), **kw)
    assert coloured.ok, coloured.error or coloured.table()
    buffered = api.check(src, modes=("reverse",), rewrites="-omp_colour", **kw)
    assert buffered.ok, buffered.error or buffered.table()
    a, b = _adjoints(coloured), _adjoints(buffered)
    assert len(a) >= 3 and a.keys() == b.keys()
    for key in a:
        assert a[key] == pytest.approx(b[key], rel=1e-12, abs=0.0), key


@pytest.mark.gfortran
@pytest.mark.parametrize("threads", ["1", "2"])
def test_concurrent_forward_copy_runs_on_threads(threads: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", threads)
    src = tmp_path / "cols.f90"
    src.write_text(COLUMNS)
    head = _generate(src, "a,b", tmp_path / "out").split("subroutine run_b", 1)[1]
    forward = head.split("! ---- backward sweep", 1)[0]
    assert "do concurrent" not in forward
    assert "!$omp parallel do private(ic, s) schedule(static)" in forward
    report = api.check(
        src, wrt="a,b", of="cost", head="run", sizes={"nz": 4, "ncol": 7, "nt": 2},
        modes=("reverse",),
    )  # fmt: skip
    assert report.ok, report.error or report.table()
