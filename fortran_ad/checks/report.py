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

Vector modes (K directions or K weight vectors in ONE call; column k against the same k):

* ``vector_fd`` / ``vreverse_fd``: column k against the finite differences, as ``fd_*``;
* ``vector_scalar`` / ``vreverse_scalar``: column k against the scalar tangent / adjoint with
  the same d_k / w_k (dot-product tolerance: two AD results, no truncation error);
* ``vector_dot``: <J d_k, w_j> (vector tangent) against <d_k, Jᵀ w_j> (vector adjoint) for every
  pair (k, j); ``direction`` is k, ``weight`` is j;
* ``vector_primal`` / ``vreverse_primal``, ``vreverse_seed``, ``vreverse_tape`` (one row for
  the one call, ``direction`` 0): the conventions, as for the scalar modes.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace

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
    for taylor rows where ``error`` is the ratio e(h)/e(h/2) and ``tolerance`` its minimum.
    ``direction`` is the random direction k (0: the row covers one call with all of them);
    ``weight`` is the weight vector j of a ``vector_dot`` row (else None)."""

    test: str
    direction: int
    a: float
    b: float
    error: float
    tolerance: float
    passed: bool
    detail: str = ""
    weight: int | None = None


@dataclass(frozen=True)
class CheckReport:
    """The outcome of ``fortran-ad check``: every row, or the error that stopped the check."""

    head: str
    rows: tuple[CheckRow, ...]
    error: str | None = None
    peak_tape: int | None = None  # bytes: the largest tape high-water mark of the adjoint runs

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.rows) and all(r.passed for r in self.rows)

    def table(self) -> str:
        return format_table(self)

    def to_json(self) -> str:
        def clean(x: object) -> object:
            return None if isinstance(x, float) and not math.isfinite(x) else x

        rows = [{k: clean(v) for k, v in asdict(r).items()} for r in self.rows]
        data = {
            "head": self.head,
            "ok": self.ok,
            "error": self.error,
            "rows": rows,
            "peak_tape": self.peak_tape,
        }
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


_TAGS = ("BASE", "FD", "ADJ", "PEAK", "TAN", "TAYLOR", "VTAN", "VADJ", "VTAPE", "VDOT")
_PART_TAGS = ("FDC", "TANC", "ADJC", "TANR")  # per component of an object (checks/parts.py)
_DOT_DETAIL = f"{DOT_ULPS:g} ulps of sum|terms|"
Lines = dict[tuple[str, int], list[list[float]]]  # (tag, k) -> the values of each such line


def _parse(text: str) -> tuple[float, Lines]:
    """(epsilon, {(tag, k): [values of each line]}) from the harness output."""
    eps = 2.0**-52
    per: Lines = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "EPS":
            eps = float(parts[1])
        elif parts[0] in _TAGS or parts[0] in _PART_TAGS:
            per.setdefault((parts[0], int(parts[1])), []).append([float(p) for p in parts[2:]])
    return eps, per


def _agree(test: str, k: int, a: float, b: float, mag: float, eps: float, detail: str) -> CheckRow:
    """Two AD results that must agree to rounding: DOT_ULPS spacings of sum|terms|."""
    err, tol_rel, ok = _rel(a, b, DOT_ULPS * _spacing(mag, eps))
    return CheckRow(test, k, a, b, err, tol_rel, ok, detail)


def _primal_row(test: str, k: int, after: float, base: list[float], eps: float) -> CheckRow:
    tol = max(PRIMAL_RTOL * abs(base[0]), 64 * eps * base[1])
    err, tol_rel, ok = _rel(after, base[0], tol)
    detail = "<w, F> after the derivative routine vs primal"
    return CheckRow(test, k, after, base[0], err, tol_rel, ok, detail)


def _zero_row(test: str, k: int, value: float, detail: str) -> CheckRow:
    return CheckRow(test, k, value, 0.0, value, 0.0, value == 0.0, detail)


def _scalar_rows(k: int, per: Lines, eps: float) -> list[CheckRow]:
    """Rows of the scalar modes for direction k."""
    rows: list[CheckRow] = []
    base = per[("BASE", k)][0]
    fd = per[("FD", k)][0]
    adj = per.get(("ADJ", k), [None])[0]
    tan = per.get(("TAN", k), [None])[0]
    if adj is not None:
        rows.append(_fd_row("fd_adjoint", k, fd, base, adj[0], eps))
    if tan is not None:
        rows.append(_fd_row("fd_tangent", k, fd, base, tan[0], eps))
    if adj is not None and tan is not None:
        rows.append(_agree("dot_product", k, tan[0], adj[0], max(adj[1], tan[1]), eps, _DOT_DETAIL))
    for name, vals in (("adjoint_primal", adj), ("tangent_primal", tan)):
        if vals is not None:
            rows.append(_primal_row(name, k, vals[2], base, eps))
    if adj is not None:
        rows.append(_zero_row("adjoint_seed", k, adj[3], "max |yb| of intent(out) outputs on exit"))
        rows.append(
            _zero_row("tape_balanced", k, adj[4], "bytes left on the tape after the adjoint")
        )
    rows.extend(_taylor_rows(k, per.get(("TAYLOR", k), []), eps))
    return rows


def _vector_rows(k: int, per: Lines, eps: float) -> list[CheckRow]:
    """Rows of the vector modes for column k (one call covered all k)."""
    rows: list[CheckRow] = []
    base = per[("BASE", k)][0]
    fd = per[("FD", k)][0]
    adj = per.get(("ADJ", k), [None])[0]
    tan = per.get(("TAN", k), [None])[0]
    vtan = per.get(("VTAN", k), [None])[0]
    vadj = per.get(("VADJ", k), [None])[0]
    if vtan is not None:
        rows.append(_fd_row("vector_fd", k, fd, base, vtan[0], eps))
        if tan is not None:
            detail = "column k vs the scalar tangent"
            rows.append(
                _agree("vector_scalar", k, vtan[0], tan[0], max(vtan[1], tan[1]), eps, detail)
            )
        rows.append(_primal_row("vector_primal", k, vtan[2], base, eps))
    if vadj is not None:
        rows.append(_fd_row("vreverse_fd", k, fd, base, vadj[0], eps))
        if adj is not None:
            detail = "column k vs the scalar adjoint"
            rows.append(
                _agree("vreverse_scalar", k, vadj[0], adj[0], max(vadj[1], adj[1]), eps, detail)
            )
        rows.append(_primal_row("vreverse_primal", k, vadj[2], base, eps))
        detail = "max |yb(:, k)| of intent(out) outputs on exit"
        rows.append(_zero_row("vreverse_seed", k, vadj[3], detail))
    return rows


def _vector_dot_rows(per: Lines, eps: float) -> list[CheckRow]:
    """<J d_k, w_j> (vector tangent) vs <d_k, Jᵀ w_j> (vector adjoint) for every (k, j)."""
    rows = []
    for (tag, k), lines in sorted(per.items()):
        if tag != "VDOT":
            continue
        for j, tan, tan_mag, adj, adj_mag in lines:
            row = _agree("vector_dot", k, tan, adj, max(tan_mag, adj_mag), eps, _DOT_DETAIL)
            rows.append(replace(row, weight=int(j)))
    for bytes_left in per.get(("VTAPE", 0), []):
        detail = "bytes left on the tape after the vector adjoint (one call)"
        rows.append(_zero_row("vreverse_tape", 0, bytes_left[0], detail))
    return rows


def evaluate(head: str, text: str, gradient_only: bool = False, draws: str = "") -> CheckReport:
    """Parse the harness output and apply the tolerance policy. ``gradient_only`` adjoints
    (--gradient-only) need not leave the primal outputs: their primal rows are left out.

    A primal whose outputs are not finite at the drawn inputs (the harness prints
    ``NONFINITE name`` and stops) is one error naming those outputs and ``draws``, the
    description of how the inputs were drawn, instead of rows of NaN."""
    bad = [ln.split()[1] for ln in text.splitlines() if ln.startswith("NONFINITE ")]
    if bad:
        return CheckReport(head, (), nonfinite_message(bad, draws))
    eps, per = _parse(text)
    rows: list[CheckRow] = []
    for k in sorted({k for tag, k in per if tag == "BASE"}):
        rows.extend(_scalar_rows(k, per, eps))
        rows.extend(_vector_rows(k, per, eps))
    rows.extend(_vector_dot_rows(per, eps))
    rows.extend(_part_rows(text, per, eps))
    if gradient_only:
        rows = [r for r in rows if r.test not in ("adjoint_primal", "vreverse_primal")]
    if not rows:
        return CheckReport(head, (), "the check program printed no results:\n" + text[-2000:])
    peaks = [int(v[0]) for (tag, _), lines in per.items() if tag == "PEAK" for v in lines]
    return CheckReport(head, tuple(rows), peak_tape=max(peaks) if peaks else None)


def _part_rows(text: str, per: Lines, eps: float) -> list[CheckRow]:
    """Component by component (checks/parts.py): each output part of the tangent against its
    finite differences, each input part of the adjoint against the restricted tangent."""
    names = {}
    for line in text.splitlines():
        if line.startswith("COMP "):
            _, i, path = line.split(maxsplit=2)
            names[int(i)] = path.strip()
    rows: list[CheckRow] = []
    for k in sorted({k for tag, k in per if tag == "BASE"}):
        base = per[("BASE", k)][0]
        fdc = {int(v[0]): v[1:] for v in per.get(("FDC", k), [])}
        for i, val, _ in ((int(v[0]), v[1], v[2]) for v in per.get(("TANC", k), [])):
            if i in fdc:
                row = _fd_row("fd_tangent_part", k, fdc[i], base, val, eps)
                rows.append(replace(row, detail=f"{names.get(i, i)}: {row.detail}"))
        adjc = {int(v[0]): v[1:] for v in per.get(("ADJC", k), [])}
        for i, tan, tan_mag in ((int(v[0]), v[1], v[2]) for v in per.get(("TANR", k), [])):
            if i in adjc:
                adj, adj_mag = adjc[i]
                mag = max(adj_mag, tan_mag)
                rows.append(_agree("dot_part", k, tan, adj, mag, eps, f"{names.get(i, i)}"))
    return rows


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


def _direction(r: CheckRow) -> str:
    if r.weight is not None:
        return f"{r.direction},{r.weight}"
    return str(r.direction) if r.direction else "all"


def format_table(report: CheckReport) -> str:
    """Aligned plain-text table, one line per row, then a summary line."""
    head = ("test", "dir", "A", "B", "error", "tol", "result", "detail")
    lines = [head]
    for r in report.rows:
        lines.append(
            (
                r.test,
                _direction(r),
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


def nonfinite_message(outputs: list[str], draws: str) -> str:
    """The one sentence a user gets when the primal overflows at the drawn inputs."""
    names = ", ".join(dict.fromkeys(outputs))
    return (
        f"the primal's outputs are not finite (NaN or Inf) at the drawn inputs: {names}. "
        f"Inputs drawn: {draws or 'none'}. Give each input a range it is valid in "
        "([case.ranges] in the sample file, or --range name=lo:hi) or a value "
        "([case.check] in the sample file, or --set name=value)"
    )
