"""Tests for the Fortran run-time tape module ``fad_tape`` (fortran_ad/runtime/fad_tape.f90).

Every test compiles real Fortran with gfortran (a hard requirement of the project) in a
temporary directory and checks what the programs print, their exit status and stderr.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from math import prod
from pathlib import Path

import pytest

from fortran_ad.runtime import RUNTIME_DIR, TAPE_SOURCE, copy_runtime, gen_tape

pytestmark = pytest.mark.gfortran

STRICT_FLAGS = ["-Wall", "-Wextra", "-fcheck=all", "-std=f2008", "-pedantic"]


@dataclass(frozen=True)
class FType:
    """A tape base type as seen by the test program."""

    tag: str
    decl: str
    nbytes: int
    garbage: str  # initial value of destination arrays (never produced by the pools)


FTYPES = (
    FType("r4", "real(real32)", 4, "-777.25_real32"),
    FType("r8", "real(real64)", 8, "-777.25_real64"),
    FType("i4", "integer(int32)", 4, "-777_int32"),
    FType("i8", "integer(int64)", 8, "-777_int64"),
    FType("l", "logical", 4, ""),  # logical destinations start as .not. source
)
SHAPES: dict[int, tuple[int, ...]] = {
    0: (),
    1: (7,),
    2: (3, 4),
    3: (2, 3, 4),
    4: (2, 2, 3, 2),
    5: (2, 1, 3, 2, 2),
}
# Sections pushed and popped in place: (name, rank of the base array, subscripts). They cover
# non-contiguous pushes/pops of every rank 1..5 and a scalar element.
SECTIONS: tuple[tuple[str, int, str], ...] = (
    ("row", 2, "2, :"),  # a(2, :)
    ("r2", 2, "1:3:2, 2:4"),
    ("r3", 3, ":, 1:3:2, :"),
    ("r3of5", 5, "1, :, :, 2, :"),
    ("r4", 4, "1:1, :, 1:3:2, :"),
    ("r5", 5, ":, :, 1:3:2, :, 2:2"),
    ("elem", 3, "2, 3, 4"),
)
POOL = 64  # values per type pool; every source array takes a slice of it


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="session")
def gfortran() -> str:
    path = shutil.which("gfortran")
    assert path is not None, "gfortran is required to run the fortran-ad test suite"
    return path


def build_and_run(
    gfortran: str, workdir: Path, program: str, flags: list[str]
) -> subprocess.CompletedProcess[str]:
    """Compile fad_tape.f90 plus ``program`` with ``flags`` and run the executable."""
    workdir.mkdir(parents=True, exist_ok=True)
    (tape,) = copy_runtime(workdir)
    main = workdir / "main.f90"
    main.write_text(program)
    exe = workdir / "prog"
    comp = subprocess.run(
        [gfortran, *flags, str(tape), str(main), "-o", str(exe)],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert comp.returncode == 0, f"compilation failed:\n{comp.stderr}"
    return subprocess.run([str(exe)], cwd=workdir, capture_output=True, text=True, timeout=120)


def dims(shape: tuple[int, ...]) -> str:
    return "" if not shape else "(" + ", ".join(map(str, shape)) + ")"


def bits(expr: str) -> str:
    """Fortran expression giving the bytes of ``expr`` (for bitwise comparison)."""
    return f"transfer({expr}, [0_int8])"


def section_size(shape: tuple[int, ...], section: str) -> int:
    """Number of elements of ``name(section)`` for a simple section spec like ``2, :, 1:3:2``."""
    n = 1
    for extent, sub in zip(shape, [s.strip() for s in section.split(",")], strict=True):
        if sub == ":":
            n *= extent
        elif ":" in sub:
            parts = sub.split(":")
            lo = int(parts[0]) if parts[0] else 1
            hi = int(parts[1]) if parts[1] else extent
            step = int(parts[2]) if len(parts) > 2 and parts[2] else 1
            n *= len(range(lo, hi + 1, step))
    return n


# ----------------------------------------------------------------- round-trip program


@dataclass
class Item:
    """One push (in program order) and its matching pop and comparisons."""

    ftype: FType
    push: str  # expression pushed
    pop: str  # variable/section popped into
    compare: list[tuple[str, str, str]]  # (check name, expected, actual)
    nelem: int


def roundtrip_program() -> tuple[str, list[Item]]:
    """Fortran program pushing every type and rank 0..5 plus sections, popping in reverse."""
    decls: list[str] = []
    init: list[str] = []
    items: list[Item] = []

    for t in FTYPES:
        decls.append(f"  {t.decl} :: pool_{t.tag}({POOL})")
        for rank, shape in SHAPES.items():
            d = dims(shape)
            decls.append(f"  {t.decl} :: s_{t.tag}_{rank}{d}, d_{t.tag}_{rank}{d}")
        # per section: destination (starts as garbage) and its expected final contents
        for name, rank, _ in SECTIONS:
            d = dims(SHAPES[rank])
            decls.append(f"  {t.decl} :: ds_{t.tag}_{name}{d}, ex_{t.tag}_{name}{d}")
        decls.append(f"  {t.decl} :: c_{t.tag}(2, 4), c1_{t.tag}(4)")

    for t in FTYPES:
        offset = 1  # the scalar and the rank-1 array get the special values pool(1:6)
        for rank, shape in SHAPES.items():
            n = prod(shape)
            src, dst = f"s_{t.tag}_{rank}", f"d_{t.tag}_{rank}"
            if rank == 0:
                init.append(f"  {src} = pool_{t.tag}({offset})")
            else:
                init.append(
                    f"  {src} = reshape(pool_{t.tag}({offset}:{offset + n - 1}), shape({src}))"
                )
            offset = (offset + n) % (POOL - 30) + 1
            init.append(f"  {dst} = " + (f".not. {src}" if t.tag == "l" else t.garbage))
        for name, rank, sec in SECTIONS:
            ds, ex, src = f"ds_{t.tag}_{name}", f"ex_{t.tag}_{name}", f"s_{t.tag}_{rank}"
            init.append(f"  {ds} = " + (f".not. {src}" if t.tag == "l" else t.garbage))
            init.append(f"  {ex} = {ds}")
            init.append(f"  {ex}({sec}) = {src}({sec})")
        init.append(
            f"  c_{t.tag} = " + (f".not. s_{t.tag}_2(1:2, :)" if t.tag == "l" else t.garbage)
        )
        init.append(f"  c1_{t.tag} = " + (f".not. s_{t.tag}_1(1:4)" if t.tag == "l" else t.garbage))

    # Whole objects, interleaving types so that all stacks are live at once.
    for rank in SHAPES:
        for t in FTYPES:
            s, d = f"s_{t.tag}_{rank}", f"d_{t.tag}_{rank}"
            items.append(Item(t, s, d, [(f"{t.tag}_rank{rank}", s, d)], prod(SHAPES[rank])))
    # Non-contiguous sections and array elements, pushed and popped in place.
    for t in FTYPES:
        tg = t.tag
        for name, rank, sec in SECTIONS:
            ds, ex, src = f"ds_{tg}_{name}", f"ex_{tg}_{name}", f"s_{tg}_{rank}"
            compare = [
                (f"{tg}_section_{name}", f"{src}({sec})", f"{ds}({sec})"),
                # whole destination: the section was written, nothing else was touched
                (f"{tg}_section_{name}_whole", ex, ds),
            ]
            n = section_size(SHAPES[rank], sec)
            items.append(Item(t, f"{src}({sec})", f"{ds}({sec})", compare, n))
        # contiguous push, non-contiguous pop and vice versa
        items.append(
            Item(
                t,
                f"s_{tg}_1(2:5)",
                f"c_{tg}(2, :)",
                [(f"{tg}_contig_to_strided", f"s_{tg}_1(2:5)", f"c_{tg}(2, :)")],
                4,
            )
        )
        items.append(
            Item(
                t,
                f"s_{tg}_2(1, :)",
                f"c1_{tg}",
                [(f"{tg}_strided_to_contig", f"s_{tg}_2(1, :)", f"c1_{tg}")],
                4,
            )
        )

    # Per-specific accounting: each push alone sets the peak to exactly its own size.
    peaks: list[str] = []
    for t in FTYPES:
        for rank in SHAPES:
            peaks += [
                "  call fad_tape_reset()",
                f"  call fad_push(s_{t.tag}_{rank})",
                f"  call fad_pop(d_{t.tag}_{rank})",
                f"  print '(a,i0,1x,i0)', 'PEAK_{t.tag}_{rank} ', fad_tape_bytes(), "
                "fad_tape_peak_bytes()",
            ]

    body: list[str] = []
    for it in items:
        body.append(f"  call fad_push({it.push})")
    body.append("  print '(a,i0)', 'BYTES_AFTER_PUSH ', fad_tape_bytes()")
    body.append("  print '(a,i0)', 'PEAK_AFTER_PUSH ', fad_tape_peak_bytes()")
    for it in reversed(items):
        body.append(f"  call fad_pop({it.pop})")
    body.append("  print '(a,i0)', 'BYTES_AFTER_POP ', fad_tape_bytes()")
    body.append("  print '(a,i0)', 'PEAK_AFTER_POP ', fad_tape_peak_bytes()")
    for it in items:
        for name, expected, actual in it.compare:
            body.append(f"  call check('{name}', {bits(expected)}, {bits(actual)})")

    program = "\n".join(
        [
            "program roundtrip",
            "  use, intrinsic :: iso_fortran_env, only: real32, real64, int8, int32, int64",
            "  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan, "
            "ieee_negative_inf",
            "  use fad_tape",
            "  implicit none",
            "  integer :: i",
            "  integer(int64) :: j",
            "  real(real64) :: xr8",
            "  real(real32) :: xr4",
            "  integer(int32) :: xi4",
            "  integer(int64) :: xi8",
            "  logical :: xl",
            *decls,
            "  print '(a,i0)', 'DEFAULT_LIMIT ', fad_tape_get_limit()",
            "  ! value pools: distinct ordinary values with special values every few elements",
            "  ! (signed zero, NaN, subnormal, infinity, extreme integers)",
            "  do i = 1, size(pool_r8)",
            "    pool_r8(i) = (real(i, real64) - 20.5_real64) / 3.0_real64",
            "    pool_r4(i) = (real(i, real32) - 20.5_real32) / 3.0_real32",
            "    pool_i4(i) = int(i, int32) * 104729_int32 - 5000000_int32",
            "    pool_i8(i) = int(i, int64) * 10000000019_int64 - 99_int64",
            "    pool_l(i) = mod(i * 7, 3) == 0",
            "    select case (mod(i - 1, 8))",
            "    case (0, 4)",
            "      pool_r8(i) = -0.0_real64",
            "      pool_r4(i) = -0.0_real32",
            "      pool_i4(i) = huge(1_int32)",
            "      pool_i8(i) = huge(1_int64)",
            "    case (2)",
            "      pool_r8(i) = ieee_value(1.0_real64, ieee_quiet_nan)",
            "      pool_r4(i) = ieee_value(1.0_real32, ieee_quiet_nan)",
            "      pool_i4(i) = -huge(1_int32) - 1_int32",
            "      pool_i8(i) = -huge(1_int64) - 1_int64",
            "    case (6)",
            "      pool_r8(i) = tiny(1.0_real64) / 1024.0_real64 * real(i, real64)",
            "      pool_r4(i) = tiny(1.0_real32) / 1024.0_real32 * real(i, real32)",
            "    case (7)",
            "      pool_r8(i) = ieee_value(1.0_real64, ieee_negative_inf)",
            "      pool_r4(i) = huge(1.0_real32)",
            "    end select",
            "  end do",
            *init,
            *body,
            "  ! growth: many interleaved scalars (several capacity doublings per stack)",
            "  call fad_tape_reset()",
            "  print '(a,i0,1x,i0)', 'AFTER_RESET ', fad_tape_bytes(), fad_tape_peak_bytes()",
            "  do j = 1, 5000",
            "    call fad_push(real(j, real64) / 7.0_real64)",
            "    call fad_push(real(j, real32) / 7.0_real32)",
            "    call fad_push(int(j, int32) * 3_int32)",
            "    call fad_push(-j)",
            "    call fad_push(mod(j, 3_int64) == 0)",
            "  end do",
            "  print '(a,i0)', 'GROWTH_BYTES ', fad_tape_bytes()",
            "  i = 0",
            "  do j = 5000, 1, -1",
            "    call fad_pop(xl)",
            "    call fad_pop(xi8)",
            "    call fad_pop(xi4)",
            "    call fad_pop(xr4)",
            "    call fad_pop(xr8)",
            "    if (xl .neqv. (mod(j, 3_int64) == 0)) i = i + 1",
            "    if (xi8 /= -j) i = i + 1",
            "    if (xi4 /= int(j, int32) * 3_int32) i = i + 1",
            f"    if (any({bits('xr4')} /= {bits('real(j, real32) / 7.0_real32')})) i = i + 1",
            f"    if (any({bits('xr8')} /= {bits('real(j, real64) / 7.0_real64')})) i = i + 1",
            "  end do",
            "  print '(a,i0)', 'GROWTH_MISMATCHES ', i",
            "  print '(a,i0,1x,i0)', 'GROWTH_DONE ', fad_tape_bytes(), fad_tape_peak_bytes()",
            "  ! the high-water mark survives pops",
            "  call fad_tape_reset()",
            "  call fad_push(s_r8_5)",
            "  call fad_pop(d_r8_5)",
            "  call fad_push(s_i4_0)",
            "  print '(a,i0,1x,i0)', 'STICKY_PEAK ', fad_tape_bytes(), fad_tape_peak_bytes()",
            "  call fad_pop(xi4)",
            *peaks,
            "  call fad_tape_set_limit(123_int64)",
            "  print '(a,i0)', 'NEW_LIMIT ', fad_tape_get_limit()",
            "contains",
            "  subroutine check(name, expected, actual)",
            "    character(len=*), intent(in) :: name",
            "    integer(int8), intent(in) :: expected(:), actual(:)",
            "    logical :: ok",
            "    ok = size(expected) == size(actual)",
            "    if (ok) ok = all(expected == actual)",
            "    if (ok) then",
            "      print '(3a)', 'CHECK ', name, ' OK'",
            "    else",
            "      print '(3a)', 'CHECK ', name, ' FAIL'",
            "    end if",
            "  end subroutine check",
            "end program roundtrip",
        ]
    )
    return program, items


def parse_values(stdout: str) -> dict[str, list[int]]:
    """``KEY n [n ...]`` lines -> {KEY: [n, ...]} (CHECK lines excluded)."""
    values: dict[str, list[int]] = {}
    for line in stdout.splitlines():
        m = re.fullmatch(r"\s*([A-Za-z][A-Za-z0-9_]*)((?:\s+-?\d+)+)\s*", line)
        if m:
            values[m.group(1)] = [int(v) for v in m.group(2).split()]
    return values


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param(["-O0", "-g", *STRICT_FLAGS], id="O0-checks"),
        pytest.param(["-O2", "-fopenmp"], id="O2-openmp"),
    ],
)
def test_roundtrip_all_types_and_ranks(gfortran: str, tmp_path: Path, flags: list[str]) -> None:
    program, items = roundtrip_program()
    res = build_and_run(gfortran, tmp_path, program, flags)
    assert res.returncode == 0, res.stderr
    # -fcheck=all reports run-time problems (bounds, array temporaries) on stderr.
    assert res.stderr == ""

    checks = dict(re.findall(r"^CHECK (\S+) (OK|FAIL)$", res.stdout, flags=re.M))
    expected_names = [name for it in items for name, _, _ in it.compare]
    assert len(expected_names) == len(set(expected_names))
    assert sorted(checks) == sorted(expected_names), "missing or unexpected CHECK lines"
    failed = [name for name, status in checks.items() if status != "OK"]
    assert failed == []

    # every type and every rank is exercised
    assert {it.ftype.tag for it in items} == {t.tag for t in FTYPES}
    for t in FTYPES:
        for rank in SHAPES:
            assert f"{t.tag}_rank{rank}" in checks

    v = parse_values(res.stdout)
    total = sum(it.nelem * it.ftype.nbytes for it in items)
    # per type: whole objects 1+7+12+24+24+24 = 92 elements, sections 4+6+16+6+8+8+1 = 49,
    # contiguous<->strided 4+4; 149 elements * (4 + 8 + 4 + 8 + 4) bytes
    assert total == 4172
    assert v["DEFAULT_LIMIT"] == [4294967296]
    assert v["BYTES_AFTER_PUSH"] == [total]
    assert v["PEAK_AFTER_PUSH"] == [total]
    assert v["BYTES_AFTER_POP"] == [0]
    assert v["PEAK_AFTER_POP"] == [total]
    assert v["AFTER_RESET"] == [0, 0]
    growth = 5000 * (8 + 4 + 4 + 8 + 4)
    assert v["GROWTH_BYTES"] == [growth]
    assert v["GROWTH_MISMATCHES"] == [0]
    assert v["GROWTH_DONE"] == [0, growth]
    assert v["STICKY_PEAK"] == [4, 24 * 8]
    assert v["NEW_LIMIT"] == [123]
    for t in FTYPES:
        for rank, shape in SHAPES.items():
            assert v[f"PEAK_{t.tag}_{rank}"] == [0, prod(shape) * t.nbytes]


LIMIT_CASES = {
    # name: (statements after setting the limit to 1000 bytes, bytes needed by the failing push)
    "scalar": ("call fad_push(1.0_real32)", 1004),
    "array": ("call fad_push(big(1:2))", 1016),
    "section": ("call fad_push(m(1, :))", 1024),
}


@pytest.mark.parametrize("case", sorted(LIMIT_CASES))
def test_memory_limit_stops_program(gfortran: str, tmp_path: Path, case: str) -> None:
    stmt, needs = LIMIT_CASES[case]
    program = f"""program limit
  use, intrinsic :: iso_fortran_env, only: real32, real64, int64
  use fad_tape
  implicit none
  integer :: i
  real(real64) :: big(125), m(2, 3)
  big = 1.0_real64
  m = 2.0_real64
  call fad_tape_set_limit(1000_int64)
  call fad_push(big)
  print '(a,i0,1x,i0)', 'REACHED ', fad_tape_bytes(), fad_tape_peak_bytes()
  call fad_pop(big(1:5))
  do i = 1, 5
    call fad_push(big(i))
  end do
  print '(a,i0)', 'STILL_OK ', fad_tape_bytes()
  {stmt}
  print '(a)', 'NOT_REACHED'
