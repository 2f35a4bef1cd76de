"""Frontend + Fortran back end: sources → IR → Fortran must keep the program's meaning.

Two kinds of tests:

* every bundled sample (legacy_samples/*/sample.toml): the round-tripped sources, linked with
  the original driver, print byte-identical output (gfortran -O0 -ffp-contract=off); the output
  compiles with -Wall -fcheck=all; round-tripping is idempotent and deterministic;
* small inline programs, one per construct, with assertions on the IR and on the re-emitted
  program behaving like the original.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import STRICT_FLAGS, Fortran, run_cli, sample_driver, sample_sources

from fortran_ad.cli import main as cli_main
from fortran_ad.frontend.lower import lower_source
from fortran_ad.frontend.preprocess import Source
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.printer import expr, source_file
from fortran_ad.ir.walk import stmt_exprs, subexprs, walk_stmts

# --------------------------------------------------------------------------------------------
# Helpers


def roundtrip_files(sources: list[Path], out: Path) -> list[Path]:
    """Run ``fortran-ad roundtrip`` in process; returns the re-emitted files, in source order."""
    assert cli_main(["roundtrip", *map(str, sources), "-o", str(out)]) == 0
    files = [out / f"{p.stem}.f90" for p in sources]
    for f in files:
        assert f.is_file(), f"roundtrip did not write {f}"
    return files


def lower_text(text: str, path: str = "snippet.f90", fixed: bool = False) -> ir.SourceFile:
    return lower_source(Source(path, text, fixed))


def emit(text: str, path: str = "snippet.f90", fixed: bool = False) -> str:
    return source_file(lower_text(text, path, fixed))


def routines(sf: ir.SourceFile) -> dict[str, ir.Routine]:
    """Every routine of a file by name: top-level, module procedures and internal ones."""
    out: dict[str, ir.Routine] = {}

    def add(r: ir.Routine) -> None:
        out[r.name] = r
        for c in r.contains:
            add(c)

    for unit in sf.units:
        if isinstance(unit, ir.Module):
            for r in unit.routines:
                add(r)
        elif isinstance(unit, ir.Routine):
            add(unit)
    return out


def stmts(sf: ir.SourceFile) -> list[ir.Stmt]:
    return [s for r in routines(sf).values() for s in walk_stmts(r.body)]


def exprs(sf: ir.SourceFile) -> Iterator[ir.Expr]:
    """All expressions: statements, declarations (initial values, bounds) of every scope."""
    for s in stmts(sf):
        for e in stmt_exprs(s):
            yield from subexprs(e)
    scopes: list[ir.Module | ir.Routine] = list(routines(sf).values())
    scopes += [u for u in sf.units if isinstance(u, ir.Module)]
    for scope in scopes:
        for sym in scope.symbols:
            if sym.init is not None:
                yield from subexprs(sym.init)
            for d in sym.dims:
                for bound in (d.lo, d.hi):
                    if bound is not None:
                        yield from subexprs(bound)


def literals(sf: ir.SourceFile) -> set[str]:
    return {e.text for e in exprs(sf) if isinstance(e, ir.Literal)}


def of_type(sf: ir.SourceFile, cls: type) -> list[Any]:
    return [s for s in stmts(sf) if isinstance(s, cls)]


def symbol(sf: ir.SourceFile, routine: str, name: str) -> ir.Symbol:
    sym = routines(sf)[routine].symbol(name)
    assert sym is not None, f"no symbol {name} in {routine}"
    return sym


# --------------------------------------------------------------------------------------------
# Bundled samples


@pytest.mark.gfortran
def test_sample_roundtrip_prints_identical_output(
    sample: dict[str, Any], fortran: Fortran, tmp_path: Path
) -> None:
    sources, driver = sample_sources(sample), sample_driver(sample)
    expected = fortran.run(fortran.compile([*sources, driver], "original"))
    assert expected.strip(), "the sample's driver printed nothing"
    files = roundtrip_files(sources, tmp_path / "rt")
    got = fortran.run(fortran.compile([*files, driver], "roundtrip"))
    assert got == expected


@pytest.mark.gfortran
def test_sample_roundtrip_compiles_strictly(
    sample: dict[str, Any], fortran: Fortran, tmp_path: Path
) -> None:
    files = roundtrip_files(sample_sources(sample), tmp_path / "rt")
    result = fortran.syntax_check(files, ("-O0", *STRICT_FLAGS))
    assert result.ok, result.output
    assert "Error" not in result.output


def test_sample_roundtrip_writes_one_file_per_source(
    sample: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = sample_sources(sample)
    out = tmp_path / "rt"
    files = roundtrip_files(sources, out)
    printed = capsys.readouterr().out.split()
    assert [Path(p) for p in printed] == files
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in files)


def test_sample_roundtrip_is_idempotent(sample: dict[str, Any], tmp_path: Path) -> None:
    once = roundtrip_files(sample_sources(sample), tmp_path / "once")
    twice = roundtrip_files(once, tmp_path / "twice")
    for a, b in zip(once, twice, strict=True):
        assert b.read_text() == a.read_text(), f"{a.name} changes when round-tripped again"


@pytest.mark.slow
def test_sample_roundtrip_is_deterministic(sample: dict[str, Any], tmp_path: Path) -> None:
    """Identical input, identical bytes, whatever the hash seed of the process."""
    sources = [str(p) for p in sample_sources(sample)]
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}"
        proc = run_cli(["roundtrip", *sources, "-o", str(out)], env={"PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    assert outputs[0], "nothing written"


# --------------------------------------------------------------------------------------------
# Inline programs, one per construct. Each prints something, so behaviour can be compared.

KINDS = """\
module kinds_mod
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  integer, parameter :: wp = selected_real_kind(12, 200)
  integer, parameter :: sp = selected_real_kind(6)
