"""Regression: every elemental intrinsic applied to arrays is scalarized, also in passive
arguments.

``sign(x, hypot(w, w))`` on arrays left ``hypot(w, w)`` whole inside the element loop
(``y(i) = sign(x(i), hypot(w, w))``: a rank error in both modes), as did BESSEL_J0 and ERF:
the scalarizer knew only a short list of elemental intrinsics. It now knows all of Fortran
2008's (normalize/scalarize.py ELEMENTAL).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad import api

SOURCE = """\
module h1
  implicit none
contains
  subroutine head(x, w, y)
    real(8), intent(in) :: x(4), w(4)
    real(8), intent(out) :: y(4)
    integer :: k(4)
    k = iand(int(w*10), 3) + 1
    y = sign(x, hypot(w, w)) * x + bessel_j0(w) * x + erf(w) * x
    y = y + log_gamma(w + 1) * x(k) + dim(x, 0.5d0 * w)
  end subroutine head
end module h1
"""


@pytest.mark.gfortran
def test_elemental_intrinsics_in_passive_arguments(tmp_path: Path) -> None:
    src = tmp_path / "h1.f90"
    src.write_text(SOURCE)
    report = api.check(src, wrt="x", of="y", head="head", modes=("reverse", "forward"))
    assert report.ok, report.table()
