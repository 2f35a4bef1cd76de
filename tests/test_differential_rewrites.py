"""Differential testing of the adjoint's loop rewrites (fortran_ad/checks/fuzzgen/differential.py).

* a batch of fuzz programs: the adjoint with all loop rewrites equals the plain adjoint
  (1e-12 relative per element), and the rewrites fired in it;
* the check catches a broken rewrite: with the old rule for backward loops run forwards
  (private scalars keep the last forward iteration's value) it reports a disagreement and
  bisects it to the rewrite ``forwards``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad.ad.rewrites import forwards
from fortran_ad.checks.fuzzgen import generate
from fortran_ad.checks.fuzzgen.differential import differential
from fortran_ad.checks.fuzzgen.program import Batch
from fortran_ad.checks.fuzzgen.run import check_batch

SEEDS = range(100, 110)  # programs in which simd, reduce, forwards, fission, block_tape fire
HUNTED = range(285, 290)  # input counters read after loops that run forwards

COUNTER = """\
module counters
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine head(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(2*n + 2)
    real(dp), intent(out) :: y
    real(dp) :: p(n), t(n, 2)
    integer :: i, m, cnt
    cnt = 1
    do i = 1, n
      p(i) = 2*x(cnt)
      do m = 1, 2
        t(i, m) = 3*x(cnt)*x(cnt)
        cnt = cnt + 1
      end do
    end do
    y = sum(p*p) + sum(t*t)
  end subroutine head
end module counters
"""


@pytest.mark.gfortran
def test_fuzz_batch_agrees_with_the_plain_adjoint(tmp_path: Path) -> None:
    results = check_batch(list(SEEDS), tmp_path, modes=())
    bad = [r for r in results if r.status != "passed"]
    assert not bad, "\n\n".join(f"seed {r.seed}: {r.status} {r.detail[-2000:]}" for r in bad)
    fired = dict(results[0].fired)
    assert {"simd", "forwards", "block_tape"} <= set(fired), fired


def _old_rule(loop, private, forward, temps=frozenset()):  # scalars keep the last forward value
    return []


@pytest.mark.gfortran
def test_broken_rewrite_is_caught_and_blamed(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "counters.f90"
    src.write_text(COUNTER)
    args = (src, "head", ["x"], ["y"], {"n": 2})
    assert differential(*args, tmp_path / "fixed").status == "agree"
    monkeypatch.setattr(forwards, "settle", _old_rule)
    d = differential(*args, tmp_path / "broken")
    assert d.status == "differ", d.detail
    assert "forwards" in d.guilty and d.where == ("xb",), d.detail


@pytest.mark.gfortran
def test_broken_rewrite_is_caught_in_fuzz_programs(tmp_path: Path, monkeypatch) -> None:
    """The same mutation in generated programs (input counters): reported as "differs"."""
    monkeypatch.setattr(forwards, "settle", _old_rule)
    seeds = list(HUNTED)
    results = check_batch(seeds, tmp_path, modes=())
    assert any(r.status == "differs" and "forwards" in r.guilty for r in results), [
        (r.seed, r.status, r.detail[-500:]) for r in results
    ]
    assert "kk = mod(kk" in Batch(tuple(generate(s, suffix=f"_{s}") for s in seeds)).source()
