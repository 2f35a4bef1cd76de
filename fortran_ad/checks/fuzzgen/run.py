"""Checking fuzz programs with fortran_ad.api.check, in parallel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fortran_ad.checks.fuzzgen.base import excluded
from fortran_ad.checks.fuzzgen.program import Batch, FuzzProgram, generate


# -- running checks --------------------------------------------------------------------------
@dataclass(frozen=True)
class FuzzResult:
    """Outcome of checking one program: status "passed" | "failed" (a derivative check) |
    "error" (refused, crashed, did not build) | "differs" (the adjoint with all loop rewrites
    disagrees with the plain one; ``guilty`` names the rewrites the bisection blamed).
    ``fired``: per rewrite, how often it changed the program's adjoint (for a batch, the first
    program carries the batch's counts)."""

    seed: int
    status: str
    detail: str  # the check table, the tool's error message or a traceback
    seconds: float
    guilty: tuple[str, ...] = ()
    fired: tuple[tuple[str, int], ...] = ()


MODES = ("reverse", "forward")


def _check(
    sources: list[Path], head: str, wrt, of, sizes, ranges, modes: Sequence[str] = MODES
) -> tuple[str, str]:
    """(status, detail) of ``fortran_ad.api.check`` in ``modes``; never raises."""
    import traceback

    from fortran_ad import api
    from fortran_ad.errors import FortranADError

    try:
        report = api.check(
            sources,
            wrt=wrt,
            of=of,
            head=head,
            sizes=sizes,
            ranges=ranges,
            modes=tuple(modes),
        )
    except FortranADError as exc:
        return "error", f"fortran-ad refused a valid program:\n{exc.render()}"
    except Exception:  # noqa: BLE001 - a crash of the tool is a finding: report it, go on
        return "error", f"fortran-ad crashed:\n{traceback.format_exc()}"
    if report.ok:
        return "passed", report.table()
    return ("error" if report.error else "failed"), report.table()


def check_program(program: FuzzProgram, folder: Path, modes: Sequence[str] = MODES) -> FuzzResult:
    """Write ``program`` into ``folder`` and check it with ``fortran_ad.api.check``.

    "failed": a derivative check row failed; "error": the tool refused the (valid) program,
    crashed, or its generated code did not compile or run.
    """
    import time

    start = time.perf_counter()
    path = program.write(folder)
    p = program
    status, detail = _check([path], p.head, p.wrt, p.of, p.sizes, p.ranges, modes)
    return FuzzResult(p.seed, status, detail, time.perf_counter() - start)


def check_batch(
    seeds: Sequence[int],
    folder: Path,
    exclude: frozenset[str] = frozenset(),
    modes: Sequence[str] = MODES,
    differential: bool = True,
    include: frozenset[str] = frozenset(),
) -> list[FuzzResult]:
    """Check the programs of ``seeds`` with one build; if that fails, check each alone
    (with its standalone names) to find the culprits. A batch that fails while every program
    passes alone is reported as a failure of its first program, with the batch's table.
    With ``differential``, the batch's adjoint with all loop rewrites is also compared with
    the plain one (checks/fuzzgen/differential.py); no ``modes``: only that comparison."""
    import time

    start = time.perf_counter()
    batch = Batch(tuple(generate(s, exclude, f"_{s}", include) for s in seeds))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fuzz_batch.f90"
    path.write_text(batch.source())
    b = batch
    status, detail = "passed", ""
    if modes:
        status, detail = _check([path], "fuzz_batch", b.wrt, b.of, b.sizes, b.ranges, modes)
    diff = _differential(path, b, folder) if differential else {}
    fired = tuple(sorted(diff.pop(-1, ("", (), {}, ""))[2].items()))
    each = (time.perf_counter() - start) / len(seeds)
    if status == "passed":
        out = [FuzzResult(s, "passed", "", each) for s in seeds]
        for k, s in enumerate(seeds):
            if s in diff:
                out[k] = FuzzResult(s, diff[s][3], diff[s][0], each, diff[s][1])
        return [replace(out[0], fired=fired), *out[1:]]
    alone = [
        check_program(generate(s, exclude, "", include), folder / f"alone_{s}", modes)
        for s in seeds
    ]
    alone = [
        FuzzResult(r.seed, diff[r.seed][3], diff[r.seed][0], r.seconds, diff[r.seed][1])
        if r.status == "passed" and r.seed in diff
        else r
        for r in alone
    ]
    if differential:  # a program failing alone: bisect it alone too
        alone = [_blame(r, exclude, include, folder) if r.status == "failed" else r for r in alone]
    alone[0] = replace(alone[0], fired=fired)
    if all(r.status == "passed" for r in alone):
        why = f"the batch of seeds {', '.join(map(str, seeds))} failed, each alone passes:\n"
        alone[0] = FuzzResult(seeds[0], status, why + detail, alone[0].seconds)
    return alone


