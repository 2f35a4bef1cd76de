"""Turn the harness's raw numbers into verdicts, and print them as a table or JSON.

All tolerance policy lives here (see the constants); the Fortran side only measures.

* ``fd_adjoint`` / ``fd_tangent``: Richardson-extrapolated central differences of <w, F> along
  d against <xb, d> (adjoint) or <w, J d> (tangent). Pass when |A - B| <= max(RTOL*|A|, the
  rounding floor of the differences, the differences' own error estimate (capped)).
* ``dot_product``: <J d, w> against <d, J^T w>; tolerance DOT_ULPS * spacing(sum of |terms|).
* ``taylor``: e(h) = ||F(x+hd) - F(x) - h J d|| for h0 .. h0/8; every ratio e(h)/e(h/2) must be
  >= TAYLOR_MIN_RATIO (4 in theory), unless e is at rounding level (F linear along d).
* ``adjoint_primal`` / ``tangent_primal``: derivative routines leave the primal outputs.
* ``adjoint_seed``: intent(out) adjoints are zero on exit; ``tape_balanced``: tape empty after.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

RTOL = 1e-6  # relative agreement asked of adjoint/tangent vs finite differences
FD_ROUNDING = 100.0  # rounding of one evaluation ~ FD_ROUNDING * eps * sum|w*F|
FD_ERR_CAP = 1e-4  # the FD error estimate may loosen the tolerance at most to this
DOT_ULPS = 512.0
TAYLOR_MIN_RATIO = 3.0
TAYLOR_ROUNDING = 1e3  # e(h) below this * eps * (||F|| + h ||Jd||) is rounding noise
PRIMAL_RTOL = 1e-12


@dataclass(frozen=True)
class CheckRow:
    """One comparison: ``a`` against ``b``; ``error`` and ``tolerance`` are relative, except
    for taylor rows where ``error`` is the ratio e(h)/e(h/2) and ``tolerance`` its minimum."""

    test: str
    direction: int
    a: float
    b: float
    error: float
    tolerance: float
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class CheckReport:
    """The outcome of ``fortran-ad check``: every row, or the error that stopped the check."""

    head: str
    rows: tuple[CheckRow, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.rows) and all(r.passed for r in self.rows)

    def table(self) -> str:
        return format_table(self)

    def to_json(self) -> str:
        def clean(x: object) -> object:
            return None if isinstance(x, float) and not math.isfinite(x) else x

        rows = [{k: clean(v) for k, v in asdict(r).items()} for r in self.rows]
        data = {"head": self.head, "ok": self.ok, "error": self.error, "rows": rows}
        return json.dumps(data, indent=2)

    def __str__(self) -> str:
        return self.table()


def _rel(a: float, b: float, tol_abs: float) -> tuple[float, float, bool]:
    """(relative error, relative tolerance, passed) for an absolute tolerance."""
    scale = max(abs(a), abs(b))
    diff = abs(a - b)
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(tol_abs)):
        return math.nan, math.nan, False
    if scale == 0.0:
        return 0.0, 0.0, True
    return diff / scale, tol_abs / scale, diff <= tol_abs


def _spacing(x: float, eps: float) -> float:
    """SPACING(x) in a kind with machine epsilon ``eps``."""
    return math.ulp(abs(x)) * eps / math.ulp(1.0) if x else 0.0


def _fd_row(test: str, k: int, fd: list[float], base: list[float], b: float, eps: float):
    h, fs = fd[0], fd[1:]
    d = [(fs[2 * i] - fs[2 * i + 1]) / (2.0 * h * 0.5**i) for i in range(3)]
    r1, r2 = (4.0 * d[1] - d[0]) / 3.0, (4.0 * d[2] - d[1]) / 3.0
    fd_err = abs(r2 - r1)
    scale = max(abs(r2), abs(b))
    floor = FD_ROUNDING * eps * base[1] / (h * 0.25)
    tol = max(max(RTOL, 1e4 * eps) * scale, floor, min(fd_err, FD_ERR_CAP * scale))
    err, tol_rel, ok = _rel(r2, b, tol)
    detail = f"h={h:.2e} fd_err={fd_err:.1e}"
    if floor >= RTOL * scale and floor > 0:
        detail += " below FD resolution"
    if fd_err > FD_ERR_CAP * scale:
        detail += " FD inconsistent (kink or noise?)"
    return CheckRow(test, k, r2, b, err, tol_rel, ok, detail)


def evaluate(head: str, text: str) -> CheckReport:
    """Parse the harness output and apply the tolerance policy."""
    eps = 2.0**-52
    per: dict[tuple[str, int], list[list[float]]] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "EPS":
            eps = float(parts[1])
        elif parts[0] in ("BASE", "FD", "ADJ", "TAN", "TAYLOR"):
            per.setdefault((parts[0], int(parts[1])), []).append([float(p) for p in parts[2:]])
    rows: list[CheckRow] = []
    ks = sorted({k for tag, k in per if tag == "BASE"})
    for k in ks:
        base = per[("BASE", k)][0]
        fd = per[("FD", k)][0]
        adj = per.get(("ADJ", k), [None])[0]
        tan = per.get(("TAN", k), [None])[0]
        if adj is not None:
            rows.append(_fd_row("fd_adjoint", k, fd, base, adj[0], eps))
        if tan is not None:
            rows.append(_fd_row("fd_tangent", k, fd, base, tan[0], eps))
        if adj is not None and tan is not None:
            tol = DOT_ULPS * _spacing(max(adj[1], tan[1]), eps)
            err, tol_rel, ok = _rel(tan[0], adj[0], tol)
            rows.append(
                CheckRow(
                    "dot_product",
                    k,
                    tan[0],
                    adj[0],
                    err,
                    tol_rel,
                    ok,
                    f"{DOT_ULPS:g} ulps of sum|terms|",
                )
            )
        for name, vals in (("adjoint_primal", adj), ("tangent_primal", tan)):
            if vals is not None:
                tol = max(PRIMAL_RTOL * abs(base[0]), 64 * eps * base[1])
                err, tol_rel, ok = _rel(vals[2], base[0], tol)
                rows.append(
                    CheckRow(
                        name,
                        k,
                        vals[2],
                        base[0],
                        err,
                        tol_rel,
                        ok,
                        "<w, F> after the derivative routine vs primal",
                    )
                )
        if adj is not None:
            seed_ok = adj[3] == 0.0
            rows.append(
                CheckRow(
                    "adjoint_seed",
                    k,
                    adj[3],
                    0.0,
                    adj[3],
                    0.0,
                    seed_ok,
                    "max |yb| of intent(out) outputs on exit",
                )
            )
            tape_ok = adj[4] == 0.0
            rows.append(
                CheckRow(
                    "tape_balanced",
                    k,
                    adj[4],
                    0.0,
                    adj[4],
                    0.0,
                    tape_ok,
                    "bytes left on the tape after the adjoint",
                )
            )
        rows.extend(_taylor_rows(k, per.get(("TAYLOR", k), []), eps))
    if not rows:
        return CheckReport(head, (), "the check program printed no results:\n" + text[-2000:])
    return CheckReport(head, tuple(rows))


def _taylor_rows(k: int, levels: list[list[float]], eps: float) -> list[CheckRow]:
    rows = []
    for lo, hi in zip(levels, levels[1:], strict=False):
        h, e1, nf, njd = lo
        e2 = hi[1]
        noise = TAYLOR_ROUNDING * eps * (nf + h * njd)
        finite = all(math.isfinite(x) for x in (e1, e2, nf, njd))
        if finite and e2 <= noise:
            ratio = e1 / e2 if e2 else math.inf
            ok, why = e1 <= 4 * noise or ratio >= TAYLOR_MIN_RATIO, "rounding level"
        else:
            ratio = e1 / e2 if e2 else math.inf
            ok, why = finite and ratio >= TAYLOR_MIN_RATIO, "ratio e(h)/e(h/2) ~ 4"
        rows.append(CheckRow("taylor", k, e1, e2, ratio, TAYLOR_MIN_RATIO, ok, f"h={h:.2e} {why}"))
    return rows


def _num(x: float) -> str:
    return f"{x:.10e}" if math.isfinite(x) else str(x)


def format_table(report: CheckReport) -> str:
    """Aligned plain-text table, one line per row, then a summary line."""
    head = ("test", "dir", "A", "B", "error", "tol", "result", "detail")
    lines = [head]
    for r in report.rows:
        lines.append(
            (
                r.test,
                str(r.direction),
                _num(r.a),
                _num(r.b),
                f"{r.error:.2e}",
                f"{r.tolerance:.2e}",
                "ok" if r.passed else "FAIL",
                r.detail,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(head) - 1)]
    out = []
    for row in lines if report.rows else ():
        cells = [
            c.rjust(w) if 1 <= i <= 5 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=False))
        ]
        out.append("  ".join(cells + [row[-1]]).rstrip())
    failed = sum(not r.passed for r in report.rows)
    if report.error:
        out.append(f"check of {report.head}: ERROR\n{report.error}")
    else:
        verdict = "passed" if report.ok else f"FAILED ({failed} of {len(report.rows)} rows)"
        out.append(f"check of {report.head}: {verdict}")
    return "\n".join(out)