contains
  subroutine kinds_demo(x, y, z, w)
    real(dp), intent(out) :: x
    real(wp), intent(out) :: y
    real(sp), intent(out) :: z
    real(dp), intent(out) :: w
    x = 0.1d0 + 1.0_dp/3.0_dp
    y = 2.0e-3_wp*7
    z = 0.1 + 1.0e-1_sp
    w = 0.1
  end subroutine kinds_demo
end module kinds_mod

program kinds_prog
  use kinds_mod
  implicit none
  real(dp) :: x, w
  real(wp) :: y
  real(sp) :: z
  call kinds_demo(x, y, z, w)
  write(*, '(4es26.17)') x, y, z, w
end program kinds_prog
"""

LABELLED_DO = """\
program labelled
  implicit none
  integer :: i, j, s
  s = 0
  do 10 i = 1, 5
    s = s + i
10 continue
  do 30 i = 1, 4
    do 20 j = 1, 3
      s = s + i*j
20  continue
30 end do
  print *, s
end program labelled
"""

SHARED_LABEL_DO = """\
program shared
  implicit none
  integer :: i, j, s
  s = 0
  do 20 i = 1, 3
    do 20 j = 1, 2
      s = s + 10*i + j
20 continue
  print *, s
end program shared
"""

NEGATIVE_STEP = """\
program negstep
  implicit none
  integer :: i, n, s
  real :: a(10)
  n = 10
  s = 0
  do i = n, 1, -1
    a(i) = real(i)
  end do
  do i = 10, 1, -3
    s = s*10 + i
  end do
  print *, s, a(1), a(n)
end program negstep
"""

DO_WHILE = """\
program loops
  implicit none
  integer :: k
  k = 0
  do while (k < 10)
    k = k + 3
  end do
  do
    k = k - 1
    if (k <= 5) exit
  end do
  print *, k
end program loops
"""

NAMED_EXIT_CYCLE = """\
program named
  implicit none
  integer :: i, j, s
  s = 0
  outer: do i = 1, 6
    inner: do j = 1, 6
      if (j > i) cycle outer
      if (i*j > 12) exit outer
      if (j == 3) cycle inner
      s = s + i*j
    end do inner
  end do outer
  print *, s, i, j
