"""Bad input through the real CLI (``python -m fortran_ad roundtrip ...`` in a subprocess).

Every case must exit 2 with a located diagnostic (``file:line:col: error: ...``, like a
compiler), never a Python traceback, and must leave the ``-o`` directory untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli

Proc = subprocess.CompletedProcess[str]
GOOD = "program ok\n  print *, 'ok'\nend program ok\n"


def assert_located_error(
    proc: Proc, file: str, line: int | None = None, col: int | None = None
) -> re.Match[str]:
    """Exit 2, stderr starts with ``file:line:col: error: ``, no traceback, nothing on stdout."""
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    pattern = rf"^{re.escape(file)}:(\d+):(\d+): error: \S"
    m = re.match(pattern, proc.stderr)
    assert m, f"stderr does not start with a located error for {file}:\n{proc.stderr}"
    if line is not None:
        assert int(m.group(1)) == line, proc.stderr
    if col is not None:
        assert int(m.group(2)) == col, proc.stderr
    assert proc.stdout == "", proc.stdout
    return m


def roundtrip(tmp_path: Path, *files: str, out: str = "out") -> Proc:
    return run_cli(["roundtrip", *files, "-o", out], cwd=tmp_path)


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    src = "subroutine s(x)\n  real :: x\n  x = = 1.0\nend subroutine s\n"
    (tmp_path / "bad.f90").write_text(src)
    proc = roundtrip(tmp_path, "bad.f90")
    assert_located_error(proc, "bad.f90", line=3)
    assert "syntax error" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_syntax_error_inside_a_module_procedure(tmp_path: Path) -> None:
    src = "module m\ncontains\n  subroutine s(x)\n    real :: x\n    do i = 1,\n  end subroutine\n"
    src += "end module\n"
    (tmp_path / "bad.f90").write_text(src)
    assert_located_error(roundtrip(tmp_path, "bad.f90"), "bad.f90", line=5)
    assert not (tmp_path / "out").exists()


def test_fixed_form_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "bad.f").write_text("      PROGRAM P\n      X = (1.0 +\n      END\n")
    assert_located_error(roundtrip(tmp_path, "bad.f"), "bad.f", line=2)


def test_missing_file(tmp_path: Path) -> None:
    proc = roundtrip(tmp_path, "nowhere.f90")
    assert_located_error(proc, "nowhere.f90", 1, 1)
    assert "no such file" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_directory_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / "src.f90").mkdir()
    assert_located_error(roundtrip(tmp_path, "src.f90"), "src.f90", 1, 1)


@pytest.mark.parametrize("content", ["", "\n\n   \n"], ids=["empty", "blank"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    (tmp_path / "empty.f90").write_text(content)
    proc = roundtrip(tmp_path, "empty.f90")
    assert_located_error(proc, "empty.f90", 1, 1)
    assert "empty" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_invalid_utf8_is_located_at_the_bad_byte(tmp_path: Path) -> None:
    (tmp_path / "latin1.f90").write_bytes(b"program p\n  print *, 'caf\xe9'\nend program p\n")
    proc = roundtrip(tmp_path, "latin1.f90")
    assert_located_error(proc, "latin1.f90", 2, 16)
    assert "UTF-8" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_binary_file(tmp_path: Path) -> None:
    (tmp_path / "blob.f90").write_bytes(b"program p\n\x00\x01\x02\nend program p\n")
    assert_located_error(roundtrip(tmp_path, "blob.f90"), "blob.f90")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Dear diary, today I wrote no Fortran at all.\nIt was great.\n", 1),
        ("import os\nprint('hello')\n", 2),
        ("<html><body>not fortran</body></html>\n", 1),
    ],
    ids=["prose", "python", "html"],
)
def test_non_fortran_text(tmp_path: Path, text: str, line: int) -> None:
    (tmp_path / "notes.f90").write_text(text)
    assert_located_error(roundtrip(tmp_path, "notes.f90"), "notes.f90", line=line)
    assert not (tmp_path / "out").exists()


def test_unknown_suffix(tmp_path: Path) -> None:
    (tmp_path / "prog.txt").write_text(GOOD)
    proc = roundtrip(tmp_path, "prog.txt")
    assert_located_error(proc, "prog.txt", 1, 1)
    assert "suffix" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_one_bad_file_writes_nothing(tmp_path: Path) -> None:
    """All or nothing: a good file before a bad one is not written either."""
    (tmp_path / "good.f90").write_text(GOOD)
    (tmp_path / "bad.f90").write_text("program q\n  x = = 1\nend program q\n")
    (tmp_path / "out").mkdir()
    proc = roundtrip(tmp_path, "good.f90", "bad.f90")
    assert_located_error(proc, "bad.f90", line=2)
    assert list((tmp_path / "out").iterdir()) == []


def assert_output_error(proc: Proc, out: str) -> None:
    """Errors about the output folder name it (there is no line to point at)."""
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    assert re.match(rf"^{re.escape(out)}(:\d+:\d+)?: error: \S", proc.stderr), proc.stderr
    assert proc.stdout == ""


def test_output_is_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "good.f90").write_text(GOOD)
    (tmp_path / "taken").write_text("keep me\n")
    proc = roundtrip(tmp_path, "good.f90", out="taken")
    assert_output_error(proc, "taken")
    assert (tmp_path / "taken").read_text() == "keep me\n"


def test_output_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "good.f90").write_text(GOOD)
    (tmp_path / "taken").write_text("keep me\n")
    proc = roundtrip(tmp_path, "good.f90", out="taken/sub")
    assert_output_error(proc, "taken/sub")
    assert (tmp_path / "taken").read_text() == "keep me\n"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores directory permissions"
)
def test_output_under_a_read_only_directory(tmp_path: Path) -> None:
    (tmp_path / "good.f90").write_text(GOOD)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = roundtrip(tmp_path, "good.f90", out="locked/out")
        assert_output_error(proc, "locked/out")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_good_input_still_works(tmp_path: Path) -> None:
    """The control case: the same invocation with a good file succeeds and writes it."""
    (tmp_path / "good.f90").write_text(GOOD)
    proc = roundtrip(tmp_path, "good.f90")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(Path("out") / "good.f90")]
    assert "program ok" in (tmp_path / "out" / "good.f90").read_text()
