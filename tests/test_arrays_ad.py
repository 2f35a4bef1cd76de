"""Modern-Fortran array and procedure features (issue #7), both modes against finite
differences, the dot-product identity and the Taylor test (``fortran_ad.api.check``).

Each source in tests/data/arrays/ exercises a group of constructs (the table in docs/coverage.md
names the test for each): sections.f90 (array syntax in every position, strided and
overlapping sections, elemental user functions), where_forall.f90 (WHERE/ELSEWHERE, nested
WHERE, FORALL, array constructors with implied DO, SUM/PRODUCT/MAXVAL/MINVAL with MASK),
intrinsics.f90 (MATMUL, TRANSPOSE, SPREAD, CSHIFT, EOSHIFT, RESHAPE, DIM= reductions,
DOT_PRODUCT, MODULO; COUNT/ANY/ALL/MAXLOC on passive paths), procedures.f90 (ALLOCATE/
DEALLOCATE in a time loop, generic interface, ASSOCIATE, statement function, OPTIONAL and
PRESENT, internal function, CHARACTER, WRITE/PRINT and NAMELIST in passive code),
where_runtime_bounds.f90 (WHERE masks over sections with run-time bounds, stored in
allocatable temporaries inside a loop), ctor_associate.f90 (``[...]`` and ``(/.../)``
with implied DO and a negative stride, ASSOCIATE with a reversed section and an expression).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api, cli
from fortran_ad.errors import FortranADError

DATA = Path(__file__).parent / "data" / "arrays"
MODES = ("reverse", "forward")

CASES = {
    "sections": ("sections.f90", "head", "x,y", "y,cost", {"n": 7}),
    "where_forall": ("where_forall.f90", "wh", "x,y", "y,cost", {"n": 6}),
    "intrinsics": ("intrinsics.f90", "intr", "a,x,y", "y,cost", {"n": 4}),
    "procedures": ("procedures.f90", "head", "x,f", "x,cost", {"n": 5}),
    "where_runtime_bounds": ("where_runtime_bounds.f90", "s", "x", "x,y", {"n": 6}),
    "ctor_associate": ("ctor_associate.f90", "s", "x", "y", {"n": 5}),
    "where_in_forall": ("where_in_forall.f90", "wif", "x,y", "y,cost", {"n": 5}),
}


@pytest.mark.gfortran
@pytest.mark.parametrize("case", sorted(CASES))
def test_arrays_check(case: str) -> None:
    src, head, wrt, of, sizes = CASES[case]
    report = api.check(DATA / src, wrt=wrt, of=of, head=head, sizes=sizes, modes=MODES)
    assert report.ok, report.table()


def _generate(tmp_path: Path, source: str, mode: str = "reverse", **kw) -> int:
    src = tmp_path / "t.f90"
    src.write_text(source)
    args = [str(src), "--wrt", kw.get("wrt", "x"), "--of", kw.get("of", "y"), "--mode", mode]
    return cli.main([*args, "-o", str(tmp_path / "out")])


EXTERNAL = """\
subroutine head(n, x, y)
  integer, intent(in) :: n
  real(8), intent(in) :: x(n)
  real(8), intent(out) :: y(n)
  interface
    subroutine ext(m, a, b)
      integer, intent(in) :: m
      real(8), intent(in) :: a(m)
      real(8), intent(out) :: b(m)
    end subroutine ext
  end interface
  call ext(n, x, y)
end subroutine head
"""


@pytest.mark.parametrize("mode", MODES)
def test_interface_block_without_source_names_the_derivative(
    tmp_path: Path, mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _generate(tmp_path, EXTERNAL, mode) == 2
    err = capsys.readouterr().err
    suffix = "b" if mode == "reverse" else "d"
    assert "t.f90:12:3: error: no source for 'ext'" in err
    assert f"'ext_{suffix}' is required" in err
    assert not (tmp_path / "out").exists()


PACK = """\
subroutine head(n, x, y)
  integer, intent(in) :: n
  real(8), intent(in) :: x(n)
  real(8), intent(out) :: y(n)
  real(8) :: p(n)
  integer :: k
  k = count(x > 0.5d0)
  p = 0.0d0
  p(1:k) = pack(x, x > 0.5d0)
  y = x*p