end program named
"""

SELECT_CASE = """\
program selects
  implicit none
  integer :: i, s
  character(len=1) :: c
  s = 0
  do i = -3, 15
    select case (i)
    case (:-1)
      s = s + 1
    case (0, 2, 4)
      s = s + 10
    case (5:9)
      s = s + 100
    case (10:)
      s = s + 1000
    case default
      s = s + 10000
    end select
  end do
  c = 'q'
  pick: select case (c)
  case ('a':'m')
    s = s + 1
  case ('n':'z')
    s = s + 2
  end select pick
  print *, s
end program selects
"""

LOGICAL_IF = """\
program logif
  implicit none
  double precision :: x, y
  integer :: i, s
  x = 2.0d0
  y = -1.0d0
  s = 0
  if (x > 0.0d0) y = sqrt(x)
  do i = 1, 10
    if (mod(i, 2) == 0) cycle
    if (i > 7) exit
    s = s + i
  end do
  if (.not. (y < 0.0d0) .and. s > 0) call show(y, s)
contains
  subroutine show(v, k)
    double precision, intent(in) :: v
    integer, intent(in) :: k
    write(*, '(es26.17, i6)') v, k
  end subroutine show
end program logif
"""

INTERNAL_PROCS = """\
module host_mod
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine outer_sub(n, x, total)
    integer, intent(in) :: n
    real(dp), intent(inout) :: x(n)
    real(dp), intent(out) :: total
    integer :: i
    do i = 1, n
      call scale(x(i))
    end do
    total = twice_sum()
  contains
    subroutine scale(v)
      real(dp), intent(inout) :: v
      v = 1.5_dp*v + real(n, dp)
    end subroutine scale
    function twice_sum() result(s)
      real(dp) :: s
      s = 2.0_dp*sum(x)
    end function twice_sum
  end subroutine outer_sub
end module host_mod

program internal
  use host_mod
  implicit none
  real(dp) :: x(4), t
  x = [1.0_dp, 2.0_dp, 3.0_dp, 4.0_dp]
  call outer_sub(4, x, t)
  write(*, '(5es26.17)') x, t
end program internal
"""

FUNCTIONS = """\
module funcs
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function sq(x) result(r)
    real(dp), intent(in) :: x
    real(dp) :: r
    r = x*x
  end function sq

  real(dp) function cube(x)
    real(dp), intent(in) :: x
    cube = x*x*x
  end function cube

  pure function hyp(a, b) result(h)
    real(dp), intent(in) :: a, b
    real(dp) :: h
    h = sqrt(a**2 + b**2)
  end function hyp

  elemental real(dp) function relu(x)
    real(dp), intent(in) :: x
    relu = max(x, 0.0_dp)
  end function relu

  pure subroutine axpy(a, x, y)
    real(dp), intent(in) :: a, x(:)
    real(dp), intent(inout) :: y(:)
    y = y + a*x
  end subroutine axpy

  recursive function fact(n) result(f)
    integer, intent(in) :: n
    integer :: f
    if (n <= 1) then
      f = 1
    else
      f = n*fact(n - 1)
    end if
  end function fact
end module funcs

program fprog
  use funcs
  implicit none
  real(dp) :: v(3), w(3)
  v = [-1.0_dp, 0.5_dp, 2.0_dp]
  w = 1.0_dp
  call axpy(2.0_dp, v, w)
  write(*, '(4es26.17)') sq(1.1_dp), cube(1.1_dp), hyp(3.0_dp, 4.0_dp), sum(relu(v))
  write(*, '(3es26.17, i8)') w, fact(6)
end program fprog
"""

COMMENTS = """\
! file header comment
module commented
  implicit none
  ! a module-level comment
  integer, parameter :: dp = kind(1.0d0)
contains
  ! comment before the routine
  subroutine work(n, x)
    integer, intent(in) :: n
    real(dp), intent(inout) :: x(n)
    integer :: i
    ! comment in the body
    x(1) = 2.0_dp ! trailing comment
    do i = 2, n
      ! comment inside a loop
      x(i) = x(i - 1)*0.5_dp
    end do
  end subroutine work
end module commented

program cprog
  use commented
  implicit none
  real(dp) :: x(3)
  call work(3, x)
  write(*, '(3es26.17)') x
