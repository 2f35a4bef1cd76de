"""Regression: integer-valued intrinsics were typed as real (the first real designator inside
decided), so derivative rules formed integer divisions and integer logarithms.

``y = sum(t)/size(t)`` got the adjoint coefficient ``1/size(t)`` (integer division: zero),
likewise for SIZE(x, 1), LBOUND, MAXLOC/MINLOC with DIM, INT, NINT and COUNT as divisors;
``size(x)**s`` differentiated to ``log(size(x))`` (gfortran rejects it); ``c = s*(1/maxloc(x,
1))`` with an array ``c`` was kept as array syntax and its adjoint lost the sum over ``c``. Now
ir/types.py types every expression and ad/invariants/type_check.py re-types generated assignments.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module m
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine f(x, s, y)
    real(dp), intent(in) :: x(4), s
    real(dp), intent(out) :: {out}
    {body}
  end subroutine f
end module m
"""

CASES = {
    "mean": ("x", "y", "y", "y = sum(x)/size(x) + s"),
    "size_dim": ("s", "y", "y", "y = s/size(x, 1) + x(2)"),
    "lbound_plus_one": ("s", "y", "y", "y = s*x(1)/(lbound(x, 1) + 1)"),
    "maxloc": ("s", "y", "y", "y = s/maxloc(x, 1)"),
    "minloc": ("s", "y", "y", "y = s**2/minloc(x, 1)"),
    "int": ("s", "y", "y", "y = s/int(x(1) + 10.5_dp)"),
    "nint": ("s", "y", "y", "y = s/nint(0.2_dp*x(1) + 10.0_dp)"),
    "count": ("s", "y", "y", "y = s/count(x > 0.1_dp)"),
    "ubound_kind": ("s", "y", "y", "y = s/ubound(x, 1, kind=8)"),
    "size_power": ("s", "y", "y", "y = size(x)**s"),
    "broadcast": ("s", "y", "y(4)", "y = s*(1.0_dp/maxloc(x, 1))"),
}


@pytest.mark.gfortran
@pytest.mark.parametrize("case", sorted(CASES))
def test_integer_valued_intrinsic(tmp_path: Path, case: str) -> None:
    wrt, of, out, body = CASES[case]
    src = tmp_path / "m.f90"
    src.write_text(SOURCE.format(out=out, body=body))
    report = api.check(src, wrt=wrt, of=of, head="f", modes=("reverse", "forward"))
    assert report.ok, report.table()


GENERIC = """\
module g
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type state_t
    real(dp) :: a
    integer :: n
    logical :: flag
  end type state_t
  interface load
    module procedure load_r, load_i, load_l
  end interface load
contains
  subroutine load_r(v, w)
    real(dp), intent(inout) :: v
    real(dp), intent(in) :: w
    v = v*w + sin(w)
  end subroutine load_r
  subroutine load_i(v, w)
    integer, intent(inout) :: v
    real(dp), intent(in) :: w
    v = v + 1
  end subroutine load_i
  subroutine load_l(v, w)
    logical, intent(inout) :: v
    real(dp), intent(in) :: w
    v = .not. v
  end subroutine load_l
  subroutine head(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    type(state_t) :: s
    s%a = x
    s%n = 2
    s%flag = .true.
    call load(s%a, x)
    call load(s%n, x)
    call load(s%flag, x)
    y = s%a*s%n
    if (s%flag) y = 2*y
  end subroutine head
end module g
"""


@pytest.mark.gfortran
def test_generic_resolved_by_component_type(tmp_path: Path) -> None:
    """``call load(s%a)`` picks the specific by the component's declared type (it matched all
    three specifics before: "several specifics match")."""
    src = tmp_path / "g.f90"
    src.write_text(GENERIC)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()