end subroutine head
"""


@pytest.mark.parametrize("mode", MODES)
def test_pack_on_active_data_is_a_located_error(tmp_path: Path, mode: str) -> None:
    with pytest.raises(FortranADError, match="'pack'"):
        src = tmp_path / "t.f90"
        src.write_text(PACK)
        from fortran_ad.driver import Options, differentiate

        differentiate(Options((str(src),), tmp_path / "out", mode, ("x",), ("y",)))


@pytest.mark.gfortran
def test_pack_on_passive_data_survives(tmp_path: Path) -> None:
    src = tmp_path / "passive_pack.f90"
    passive = PACK.replace("y = x*p", "k = count(p > 0.7d0)\n  y = x**2 + k")
    src.write_text(passive.replace("integer :: k", "integer :: k\n  character(len=8) :: tag"))
    report = api.check(src, wrt="x", of="y", head="head", sizes={"n": 5}, modes=MODES)
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_overlap_in_allocatable_goes_through_allocatable_temporary(tmp_path: Path) -> None:
    src = tmp_path / "alloc_overlap.f90"
    src.write_text(
        "subroutine head(n, x, y)\n  integer, intent(in) :: n\n  real(8), intent(in) :: x(n)\n"
        "  real(8), intent(out) :: y(n)\n  real(8), allocatable :: w(:)\n  integer :: k, t\n"
        "  do t = 1, 2\n    allocate(w(n))\n    w = x*t\n    k = n/2\n"
        "    w(2:k) = w(1:k-1)*w(3:k+1)\n    y = w\n    deallocate(w)\n  end do\n"
        "end subroutine head\n"
    )
    report = api.check(src, wrt="x", of="y", head="head", sizes={"n": 6}, modes=MODES)
    assert report.ok, report.table()


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("y = reshape(x, [n], [0.0d0])", "RESHAPE"),
        ("y = cshift(x, int(x))", "CSHIFT"),
        ("y = x*sum(x, dim=n)", "DIM"),
    ],
)
def test_unsupported_array_intrinsic_forms_are_located(
    tmp_path: Path, statement: str, words: str
) -> None:
    src = tmp_path / "t.f90"
    src.write_text(
        "subroutine head(n, x, y)\n  integer, intent(in) :: n\n  real(8), intent(in) :: x(n)\n"
        f"  real(8), intent(out) :: y(n)\n  {statement}\nend subroutine head\n"
    )
    from fortran_ad.driver import Options, differentiate

    with pytest.raises(FortranADError, match=words) as info:
        differentiate(Options((str(src),), tmp_path / "out", "reverse", ("x",), ("y",)))
    assert str(info.value).startswith(f"{src}:5:")


ALLOC_DUMMY_IN_LOOP = """\
module al
  implicit none
contains
  subroutine work(n, x, w, y)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), allocatable, intent(inout) :: w(:)
    real(8), intent(out) :: y
    integer :: t
    y = 0.0d0
    do t = 1, 3
      allocate(w(n))
      w = x*t
      y = y + sum(w**2)
      deallocate(w)
    end do
  end subroutine work
  subroutine al_run(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(out) :: y
    real(8), allocatable :: w(:)
    call work(n, x, w, y)
  end subroutine al_run
end module al
"""


@pytest.mark.gfortran
def test_allocatable_dummy_allocated_in_a_loop(tmp_path: Path) -> None:
    """An allocatable dummy allocated and deallocated in a loop: the backward sweep undoes the
    allocations like a local's, the caller saves the (unallocated) actual with its status, and
    the adjoint leaves the primal's final allocation state."""
    src = tmp_path / "al.f90"
    src.write_text(ALLOC_DUMMY_IN_LOOP)
    modes = ("reverse", "forward", "vector-reverse")
    report = api.check(src, wrt="x", of="y", head="al_run", sizes={"n": 4}, modes=modes)
    assert report.ok, report.table()


def test_module_variable_allocated_in_a_loop_is_a_located_error(tmp_path: Path) -> None:
    src = tmp_path / "am.f90"
    text = ALLOC_DUMMY_IN_LOOP.replace(
        "  implicit none\ncontains", "  implicit none\n  real(8), allocatable :: w(:)\ncontains"
    )
    text = text.replace("real(8), allocatable, intent(inout) :: w(:)\n", "")
    src.write_text(
        text.replace("call work(n, x, w, y)", "call work(n, x, y)").replace(
            "work(n, x, w, y)", "work(n, x, y)"
        )
    )
    from fortran_ad.driver import Options, differentiate

    with pytest.raises(FortranADError, match="module variable 'w' inside a loop") as info:
        differentiate(Options((str(src),), tmp_path / "out", "reverse", ("x",), ("y",)))
    assert str(info.value).startswith(f"{src}:")


def test_where_inside_forall_at_other_indices_is_a_located_error(tmp_path: Path) -> None:
    """The WHERE runs per FORALL index tuple; reading what it assigns at another index (which
    FORALL's all-indices-first order would not see updated) is refused, located."""
    src = tmp_path / "t.f90"
    src.write_text(
        "subroutine head(n, x, y)\n  integer, intent(in) :: n\n  real(8), intent(in) :: x(n, 3)\n"
        "  real(8), intent(inout) :: y(n, 3)\n  integer :: i\n  forall (i = 2:n)\n"
        "    where (x(i, :) > 0.5d0) y(i, :) = y(i - 1, :)*x(i, :)\n  end forall\n"
        "end subroutine head\n"
    )
    from fortran_ad.driver import Options, differentiate

    with pytest.raises(FortranADError, match="WHERE inside FORALL references 'y'") as info:
        differentiate(Options((str(src),), tmp_path / "out", "reverse", ("x",), ("y",)))
    assert str(info.value).startswith(f"{src}:7:")