end program cprog
"""

COMMENTS_BEFORE_CONSTRUCTS = """\
program cons
  implicit none
  integer :: i, s
  s = 0

  ! comment before a do loop
  do i = 1, 3
    s = s + i
  end do

  ! comment before an if construct
  if (s > 2) then
    s = s + 100
  end if
  ! comment before a select case
  select case (s)
  case (106)
    s = -s
  end select
  print *, s
end program cons
"""

TYPES = """\
subroutine types_demo(a, b, c, d, e)
  implicit none
  integer, parameter :: wp = selected_real_kind(15, 307)
  real*8 a
  double precision b
  real(wp) :: c
  real(kind=8) :: d
  integer*4 e
  a = 1.0d0/3.0d0
  b = a*2
  c = b*2
  d = c*2
  e = int(d*100)
end subroutine types_demo

program tprog
  implicit none
  real*8 a, b, d
  real(kind(1.0d0)) :: c
  integer e
  call types_demo(a, b, c, d, e)
  write(*, '(4es26.17, i6)') a, b, c, d, e
end program tprog
"""

ASSUMED_SIZE = """\
subroutine asz(n, m, a, b, s)
  implicit none
  integer n, m
  real(8) a(*), b(n, *), s
  integer i, j
  s = 0.0d0
  do i = 1, n*m
    s = s + a(i)
  end do
  do j = 1, m
    do i = 1, n
      s = s + b(i, j)*j
    end do
  end do
end subroutine asz

program aprog
  implicit none
  real(8) :: a(6), b(2, 3), s
  integer :: i
  do i = 1, 6
    a(i) = 0.5d0*i
  end do
  b = reshape(a, [2, 3])
  call asz(2, 3, a, b, s)
  write(*, '(es26.17)') s
end program aprog
"""

ARRAYS = """\
module arrays_mod
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine auto(n, x, s)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: s
    real(dp) :: w(n), v(2*n)
    real(dp), allocatable :: t(:), u(:, :)
    integer :: i
    allocate(t(n), u(n, 2))
    do i = 1, n
      w(i) = x(i)**2
      v(i) = w(i)
      v(n + i) = -w(i)
      t(i) = x(i) + 1.0_dp
      u(i, 1) = t(i)
      u(i, 2) = w(i)
    end do
    s = sum(w) + sum(v(1:n)) + sum(t) + sum(u(:, 2))
    deallocate(t, u)
  end subroutine auto
end module arrays_mod

program arrprog
  use arrays_mod
  implicit none
  real(dp) :: x(5), s
  x = [0.1_dp, 0.2_dp, 0.3_dp, 0.4_dp, 0.5_dp]
  call auto(5, x, s)
  write(*, '(es26.17)') s
end program arrprog
"""

FIXED_FORM = """\
C     A fixed-form (F77) program: comment column 1, continuation column 6.
      PROGRAM FIXED
      IMPLICIT NONE
      INTEGER I
      DOUBLE PRECISION S, X(5)
      S = 0.0D0
      DO 10 I = 1, 5
         X(I) = DBLE(I)*0.5D0
         S = S + X(I)**2 +
     &       1.0D-1*X(I)
   10 CONTINUE
      WRITE(*, '(ES26.17)') S
      END
"""

LEGACY_F77 = """\
C     legacy kitchen sink
      PROGRAM LEGACY
      IMPLICIT DOUBLE PRECISION (A-H,O-Z)
      PARAMETER (N = 5)
      DIMENSION X(N), Y(N)
      COMMON /BLK/ ALPHA, BETA
      CHARACTER*8 NAME
      INTEGER IW(3)
      EQUIVALENCE (Y(1), YFIRST)
      DATA IW /1, 2, 3/
      SAVE
      F(T) = T*T + 1.0D0
      ALPHA = 2.0D0
      BETA = 0.5D0
      NAME = 'abc'
      DO 10 I = 1, N
         X(I) = F(DBLE(I))
         Y(I) = X(I) * ALPHA
   10 CONTINUE
      K = 0
   20 K = K + 1
      IF (K .LT. 3) GOTO 20
      IF (X(1) - 2.0D0) 30, 40, 50
   30 S = -1.0D0
      GOTO 60
   40 S = 0.0D0
      GOTO 60
   50 S = 1.0D0
   60 CONTINUE
      CALL SUB(X, N, TOTAL)
      WRITE(*, 100) NAME, TOTAL, S, K, YFIRST, IW(2)
  100 FORMAT(A8, 2ES26.17, I4, ES26.17, I4)
      END

      SUBROUTINE SUB(X, N, TOTAL)
      IMPLICIT DOUBLE PRECISION (A-H,O-Z)
      DIMENSION X(*)
      COMMON /BLK/ ALPHA, BETA
      TOTAL = 0.0D0
      DO 20 I = 1, N
         IF (X(I) .GT. 10.0D0 .AND. .NOT. (X(I) .GE. 20.0D0)) THEN
            TOTAL = TOTAL + X(I)**2*BETA
         ELSE IF (X(I) .EQ. 2.0D0) THEN
            TOTAL = TOTAL - 1.0D0
         ELSE
            TOTAL = TOTAL + DSQRT(X(I))
         ENDIF
   20 CONTINUE
      RETURN
      END