end program limit
"""
    res = build_and_run(gfortran, tmp_path, program, ["-O0", *STRICT_FLAGS])
    assert res.returncode != 0
    assert "REACHED 1000 1000" in res.stdout
    assert "STILL_OK 1000" in res.stdout
    assert "NOT_REACHED" not in res.stdout
    assert "memory limit" in res.stderr
    assert (
        f"fad_tape: memory limit of 1000 bytes exceeded (needs {needs} bytes); "
        "raise --memory-limit or use a checkpointing policy"
    ) in res.stderr


MISUSE_CASES = {
    "empty_scalar": (
        "call fad_push(1_int32)\n  call fad_pop(x8)",
        "fad_tape: pop from empty real64 stack",
    ),
    "empty_array": ("call fad_pop(a4)", "fad_tape: pop from empty real32 stack"),
    "short_array": (
        "call fad_push(a4(1:3))\n  call fad_pop(a4)",
        "fad_tape: pop of 5 real32 values from a stack holding only 3",
    ),
    "wrong_logical": ("call fad_push(.true.)\n  call fad_pop(i8)", "empty int64 stack"),
    "negative_limit": ("call fad_tape_set_limit(-1_int64)", "invalid negative memory limit -1"),
}


@pytest.mark.parametrize("case", sorted(MISUSE_CASES))
def test_underflow_and_misuse_stop_program(gfortran: str, tmp_path: Path, case: str) -> None:
    stmts, message = MISUSE_CASES[case]
    program = f"""program misuse
  use, intrinsic :: iso_fortran_env, only: real32, real64, int32, int64
  use fad_tape
  implicit none
  real(real64) :: x8
  real(real32) :: a4(5)
  integer(int64) :: i8
  a4 = 1.0_real32
  x8 = 0.0_real64
  i8 = 0_int64
  print '(a)', 'START'
  {stmts}
  print '(a,es10.3,1x,i0,1x,es10.3)', 'NOT_REACHED ', x8, i8, a4(1)
