"""Results of the JAX comparison: one row per kernel, table, CSV, PNG and means."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Row:
    kernel: str
    sizes: str
    status: str = "ok"  # ok | <fortran failure> | jax: no reverse mode | gradients differ
    form: str = "loops"  # the Fortran version timed: loops | matmul (+ which BLAS runs it)
    f_primal_ms: float = math.nan
    f_grad_ms: float = math.nan
    f_grad_2t_ms: float = math.nan  # --parallelize-adjoint on 2 threads, wall clock
    j_primal_ms: float = math.nan
    j_grad_ms: float = math.nan
    tape_mib: float = math.nan
    rel_err: float = math.nan
    notes: list[str] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        """jax.grad time / fortran-ad gradient time."""
        return self.j_grad_ms / self.f_grad_ms if self.f_grad_ms > 0 else math.nan

    @property
    def primal_speedup(self) -> float:
        return self.j_primal_ms / self.f_primal_ms if self.f_primal_ms > 0 else math.nan

    @property
    def threads_speedup(self) -> float:
        """fortran-ad gradient time on 1 thread / on 2 threads."""
        return self.f_grad_ms / self.f_grad_2t_ms if self.f_grad_2t_ms > 0 else math.nan

    @property
    def ratio(self) -> float:
        """fortran-ad adjoint / primal time."""
        return self.f_grad_ms / self.f_primal_ms if self.f_primal_ms > 0 else math.nan


def geomean(xs: Sequence[float]) -> float:
    ok = [x for x in xs if math.isfinite(x) and x > 0]
    return math.exp(sum(map(math.log, ok)) / len(ok)) if ok else math.nan


def mean(xs: Sequence[float]) -> float:
    ok = [x for x in xs if math.isfinite(x)]
    return sum(ok) / len(ok) if ok else math.nan


def _f(x: float, fmt: str = ".3g") -> str:
    return format(x, fmt) if math.isfinite(x) else "-"


HEAD = ("kernel", "form", "sizes", "F primal ms", "F grad ms", "F grad/primal", "tape MiB",
        "F grad 2 thr ms", "JAX primal ms", "JAX grad ms", "speed-up grad", "rel err",
        "status")  # fmt: skip


def table(rows: Sequence[Row]) -> str:
    """A Markdown table plus the means (geometric and arithmetic) over measured kernels."""
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for r in rows:
        cells = (r.kernel, r.form, r.sizes, _f(r.f_primal_ms), _f(r.f_grad_ms), _f(r.ratio, ".2f"),
                 _f(r.tape_mib), _f(r.f_grad_2t_ms), _f(r.j_primal_ms), _f(r.j_grad_ms),
                 _f(r.speedup, ".2f"), _f(r.rel_err, ".1e"), r.status)  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + means(rows)


def means(rows: Sequence[Row]) -> str:
    both = [r for r in rows if r.status == "ok"]
    sp = [r.speedup for r in both]
    ratios = [r.ratio for r in rows if math.isfinite(r.ratio)]
    slower = [r.kernel for r in both if r.speedup < 1.0]
    two = [r.threads_speedup for r in rows if math.isfinite(r.threads_speedup)]
    return (
        f"gradient speed-up fortran-ad vs jax.grad over {len(sp)} kernels: geometric mean "
        f"{_f(geomean(sp), '.2f')}x, arithmetic mean {_f(mean(sp), '.2f')}x, min "
        f"{_f(min(sp, default=math.nan), '.2f')}x"
        + (f" (slower on: {', '.join(slower)})" if slower else "")
        + f"\nprimal speed-up (Fortran -O3 vs jax.jit): geometric mean "
        f"{_f(geomean([r.primal_speedup for r in both]), '.2f')}x"
        + (
            f"\nfortran-ad gradient on 2 threads (wall) vs 1 thread (CPU) over "
            f"{len(two)} kernels: geometric mean {_f(geomean(two), '.2f')}x"
            if two
            else ""
        )
        + f"\nfortran-ad adjoint/primal over {len(ratios)} kernels: geometric mean "
        f"{_f(geomean(ratios), '.2f')}, arithmetic mean {_f(mean(ratios), '.2f')}\n"
    )


def write_csv(rows: Sequence[Row], path: Path) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        keys = [k for k in asdict(rows[0]) if k != "notes"] if rows else []
        w.writerow([*keys, "speedup", "ratio", "notes"])
        for r in rows:
            d = asdict(r)
            w.writerow([d[k] for k in keys] + [r.speedup, r.ratio, " | ".join(r.notes)])


def read_csv(path: Path) -> list[Row]:
    """Rows written by :func:`write_csv` (to merge runs made in parts)."""
    out = []
    with path.open(newline="") as fh:
        for d in csv.DictReader(fh):
            notes = [n for n in d.pop("notes", "").split(" | ") if n]
            d.pop("speedup", None), d.pop("ratio", None)
            text = ("kernel", "sizes", "status", "form")
            floats = {k: float(v) for k, v in d.items() if k not in text}
            form = d.get("form", "loops")  # CSVs written before the column existed: loops
            out.append(Row(d["kernel"], d["sizes"], d["status"], form, **floats, notes=notes))
    return out


TIMES = ("f_primal_ms", "f_grad_ms", "f_grad_2t_ms", "j_primal_ms", "j_grad_ms", "tape_mib")


def medians(rows: Sequence[Row]) -> list[Row]:
    """One row per kernel (first-seen order): a kernel measured in several runs gets the median
    of each time (and tape) over them, the largest gradient difference and, unless every run
    was ok, the first status that was not."""
    import statistics

    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.kernel, []).append(r)
    out = []
    for kernel, rs in groups.items():
        if len(rs) == 1:
            out.append(rs[0])
            continue
        values = {}
        for k in TIMES:
            xs = [getattr(r, k) for r in rs if math.isfinite(getattr(r, k))]
            values[k] = statistics.median(xs) if xs else math.nan
        errs = [r.rel_err for r in rs if math.isfinite(r.rel_err)]
        bad = [r.status for r in rs if r.status != "ok"]
        notes = [f"median of {len(rs)} runs"] + [n for r in rs for n in r.notes]
        out.append(Row(kernel, rs[0].sizes, bad[0] if bad else "ok", rs[0].form, **values,
                       rel_err=max(errs, default=math.nan), notes=notes))  # fmt: skip
    return out


def plot(rows: Sequence[Row], path: Path, title: str) -> None:
    """Speed-up bars (log scale) of fortran-ad's gradient over jax.grad; kernels without a
    comparison are labelled with their status."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(rows)), 4.0))
    xs = range(len(rows))
    vals = [r.speedup if r.status == "ok" else math.nan for r in rows]
    colors = ["tab:green" if v >= 1 else "tab:red" for v in vals]
    ax.bar(xs, [v if math.isfinite(v) else 0 for v in vals], color=colors)
    for x, r, v in zip(xs, rows, vals, strict=True):
        if not math.isfinite(v):
            ax.text(x, 1.0, r.status[:18], rotation=90, ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.axhline(10.0, color="gray", lw=0.8, ls="--")
    labels = [r.kernel + (" (MATMUL)" if r.form.startswith("matmul") else "") for r in rows]
    ax.set_xticks(list(xs), labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("jax.grad time / fortran-ad gradient time")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
