"""Regression: values the adjoint records must have a ``fad_push``/``fad_pop`` specific.

The shipped tape took real32/real64/int32/int64/default logical of ranks 0..5 only, so adjoints
recording a rank-6 or rank-7 array, an int8/int16 index, a logical(int8) flag, a complex or a
character variable did not compile ("There is no specific subroutine for the generic
'fad_push'"). Those now get specifics generated on demand (runtime/gen_tape_ext.py); a value no
specific can take (integer(16)) is refused at generation with a located internal error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api
from fortran_ad.errors import FortranADError

SOURCE = """\
module m8
  use, intrinsic :: iso_fortran_env, only: int8, int16, real32
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine scale7(a, v)
    real(dp), intent(inout) :: a(:,:,:,:,:,:,:)
    real(dp), intent(in) :: v
    a = a*v
  end subroutine scale7
  subroutine scale6(a, v)
    real(dp), intent(inout) :: a(:,:,:,:,:,:)
    real(dp), intent(in) :: v
    a = a*v + a
  end subroutine scale6
  subroutine head(x, y, n)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    real(dp) :: b(2,1,2,1,1,2,n), a6(1,2,1,2,1,n)
    integer(int16) :: k2
    integer(int8) :: k1
    logical(int8) :: l1
    complex(dp) :: c
    complex(real32) :: c4
    character(len=3) :: tag
    integer :: i
    y = 0
    b = 1
    a6 = 0.5_dp
    do i = 1, n
      call scale7(b, x(i))
      call scale6(a6, x(i))
      k2 = int(mod(i, n) + 1, int16)
      k1 = int(mod(i+1, n) + 1, int8)
      l1 = x(i) > 1.0_dp
      c = cmplx(real(i, dp), 0.5_dp*i, dp)
      c4 = cmplx(real(i, real32), 2.0, real32)
      tag = 'abc'
      if (l1) tag = 'xyz'
      if (l1) then
        y = y + x(k2)*x(k1)
      else
        y = y + x(k2)*real(c4, dp)
      end if
      if (tag == 'xyz') y = y*1.5_dp
      y = sin(y)*real(c)
    end do
    y = y + sum(b) + sum(a6)
  end subroutine head
end module m8
"""

UNCOVERED = """\
module m9
  implicit none
contains
  subroutine head(x, y, n)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(out) :: y
    integer(16) :: k
    integer :: i
    y = 0
    do i = 1, n
      k = mod(i, n) + 1
      y = y*y + x(k)*x(i)
    end do
  end subroutine head
end module m9
"""


@pytest.mark.gfortran
def test_records_of_every_type_kind_and_rank(tmp_path: Path) -> None:
    src = tmp_path / "m8.f90"
    src.write_text(SOURCE)
    report = api.check(
        src, wrt="x", of="y", head="head", sizes={"n": 3}, modes=("reverse", "forward"),
        ranges={"x": (0.6, 1.4)},
    )  # fmt: skip
    assert report.ok, report.table()


def test_record_without_specific_is_a_located_error(tmp_path: Path) -> None:
    src = tmp_path / "m9.f90"
    src.write_text(UNCOVERED)
    with pytest.raises(FortranADError) as err:
        api.check(src, wrt="x", of="y", head="head", sizes={"n": 3}, modes=("reverse",))
    text = str(err.value)
    assert text.startswith(f"{src}:4:"), text
    assert "internal error" in text and "fad_push(k)" in text and "integer(kind=16)" in text
