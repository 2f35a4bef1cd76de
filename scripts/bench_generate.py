#!/usr/bin/env python3
"""Generation speed of fortran-ad: seconds per 1,000 source lines and peak memory.

    python scripts/bench_generate.py [--samples a,b] [--synthetic a,b] [--min-lines 5000]
                                     [--repeat 3] [--csv out.csv]

Inputs: every ``[[case]]`` of ``legacy_samples/*/sample.toml`` (``--samples`` picks sample
folders or heads), plus one synthetic large module per ``--synthetic`` sample: enough renamed
copies of the sample's sources (every module and routine name gets a ``_k<i>`` suffix) to reach
``--min-lines``, and a head ``fad_synth_run`` with the sample head's dummies that calls every
copy's head in turn and sums their costs, so every copy is active and gets differentiated.

Each input is measured in a fresh worker process (this script with ``--worker``): after the
imports and one warm-up on a tiny module (Python start-up and fparser's one-time set-up are
not timed) it runs ``load`` (read, parse, lower) and ``generate`` (reverse mode) ``--repeat``
times and reports the medians, the process's peak RSS (``ru_maxrss``) and its growth over the
RSS after the warm-up. Lines are physical lines of the inputs (comments and blanks included).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fortran_ad.checks.inputs import find_head, load_case
from fortran_ad.checks.spec import build_spec
from fortran_ad.driver import Options, load
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.writer import Writer

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT / "legacy_samples"
DEFAULT_SYNTHETIC = ("radiation_column", "shallow_water", "lorenz96")
SYNTH_HEAD = "fad_synth_run"
SYNTH_MODULE = "fad_synth_top"
FREE_FORM = (".f90", ".f95", ".f03", ".f08")


@dataclass(frozen=True)
class Job:
    """One input to time: its sources (in order) and what to differentiate."""

    name: str
    head: str
    sources: tuple[str, ...]
    wrt: tuple[str, ...]
    of: tuple[str, ...] | None

    def lines(self) -> int:
        return sum(len(Path(s).read_text().splitlines()) for s in self.sources)


@dataclass(frozen=True)
class Timing:
    job: Job
    lines: int
    load_s: float = math.nan
    generate_s: float = math.nan
    out_lines: int = 0
    peak_rss_mib: float = math.nan
    base_rss_mib: float = math.nan
    error: str | None = None

    @property
    def total_s(self) -> float:
        return self.load_s + self.generate_s

    @property
    def per_kloc(self) -> float:
        return self.total_s / (self.lines / 1000.0) if self.lines else math.nan


# ------------------------------------------------------------------------------ inputs
def sample_jobs(select: Iterable[str] = ()) -> list[Job]:
    """Every case of every sample, filtered by sample folder or head name."""
    wanted = {s.strip().lower() for s in select if s.strip()}
    jobs = []
    for toml in sorted(SAMPLES_DIR.glob("*/sample.toml")):
        data = tomllib.loads(toml.read_text())
        for raw in data.get("case", []):
            head = str(raw["head"]).lower()
            if wanted and not wanted & {toml.parent.name.lower(), head}:
                continue
            cv = load_case(toml, head)
            jobs.append(Job(f"{toml.parent.name}:{head}", head, cv.sources, cv.wrt, cv.of))
    return jobs


def _routine_names(routines: Iterable[ir.Routine]) -> set[str]:
    out: set[str] = set()
    for r in routines:
        out.add(r.name)
        out |= _routine_names(r.contains)
    return out


def global_names(program: list[ir.SourceFile]) -> set[str]:
    """Module and procedure names (internal ones too): what each copy renames."""
    names: set[str] = set()
    for f in program:
        for unit in f.units:
            if isinstance(unit, ir.Module):
                names.add(unit.name)
                names |= _routine_names(unit.routines)
            elif isinstance(unit, ir.Routine):
                names |= _routine_names([unit])
    return names


def renamer(names: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"\b({alternatives})\b", re.IGNORECASE)


def synthetic_module(sample: str, min_lines: int) -> tuple[str, Job, int]:
    """(source text, job without sources, number of copies) of the synthetic large module."""
    toml = SAMPLES_DIR / sample / "sample.toml"
    if not toml.exists():
        raise SystemExit(f"bench_generate: no sample '{sample}'")
    cv = load_case(toml, tomllib.loads(toml.read_text())["case"][0]["head"])
    if any(Path(s).suffix.lower() not in FREE_FORM for s in cv.sources):
        raise SystemExit(f"bench_generate: '{sample}' is fixed form; pick a free-form sample")
    program = load(list(cv.sources))
    module, routine = find_head(program, cv.head, cv.wrt)
    if module is None:
        raise SystemExit(f"bench_generate: the head of '{sample}' is not a module procedure")
    spec = build_spec(routine, module, {"reverse": []}, cv.wrt, cv.of, cv.fixed, cv.ranges)
    outs = spec.of()
    if any(d.rank for d in outs):
        raise SystemExit(f"bench_generate: '{sample}' has array outputs; pick a scalar-cost one")
    pattern = renamer(global_names(program))
    texts = [Path(s).read_text() for s in cv.sources]
    per_copy = sum(len(t.splitlines()) for t in texts)
    copies = max(1, math.ceil(min_lines / per_copy))

    def rename(text: str, k: int) -> str:
        return pattern.sub(lambda m: f"{m.group(0)}_k{k}", text)

    parts = [rename(t, k) for k in range(1, copies + 1) for t in texts]
    w = Writer()
    w.line(f"module {SYNTH_MODULE}")
    w.indent()
    for u in spec.uses:
        w.line(rename(u, 1))
    for k in range(1, copies + 1):
        w.line(f"use {module.name}_k{k}, only: {routine.name}_k{k}")
    w.line("implicit none")
    w.dedent()
    w.line("contains")
    w.indent()
    w.line(f"subroutine {SYNTH_HEAD}({', '.join(d.name for d in spec.dummies)})")
    w.indent()
    for p in spec.params:
        w.line(p)
    for d in spec.dummies:
        intent = f", intent({d.intent})" if d.intent else ""
        w.line(f"{d.type}{intent} :: {d.name}{d.dims or ''}")
    for d in outs:
        w.line(f"{d.type} :: " + ", ".join(f"fad_{d.name}_k{k}" for k in range(1, copies + 1)))
    of_names = {d.name for d in outs}
    for k in range(1, copies + 1):
        args = [f"fad_{d.name}_k{k}" if d.name in of_names else d.name for d in spec.dummies]
        w.line(f"call {routine.name}_k{k}({', '.join(args)})")
    for d in outs:
        w.line(f"{d.name} = fad_{d.name}_k1")
        for k in range(2, copies + 1):
            w.line(f"{d.name} = {d.name} + fad_{d.name}_k{k}")
    w.dedent()
    w.line(f"end subroutine {SYNTH_HEAD}")
    w.dedent()
    w.line(f"end module {SYNTH_MODULE}")
    text = "\n".join(parts) + "\n" + w.text()
    job = Job(f"synthetic({sample} x{copies})", SYNTH_HEAD, (), cv.wrt, cv.of)
    return text, job, copies


# ------------------------------------------------------------------------------ worker
def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


WARM_UP = """module fad_warm_up
contains
  subroutine fad_square(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    y = x*x
  end subroutine fad_square
end module fad_warm_up
"""


def warm_up() -> None:
    """Differentiate a tiny module once: lazy imports and the parser tables are built here,
    not in the first timed run (they belong to start-up, like the imports)."""
    from fortran_ad.ad.core.generate import generate

    with tempfile.TemporaryDirectory(prefix="fad-warm-") as tmp:
        path = Path(tmp) / "fad_warm_up.f90"
        path.write_text(WARM_UP)
        options = Options(sources=(str(path),), head="fad_square", wrt=("x",), of=("y",))
        generate(load([str(path)]), options)


def worker(payload: dict) -> dict:
    """Time ``load`` and ``generate`` in this process, after imports and a warm-up."""
    from fortran_ad.ad.core.generate import generate

    warm_up()
    base = _rss_mib()
    options = Options(
        sources=tuple(payload["sources"]),
        head=payload["head"],
        wrt=tuple(payload["wrt"]),
        of=tuple(payload["of"]) if payload["of"] is not None else None,
    )
    loads, gens, out_lines = [], [], 0
    for _ in range(payload["repeat"]):
        t0 = time.perf_counter()
        program = load(list(options.sources))
        t1 = time.perf_counter()
        files = generate(program, options)
        t2 = time.perf_counter()
        loads.append(t1 - t0)
        gens.append(t2 - t1)
        out_lines = sum(len(t.splitlines()) for n, t in files.items() if n != "fad_tape.f90")
    return {
        "load_s": statistics.median(loads),
        "generate_s": statistics.median(gens),
        "out_lines": out_lines,
        "peak_rss_mib": _rss_mib(),
        "base_rss_mib": base,
    }


def measure(job: Job, repeat: int, timeout: float) -> Timing:
    payload = {
        "sources": list(job.sources),
        "head": job.head,
        "wrt": list(job.wrt),
        "of": list(job.of) if job.of is not None else None,
        "repeat": repeat,
    }
    lines = job.lines()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(payload)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Timing(job, lines, error=f"longer than {timeout:g} s")
    if proc.returncode != 0:
        return Timing(job, lines, error=(proc.stdout + proc.stderr).strip()[-2000:])
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Timing(job, lines, **data)


# ------------------------------------------------------------------------------ output
COLUMNS = (
    "input",
    "lines",
    "parse s",
    "generate s",
    "total s",
    "s per 1k lines",
    "out lines",
    "peak RSS MiB",
    "RSS growth MiB",
)


def _num(x: float, fmt: str) -> str:
    return format(x, fmt) if math.isfinite(x) else "-"


def rows(timings: Sequence[Timing]) -> list[tuple[str, ...]]:
    return [
        (
            t.job.name,
            str(t.lines),
            _num(t.load_s, ".3f"),
            _num(t.generate_s, ".3f"),
            _num(t.total_s, ".3f"),
            _num(t.per_kloc, ".3f"),
            str(t.out_lines) if t.error is None else "-",
            _num(t.peak_rss_mib, ".0f"),
            _num(t.peak_rss_mib - t.base_rss_mib, ".0f"),
        )
        for t in timings
    ]


def format_table(timings: Sequence[Timing]) -> str:
    table = [COLUMNS, *rows(timings)]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in table
    ]
    ok = [t for t in timings if t.error is None]
    if ok:
        total_lines = sum(t.lines for t in ok)
        total_s = sum(t.total_s for t in ok)
        lines.append(
            f"overall: {total_s:.3f} s for {total_lines} lines = "
            f"{total_s / (total_lines / 1000.0):.3f} s per 1,000 lines"
        )
    for t in timings:
        if t.error is not None:
            lines.append(f"error {t.job.name}: {t.error}")
    return "\n".join(line.rstrip() for line in lines)


def write_csv(timings: Sequence[Timing], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([*COLUMNS, "error"])
        for t, row in zip(timings, rows(timings), strict=True):
            out.writerow([*row, t.error or ""])


# -------------------------------------------------------------------------------- main
def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", default="", help="sample folders or heads (default: all)")
    p.add_argument(
        "--synthetic",
        default=",".join(DEFAULT_SYNTHETIC),
        help="samples to build synthetic large modules from ('' for none)",
    )
    p.add_argument("--min-lines", type=int, default=5000, help="lines of each synthetic module")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per input (median)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per input")
    p.add_argument("--csv", type=Path, default=None, help="also write the table as CSV")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.repeat < 1 or args.min_lines < 1:
        p.error("--repeat and --min-lines must be positive")
    jobs = sample_jobs(_names(args.samples))
    if _names(args.samples) and not jobs:
        p.error(f"no sample or head named {args.samples}")
    timings = []
    with tempfile.TemporaryDirectory(prefix="fad-bench-gen-") as tmp:
        for sample in _names(args.synthetic):
            text, job, _ = synthetic_module(sample, args.min_lines)
            path = Path(tmp) / f"synthetic_{sample}.f90"
            path.write_text(text)
            jobs.append(Job(job.name, job.head, (str(path),), job.wrt, job.of))
        for job in jobs:
            print(f"[bench] {job.name} ...", file=sys.stderr, flush=True)
            timings.append(measure(job, args.repeat, args.timeout))
    print(format_table(timings))
    if args.csv:
        write_csv(timings, args.csv)
    failed = [t.job.name for t in timings if t.error is not None]
    if failed:
        print(f"bench_generate: FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
