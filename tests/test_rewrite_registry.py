"""The registry of optional loop rewrites (fortran_ad/ad/rewrites/__init__.py) and its switches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fortran_ad.ad import rewrites as rw
from fortran_ad.cli import build_parser
from fortran_ad.errors import FortranADError

ROOT = Path(__file__).resolve().parents[1]


def test_every_rewrite_states_a_precondition_and_has_a_switch() -> None:
    code = "\n".join(p.read_text() for p in (ROOT / "fortran_ad" / "ad").rglob("*.py"))
    gated = set(re.findall(r'rewrites\.on\(\w+, "(\w+)"\)', code))
    assert gated == set(rw.NAMES), set(rw.NAMES) ^ gated
    for r in rw.REWRITES:
        assert (ROOT / "fortran_ad" / r.module).exists(), r
        assert "ssume" in r.precondition, r.name  # what it assumes, in words
    assert len(set(rw.NAMES)) == len(rw.NAMES)


def test_selection_syntax() -> None:
    assert rw.enabled() == frozenset(rw.NAMES)
    assert rw.enabled(False) == {"common_record", "first_writes", "callee_outputs"}  # not loops
    assert rw.enabled(True, "-simd,-gather") == frozenset(rw.NAMES) - {"simd", "gather"}
    assert rw.enabled(False, "none,+forwards,simd") == {"forwards", "simd"}
    assert rw.enabled(True, "none,+fission") == {"fission"}
    with pytest.raises(FortranADError, match="unknown rewrite 'simdd'"):
        rw.enabled(True, "-simdd")


def test_cli_takes_a_selection() -> None:
    args = build_parser().parse_args(["diff", "a.f90", "--wrt", "x", "--rewrites=-simd,-gather"])
    assert args.rewrites == "-simd,-gather"
