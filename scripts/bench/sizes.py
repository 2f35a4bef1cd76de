"""The NPBench kernels: head routine, derivative inputs and problem sizes.

One table serves the Fortran sample (``legacy_samples/npbench/sample.toml`` is written from it by
``python scripts/bench/sizes.py --write-toml``) and the JAX runner. Sizes S/M/L are NPBench's
``bench_info/*.json`` presets, renamed to the Fortran dummies; ``check`` are tiny sizes for the
gradient tests in CI.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

Sizes = dict[str, int | float]
Range = tuple[float, float]
PM1: Range = (-1.0, 1.0)
UNIT: Range = (0.0, 1.0)
SCAL: Range = (1.0, 2.0)
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "legacy_samples" / "npbench"


@dataclass(frozen=True)
class Kernel:
    head: str
    wrt: dict[str, Range]  # derivative inputs and their ranges (in the Fortran order)
    check: Sizes
    S: Sizes
    M: Sizes
    L: Sizes
    fixed: Sizes = field(default_factory=dict)  # non-size fixed scalars (same in every preset)
    mm: bool = False  # has a MATMUL version ``<head>_mm`` (npb_blas_mm.f90, matmul.toml)

    def fortran_head(self, form: str) -> str:
        """The Fortran routine benchmarked in ``form`` ("matmul": the MATMUL version where
        NPBench's NumPy uses ``@`` and one exists, else the PolyBench loop nest)."""
        return f"{self.head}_mm" if form == "matmul" and self.mm else self.head

    def sizes(self, preset: str) -> Sizes:
        base = self.check if preset == "check" else getattr(self, preset)
        return {**base, **self.fixed}


def _mm(**kw: Range) -> dict[str, Range]:
    return dict(kw)


KERNELS: tuple[Kernel, ...] = (
    # ---------------------------------------------------------------- BLAS-like
    Kernel("gemm", _mm(alpha=SCAL, beta=SCAL, c=PM1, a=PM1, b=PM1),
           {"ni": 4, "nj": 5, "nk": 3}, {"ni": 1000, "nj": 1100, "nk": 1200},
           {"ni": 2500, "nj": 2750, "nk": 3000}, {"ni": 7000, "nj": 7500, "nk": 8000}, mm=True),
    Kernel("atax", _mm(a=PM1, x=PM1), {"m": 5, "n": 3}, {"m": 4000, "n": 5000},
           {"m": 10000, "n": 12500}, {"m": 20000, "n": 25000}, mm=True),
    Kernel("bicg", _mm(a=PM1, p=PM1, r=PM1), {"m": 4, "n": 5}, {"m": 4000, "n": 5000},
           {"m": 10000, "n": 12500}, {"m": 20000, "n": 25000}, mm=True),
    Kernel("mvt", _mm(x1=PM1, x2=PM1, y1=PM1, y2=PM1, a=PM1), {"n": 5}, {"n": 5500},
           {"n": 11000}, {"n": 22000}, mm=True),
    Kernel("gesummv", _mm(alpha=SCAL, beta=SCAL, a=PM1, b=PM1, x=PM1), {"n": 5}, {"n": 2000},
           {"n": 4000}, {"n": 14000}, mm=True),
    Kernel("gemver", _mm(alpha=SCAL, beta=SCAL, a=PM1, u1=PM1, v1=PM1, u2=PM1, v2=PM1, w=PM1,
                         x=PM1, y=PM1, z=PM1),
           {"n": 5}, {"n": 1000}, {"n": 3000}, {"n": 10000}, mm=True),
    Kernel("k2mm", _mm(alpha=SCAL, beta=SCAL, a=PM1, b=PM1, c=PM1, d=PM1),
           {"ni": 3, "nj": 4, "nk": 5, "nl": 2},
           {"ni": 800, "nj": 850, "nk": 900, "nl": 950},
           {"ni": 2000, "nj": 2250, "nk": 2500, "nl": 2750},
           {"ni": 6000, "nj": 6500, "nk": 7000, "nl": 7500}, mm=True),
    Kernel("k3mm", _mm(a=PM1, b=PM1, c=PM1, d=PM1),
           {"ni": 3, "nj": 4, "nk": 2, "nl": 3, "nm": 5},
           {"ni": 800, "nj": 850, "nk": 900, "nl": 950, "nm": 1000},
           {"ni": 2000, "nj": 2200, "nk": 2400, "nl": 2600, "nm": 2800},
           {"ni": 5500, "nj": 6000, "nk": 6500, "nl": 7000, "nm": 7500}, mm=True),
    Kernel("doitgen", _mm(a=PM1, c4=PM1), {"nr": 3, "nq": 2, "np": 4},
           {"nr": 60, "nq": 60, "np": 128}, {"nr": 110, "nq": 125, "np": 256},
           {"nr": 220, "nq": 250, "np": 512}, mm=True),
    Kernel("syrk", _mm(alpha=SCAL, beta=SCAL, c=PM1, a=PM1), {"m": 3, "n": 5},
           {"m": 50, "n": 70}, {"m": 150, "n": 200}, {"m": 500, "n": 600}),
    Kernel("syr2k", _mm(alpha=SCAL, beta=SCAL, c=PM1, a=PM1, b=PM1), {"m": 3, "n": 5},
           {"m": 35, "n": 50}, {"m": 110, "n": 140}, {"m": 350, "n": 400}),
    Kernel("symm", _mm(alpha=SCAL, beta=SCAL, c=PM1, a=PM1, b=PM1), {"m": 5, "n": 3},
           {"m": 40, "n": 50}, {"m": 120, "n": 150}, {"m": 350, "n": 550}, mm=True),
    Kernel("trmm", _mm(alpha=SCAL, a=PM1, b=PM1), {"m": 5, "n": 3},
           {"m": 65, "n": 80}, {"m": 200, "n": 250}, {"m": 600, "n": 700}, mm=True),
    # ---------------------------------------------------------------- solvers
    Kernel("trisolv", _mm(l=(0.5, 1.5), b=PM1), {"n": 6}, {"n": 2000}, {"n": 5000},
           {"n": 14000}),
    Kernel("durbin", _mm(r=(-0.2, 0.2)), {"n": 6}, {"n": 1000}, {"n": 6000}, {"n": 20000}),
    Kernel("cholesky", _mm(b=PM1), {"n": 5}, {"n": 100}, {"n": 300}, {"n": 900}),
    Kernel("lu", _mm(b=PM1), {"n": 5}, {"n": 60}, {"n": 220}, {"n": 700}),
    Kernel("ludcmp", _mm(b=PM1, rhs=PM1), {"n": 5}, {"n": 60}, {"n": 220}, {"n": 650}),
    Kernel("gramschmidt", _mm(a=PM1), {"m": 6, "n": 4}, {"m": 70, "n": 60},
           {"m": 220, "n": 180}, {"m": 600, "n": 500}),
    # ---------------------------------------------------------------- stencils
    Kernel("jacobi_1d", _mm(a=UNIT, b=UNIT), {"tsteps": 3, "n": 8},
           {"tsteps": 800, "n": 3200}, {"tsteps": 3000, "n": 12000},
           {"tsteps": 8500, "n": 34000}),
    Kernel("jacobi_2d", _mm(a=UNIT, b=UNIT), {"tsteps": 2, "n": 6}, {"tsteps": 50, "n": 150},
           {"tsteps": 80, "n": 350}, {"tsteps": 200, "n": 700}),
    Kernel("heat_3d", _mm(a=UNIT, b=UNIT), {"tsteps": 2, "n": 5}, {"tsteps": 25, "n": 25},
           {"tsteps": 50, "n": 40}, {"tsteps": 100, "n": 70}),
    Kernel("seidel_2d", _mm(a=UNIT), {"tsteps": 2, "n": 6}, {"tsteps": 8, "n": 50},
           {"tsteps": 15, "n": 100}, {"tsteps": 40, "n": 200}),
    Kernel("fdtd_2d", _mm(ex=UNIT, ey=UNIT, hz=UNIT, fict=UNIT),
           {"tmax": 2, "nx": 4, "ny": 5}, {"tmax": 20, "nx": 200, "ny": 220},
           {"tmax": 60, "nx": 400, "ny": 450}, {"tmax": 150, "nx": 800, "ny": 900}),
    Kernel("adi", _mm(u=UNIT), {"tsteps": 2, "n": 6}, {"tsteps": 5, "n": 100},
           {"tsteps": 20, "n": 200}, {"tsteps": 50, "n": 500}),
    Kernel("hdiff", _mm(in_field=UNIT, coeff=UNIT), {"ni": 3, "nj": 3, "nk": 2},
           {"ni": 64, "nj": 64, "nk": 60}, {"ni": 128, "nj": 128, "nk": 160},
           {"ni": 384, "nj": 384, "nk": 160}),
    Kernel("vadv", _mm(utens_stage=UNIT, u_stage=UNIT, wcon=(-0.1, 0.1), u_pos=UNIT,
                       utens=UNIT),
           {"ni": 2, "nj": 2, "nk": 4}, {"ni": 60, "nj": 60, "nk": 40},
           {"ni": 112, "nj": 112, "nk": 80}, {"ni": 180, "nj": 180, "nk": 160},
           fixed={"dtr_stage": 0.15}),
)  # fmt: skip
BY_HEAD = {k.head: k for k in KERNELS}
PRESETS = ("S", "M", "L")

HEADER = """\
# Generated by `python scripts/bench/sizes.py --write-toml` from scripts/bench/sizes.py:
# edit that table, not this file. [case.bench] holds NPBench's preset S; the runner
# (scripts/bench/run.py --preset S|M|L) takes S, M and L from the table.
name = "npbench"
description = "NPBench / PolyBench 4.2 kernels and weather stencils, cost = sum of outputs"
sources = [
    "npb_kinds.f90", "npb_blas.f90", "npb_solvers.f90", "npb_stencils.f90", "npb_weather.f90",
]
driver = "driver.f90"
"""


def _value(v: int | float) -> str:
    return repr(v) if isinstance(v, float) else str(v)


MM_HEADER = """\
# Generated by `python scripts/bench/sizes.py --write-toml` from scripts/bench/sizes.py:
# the MATMUL versions of the kernels NPBench writes with `@` (npb_blas_mm.f90), which
# scripts/bench/run.py benchmarks by default (--form matmul). Not a sample.toml: the
# PolyBench loop nests stay the npbench sample; tests/test_matmul_ad.py checks these.
name = "npbench_mm"
description = "NPBench kernels written with MATMUL (NumPy's @), cost = sum of outputs"
sources = ["npb_kinds.f90", "npb_blas_mm.f90"]
"""
MM_TOML = SAMPLE_DIR / "matmul.toml"


def toml_text(form: str = "loops") -> str:
    """sample.toml (form "loops"), or matmul.toml (form "matmul": the ``_mm`` heads)."""
    out = [HEADER if form == "loops" else MM_HEADER]
    for k in KERNELS:
        if form == "matmul" and not k.mm:
            continue
        out.append("[[case]]")
        out.append(f'head = "{k.fortran_head(form)}"')
        out.append("wrt = [" + ", ".join(f'"{w}"' for w in k.wrt) + "]")
        out.append('of = ["cost"]')
        for table, preset in (("check", "check"), ("bench", "S")):
            out.append(f"[case.{table}]")
            out += [f"{n} = {_value(v)}" for n, v in k.sizes(preset).items()]
        out.append("[case.ranges]")
        out += [f"{n} = [{lo!r}, {hi!r}]" for n, (lo, hi) in k.wrt.items()]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--write-toml", action="store_true", help="rewrite the sample's sample.toml and matmul.toml"
    )
    args = p.parse_args(argv)
    if args.write_toml:
        (SAMPLE_DIR / "sample.toml").write_text(toml_text())
        MM_TOML.write_text(toml_text("matmul"))
    else:
        sys.stdout.write(toml_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
