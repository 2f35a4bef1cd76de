"""Regression: the subscripts and section bounds of an actual argument are those of the moment
the call starts, even when the callee changes the variables they read.

``k = 2; call hk(a(k), k)`` with ``hk`` setting ``k = 3``: the split adjoint called
``hk_bwd(a(k), ab(k), k)`` with k = 3 (the adjoint of a(2) went to ab(3)), and with ``k`` a
module variable the callee changes even the joint ``hk_b``. Normalization now evaluates such
subscripts into temporaries before the call (normalize/actuals.py) and the reverse transforms
assert it (check_frozen).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

HK = """\
  subroutine hk(p, kk)
    real(8), intent(inout) :: p
    integer, intent(inout) :: kk
    p = p*p + sin(p)
    kk = kk + 1
  end subroutine hk
"""

CASES = {
    "element": (
        "",
        HK,
        """\
    integer :: k
    k = 2
    call hk(a(k), k)
""",
    ),
    "section": (
        "",
        """\
  subroutine hs(p, kk)
    real(8), intent(inout) :: p(3)
    integer, intent(inout) :: kk
    p = p*p + p(1)
    kk = kk + 2
  end subroutine hs
""",
        """\
    integer :: k
    k = 2
    call hs(a(k:k + 2), k)
""",
    ),
    "component": (
        """\
  type st
    real(8) :: v(8)
  end type st
""",
        HK,
        """\
    type(st) :: s
    integer :: k
    s%v = a
    k = 2
    call hk(s%v(k), k)
    a = s%v
""",
    ),
    "module_index": (
        "  integer :: idx = 1\n",
        """\
  subroutine hm(p)
    real(8), intent(inout) :: p
    p = p*p + sin(p)
    idx = idx + 1
  end subroutine hm
""",
        """\
    idx = 2
    call hm(a(idx))
""",
    ),
    "common_index": (
        "",
        """\
  subroutine hc(p)
    real(8), intent(inout) :: p
    integer :: ic
    common /cidx/ ic
    p = p*p + sin(p)
    ic = ic + 1
  end subroutine hc
""",
        """\
    integer :: ic
    common /cidx/ ic
    ic = 2
    call hc(a(ic))
""",
    ),
    "function_module_index": (
        "  integer :: idx = 1\n",
        """\
  function fk(p) result(r)
    real(8), intent(in) :: p
    real(8) :: r
    r = p*p + sin(p)
    idx = idx + 1
  end function fk
""",
        """\
    idx = 2
    a(1) = a(1) + fk(a(idx))
""",
    ),
    "in_loop": (
        "",
        HK,
        """\
    integer :: k, i
    k = 1
    do i = 1, 3
      call hk(a(k), k)
      a(k) = a(k)*a(i + 4)
    end do
""",
    ),
}


def source(decls: str, callee: str, body: str) -> str:
    return f"""\
module m
  implicit none
{decls}contains
{callee}
  subroutine head(a, cost)
    real(8), intent(inout) :: a(8)
    real(8), intent(out) :: cost
{body}    cost = sum(a*a)
  end subroutine head
end module m
"""


@pytest.mark.gfortran
@pytest.mark.parametrize("calls", ["joint", "split"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_subscripts_the_callee_changes(tmp_path: Path, case: str, calls: str) -> None:
    src = tmp_path / f"{case}.f90"
    src.write_text(source(*CASES[case]))
    report = api.check(
        src, wrt="a", of="cost", head="head", modes=("reverse", "forward"), calls=calls
    )
    assert report.ok, report.table()
