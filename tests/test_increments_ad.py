"""Adjoints of increments ``v(e1) = v(e1) + f(v(e2))`` (ad/rewrites/distinct.py).

Where the bounds of the enclosing loops prove ``e1 /= e2`` the adjoint leaves ``vb(e1)``
alone and only increments the adjoints of ``f``'s operands (no ``t = vb; vb = 0; vb = vb + t``),
and the read of ``vb(e1)`` leaves the backward loop, so its iterations are independent.
tests/data/loop_opt/increments.f90 has loops where this must happen and loops where the
elements can meet and it must not; values are checked against finite differences and the
dot-product identity, once as generated and once with the legality test removed (which must
then fail: the check can tell).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad import api, cli

SRC = Path(__file__).parent / "data" / "loop_opt" / "increments.f90"
ARGS = ["--head", "head", "--wrt", "a,x,w", "--of", "cost"]
CHECK = dict(
    wrt="a,x,w",
    of="cost",
    head="head",
    sizes={"n": 6},
    ranges={"a": (-0.5, 0.5), "x": (-0.9, 0.9), "w": (0.2, 0.6)},
    modes=("reverse",),
)


@pytest.fixture(scope="module")
def adjoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("increments")
    assert cli.main([str(SRC), *ARGS, "-o", str(out)]) == 0
    return (out / "increments_b.f90").read_text()


def _adjoint_of(text: str, line: int) -> str:
    """The backward statements of source line ``line`` (up to the next adjoint comment)."""
    part = text.split(f"! adjoint of increments.f90:{line}\n", 1)[1]
    return part.split("! adjoint of", 1)[0]


def test_increment_keeps_the_adjoint_where_bounds_prove_other_elements(adjoint: str) -> None:
    for line in (16, 20, 32):  # k > i; k < i (negative step); k < j < i (outer bounds)
        body = _adjoint_of(adjoint, line)
        assert "fad_tmpb" not in body, (line, body)
        assert "fad_inv" in body, (line, body)  # vb(e1) read once, before the loop
    assert re.search(r"if \(n >= i \+ 1\) then\n\s*fad_inv\d+ = xb\(i\)", adjoint)
    assert "ab(i, k) = ab(i, k) - a(k, j)*fad_inv" in adjoint
    assert "ab(k, j) = ab(k, j) - a(i, k)*fad_inv" in adjoint


def test_increment_where_elements_may_meet_keeps_the_general_form(adjoint: str) -> None:
    for line in (24, 41):  # k = i happens; j - 1 + 1 = j lets k = i = j
        body = _adjoint_of(adjoint, line)
        assert re.search(r"fad_tmpb\d+ = (xb\(i\)|ab\(j, i\))\n", body), (line, body)
        assert "fad_inv" not in body


@pytest.mark.gfortran
def test_increment_adjoints_are_correct() -> None:
    report = api.check(SRC, **CHECK)
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_check_fails_without_the_legality_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation check: if every pair of elements counted as different, the loops whose
    elements meet would get a wrong adjoint, and the check must say so."""
    from fortran_ad.ad.rewrites import distinct

    monkeypatch.setattr(distinct, "differ", lambda a, b, loops: True)
    report = api.check(SRC, **CHECK)
    assert not report.ok


def test_accumulation_into_other_elements_is_recorded_once(adjoint: str) -> None:
    """ad/rewrites/block_tape.py keeps one record of a(i, j) around the k loop of line 32 (the
    adjoint reads only a(i, k) and a(k, j), which the outer bounds prove different); where x(k) may
    be x(i) (line 24) the overwritten values still go through a buffer."""
    assert re.search(r"call fad_push\(a\(i, j\)\)\n\s*do k = 1, j - 1\n", adjoint)
    assert re.search(r"do k = 1, n\n\s*fad_save\d+\(k\) = x\(i\)", adjoint)


def test_descending_loop_around_simd_loop_using_its_index_counts_up(adjoint: str) -> None:
    assert re.search(
        r"fad_top(\d+) = n \+ 1\n\s*do fad_rev(\d+) = 1, n\n\s*j = fad_top\1 - fad_rev\2\n",
        adjoint,
    )
    assert re.search(r"!\$omp simd reduction\(\+: fad_acc\d+\)\n\s*do i = j, n\n", adjoint)


def test_record_made_first_in_every_arm_moves_before_the_if(adjoint: str) -> None:
    """ad/rewrites/block_tape.py common_record: both arms of line 55's IF record x(i) first, so the
    record is made once before the IF and the loop pushes the slice; the next IF's arms record
    different elements and keep their records."""
    assert re.search(
        r"call fad_push\(x\(1:n\)\)\n\s*do i = 1, n\n\s*if \(w\(i\) > 0.4_dp\)", adjoint
    )
    assert re.search(r"then\n\s*call fad_push\(x\(i\)\)\n\s*x\(i\) = x\(i\)\*\*2\n", adjoint)
    assert re.search(r"else\n\s*call fad_push\(a\(i, 1\)\)\n\s*a\(i, 1\) = sin", adjoint)


def test_reduction_terms_share_one_sum_without_invariant_factors(adjoint: str) -> None:
    """ad/rewrites/reduce.py: x(j) leaves both terms of xb(j)'s reduction over i, which then share
    one accumulator of w(i)*ab(i, j)."""
    body = _adjoint_of(adjoint, 72)
    sums = re.findall(r"(fad_acc\d+) = \1 \+ (.*)\n", body)
    assert [s for _, s in sums] == ["w(i)*ab(i, j)"]
    acc = sums[0][0]
    assert f"xb(j) = xb(j) + x(j)*{acc} + x(j)*{acc}" in body


def test_increments_at_own_and_fixed_elements_share_one_simd_loop(adjoint: str) -> None:
    body = _adjoint_of(adjoint, 79)
    acc = re.search(r"!\$omp simd reduction\(\+: (fad_acc\d+)\)\n", adjoint.split(body)[0][-200:])
    assert acc is not None
    assert "xb(i) = xb(i) + x(j)*ab(i, j)" in body
    assert f"{acc[1]} = {acc[1]} + x(i)*ab(i, j)" in body
    assert f"xb(j) = xb(j) + {acc[1]}" in adjoint
    # line 85: x(i) may be x(j); the adjoint resets and reads xb(j) inside the loop: no simd
    assert "!$omp simd" not in _adjoint_of(adjoint, 84) + _adjoint_of(adjoint, 85)
    assert re.search(r"fad_tmpb\d+ = xb\(j\)\n", _adjoint_of(adjoint, 85))
