"""The command line itself: help, version, entry points, argument errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import run_cli

from fortran_ad import __version__
from fortran_ad.cli import SUBCOMMANDS, main


def test_help_lists_the_subcommands() -> None:
    proc = run_cli(["--help"])
    assert proc.returncode == 0, proc.stderr
    for name in ("diff", "roundtrip", "check"):
        assert name in proc.stdout
        assert SUBCOMMANDS[name] in proc.stdout
    assert "--wrt" in proc.stdout
    assert "usage: fortran-ad" in proc.stdout


def test_version() -> None:
    proc = run_cli(["--version"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"fortran-ad {__version__}"
    assert __version__ == "0.1.0"


@pytest.mark.parametrize("sub", ["diff", "roundtrip", "check"])
def test_subcommand_help(sub: str) -> None:
    proc = run_cli([sub, "--help"])
    assert proc.returncode == 0, proc.stderr
    assert "sources" in proc.stdout
    assert ("--wrt WRT" in proc.stdout) == (sub != "roundtrip")
    assert ("--sample SAMPLE" in proc.stdout) == (sub == "check")


def test_no_arguments_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "roundtrip" in capsys.readouterr().out


def test_roundtrip_needs_an_output_directory(tmp_path: Path) -> None:
    (tmp_path / "a.f90").write_text("program a\nend program a\n")
    proc = run_cli(["roundtrip", "a.f90"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "-o" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "fortran-ad"
    assert script.is_file(), f"{script} missing: is the package installed (pip install -e .)?"


def test_roundtrip_in_process_prints_written_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "a.f90"
    src.write_text("program a\n  real(8) :: x\n  x = 1.0d0\nend program a\n")
    out = tmp_path / "out"
    assert main(["roundtrip", str(src), "-o", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / "a.f90")]
    assert (out / "a.f90").read_text() == "program a\n  real(8) :: x\n  x = 1.0d0\nend program a\n"