Diff = tuple[str, tuple, dict, str]


def _blame(r: FuzzResult, exclude: frozenset[str], include: frozenset[str], folder: Path):
    """``r`` (a failed derivative check) with the rewrites the differential check blames, when
    the plain adjoint of the program alone disagrees with the rewritten one."""
    from fortran_ad.checks.fuzzgen.differential import differential

    p = generate(r.seed, exclude, "", include)
    where = folder / f"blame_{r.seed}"
    try:
        d = differential(p.write(where), p.head, p.wrt, p.of, {"n": p.n}, where / "differential")
    except Exception:  # noqa: BLE001 - the failure stands as it is
        return r
    if d.status != "differ":
        return r
    return replace(r, detail=f"{r.detail}\ndifferential: {d.detail}", guilty=d.guilty)


def _differential(path: Path, b: Batch, folder: Path) -> dict[int, Diff]:
    """Per seed whose arguments differ: (detail, guilty rewrites, {}, "differs"); key -1: the
    counts of the rewrites that fired. A variant that fails to generate, build or run: status
    "error", for every seed (the programs of one batch share the build)."""
    import re

    from fortran_ad.checks.fuzzgen.differential import differential

    try:
        d = differential(path, "fuzz_batch", b.wrt, b.of, b.sizes, folder / "differential")
    except Exception:  # noqa: BLE001 - a crash of the comparison is a finding too
        import traceback

        why = f"differential check crashed:\n{traceback.format_exc()}"
        return {**{p.seed: (why, (), {}, "error") for p in b.programs}, -1: ("", (), {}, "")}
    out: dict[int, Diff] = {-1: ("", (), dict(d.fired), "")}
    if d.status == "agree":
        return out
    seeds = {int(m.group(1)) for w in d.where for m in [re.search(r"_(\d+)b?$", w)] if m}
    first, n = b.programs[0].seed, len(b.programs)
    again = (  # the failure may need the whole batch (one head calling every program)
        f"\n(batch of seeds {first}..{first + n - 1}: scripts/fuzz.py --seed {first} "
        f"--count {n} --batch {n} with the same --include/--exclude checks it again)"
    )
    for p in b.programs:
        if p.seed in seeds or not seeds:
            status = "differs" if d.status == "differ" else "error"
            out[p.seed] = (f"differential ({d.status}): {d.detail}{again}", d.guilty, {}, status)
    return out


@dataclass
class FuzzSummary:
    results: list[FuzzResult]
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def ok(self) -> bool:
        return all(r.status == "passed" for r in self.results)

    @property
    def failures(self) -> list[FuzzResult]:
        return [r for r in self.results if r.status != "passed"]

    def line(self) -> str:
        return (
            f"programs {len(self.results)}, passed {self.count('passed')}, "
            f"failed {self.count('failed')}, errors {self.count('error')}, "
            f"differs {self.count('differs')} "
            f"({self.seconds:.0f} s)"
        )


def _run_batch(
    task: tuple[tuple[int, ...], str, frozenset[str], tuple[str, ...], bool, frozenset[str]],
) -> list[FuzzResult]:
    seeds, folder, exclude, modes, diff, include = task
    return check_batch(seeds, Path(folder) / f"batch_{seeds[0]}", exclude, modes, diff, include)


def run_fuzz(
    count: int,
    seed: int = 0,
    jobs: int = 1,
    batch: int = 5,
    exclude: frozenset[str] = frozenset(),
    progress: Callable[[FuzzResult], None] | None = None,
    modes: Sequence[str] = MODES,
    differential: bool = True,
    include: frozenset[str] = frozenset(),
) -> FuzzSummary:
    """Check the programs of seeds ``seed .. seed + count - 1``: ``batch`` programs per build,
    ``jobs`` builds at a time. Results come in seed order. ``include``: opt-in features
    (``fuzzgen.OPT_IN``)."""
    import tempfile
    import time
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    exclude = excluded(exclude, modes)
    seeds = list(range(seed, seed + count))
    results: list[FuzzResult] = []
    with tempfile.TemporaryDirectory(prefix="fortran-ad-fuzz-") as tmp:
        tasks = [
            (tuple(seeds[k : k + batch]), tmp, exclude, tuple(modes), differential, include)
            for k in range(0, count, batch)
        ]
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            for rs in pool.map(_run_batch, tasks):
                for r in rs:
                    results.append(r)
                    if progress is not None:
                        progress(r)
    return FuzzSummary(results, time.perf_counter() - start)
