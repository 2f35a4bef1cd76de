"""Adjoint speed on calls inside loops (issue 29, item 1): only the head copies its outputs
aside and back (``fad_final``), and innermost-loop tape buffers are allocated once and reused,
not allocated and freed on every run of the loop.

Before: every joint call ``smooth_b`` in the head's backward sweep allocated, copied and freed ``x``
and ``w`` (the caller pops the snapshot right after anyway, ad/rewrites/callee_outputs.py), and
every buffered loop allocated and freed its ``fad_save`` buffer per run (per outer iteration, per
call). The derivatives, and the primal outputs the head leaves (the check's ``adjoint_primal`` row),
must be unchanged, also for a triangular loop whose buffer range changes every run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli

SRC = """\
module relax
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine smooth(n, x, w)
    integer, intent(in) :: n
    real(dp), intent(inout) :: x(n)
    real(dp), intent(out) :: w(n)
    real(dp) :: s
    integer :: i, j
    do i = 1, n
      s = 1.0_dp
      do j = 1, i
        s = s*cos(x(j)) + 0.1_dp*x(i)
      end do
      w(i) = s
    end do
    do i = 2, n
      x(i) = x(i)*x(i - 1) + 0.5_dp*w(i)
    end do
  end subroutine smooth

  subroutine run(n, nt, x, c)
    integer, intent(in) :: n, nt
    real(dp), intent(inout) :: x(n)
    real(dp), intent(out) :: c
    real(dp) :: w(n)
    integer :: it
    c = 0.0_dp
    do it = 1, nt
      call smooth(n, x, w)
      x = 0.5_dp*x + 0.1_dp*w*w
      c = c + sum(x*w)
    end do
  end subroutine run
end module relax
"""

ARGS = ["--head", "run", "--wrt", "x", "--of", "c,x"]


def _routines(text: str) -> dict[str, str]:
    found = re.findall(r"\n\s*subroutine (\w+)\((.*?)\n\s*end subroutine \1", text, re.S)
    return {name: body for name, body in found}


def _adjoint(tmp_path: Path, *extra: str) -> dict[str, str]:
    src = tmp_path / "relax.f90"
    src.write_text(SRC)
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
    assert cli.main([str(src), *ARGS, "--calls", "joint", *extra, "-o", str(out)]) == 0
    return _routines((out / "relax_b.f90").read_text())


def test_only_the_head_restores_outputs(tmp_path: Path) -> None:
    units = _adjoint(tmp_path)
    assert "fad_final" in units["run_b"]  # the head's interface promises the outputs
    assert "fad_final" not in units["smooth_b"]  # its caller pops x, w right after the call
    off = _adjoint(tmp_path, "--rewrites=-callee_outputs")
    assert "fad_final" in off["smooth_b"]


def test_loop_buffers_are_not_freed_per_run(tmp_path: Path) -> None:
    units = _adjoint(tmp_path)
    body = units["smooth_b"]
    assert "fad_save1" in body
    assert not re.search(r"^\s*deallocate\(fad_save", body, re.M), body
    assert re.search(r"ubound\(fad_save1, 1\) /= i\) deallocate\(fad_save1\)", body), body


@pytest.mark.gfortran
@pytest.mark.parametrize("calls", ["joint", "auto"])
def test_derivatives_and_primal_outputs(tmp_path: Path, calls: str) -> None:
    src = tmp_path / "relax.f90"
    src.write_text(SRC)
    report = api.check(
        [src], wrt="x", of="c,x", head="run", sizes={"n": 7, "nt": 3}, calls=calls,
        ranges={"x": (0.2, 0.9)}, modes=("reverse", "forward"),
    )  # fmt: skip
    assert report.ok, report.table()
    assert "adjoint_primal" in {r.test for r in report.rows}
