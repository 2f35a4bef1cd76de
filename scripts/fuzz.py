"""Fuzz the AD engine: generate random valid Fortran, check its derivatives with gfortran.

    python scripts/fuzz.py --count N --seed S [--jobs J] [--batch B] [--keep DIR]
                           [--exclude FEATURE,...] [--include FEATURE,...]
                           [--modes reverse,forward,...|none] [--no-differential]

Programs come from ``fortran_ad.checks.fuzzgen`` (program k is ``generate(S + k)``: the same
seed always gives the same program). Each is checked with ``fortran_ad.api.check``
(finite differences, dot-product and Taylor tests) in reverse and forward mode, or the
``--modes`` given (vector, vector-reverse too; ``none``: only the differential check). Each
batch's adjoint with all loop rewrites is also compared with the plain adjoint (1e-12 relative
per element, fortran_ad/checks/fuzzgen/differential.py); a disagreement is bisected over the
rewrite switches and reported as "differs" with the guilty rewrite. At the end, a coverage
report: constructs the programs used, per rewrite how often it fired and how often the
differential check blamed it. ``--batch`` programs share one build (a
failing batch is re-checked program by program to find the culprit). The summary
line counts programs, passed, failed (a derivative check failed) and errors (the tool refused
or crashed on a valid program, or its generated code did not compile or run). Each failing
program is written to ``DIR/seed_<seed>/`` with its source, its check table and the command
that reproduces it. Exit status: 0 when every program passed, 1 otherwise.

Nightly size (about 15 minutes on 2 cores; 400 programs took 341 s):

    python scripts/fuzz.py --count 1000 --seed $(date +%Y%m%d) --jobs 2 --keep fuzz-failures

``--exclude`` leaves out constructs that trigger bugs already reported (see
``fuzzgen.FEATURES``; tests/test_fuzz.py lists the ones still open); ``--include`` adds the
opt-in ones (``fuzzgen.OPT_IN``: new constructs, off until they passed 50+ programs).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from fortran_ad.checks.fuzzgen import FEATURES, FuzzResult, coverage, generate, run_fuzz
from fortran_ad.checks.fuzzgen.base import excluded


def _features(text: str) -> frozenset[str]:
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = names - set(FEATURES)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown feature(s) {', '.join(sorted(unknown))}; known: {', '.join(FEATURES)}"
        )
    return names


def _modes(text: str) -> tuple[str, ...]:
    from fortran_ad.checks.spec import MODES

    if text.strip() == "none":
        return ()
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)}; got '{text}'")
    return modes


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def keep_failure(
    result: FuzzResult,
    keep: Path,
    exclude: frozenset[str],
    modes: tuple[str, ...] = ("reverse", "forward"),
    include: frozenset[str] = frozenset(),
) -> Path:
    """Write the failing program, its check table and the reproducing command."""
    program = generate(result.seed, exclude, "", include)
    folder = keep / f"seed_{result.seed}"
    path = program.write(folder)
    (folder / "check.txt").write_text(f"status: {result.status}\n\n{result.detail}\n")
    cmd = ["python", "-m", "fortran_ad", *program.cli_args(path.name, modes or ("reverse",))]
    (folder / "command.sh").write_text(f"cd {shlex.quote(str(folder))}\n{shlex.join(cmd)}\n")
    return folder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=_positive, default=50, help="number of programs (50)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first program (0)")
    p.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1, help="parallel builds")
    p.add_argument("--batch", type=_positive, default=5, help="programs per build (5)")
    p.add_argument("--keep", type=Path, default=Path("fuzz-failures"), help="failures go here")
    p.add_argument("--exclude", type=_features, default=frozenset(), help="features to leave out")
    p.add_argument("--include", type=_features, default=frozenset(), help="opt-in features")
    p.add_argument("--modes", type=_modes, default=("reverse", "forward"), help="check modes")
    p.add_argument(
        "--no-differential", dest="differential", action="store_false",
        help="skip comparing the adjoint with all loop rewrites against the plain one",
    )  # fmt: skip
    args = p.parse_args(argv)
    args.exclude = excluded(args.exclude, args.modes)

    def progress(r: FuzzResult) -> None:
        if r.status != "passed":
            where = keep_failure(r, args.keep, args.exclude, args.modes, args.include)
            blame = f" (guilty: {', '.join(r.guilty)})" if r.guilty else ""
            print(f"seed {r.seed}: {r.status}{blame} -> {where}", flush=True)

    summary = run_fuzz(
        args.count, args.seed, args.jobs, args.batch, args.exclude, progress, args.modes,
        args.differential, args.include,
    )  # fmt: skip
    print(summary.line())
    modes = ",".join(args.modes) or "none (differential only)"
    extra = f", include {','.join(sorted(args.include))}" if args.include else ""
    print(f"seeds {args.seed}..{args.seed + args.count - 1}, modes {modes}{extra}")
    seeds = range(args.seed, args.seed + args.count)
    sources = {s: generate(s, args.exclude, "", args.include).source for s in seeds}
    print(coverage.report(summary.results, sources))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