"""

MODERN = """\
module modern
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type :: state_t
    real(dp) :: a(3)
    real(dp) :: b = 1.0_dp
  end type state_t
  interface norm
    module procedure norm2v
  end interface norm
  real(dp), parameter :: pi = 4.0_dp*atan(1.0_dp)
  real(dp), save :: counter = 0.0_dp
contains
  function norm2v(v) result(r)
    real(dp), intent(in) :: v(:)
    real(dp) :: r
    r = sqrt(sum(v**2))
  end function norm2v

  subroutine go(s, x, y, out)
    type(state_t), intent(inout) :: s
    real(dp), intent(inout) :: x(:)
    real(dp), intent(out) :: y(size(x))
    real(dp), intent(out) :: out
    real(dp), pointer :: p(:) => null()
    real(dp), target, allocatable :: tgt(:)
    integer :: i
    where (x > 0.5_dp)
      y = x**2
    elsewhere
      y = -x
    end where
    forall (i = 1:size(x)) x(i) = x(i) + real(i, dp)
    s%a = [1.0_dp, 2.0_dp, 3.0_dp]
    s%b = s%b*2.0_dp - 2.0_dp**(-1)
    associate (aa => s%a)
      out = sum(aa) + norm(x) + pi - 1.0_dp/(-x(1))
    end associate
    block
      real(dp) :: tmp
      tmp = -x(1)**2
      out = out + tmp + abs(-2.5_dp) + (-1.0_dp)**2
    end block
    allocate(tgt(3))
    tgt = 1.0_dp
    p => tgt
    out = out + sum(p) + merge(1.0_dp, 0.0_dp, out > 0.0_dp .eqv. .true.)
    counter = counter + 1
    out = out + counter + size(x, dim=1) + len_trim('ab  ' // 'c')
    deallocate(tgt)
    !$omp parallel do
    do i = 1, size(x)
      x(i) = x(i) * 2
    end do
    !$omp end parallel do
  end subroutine go
end module modern

program mprog
  use modern, only: dp, state_t, go
  implicit none
  type(state_t) :: s
  real(dp) :: x(4), y(4), o
  x = [0.1_dp, 0.6_dp, 1.2_dp, -0.3_dp]
  call go(s, x, y, o)
  write(*, '(9es26.17)') x, y, o
  write(*, '(4es26.17)') s%a, s%b
end program mprog
"""

DO_CONCURRENT = """\
program conc
  implicit none
  integer :: i
  real(8) :: y(4)
  do concurrent (i = 1:4)
    y(i) = 0.5d0*i
  end do
  write(*, '(4es26.17)') y
end program conc
"""

SNIPPETS: dict[str, tuple[str, bool]] = {
    "kinds": (KINDS, False),
    "labelled_do": (LABELLED_DO, False),
    "shared_label_do": (SHARED_LABEL_DO, False),
    "negative_step": (NEGATIVE_STEP, False),
    "do_while": (DO_WHILE, False),
    "named_exit_cycle": (NAMED_EXIT_CYCLE, False),
    "select_case": (SELECT_CASE, False),
    "logical_if": (LOGICAL_IF, False),
    "internal_procs": (INTERNAL_PROCS, False),
    "functions": (FUNCTIONS, False),
    "comments": (COMMENTS, False),
    "comments_before_constructs": (COMMENTS_BEFORE_CONSTRUCTS, False),
    "types": (TYPES, False),
    "assumed_size": (ASSUMED_SIZE, False),
    "arrays": (ARRAYS, False),
    "fixed_form": (FIXED_FORM, True),
    "legacy_f77": (LEGACY_F77, True),
    "modern": (MODERN, False),
    "do_concurrent": (DO_CONCURRENT, False),
}


@pytest.mark.gfortran
@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_roundtrip_behaves_like_original(
    name: str, fortran: Fortran, tmp_path: Path
) -> None:
    text, fixed = SNIPPETS[name]
    original = tmp_path / "orig" / (f"{name}.f" if fixed else f"{name}.f90")
    original.parent.mkdir()
    original.write_text(text)
    expected = fortran.run(fortran.compile([original], "original"))
    assert expected.strip()
    [emitted] = roundtrip_files([original], tmp_path / "rt")
    got = fortran.run(fortran.compile([emitted], "roundtrip"))
    assert got == expected
    strict = fortran.syntax_check([emitted], ("-O0", *STRICT_FLAGS))
    assert strict.ok, strict.output


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_roundtrip_is_idempotent(name: str) -> None:
    text, fixed = SNIPPETS[name]
    once = emit(text, f"{name}.f" if fixed else f"{name}.f90", fixed)
    assert emit(once, f"{name}.f90") == once


def test_kinds_are_kept_exactly() -> None:
    sf = lower_text(KINDS)
    lits = literals(sf)
    for text in ("0.1d0", "1.0_dp", "3.0_dp", "2.0e-3_wp", "1.0e-1_sp", "0.1", "12", "200"):
        assert text in lits, f"literal {text} lost: {sorted(lits)}"
    out = source_file(sf)
    for text in ("0.1d0", "1.0_dp/3.0_dp", "2.0e-3_wp", "1.0e-1_sp", "w = 0.1\n"):
        assert text in out
    assert symbol(sf, "kinds_demo", "x").type == ir.TypeSpec("real", "dp")
    assert symbol(sf, "kinds_demo", "y").type == ir.TypeSpec("real", "wp")


def test_kind_and_exponent_letters_survive_upper_case() -> None:
    sf = lower_text("subroutine s(x)\n  real(8) :: x\n  x = 1.5D-3 + 2.0E+1_8\nend subroutine s\n")
    lits = literals(sf)
    assert {"1.5d-3", "2.0e+1_8"} <= lits


def test_labelled_do_loops() -> None:
    sf = lower_text(LABELLED_DO)
    loops = of_type(sf, ir.Do)
    assert [(d.var, d.end_label) for d in loops] == [("i", "10"), ("i", "30"), ("j", "20")]
    outer = loops[1]
    assert len(outer.body) == 1 and isinstance(outer.body[0], ir.Do)
    out = source_file(sf)
    assert "do 10 i = 1, 5" in out


def test_shared_label_do_loops_nest_in_the_ir() -> None:
    """``do 20 i`` / ``do 20 j`` / ``20 continue``: two nested loops, not one loop and an opaque
    statement (an Opaque DO would hide the inner loop from the analyses)."""
    sf = lower_text(SHARED_LABEL_DO)
    loops = of_type(sf, ir.Do)
    assert [d.var for d in loops] == ["i", "j"]
    assert isinstance(loops[0].body[0], ir.Do)
    assert not of_type(sf, ir.Opaque)[:-1], "only the PRINT should be opaque"


def test_negative_step_do() -> None:
    sf = lower_text(NEGATIVE_STEP)
    loops = of_type(sf, ir.Do)
    steps = [expr(d.step) if d.step is not None else None for d in loops]
    assert steps == ["-1", "-3"]
    assert expr(loops[0].start) == "n" and expr(loops[0].stop) == "1"
    assert "do i = 10, 1, -3" in source_file(sf)


def test_do_while_and_endless_do() -> None:
    sf = lower_text(DO_WHILE)
    loops = of_type(sf, ir.DoWhile)
    assert len(loops) == 2
    assert loops[0].cond is not None and expr(loops[0].cond) == "k < 10"
    assert loops[1].cond is None
    exits = of_type(sf, ir.Exit)
    assert len(exits) == 1 and exits[0].name is None


def test_named_exit_and_cycle() -> None:
    sf = lower_text(NAMED_EXIT_CYCLE)
    loops = of_type(sf, ir.Do)
    assert [d.name for d in loops] == ["outer", "inner"]
    assert [c.name for c in of_type(sf, ir.Cycle)] == ["outer", "inner"]
    assert [e.name for e in of_type(sf, ir.Exit)] == ["outer"]
    out = source_file(sf)
    assert "outer: do i = 1, 6" in out and "end do outer" in out
    assert "exit outer" in out and "cycle inner" in out


def test_select_case_ranges_and_default() -> None:
    sf = lower_text(SELECT_CASE)
    first, second = of_type(sf, ir.Select)
    sels = [c.selectors for c in first.cases]
    assert sels[0] == (ir.Range(None, ir.UnOp("-", ir.Literal("1", "integer"))),) or sels[0] == (
        ir.Range(None, ir.Literal("-1", "integer")),
    )
    assert [expr(s) for s in sels[1]] == ["0", "2", "4"]
    assert sels[2] == (ir.Range(ir.Literal("5", "integer"), ir.Literal("9", "integer")),)
    assert sels[3] == (ir.Range(ir.Literal("10", "integer"), None),)
    assert sels[4] == ()  # DEFAULT
    assert second.name == "pick"
    assert [expr(s) for c in second.cases for s in c.selectors] == ["'a':'m'", "'n':'z'"]


def test_logical_if_statement() -> None:
    sf = lower_text(LOGICAL_IF)
    ifs = of_type(sf, ir.If)
    assert ifs and all(i.inline for i in ifs)
    inner = [i.branches[0][1][0] for i in ifs]
    assert [type(s) for s in inner] == [ir.Assign, ir.Cycle, ir.Exit, ir.CallStmt]
    assert "if (x > 0.0d0) y = sqrt(x)" in source_file(sf)


def test_internal_procedures() -> None:
    sf = lower_text(INTERNAL_PROCS)
    outer = routines(sf)["outer_sub"]
    assert [c.name for c in outer.contains] == ["scale", "twice_sum"]
    twice = outer.contains[1]
    assert twice.kind == "function" and twice.result == "s" and twice.result_clause
    assert "contains" in source_file(sf)


def test_functions_result_and_prefixes() -> None:
    sf = lower_text(FUNCTIONS)
    r = routines(sf)
    assert (r["sq"].kind, r["sq"].result, r["sq"].result_clause) == ("function", "r", True)
    assert (r["cube"].result, r["cube"].result_clause) == ("cube", False)
    assert "pure" in r["hyp"].prefix
    assert "elemental" in r["relu"].prefix
    assert r["axpy"].kind == "subroutine" and "pure" in r["axpy"].prefix
    assert "recursive" in r["fact"].prefix
    out = source_file(sf)
    assert "pure function hyp(a, b) result(h)" in out
    assert "recursive function fact(n) result(f)" in out
    assert "elemental" in out and "function relu(x)" in out


def test_comments_are_kept_in_order() -> None:
    out = emit(COMMENTS)
    wanted = [
        "! file header comment",
        "! a module-level comment",
        "! comment before the routine",
        "! comment in the body",
        "! trailing comment",
        "! comment inside a loop",
    ]
    positions = [out.find(c) for c in wanted]
    assert all(p >= 0 for p in positions), out
    assert positions == sorted(positions), out


def test_comments_before_constructs_are_kept() -> None:
    out = emit(COMMENTS_BEFORE_CONSTRUCTS)
    wanted = [
        "! comment before a do loop",
        "! comment before an if construct",
        "! comment before a select case",
    ]
    positions = [out.find(c) for c in wanted]
    assert all(p >= 0 for p in positions), out
    assert positions == sorted(positions), out
    assert "select case (s)" in out


def test_type_spellings_are_kept() -> None:
    sf = lower_text(TYPES)
    assert symbol(sf, "types_demo", "a").type == ir.TypeSpec("real", "*8")
    assert symbol(sf, "types_demo", "b").type == ir.TypeSpec("double precision")
    assert symbol(sf, "types_demo", "c").type == ir.TypeSpec("real", "wp")
    assert symbol(sf, "types_demo", "d").type == ir.TypeSpec("real", "8")
    assert symbol(sf, "types_demo", "e").type == ir.TypeSpec("integer", "*4")
    wp = symbol(sf, "types_demo", "wp")
    assert "parameter" in wp.attrs
    assert wp.init is not None and expr(wp.init) == "selected_real_kind(15, 307)"
    assert symbol(sf, "tprog", "c").type == ir.TypeSpec("real", "kind(1.0d0)")
    out = source_file(sf)
    assert "real*8" in out and "double precision" in out and "integer*4" in out


def test_assumed_size_arrays() -> None:
    sf = lower_text(ASSUMED_SIZE)
    a, b = symbol(sf, "asz", "a"), symbol(sf, "asz", "b")
    assert a.dims == (ir.Dim("assumed_size"),)
    assert b.dims == (ir.Dim("explicit", None, ir.Name("n")), ir.Dim("assumed_size"))
    assert a.type == ir.TypeSpec("real", "8")
    out = source_file(sf)
    assert "a(*)" in out and "b(n, *)" in out


def test_automatic_and_allocatable_arrays() -> None:
    sf = lower_text(ARRAYS)
    w, v = symbol(sf, "auto", "w"), symbol(sf, "auto", "v")
    assert w.dims == (ir.Dim("explicit", None, ir.Name("n")),)
    assert v.dims[0].kind == "explicit" and v.dims[0].hi is not None
    assert expr(v.dims[0].hi) == "2*n"
    t, u = symbol(sf, "auto", "t"), symbol(sf, "auto", "u")
    assert t.dims == (ir.Dim("deferred"),) and u.dims == (ir.Dim("deferred"),) * 2
    assert "allocatable" in t.attrs and "allocatable" in u.attrs
    alloc = [o for o in of_type(sf, ir.Opaque) if o.text.lower().startswith("allocate")]
    assert len(alloc) == 1 and {"t", "u"} <= set(alloc[0].writes)
    assigns = [s for s in of_type(sf, ir.Assign) if isinstance(s.target, ir.ArrayRef)]
    assert {s.target.name for s in assigns} >= {"w", "v", "t", "u"}


def test_fixed_form_comes_back_free_form() -> None:
    sf = lower_text(FIXED_FORM, "fixed.f", fixed=True)
    assert sf.fixed_form
    [loop] = of_type(sf, ir.Do)
    assert loop.var == "i" and loop.end_label == "10"
    assert {"0.5d0", "1.0d-1"} <= literals(sf)
    out = source_file(sf)
    assert "\n     &" not in out  # no fixed-form continuation column
    assert "C     A fixed-form" not in out
    assert "!     A fixed-form (F77) program" in out or "! A fixed-form (F77) program" in out


def test_locations_point_at_the_source() -> None:
    sf = lower_text(NAMED_EXIT_CYCLE, "named.f90")
    lines = NAMED_EXIT_CYCLE.splitlines()
    seen = 0
    for s in stmts(sf):
        if isinstance(s, ir.Comment):
            continue
        assert s.loc.file == "named.f90"
        text = lines[s.loc.line - 1]
        assert s.loc.col == len(text) - len(text.lstrip()) + 1
        seen += 1
    [outer, inner] = of_type(sf, ir.Do)
    assert lines[outer.loc.line - 1].strip().startswith("outer: do")
    assert lines[inner.loc.line - 1].strip().startswith("inner: do")
    assert seen >= 6


def test_output_does_not_depend_on_cwd(tmp_path: Path) -> None:
    src = tmp_path / "k.f90"
    src.write_text(KINDS)
    a = run_cli(["roundtrip", str(src), "-o", str(tmp_path / "a")])
    b = run_cli(["roundtrip", "k.f90", "-o", "b"], cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert (tmp_path / "a" / "k.f90").read_bytes() == (tmp_path / "b" / "k.f90").read_bytes()
    assert os.listdir(tmp_path / "b") == ["k.f90"]