end program misuse
"""
    res = build_and_run(gfortran, tmp_path, program, ["-O0", *STRICT_FLAGS])
    assert res.returncode != 0
    assert "START" in res.stdout
    assert "NOT_REACHED" not in res.stdout
    assert message in res.stderr


def test_threads_have_private_tapes(gfortran: str, tmp_path: Path) -> None:
    program = """program threads
  use, intrinsic :: iso_fortran_env, only: int64
  use omp_lib, only: omp_get_thread_num, omp_get_num_threads
  use fad_tape
  implicit none
  integer :: bad, nthreads, tid
  integer(int64) :: j, v
  bad = 0
  nthreads = 0
  !$omp parallel num_threads(4) private(j, v, tid) reduction(+:bad, nthreads)
  tid = omp_get_thread_num()
  nthreads = 1
  do j = 1, 3000
    call fad_push(int(tid, int64) * 100000_int64 + j)
  end do
  if (fad_tape_bytes() /= 3000_int64 * 8_int64) bad = bad + 1
  !$omp barrier
  do j = 3000, 1, -1
    call fad_pop(v)
    if (v /= int(tid, int64) * 100000_int64 + j) bad = bad + 1
  end do
  if (fad_tape_bytes() /= 0_int64) bad = bad + 1
  if (fad_tape_peak_bytes() /= 3000_int64 * 8_int64) bad = bad + 1
  !$omp end parallel
  print '(a,i0,1x,i0)', 'THREADS ', nthreads, bad
