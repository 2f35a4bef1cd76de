"""The typing invariant (ad/invariants/type_check.py): a generated assignment that divides integers
where the source divides reals, or assigns an array value to a scalar, is a located internal error,
never output. Checked by re-introducing the two old faults (the "first real designator" type guess,
and array statements with a scalar MAXLOC kept as written) and expecting the error."""

from __future__ import annotations

from pathlib import Path

import pytest

from fortran_ad.ad.core.common import RoutineAD
from fortran_ad.driver import Options, differentiate
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, subexprs
from fortran_ad.normalize import scalarize

MEAN = """\
subroutine mean(x, s, y)
  real(8), intent(in) :: x(4), s
  real(8), intent(out) :: y
  y = x(1)
  y = y + s/size(x)
end subroutine mean
"""

BROADCAST = """\
subroutine bc(x, s, c)
  real(8), intent(in) :: x(4), s
  real(8), intent(out) :: c(4)
  c = x
  c = c + s*(1.0d0/maxloc(x, 1))
end subroutine bc
"""


def _first_real_guess(self: RoutineAD, e: ir.Expr) -> ir.TypeSpec | None:
    """The old type guess: the first real designator inside decides (size(x) is "real")."""
    for x in subexprs(e):
        b = base_name(x)
        sym = self.lookup(b) if b is not None else None
        if sym is not None and sym.type is not None and sym.type.is_real:
            return sym.type
    return None


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_integer_division_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    src = tmp_path / "mean.f90"
    src.write_text(MEAN)
    opts = Options((str(src),), tmp_path / "out", mode, ("x", "s"), ("y",))
    differentiate(opts)  # well typed as generated now
    monkeypatch.setattr(RoutineAD, "type_of", _first_real_guess)
    with pytest.raises(FortranADError, match="divides integers") as info:
        differentiate(Options((str(src),), tmp_path / "bad", mode, ("x", "s"), ("y",)))
    assert str(info.value).startswith(f"{src}:5:")
    assert not (tmp_path / "bad").exists()


def test_rank_mismatch_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "bc.f90"
    src.write_text(BROADCAST)
    differentiate(Options((str(src),), tmp_path / "out", "reverse", ("x", "s"), ("c",)))

    def keep_any_maxloc(self, e: ir.Expr) -> bool:
        return any(isinstance(x, ir.Call) and x.name == "maxloc" for x in subexprs(e))

    monkeypatch.setattr(scalarize.Scalarizer, "_array_valued_keep", keep_any_maxloc)
    with pytest.raises(FortranADError, match="rank-1 value to a rank-0 target") as info:
        differentiate(Options((str(src),), tmp_path / "bad", "reverse", ("x", "s"), ("c",)))
    assert str(info.value).startswith(f"{src}:5:")
