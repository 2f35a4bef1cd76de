"""Bad differentiation requests through the real CLI (``python -m fortran_ad ...``).

Every case must exit 2, print a diagnostic naming the problem (``file:line:col: error: ...``
for problems in the sources, ``fortran-ad: error: ...`` for problems with the request), never a
Python traceback, and write nothing to the ``-o`` directory.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import run_cli

Proc = subprocess.CompletedProcess[str]

MODEL = """\
module model
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine step(n, x, label, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    character(len=*), intent(in) :: label
    real(dp), intent(out) :: y
    y = sum(x**2) + len(label)
  end subroutine step
end module model
"""

WHERE = """\
subroutine clip(n, x, y)
  implicit none
  integer, intent(in) :: n
  real(8), intent(inout) :: x(n, n)
  real(8), intent(out) :: y
  integer :: i
  forall (i = 1:n)
    where (x(:, i) > 0.5d0) x(:, i) = x(:, n + 1 - i)**2
  end forall
  y = sum(x)
end subroutine clip
"""

READ = """\
subroutine scale(x, y)
  implicit none
  real(8), intent(in) :: x
  real(8), intent(out) :: y
  real(8) :: t
  t = 2.0d0*x
  read (*, *) t
  y = t*x
end subroutine scale
"""

RECURSIVE = """\
recursive subroutine power(n, x, y)
  implicit none
  integer, intent(in) :: n
  real(8), intent(in) :: x
  real(8), intent(out) :: y
  real(8) :: t
  if (n <= 0) then
    y = x
  else
    call power(n - 1, x*x, t)
    y = 2.0d0*t
  end if
end subroutine power
"""

EXTERNAL = """\
subroutine wrap(x, y)
  implicit none
  real(8), intent(in) :: x
  real(8), intent(out) :: y
  external :: blackbox
  y = 0.0d0
  call blackbox(x, y)
  y = y*x
end subroutine wrap
"""

LOCATED = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$", re.M)
GLOBAL = re.compile(r"^fortran-ad(?: diff)?: error: (?P<msg>.+)$", re.M)


def run(tmp_path: Path, files: dict[str, str], args: list[str]) -> Proc:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return run_cli([*args, "-o", "out"], cwd=tmp_path)


def assert_failed_cleanly(proc: Proc, tmp_path: Path) -> None:
    """Exit 2, no traceback, nothing written to ``out``."""
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())


def located(proc: Proc, file: str, line: int | None = None) -> str:
    """The message of the first ``file:line:col: error:`` line (checked against file/line)."""
    m = LOCATED.search(proc.stderr)
    assert m, f"no file:line:col: error: line in stderr:\n{proc.stderr}"
    assert m["file"] == file, proc.stderr
    if line is not None:
        assert int(m["line"]) == line, proc.stderr
    assert int(m["col"]) >= 1, proc.stderr
    return m["msg"]


def global_error(proc: Proc) -> str:
    m = GLOBAL.search(proc.stderr)
    assert m, f"no 'fortran-ad: error:' line in stderr:\n{proc.stderr}"
    return m["msg"]


def any_error(proc: Proc) -> str:
    """The message of a located or a global error line, whichever is present."""
    m = LOCATED.search(proc.stderr) or GLOBAL.search(proc.stderr)
    assert m, f"no error line in stderr:\n{proc.stderr}"
    return m["msg"]


def test_unknown_wrt_name(tmp_path: Path) -> None:
    proc = run(tmp_path, {"model.f90": MODEL}, ["model.f90", "--wrt", "zeta", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = any_error(proc)
    assert "'zeta'" in msg or "(zeta)" in msg, msg
    assert "--wrt" in msg, msg


def test_unknown_wrt_name_with_head(tmp_path: Path) -> None:
    args = ["model.f90", "--head", "step", "--wrt", "zeta", "--of", "y"]
    proc = run(tmp_path, {"model.f90": MODEL}, args)
    assert_failed_cleanly(proc, tmp_path)
    msg = located(proc, "model.f90", line=5)
    assert "'zeta'" in msg and "--wrt" in msg and "not a dummy argument" in msg, msg


def test_unknown_of_name(tmp_path: Path) -> None:
    proc = run(tmp_path, {"model.f90": MODEL}, ["model.f90", "--wrt", "x", "--of", "cost"])
    assert_failed_cleanly(proc, tmp_path)
    msg = any_error(proc)
    assert "cost" in msg and "--of" in msg, msg


def test_unknown_of_name_with_head(tmp_path: Path) -> None:
    args = ["model.f90", "--head", "step", "--wrt", "x", "--of", "cost"]
    proc = run(tmp_path, {"model.f90": MODEL}, args)
    assert_failed_cleanly(proc, tmp_path)
    msg = located(proc, "model.f90", line=5)
    assert "'cost'" in msg and "--of" in msg, msg


def test_integer_wrt(tmp_path: Path) -> None:
    proc = run(tmp_path, {"model.f90": MODEL}, ["model.f90", "--wrt", "n,x", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = located(proc, "model.f90")
    assert "'n'" in msg and "integer" in msg, msg


def test_character_wrt(tmp_path: Path) -> None:
    proc = run(tmp_path, {"model.f90": MODEL}, ["model.f90", "--wrt", "label,x", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = located(proc, "model.f90")
    assert "'label'" in msg and "character" in msg, msg


def test_unknown_head(tmp_path: Path) -> None:
    args = ["model.f90", "--head", "nowhere", "--wrt", "x", "--of", "y"]
    proc = run(tmp_path, {"model.f90": MODEL}, args)
    assert_failed_cleanly(proc, tmp_path)
    msg = any_error(proc)
    assert "'nowhere'" in msg and "--head" in msg, msg


def test_no_source_files(tmp_path: Path) -> None:
    proc = run(tmp_path, {}, ["--wrt", "x", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = global_error(proc)
    assert "source" in msg.lower() or "FILES" in msg, msg


def test_no_source_files_explicit_diff(tmp_path: Path) -> None:
    proc = run(tmp_path, {}, ["diff", "--wrt", "x", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = global_error(proc)
    assert "sources" in msg.lower() or "FILES" in msg, msg


def test_where_inside_forall(tmp_path: Path) -> None:
    # WHERE nested in a FORALL is differentiated when it reads what it assigns only at the
    # same FORALL indices (tests/test_arrays_ad.py); reading other indices is not yet
    proc = run(tmp_path, {"clip.f90": WHERE}, ["clip.f90", "--wrt", "x", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = located(proc, "clip.f90", line=8)
    assert "FORALL" in msg.upper(), msg


def test_read_into_active_variable(tmp_path: Path) -> None:
    proc = run(tmp_path, {"scale.f90": READ}, ["scale.f90", "--wrt", "x", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = located(proc, "scale.f90", line=7)
    assert "READ" in msg.upper() and "'t'" in msg, msg


def test_recursion(tmp_path: Path) -> None:
    proc = run(tmp_path, {"power.f90": RECURSIVE}, ["power.f90", "--wrt", "x", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = located(proc, "power.f90")
    assert "recursi" in msg.lower() and "power" in msg, msg


def test_call_without_source(tmp_path: Path) -> None:
    proc = run(tmp_path, {"wrap.f90": EXTERNAL}, ["wrap.f90", "--wrt", "x", "--of", "y"])
    assert_failed_cleanly(proc, tmp_path)
    msg = located(proc, "wrap.f90", line=7)
    assert "'blackbox'" in msg, msg


def test_error_keeps_existing_output_untouched(tmp_path: Path) -> None:
    """A failing run into an existing directory leaves its files as they were."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (tmp_path / "wrap.f90").write_text(EXTERNAL)
    proc = run_cli(["wrap.f90", "--wrt", "x", "--of", "y", "-o", "out"], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"