end program threads
"""
    res = build_and_run(gfortran, tmp_path, program, ["-O2", "-fopenmp", "-std=f2008"])
    assert res.returncode == 0, res.stderr
    assert parse_values(res.stdout)["THREADS"] == [4, 0]


@pytest.mark.parametrize("openmp", [False, True], ids=["serial", "openmp"])
def test_module_compiles_without_warnings(gfortran: str, tmp_path: Path, openmp: bool) -> None:
    flags = ["-c", *STRICT_FLAGS] + (["-fopenmp"] if openmp else [])
    res = subprocess.run(
        [gfortran, *flags, str(TAPE_SOURCE), "-o", str(tmp_path / "fad_tape.o")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert (tmp_path / "fad_tape.mod").is_file()


def test_generated_source_is_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "fad_tape.f90"
    assert gen_tape.main([str(out)]) == 0
    assert out.read_text() == TAPE_SOURCE.read_text(), "run: python fortran_ad/runtime/gen_tape.py"
    assert gen_tape.generate() == out.read_text()  # deterministic


def test_generated_source_covers_all_specifics() -> None:
    text = TAPE_SOURCE.read_text()
    joined = re.sub(r"&\s*\n\s*", "", text)  # undo Fortran continuation lines
    for kind in ("push", "pop"):
        for t in ("r4", "r8", "i4", "i8", "l"):
            for rank in range(6):
                name = f"fad_{kind}_{t}_{rank}"
                assert f"subroutine {name}(x)" in text
                assert re.search(rf"module procedure[^\n]*\b{name}\b", joined)
    assert "!$omp threadprivate(tape_bytes, tape_peak, tape_limit)" in text
    assert max(len(line) for line in text.splitlines()) <= 132


def test_copy_runtime(tmp_path: Path) -> None:
    assert TAPE_SOURCE.parent == RUNTIME_DIR
    assert TAPE_SOURCE.is_file()
    dest = tmp_path / "a" / "b"
    copied = copy_runtime(dest)
    assert copied == [dest / "fad_tape.f90"]
    assert copied[0].read_bytes() == TAPE_SOURCE.read_bytes()
    # copying again overwrites in place
    copied[0].write_text("stale")
    assert copy_runtime(dest) == copied
    assert copied[0].read_bytes() == TAPE_SOURCE.read_bytes()


@pytest.mark.parametrize("threads", ["1", "2"])
def test_large_blocks_copy_on_threads(
    gfortran: str, tmp_path: Path, threads: str, monkeypatch
) -> None:
    """Pushes and pops of blocks from gen_tape.PAR_COPY_MIN values up copy on the threads of a
    parallel region (outside one) or on the calling thread (inside one, each thread its own
    tape): the values, their order and the byte count come back exactly, at 1 and 2 threads."""
    n = gen_tape.PAR_COPY_MIN + 4097
    program = f"""program big
  use, intrinsic :: iso_fortran_env, only: int32, int64, real64
  use fad_tape
  implicit none
  integer, parameter :: n = {n}
  real(real64), allocatable :: a(:, :), b(:, :)
  integer(int32), allocatable :: k(:), m(:)
  integer :: bad, i, tid
  allocate (a(n, 2), b(n, 2), k(n), m(n))
  bad = 0
  do i = 1, n
    a(i, 1) = real(i, real64) / 7
    a(i, 2) = -real(i, real64)
    k(i) = 3 * i
  end do
  call fad_push(a)
  call fad_push(k)
  call fad_push(a(:, 2))
  if (fad_tape_bytes() /= int(n, int64) * (8 * 3 + 4)) bad = bad + 1
  b = 0
  m = 0
  call fad_pop(b(:, 1))
  if (any(b(:, 1) /= a(:, 2))) bad = bad + 1
  call fad_pop(m)
  if (any(m /= k)) bad = bad + 1
  call fad_pop(b)
  if (any(b /= a)) bad = bad + 1
  if (fad_tape_bytes() /= 0_int64) bad = bad + 1
  !$omp parallel private(b, tid) reduction(+:bad)
  tid = 0
  !$ tid = 1
  call fad_push(a + tid)
  b = 0
  call fad_pop(b)
  if (any(b /= a + tid)) bad = bad + 1
  !$omp end parallel
  print '(a,i0)', 'BAD ', bad
end program big
"""
    monkeypatch.setenv("OMP_NUM_THREADS", threads)
    res = build_and_run(gfortran, tmp_path, program, ["-O2", "-fopenmp"])
    assert res.returncode == 0, res.stderr
    assert parse_values(res.stdout)["BAD"] == [0]
