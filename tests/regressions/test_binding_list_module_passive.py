"""Regression: an F2008 binding list in a type-bound procedure part,
``procedure, private :: load_l0, load_i0, load_r0`` (ECMWF's hdf5_file_mod), was a syntax
error (fparser reads only the F2003 one-binding form), so a model whose build lists that I/O
module could not be differentiated at all, although the head never uses it.
frontend/binding_lists.py splits the list into one binding a statement, on the same line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api, driver
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir

IO_MODULE = """\
module io_mod
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type io_file
    integer :: unit = 10
  contains
    procedure, private :: load_i0, load_r0, &
      & load_r1
    generic :: load => load_i0, load_r0, load_r1
    procedure, pass(self) :: close_file => io_close, open_file => io_open
  end type io_file
  interface write_value
    module procedure write_i0, write_r0
  end interface write_value
contains
  subroutine load_i0(self, v)
    class(io_file), intent(in) :: self
    integer, intent(out) :: v
    read(self%unit, *) v
  end subroutine load_i0
  subroutine load_r0(self, v)
    class(io_file), intent(in) :: self
    real(dp), intent(out) :: v
    read(self%unit, *) v
  end subroutine load_r0
  subroutine load_r1(self, v)
    class(io_file), intent(in) :: self
    real(dp), intent(out) :: v(:)
    read(self%unit, *) v
  end subroutine load_r1
  subroutine io_open(self, name)
    class(io_file), intent(inout) :: self
    character(len=*), intent(in) :: name
    open(newunit=self%unit, file=name)
  end subroutine io_open
  subroutine io_close(self)
    class(io_file), intent(inout) :: self
    close(self%unit)
  end subroutine io_close
  subroutine write_i0(v)
    integer, intent(in) :: v
    write(*, *) v
  end subroutine write_i0
  subroutine write_r0(v)
    real(dp), intent(in) :: v
    write(*, *) v
  end subroutine write_r0
end module io_mod
"""

PHYSICS = """\
module physics
  use io_mod, only: dp
  implicit none
contains
  subroutine step(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    integer :: i
    y = 0.0_dp
    do i = 1, n
      y = y + exp(-x(i))*x(i)
    end do
  end subroutine step
end module physics
"""


def _write(tmp_path: Path) -> list[Path]:
    io, phys = tmp_path / "io_mod.f90", tmp_path / "physics.f90"
    io.write_text(IO_MODULE)
    phys.write_text(PHYSICS)
    return [io, phys]


@pytest.mark.gfortran
def test_head_differentiated_next_to_a_module_with_binding_lists(tmp_path: Path) -> None:
    report = api.check(
        _write(tmp_path), wrt="x", of="y", head="step", sizes={"n": 4},
        modes=("reverse", "forward"),
    )  # fmt: skip
    assert report.ok, report.table()


@pytest.mark.gfortran
def test_binding_list_module_roundtrips_and_compiles(tmp_path: Path, fortran) -> None:
    written = driver.roundtrip([str(p) for p in _write(tmp_path)], tmp_path / "rt")
    result = fortran.syntax_check(written, flags=["-std=f2008"])
    assert result.ok, result.output
    spec = driver.load([str(written[0])])[0].units[0].spec
    typedef = next(s for s in spec if isinstance(s, ir.TypeDef))
    assert typedef.text.lower().count("procedure, private ::") == 3


def test_lines_after_a_split_binding_list_keep_their_numbers(tmp_path: Path) -> None:
    first = "    read(self%unit, *) v\n  end subroutine load_i0"
    bad = IO_MODULE.replace(first, "    v = = 1\n  end subroutine load_i0")
    path = tmp_path / "io_mod.f90"
    path.write_text(bad)
    with pytest.raises(FortranADError, match="syntax error") as err:
        driver.load([str(path)])
    assert err.value.loc.line == bad.splitlines().index("    v = = 1") + 1
