"""Read the CLOUDSC2 driver's output (``cloudsc2_driver``) and format the benchmark's tables.

Pure Python (tested without a compiler). A difference between the generated and ECMWF's
derivatives is either below ``TOL``, or explained by a check on the measured numbers (never by
the name alone), or reported as UNEXPLAINED, which makes ``Results.ok`` false:

- PSUPSAT: ECMWF's adjoint assigns ``PSUPSAT = PTSPHY*ZQP1`` (no accumulation, and a factor
  PTSPHY where its tangent, like the scheme, has 1); explained when hand/gen = PTSPHY;
- PMFU, PMFD: ``MIN(ZDQSDZ*(PMFU+PMFD)*PTSPHY*ZFAC4, ZQC)`` ties at 0 wherever PMFU+PMFD = 0 and
  ZQC = 0; the generated code differentiates the first argument (``<=``), ECMWF's the second
  (``<``); explained when the two agree at every point where PMFU+PMFD is nonzero;
- a tangent output: explained when the tangents agree without a PMFU/PMFD perturbation.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from cloudsc2_driver import INPUTS, OUTPUTS, TSPHY

TOL = 1e-10
VARIANTS = {
    "nl": "nonlinear CLOUDSC2",
    "gen_tl": "generated tangent (_d)",
    "hand_tl": "ECMWF tangent CLOUDSC2TL",
    "gen_ad": "generated adjoint (_b)",
    "hand_ad": "ECMWF adjoint CLOUDSC2AD",
}
DOTS = {
    "gen": "generated _d / _b",
    "hand": "ECMWF TL / AD",
    "hand0": "ECMWF TL / AD, no PSUPSAT pert.",
}


@dataclass
class Results:
    tl: dict[str, list[float]] = field(default_factory=dict)
    dot: dict[str, tuple[float, float]] = field(default_factory=dict)
    ad: dict[str, list[float]] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)
    tape_bytes: int = -1

    def tl_note(self, name: str) -> str:
        gen_hand, _, _, no_mf, _ = self.tl[name]
        if gen_hand <= TOL:
            return "agree"
        if no_mf <= TOL:
            return "MIN tie (PMFU/PMFD perturbation only; agree without it)"
        return "UNEXPLAINED"

    def ad_note(self, name: str) -> str:
        diff, off_ties, ratio = self.ad[name]
        if diff <= TOL:
            return "agree"
        if name == "PSUPSAT" and math.isclose(ratio, TSPHY, rel_tol=1e-8):
            return "ECMWF AD: PSUPSAT = PTSPHY*adj (overwrites; factor PTSPHY, TL has 1)"
        if off_ties <= TOL:
            return "MIN tie at PMFU+PMFD=0, ZQC=0: gen d(1st arg), ECMWF d(2nd); agree elsewhere"
        return "UNEXPLAINED"

    def dot_error(self, pair: str) -> float:
        lhs, rhs = self.dot[pair]
        scale = max(abs(lhs), abs(rhs))
        return abs(lhs - rhs) / scale if scale > 0 else 0.0

    def median_ms(self, variant: str) -> float:
        runs = self.times.get(variant, [])
        return 1e3 * statistics.median(runs) if runs else math.nan

    @property
    def ok(self) -> bool:
        notes = [self.tl_note(o) for o in self.tl] + [self.ad_note(i) for i in self.ad]
        complete = len(self.tl) == len(OUTPUTS) and len(self.ad) == len(INPUTS)
        return complete and "UNEXPLAINED" not in notes and self.dot_error("gen") <= TOL


def parse(lines: Iterable[str]) -> Results:
    """The driver's ``KEY name numbers...`` lines (other lines are ignored)."""
    res = Results()
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        key, rest = parts[0], parts[1:]
        if key == "TL":
            res.tl[OUTPUTS[int(rest[0]) - 1]] = [float(v) for v in rest[1:6]]
        elif key == "AD":
            res.ad[INPUTS[int(rest[0]) - 1]] = [float(v) for v in rest[1:4]]
        elif key == "DOT":
            res.dot[rest[0]] = (float(rest[1]), float(rest[2]))
        elif key == "TIME":
            res.times.setdefault(rest[0], []).append(float(rest[1]))
        elif key == "TAPE":
            res.tape_bytes = int(rest[0])
    return res


def _e(x: float) -> str:
    return f"{x:.1e}" if math.isfinite(x) else "-"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table, columns left-aligned to their widest cell."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    rule = "  ".join("-" * w for w in widths)
    lines = [fmt.format(*header), rule, *(fmt.format(*r) for r in rows)]
    return "\n".join(ln.rstrip() for ln in lines)


def tl_table(res: Results) -> str:
    rows = [[o, *map(_e, res.tl[o]), res.tl_note(o)] for o in OUTPUTS if o in res.tl]
    head = ["output", "gen-hand", "gen-FD", "hand-FD", "gen-hand*", "gen-FD*", "note"]
    return table(head, rows)


def dot_table(res: Results) -> str:
    rows = [
        [DOTS[p], f"{res.dot[p][0]:.15e}", f"{res.dot[p][1]:.15e}", _e(res.dot_error(p))]
        for p in DOTS
        if p in res.dot
    ]
    return table(["pair", "<TL dx, w>", "<dx, AD w>", "rel. error"], rows)


def ad_table(res: Results) -> str:
    rows = [
        [i, _e(res.ad[i][0]), _e(res.ad[i][1]), f"{res.ad[i][2]:.6g}", res.ad_note(i)]
        for i in INPUTS
        if i in res.ad
    ]
    return table(["input", "gen-hand", "off ties", "hand/gen", "note"], rows)


def time_table(res: Results) -> str:
    nl = res.median_ms("nl")
    rows = []
    for v, label in VARIANTS.items():
        ms = res.median_ms(v)
        runs = len(res.times.get(v, []))
        rows.append(
            [label, f"{ms:.2f}" if math.isfinite(ms) else "-", f"{ms / nl:.2f}x", str(runs)]
        )
    return table(["routine", "median ms", "/ NL", "reps"], rows)


def report(res: Results, title: str) -> str:
    tape = f"{res.tape_bytes / 2**20:.2f} MiB" if res.tape_bytes >= 0 else "-"
    parts = [
        title,
        "",
        "Tangents, max|a-b| relative (FD: central differences, h = 1e-6 along the perturbation;"
        " *: no PMFU/PMFD perturbation)",
        tl_table(res),
        "",
        "Dot-product tests",
        dot_table(res),
        "",
        "Adjoints per input, max|gen-hand| / max(|gen|,|hand|)",
        ad_table(res),
        "",
        "Times (process CPU, 1 thread, all blocks per repetition)",
        time_table(res),
        "",
        f"Generated adjoint tape peak: {tape}",
        f"Verdict: {'OK' if res.ok else 'FAILED (unexplained difference or generated dot test)'}",
    ]
    return "\n".join(parts)
