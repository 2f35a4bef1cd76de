"""Python API for users' own test suites: ``assert fortran_ad.api.check(...).ok``.

The functions build the same ``Options`` the CLI builds, so a check in pytest and
``fortran-ad check`` on the command line judge the same generated code the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from fortran_ad.checks.report import CheckReport
from fortran_ad.checks.run import check_options
from fortran_ad.checks.spec import MODES
from fortran_ad.options import DEFAULT_MEMORY_LIMIT, Options

__all__ = ["CheckReport", "check"]


def _names(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip().lower() for v in value if v.strip())


def _rewrite_spec(value: str | Sequence[str]) -> str:
    from fortran_ad.ad.rewrites import enabled

    spec = value if isinstance(value, str) else ",".join(value)
    enabled(True, spec)  # unknown names fail here
    return spec


def check(
    sources: str | Path | Sequence[str | Path],
    wrt: str | Sequence[str] = (),
    of: str | Sequence[str] | None = None,
    head: str | None = None,
    sizes: Mapping[str, int | float | bool | tuple[int, ...]] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    modes: str | Sequence[str] = MODES,
    sample: str | Path | None = None,
    directions: int = 3,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    fixed_form: bool | None = None,
    checkpoint: str = "ilp",
    calls: str = "auto",
    defines: Sequence[str] = (),
    include_dirs: Sequence[str] = (),
    parallelize_adjoint: bool = False,
    omp_atomic: bool = False,
    gradient_only: bool = False,
    loop_rewrites: bool = True,
    rewrites: str | Sequence[str] = "",
) -> CheckReport:
    """Generate the derivatives of ``head`` and verify them numerically with gfortran.

    ``wrt``/``of`` name the independent/dependent dummies ("u,v" or a list); a derived-type
    dummy names all its real components, ``"state%h"`` one (checks/objects.py). ``sizes`` fixes
    integer (and other non-wrt scalar) dummies and gives allocatable components of derived-type
    dummies their extents (``{"state%h": (n, m)}``); ``ranges`` gives uniform ranges for real
    inputs, components too (``{"state%u": (-1, 1)}``; default [0.5, 1.5]). ``modes`` picks the
    derivative modes to generate and check, as a list or "reverse,vector": any of reverse,
    forward, vector, vector-reverse (default: all four; the vector modes handle all
    ``directions`` in one call; heads taking derived-type objects: the scalar modes).
    ``checkpoint`` is the adjoint's policy (ilp, store-all or recompute-all; ``memory_limit`` is
    the ilp's budget), ``calls`` its call sites (auto: the ilp decides, joint, or split where
    possible); ``gradient_only`` generates adjoints that need not leave the primal outputs (the
    check then skips that row). ``defines`` and ``include_dirs`` are the preprocessor's ``-D
    NAME[=VAL]`` and ``-I DIR``. With ``sample`` (a sample.toml or its folder), its case for
    ``head`` supplies defaults for all of these (sources too, when ``sources`` is empty).
    ``loop_rewrites=False`` checks the plain adjoint; ``rewrites`` turns single loop rewrites
    off or on ("-simd,-gather" or a list, see fortran_ad/ad/rewrites/__init__.py).

    Returns a ``CheckReport``: ``.ok``, ``.rows`` and ``.table()``; raises FortranADError for
    input the user must fix.
    """
    if isinstance(sources, str | Path):
        sources = [sources]
    options = Options(
        sources=tuple(str(s) for s in sources),
        wrt=_names(wrt) or (),
        of=_names(of),
        head=head.lower() if head else None,
        memory_limit=memory_limit,
        fixed_form=fixed_form,
        sizes=dict(sizes or {}),  # type: ignore[arg-type]  # reals/logicals are fixed values too
        checkpoint=checkpoint,
        calls=calls,
        defines=tuple(defines),
        include_dirs=tuple(str(d) for d in include_dirs),
        parallelize_adjoint=parallelize_adjoint,
        omp_increments="atomic" if omp_atomic else "auto",
        gradient_only=gradient_only,
        loop_rewrites=loop_rewrites,
        rewrites=_rewrite_spec(rewrites),
    )
    return check_options(options, sample, ranges, modes, directions)
