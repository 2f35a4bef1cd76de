"""The on-demand tape specifics (runtime/gen_tape_ext.py): every carried type and ranks 6-7,
pushed as arrays (sections too) and popped element by element in reverse, and the other way
round, restore exactly; the module compiles without warnings under strict flags."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fortran_ad.runtime import TAPE_SOURCE, gen_tape_ext
from fortran_ad.runtime.tape_types import BASE_TYPES, CARRIED, CORE_MAX_RANK, MAX_RANK

pytestmark = pytest.mark.gfortran
FLAGS = ["-Wall", "-Wextra", "-Werror", "-fcheck=all", "-std=f2008", "-pedantic"]

# (declaration, value of element k as an expression of the integer k)
VALUES = {
    "i1": ("integer(int8)", "int(mod(k, 100) - 50, int8)"),
    "i2": ("integer(int16)", "int(k * 37 - 3000, int16)"),
    "l1": ("logical(int8)", "logical(mod(k, 3) == 1, int8)"),
    "l2": ("logical(int16)", "logical(mod(k, 2) == 0, int16)"),
    "c4": ("complex(real32)", "cmplx(real(k, real32), -2.5_real32 * k, real32)"),
    "c8": ("complex(real64)", "cmplx(real(k, real64) / 3, 1.25_real64 * k, real64)"),
    "r8": ("real(real64)", "real(k, real64) / 7"),
    "i4": ("integer(int32)", "int(k * 11, int32)"),
}


def _needed() -> list[tuple[str, int]]:
    out = [(c.tag, r) for c in CARRIED for r in range(c.max_rank + 1)]
    out += [(t.tag, r) for t in BASE_TYPES for r in range(CORE_MAX_RANK + 1, MAX_RANK + 1)]
    return out


def _loops(rank: int, lo: str, hi: str, step: str = "") -> list[str]:
    """Nested loops over a's dimensions, the last outermost (column-major order)."""
    return [f"    do j{d} = {lo.format(d=d)}, {hi.format(d=d)}{step}" for d in range(rank, 0, -1)]


def _case(tag: str, rank: int) -> list[str]:
    decl, value = VALUES[tag]
    extent = (3, 2, 2, 1, 2, 2, 2)[:rank]
    whole = ", ".join(str(e + 1) for e in extent)  # one more in each dimension
    section = ", ".join(f"2:{e + 1}" for e in extent)  # not contiguous
    first = ", ".join(["1"] * rank)
    eq = ".eqv." if tag.startswith("l") else "=="
    idx = ", ".join(f"j{d}" for d in range(1, rank + 1))
    js = ", ".join(f"j{d}" for d in range(1, rank + 1))
    check = f"    if (.not. all(b {eq} a)) error stop '{{}}: {tag} rank {rank}'"
    out = ["  block", f"    {decl} :: a({whole}), b({whole})", f"    integer :: k, {js}"]
    out.append("    k = 0")
    out += _loops(rank, "1", "size(a, {d})")
    out += ["    k = k + 1", f"    a({idx}) = {value}"] + ["    end do"] * rank
    # a section pushed at once, popped element by element in reverse column-major order
    out += ["    b = a", f"    call fad_push(a({section}))", f"    b({section}) = b({first})"]
    out += _loops(rank, "size(a, {d})", "2", ", -1")
    out += [f"    call fad_pop(b({idx}))"] + ["    end do"] * rank
    out.append(check.format("section push, element pops"))
    # elements pushed one by one, popped as one section
    out += _loops(rank, "2", "size(a, {d})")
    out += [f"    call fad_push(a({idx}))"] + ["    end do"] * rank
    out += [f"    b({section}) = b({first})", f"    call fad_pop(b({section}))"]
    out += [check.format("element pushes, section pop"), "  end block"]
    return out


def _program() -> str:
    body: list[str] = []
    for tag, rank in _needed():
        if tag in VALUES and rank >= 1:
            body += _case(tag, rank)
    scalars = [
        "  block",
        "    complex(real64) :: z, w",
        "    character(len=5) :: s, t",
        "    character(len=2) :: v(3), u(3)",
        "    z = (1.5_real64, -2.25_real64)",
        "    s = 'ab cd'",
        "    v = ['x1', 'y2', 'z3']",
        "    call fad_push(z)",
        "    call fad_push(s)",
        "    call fad_push(v)",
        "    u = '??'",
        "    call fad_pop(u)",
        "    t = '?????'",
        "    call fad_pop(t)",
        "    call fad_pop(w)",
        "    if (w /= z .or. t /= s .or. any(u /= v)) error stop 'scalars'",
        "  end block",
    ]
    return "\n".join(
        [
            "program ext_roundtrip",
            "  use, intrinsic :: iso_fortran_env",
            "  use fad_tape",
            "  use fad_tape_all",
            "  implicit none",
            *body,
            *scalars,
            "  if (fad_tape_bytes() /= 0_int64) error stop 'tape not empty'",
            "  print '(a)', 'ok'",
            "end program ext_roundtrip",
        ]
    )


@pytest.fixture(scope="module")
def gfortran() -> str:
    found = shutil.which("gfortran")
    assert found is not None, "gfortran is required"
    return found


def test_every_extension_specific_roundtrips(gfortran: str, tmp_path: Path) -> None:
    ext = tmp_path / "fad_tape_all.f90"
    ext.write_text(gen_tape_ext.generate("fad_tape_all", _needed()))
    prog = tmp_path / "main.f90"
    prog.write_text(_program())
    for src, flags in ((TAPE_SOURCE, FLAGS), (ext, FLAGS), (prog, ["-Wall", "-fcheck=all"])):
        cmd = [gfortran, *flags, "-c", str(src)]  # the module warning-free, exact == in main
        built = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
    objs = ["fad_tape.o", "fad_tape_all.o", "main.o"]
    built = subprocess.run([gfortran, *objs, "-o", "a.out"], cwd=tmp_path, capture_output=True)
    assert built.returncode == 0, built.stderr
    run = subprocess.run(["./a.out"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr
