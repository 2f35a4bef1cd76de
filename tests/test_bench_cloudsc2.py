"""scripts/bench/cloudsc2.py: fortran-ad's CLOUDSC2 tangent and adjoint against ECMWF's.

The pure-Python pieces (arguments, the driver's argument lists, the emptied-routine check, the
parsing of the driver's output and the explanations in the tables) are tested in-process. The
real benchmark needs ECMWF's dwarf-p-cloudsc2-tl-ad snapshot, which the project does not ship:
it runs, at a tiny size, when FORTRAN_AD_CLOUDSC2_SRC names the snapshot.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

BENCH = REPO_ROOT / "scripts" / "bench"
sys.path.insert(0, str(BENCH))

import cloudsc2  # noqa: E402
import cloudsc2_build as build  # noqa: E402
import cloudsc2_driver as driver  # noqa: E402
import cloudsc2_tables as tables  # noqa: E402

SRC = os.environ.get("FORTRAN_AD_CLOUDSC2_SRC")


def test_arguments_defaults_and_rejections(capsys: pytest.CaptureFixture[str]) -> None:
    args = cloudsc2.parse_args(["--src", "/x"])
    assert (args.nproma, args.nlev, args.blocks, args.reps, args.evap) == (100, 137, 4, 7, False)
    assert args.src == Path("/x")
    for bad in (["--src", "/x", "--nproma", "0"], ["--src", "/x", "--nlev", "5"], []):
        with pytest.raises(SystemExit) as exc:
            cloudsc2.parse_args(bad)
        assert exc.value.code == 2
    assert "--nlev must be at least 10" in capsys.readouterr().err


def _refs(call: str) -> list[tuple[str, int]]:
    return [(a, int(k)) for a, k in re.findall(r"\b(\w+)\(:,:,(\d+),ib\)", call)]


def test_call_lists_follow_the_dummy_order() -> None:
    plain = _refs(driver.call_plain("cloudsc2", "x", "y"))
    assert len(plain) == 26 and plain[:11] == [("x", k) for k in range(1, 12)]
    # PTENT is CLOUDSC2's 12th dummy and its first output; PGTENT (13th) is the 12th input
    assert plain[11] == ("y", 1) and plain[12] == ("x", 12) and plain[25] == ("y", 10)
    pairs = _refs(driver.call_pairs("cloudsc2_d", "x", "dx", "y", "yd"))
    assert (
        pairs[0::2] == plain and [({"dx": "x", "yd": "y"}[a], k) for a, k in pairs[1::2]] == plain
    )
    traj = _refs(driver.call_traj("cloudsc2tl", "x", "y5", "dx", "yd"))
    assert traj[:26] == [("y5" if a == "y" else a, k) for a, k in plain]
    assert traj[26:] == [("dx" if a == "x" else "yd", k) for a, k in plain]


def test_an_emptied_tangent_is_detected(tmp_path: Path) -> None:
    body = "\n".join(f"  {o.lower()}d(jl, jk) = 0.0_jprb" for o in driver.OUTPUTS[1:])
    (tmp_path / "cloudsc2_d.f90").write_text(f"subroutine cloudsc2_d()\n{body}\nend\n")
    assert build.emptied(tmp_path) == ["PTENT"]


def _lines(
    psupsat_ratio: float = driver.TSPHY, mf_off_ties: float = 1e-15, dot: float = 1.0
) -> list[str]:
    out = [f"TL {k} 1e-16 1e-7 1e-7 1e-16 1e-7" for k in range(1, 11)]
    out += [f"AD {k} 1e-15 1e-15 1.0" for k in range(1, 17)]
    out[10 + 9] = f"AD 10 1.0 {mf_off_ties} 1e-8"
    out[10 + 10] = f"AD 11 1.0 {mf_off_ties} 1e-8"
    out[10 + 15] = f"AD 16 1.0 1.0 {psupsat_ratio}"
    out += [f"DOT gen 2.0 {2.0 * dot}", "DOT hand 3.0 3.00001", "DOT hand0 3.0 3.0"]
    out += ["TIME nl 0.010", "TIME nl 0.030", "TIME nl 0.011", "TIME gen_ad 0.044", "TAPE 2097152"]
    return out


def test_known_differences_are_explained_by_the_numbers() -> None:
    res = tables.parse(_lines())
    assert res.ok
    assert res.ad_note("PTM1") == "agree"
    assert res.ad_note("PSUPSAT").startswith("ECMWF AD: PSUPSAT = PTSPHY*adj")
    assert res.ad_note("PMFU").startswith("MIN tie") and res.ad_note("PMFD").startswith("MIN tie")
    assert res.median_ms("nl") == pytest.approx(11.0)
    assert res.dot_error("hand") == pytest.approx(1e-5 / 3.00001)
    text = tables.report(res, "title")
    assert "Verdict: OK" in text and "2.00 MiB" in text and "4.00x" in text


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"psupsat_ratio": 1.0}, "PSUPSAT"), ({"mf_off_ties": 1e-3}, "PMFU")],
)
def test_a_difference_the_numbers_do_not_explain_fails(kwargs: dict, name: str) -> None:
    res = tables.parse(_lines(**kwargs))
    assert res.ad_note(name) == "UNEXPLAINED" and not res.ok
    assert "FAILED" in tables.report(res, "t")


def test_a_failing_generated_dot_product_fails() -> None:
    res = tables.parse(_lines(dot=1.0 + 1e-8))
    assert not res.ok


def test_missing_rows_fail() -> None:
    res = tables.parse([ln for ln in _lines() if not ln.startswith("TL 3 ")])
    assert not res.ok


def test_table_columns_are_aligned() -> None:
    text = tables.table(["a", "bb"], [["long cell", "x"], ["y", "zzz"]])
    lines = text.splitlines()
    assert [ln.index("x") for ln in lines if ln.endswith("x")] == [lines[0].index("bb")]
    assert lines[1] == "-" * 9 + "  " + "-" * 3


@pytest.mark.gfortran
@pytest.mark.skipif(
    SRC is None, reason="FORTRAN_AD_CLOUDSC2_SRC (ECMWF's dwarf-p-cloudsc2-tl-ad) not set"
)
def test_benchmark_runs_on_the_snapshot(tmp_path: Path) -> None:
    cmd = [sys.executable, str(BENCH / "cloudsc2.py"), "--src", str(SRC), "--nproma", "8"]
    cmd += ["--nlev", "30", "--blocks", "2", "--reps", "1", "--evap", "--work", str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verdict: OK" in proc.stdout and "UNEXPLAINED" not in proc.stdout
    gen = next(ln for ln in proc.stdout.splitlines() if ln.startswith("generated _d / _b"))
    assert float(gen.split()[-1]) < 1e-10
    rows = [ln.split() for ln in proc.stdout.splitlines()]
    assert sum(r[:1] in ([i] for i in driver.INPUTS) for r in rows) == 16
    assert "unmodified sources" in proc.stdout and "WARNING" not in proc.stdout
