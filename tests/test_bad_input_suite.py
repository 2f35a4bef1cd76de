"""Bad input of every kind through the real CLI (``python -m fortran_ad`` in a subprocess).

One table of cases, one test: each case must exit 2 with a diagnostic of the expected kind,
print no Python traceback and write nothing (the working folder is byte-for-byte unchanged and
no ``-o`` folder appears). Kinds:

* ``located``: ``file:line:col: error: message`` for problems in a source file;
* ``global``: ``fortran-ad: error: message`` for requests that name no place in a file;
* ``usage``: argparse's usage error (exit 2) for malformed options;
* ``output``: ``<path>: error: message`` for an unusable ``-o``.

This complements tests/test_bad_input.py (roundtrip on unreadable files) and
tests/test_ad_errors.py (differentiation requests): cases here go through ``diff`` and
``check`` and the option parser, and cover the unsupported constructs in active code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import run_cli

MODEL = """\
module model
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp) :: gmod
contains
  subroutine step(n, x, flag, k, z, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    logical, intent(in) :: flag
    integer, intent(inout) :: k(n)
    complex(dp), intent(in) :: z
    real(dp), intent(out) :: y
    real(dp) :: loc
    loc = sum(x**2)
    if (flag) loc = loc + real(k(1), dp)
    y = loc + real(z)
  end subroutine step
end module model
"""

GOOD = """\
module good
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine energy(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    y = sum(x**2)
  end subroutine energy
end module good
"""


def scalar(body: str, decls: str = "", name: str = "s") -> str:
    """``subroutine s(x, y)`` with x in, y out, extra declarations and a body."""
    return (
        f"subroutine {name}(x, y)\n  implicit none\n  real(8), intent(in) :: x\n"
        f"  real(8), intent(out) :: y\n{decls}{body}end subroutine {name}\n"
    )


def arrays(body: str, decls: str = "") -> str:
    """``subroutine s(n, x, y)`` with x(n) inout, y out."""
    return (
        "subroutine s(n, x, y)\n  implicit none\n  integer, intent(in) :: n\n"
        f"  real(8), intent(inout) :: x(n)\n  real(8), intent(out) :: y\n{decls}{body}"
        "end subroutine s\n"
    )


POINTER = """\
module m
  implicit none
contains
  subroutine s(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in), target :: x(n)
    real(8), intent(out) :: y
    real(8), pointer :: p(:)
    integer :: i
    y = 0.0d0
    do i = 1, n
      p => x(i:n)
      y = y + sum(p**2)
    end do
  end subroutine s
end module m
"""

DERIVED = """\
module m
  implicit none
  type :: p_t
    real(8) :: u
  end type p_t
  type :: box_t
    type(p_t) :: ps(2)
  end type box_t
contains
  subroutine s(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    type(box_t) :: b
    b%ps(1)%u = 2.0d0*x
    y = b%ps(1)%u**2
  end subroutine s
end module m
"""

COMMON = """\
subroutine setc(x)
  implicit none
  real(8), intent(in) :: x
  real(8) :: c
  common /blk/ c
  c = 2.0d0*x
end subroutine setc
subroutine s(x, y)
  implicit none
  real(8), intent(in) :: x
  real(8), intent(out) :: y
  real(8) :: c
  common /blk/ c
  call setc(x)
  y = c*x
end subroutine s
"""

MUTUAL = """\
module m
  implicit none
contains
  recursive subroutine a(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    if (n > 0) then
      call b(n - 1, x, y)
    else
      y = x
    end if
  end subroutine a
  recursive subroutine b(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    call a(n, 2.0d0*x, y)
  end subroutine b
end module m
"""

HEAD_OF_MODULE = "module m\n  implicit none\ncontains\n  subroutine s(x, y)\n"
TRUNCATED = HEAD_OF_MODULE + "    real(8), intent(in) :: x\n    real(8), intent(out) :: y\n"
LOCAL_DECL = "  real(8) :: a, b\n  equivalence (a, b)\n"


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]
    args: list[str]
    kind: str  # located | global | usage | output
    file: str | None = None  # located/output: the path the message starts with
    line: int | None = None
    words: tuple[str, ...] = ()  # must appear in stderr (case-insensitive)
    bug: str | None = None  # reason for a strict xfail while the tool gets it wrong
    keep: dict[str, str] = field(default_factory=dict)  # files that must stay as they are


def diff(*files: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [*files, *extra, "-o", "out"]


XY = ("--wrt", "x", "--of", "y")
CASES: list[Case] = [
    # -- unreadable or non-Fortran input, through diff ------------------------------------------
    Case("truncated-mid-expression", {"t.f90": TRUNCATED + "    y = x*\n"},
         diff("t.f90", extra=XY), "located", "t.f90", 7, ("syntax error",)),
    Case("truncated-before-end", {"t.f90": TRUNCATED + "    y = x*x\n"},
         diff("t.f90", extra=XY), "located", "t.f90"),
    Case("truncated-unclosed-do",
         {"t.f90": TRUNCATED + "    do i = 1, 3\n      y = x*x\n  end subroutine s\nend module\n"},
         diff("t.f90", extra=XY), "located", "t.f90"),
    Case("mismatched-end-module-name",
         {"m.f90": "module m\ncontains\n subroutine s(x, y)\n  real :: x, y\n  y = x*x\n"
                   " end subroutine s\nend module m_other\n"},
         diff("m.f90", extra=XY), "located", "m.f90", 7, ("syntax error", "m_other")),
    Case("json-as-fortran", {"data.f90": '{"not": "fortran", "x": [1, 2]}\n'},
         diff("data.f90", extra=XY), "located", "data.f90", 1),
    Case("c-source-as-fortran", {"c.f90": "int main(void) {\n  return 0;\n}\n"},
         diff("c.f90", extra=XY), "located", "c.f90", 1, ("syntax error",)),
    Case("invalid-utf8", {"l.f90": scalar("  y = 2.0d0*x ! caf\xe9\n").encode("latin-1")},
         diff("l.f90", extra=XY), "located", "l.f90", 5, ("utf-8",)),
    Case("binary-elf-header", {"b.f90": b"\x7fELF\x02\x01\x01\x00" + bytes(range(0, 40))},
         diff("b.f90", extra=XY), "located", "b.f90", 1),
    Case("empty-file", {"e.f90": ""}, diff("e.f90", extra=XY), "located", "e.f90", 1,
         ("empty",)),
    Case("unknown-suffix", {"s.c": scalar("  y = x\n")}, diff("s.c", extra=XY), "located",
         "s.c", 1, ("suffix",)),
    Case("missing-include", {"i.f90": scalar("  y = x\n  include 'missing.h'\n")},
         diff("i.f90", extra=XY), "located", "i.f90", 6, ("missing.h",)),
    Case("routine-defined-twice", {"g.f90": GOOD}, diff("g.f90", "g.f90", extra=XY),
         "located", "g.f90", 5, ("twice",)),
    # -- what to differentiate ----------------------------------------------------------------
    Case("logical-wrt", {"m.f90": MODEL}, diff("m.f90", extra=("--wrt", "flag", "--of", "y")),
         "located", "m.f90", 9, ("'flag'", "logical")),
    Case("integer-array-wrt", {"m.f90": MODEL}, diff("m.f90", extra=("--wrt", "k", "--of", "y")),
         "located", "m.f90", 10, ("'k'", "integer")),
    Case("complex-wrt", {"m.f90": MODEL}, diff("m.f90", extra=("--wrt", "z", "--of", "y")),
         "located", "m.f90", 11, ("'z'", "complex")),
    Case("wrt-is-a-local", {"m.f90": MODEL},
         diff("m.f90", extra=("--head", "step", "--wrt", "loc", "--of", "y")),
         "located", "m.f90", 6, ("'loc'", "not a dummy")),
    Case("of-is-a-local", {"m.f90": MODEL},
         diff("m.f90", extra=("--head", "step", "--wrt", "x", "--of", "loc")),
         "located", "m.f90", 6, ("'loc'", "--of")),
    Case("of-is-intent-in", {"g.f90": GOOD}, diff("g.f90", extra=("--wrt", "x", "--of", "x")),
         "located", "g.f90", None, ("'x'", "intent(in)")),
    Case("wrt-list-empty", {"g.f90": GOOD}, diff("g.f90", extra=("--wrt", ",", "--of", "y")),
         "global", None, None, ("--wrt",)),
    Case("head-is-a-module", {"m.f90": MODEL},
         diff("m.f90", extra=("--head", "model", "--wrt", "x", "--of", "y")),
         "global", None, None, ("'model'", "--head")),
    Case("head-is-a-module-variable", {"m.f90": MODEL},
         diff("m.f90", extra=("--head", "gmod", "--wrt", "x", "--of", "y")),
         "global", None, None, ("'gmod'", "--head")),
    # -- unsupported constructs in active code --------------------------------------------------
    Case("pointer-assignment", {"p.f90": POINTER}, diff("p.f90", extra=XY), "located",
         "p.f90", 12, ("'p'", "loop")),
    Case("array-component-of-derived-type", {"d.f90": DERIVED}, diff("d.f90", extra=XY), "located",
         "d.f90", 15, ("b % ps(1) % u",)),
    # GO TO, arithmetic IF and active COMMON are supported (tests/test_legacy.py); what is not:
    Case("goto-into-a-loop",
         {"g.f90": scalar("  y = x\n  goto 10\n  do i = 1, 2\n10 y = y*x\n  end do\n",
                          "  integer :: i\n")},
         diff("g.f90", extra=XY), "located", "g.f90", 7, ("go to 10",)),
    Case("arithmetic-if-into-a-loop",
         {"a.f90": scalar("  y = x\n  if (x - 1.0d0) 10, 20, 20\n  do i = 1, 2\n10 y = y*x\n"
                          "  end do\n20 continue\n", "  integer :: i\n")},
         diff("a.f90", extra=XY), "located", "a.f90", 7, ("go to 10",)),
    Case("common-members-named-differently", {"c.f90": COMMON.replace("c = 2.0d0", "d = 2.0d0")
                                              .replace("real(8) :: c\n  common /blk/ c\n  d",
                                                       "real(8) :: d\n  common /blk/ d\n  d")},
         diff("c.f90", extra=("--head", "s", *XY)), "located", "c.f90", 5, ("/blk/", "'setc'")),
    Case("active-common-in-vector-mode", {"c.f90": COMMON},
         diff("c.f90", extra=("--head", "s", "--mode", "vector", *XY)), "located", "c.f90", 13,
         ("/blk/", "vector")),
    Case("equivalence-both-active",
         {"e.f90": scalar("  a = x*x\n  y = a + b\n", LOCAL_DECL)},
         diff("e.f90", extra=XY), "located", "e.f90", 6, ("'a'", "equivalence")),
    Case("equivalence-alias-read",
         {"e.f90": scalar("  a = x*x\n  y = b + x\n", LOCAL_DECL)},
         diff("e.f90", extra=XY), "located", "e.f90", 6, ("equivalence",)),
    Case("function-without-derivative-rule", {"g.f90": scalar("  y = gamma(x) + x\n")},
         diff("g.f90", extra=XY), "located", "g.f90", 5, ("'gamma'",)),
    Case("external-function-without-source",
         {"f.f90": scalar("  y = blackfn(x)*x\n", "  real(8), external :: blackfn\n")},
         diff("f.f90", extra=XY), "located", "f.f90", 6, ("'blackfn'",)),
    Case("forall-strided-mask-reads-target",
         {"f.f90": arrays("  forall (i = 1:n:2, x(i) > 0.5d0) x(i) = x(i)**2\n  y = sum(x)\n",
                          "  integer :: i\n")},
         diff("f.f90", extra=XY), "located", "f.f90", 7, ("forall", "mask")),
    Case("mutual-recursion", {"r.f90": MUTUAL}, diff("r.f90", extra=("--head", "a", *XY)),
         "located", "r.f90", None, ("recursion", "a -> b")),
    # -- options ----------------------------------------------------------------------------
    Case("output-is-a-file", {"g.f90": GOOD, "taken": "keep me\n"},
         ["g.f90", "--wrt", "x", "--of", "y", "-o", "taken"], "output", "taken",
         keep={"taken": "keep me\n"}),
    Case("memory-limit-garbage", {"g.f90": GOOD},
         diff("g.f90", extra=(*XY, "--memory-limit", "12X")), "usage", None, None,
         ("--memory-limit", "12X")),
    Case("memory-limit-negative", {"g.f90": GOOD},
         diff("g.f90", extra=(*XY, "--memory-limit", "-5")), "usage", None, None,
         ("--memory-limit",)),
    Case("size-garbage", {"g.f90": GOOD}, diff("g.f90", extra=(*XY, "--size", "n=abc")),
         "usage", None, None, ("--size", "n=abc")),
    Case("size-without-value", {"g.f90": GOOD}, diff("g.f90", extra=(*XY, "--size", "n")),
         "usage", None, None, ("--size",)),
    Case("size-without-name", {"g.f90": GOOD}, diff("g.f90", extra=(*XY, "--size", "=5")),
         "usage", None, None, ("--size",)),
    Case("unknown-mode", {"g.f90": GOOD}, diff("g.f90", extra=(*XY, "--mode", "sideways")),
         "usage", None, None, ("--mode", "sideways")),
    Case("unknown-option", {"g.f90": GOOD}, diff("g.f90", extra=(*XY, "--bogus")), "usage",
         None, None, ("--bogus",)),
    Case("wrt-missing", {"g.f90": GOOD}, diff("g.f90", extra=("--of", "y")), "usage", None,
         None, ("--wrt",)),
    Case("roundtrip-with-wrt", {"g.f90": GOOD}, ["roundtrip", "g.f90", "--wrt", "x", "-o", "out"],
         "usage", None, None, ("--wrt",)),
    # -- roundtrip and check with bad input -----------------------------------------------------
    Case("roundtrip-truncated", {"t.f90": TRUNCATED + "    y = x*\n"},
         ["roundtrip", "t.f90", "-o", "out"], "located", "t.f90", 7),
    Case("check-syntax-error", {"t.f90": TRUNCATED + "    y = x*\n"},
         ["check", "t.f90", *XY], "located", "t.f90", 7),
    Case("check-goto-into-a-loop",
         {"g.f90": scalar("  y = x\n  goto 10\n  do i = 1, 2\n10 y = y*x\n  end do\n",
                          "  integer :: i\n")},
         ["check", "g.f90", *XY], "located", "g.f90", 7, ("go to 10",)),
    Case("check-without-size", {"g.f90": GOOD}, ["check", "g.f90", *XY], "located", "g.f90",
         6, ("'n'", "--size")),
    Case("check-of-intent-in", {"g.f90": GOOD},
         ["check", "g.f90", "--wrt", "x", "--of", "x", "--size", "n=3"], "located", "g.f90",
         None, ("'x'", "intent(in)")),
    Case("check-missing-sample", {"g.f90": GOOD},
         ["check", "g.f90", *XY, "--size", "n=3", "--sample", "nowhere.toml"], "output",
         "nowhere.toml"),
    Case("check-invalid-sample", {"g.f90": GOOD, "bad.toml": "this is [not toml\n"},
         ["check", "g.f90", *XY, "--size", "n=3", "--sample", "bad.toml"], "output", "bad.toml",
         words=("toml",)),
    Case("check-size-garbage", {"g.f90": GOOD}, ["check", "g.f90", *XY, "--size", "n=abc"],
         "usage", None, None, ("--size",)),
]  # fmt: skip


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under ``root``."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def assert_diagnostic(case: Case, stderr: str) -> None:
    if case.kind == "located":
        line = rf"{case.line}" if case.line is not None else r"\d+"
        pattern = rf"^{re.escape(case.file or '')}:{line}:\d+: error: \S"
        assert re.search(pattern, stderr, re.M), f"no located error {pattern}:\n{stderr}"
    elif case.kind == "global":
        assert re.search(r"^fortran-ad: error: \S", stderr, re.M), stderr
    elif case.kind == "output":
        assert re.match(rf"{re.escape(case.file or '')}(:\d+:\d+)?: error: \S", stderr), stderr
    else:
        assert case.kind == "usage", case.kind
        assert re.search(r"error: (argument|unrecognized|the following)", stderr), stderr
    for word in case.words:
        assert word.lower() in stderr.lower(), f"{word!r} missing from:\n{stderr}"


def _params() -> list:
    out = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=f"bug: {case.bug}")] if case.bug else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def test_the_suite_is_big_and_names_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", _params())
def test_bad_input(case: Case, tmp_path: Path) -> None:
    for name, content in case.files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    before = snapshot(tmp_path)
    proc = run_cli(case.args, cwd=tmp_path)
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.stdout == "", proc.stdout
    assert_diagnostic(case, proc.stderr)
    assert snapshot(tmp_path) == before, "the failed run wrote or changed files"
    for name, text in case.keep.items():
        assert (tmp_path / name).read_text() == text
