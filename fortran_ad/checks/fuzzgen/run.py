"""Checking fuzz programs with fortran_ad.api.check, in parallel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fortran_ad.checks.fuzzgen.program import Batch, FuzzProgram, generate


# -- running checks --------------------------------------------------------------------------
@dataclass(frozen=True)
class FuzzResult:
    """Outcome of checking one program: status "passed" | "failed" | "error"."""

    seed: int
    status: str
    detail: str  # the check table, the tool's error message or a traceback
    seconds: float


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
) -> list[FuzzResult]:
    """Check the programs of ``seeds`` with one build; if that fails, check each alone
    (with its standalone names) to find the culprits. A batch that fails while every program
    passes alone is reported as a failure of its first program, with the batch's table."""
    import time

    start = time.perf_counter()
    batch = Batch(tuple(generate(s, exclude, f"_{s}") for s in seeds))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fuzz_batch.f90"
    path.write_text(batch.source())
    b = batch
    status, detail = _check([path], "fuzz_batch", b.wrt, b.of, b.sizes, b.ranges, modes)
    each = (time.perf_counter() - start) / len(seeds)
    if status == "passed":
        return [FuzzResult(s, status, "", each) for s in seeds]
    alone = [check_program(generate(s, exclude), folder / f"alone_{s}", modes) for s in seeds]
    if all(r.status == "passed" for r in alone):
        why = f"the batch of seeds {', '.join(map(str, seeds))} failed, each alone passes:\n"
        alone[0] = FuzzResult(seeds[0], status, why + detail, alone[0].seconds)
    return alone


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
            f"failed {self.count('failed')}, errors {self.count('error')} "
            f"({self.seconds:.0f} s)"
        )


def _run_batch(
    task: tuple[tuple[int, ...], str, frozenset[str], tuple[str, ...]],
) -> list[FuzzResult]:
    seeds, folder, exclude, modes = task
    return check_batch(seeds, Path(folder) / f"batch_{seeds[0]}", exclude, modes)


def run_fuzz(
    count: int,
    seed: int = 0,
    jobs: int = 1,
    batch: int = 5,
    exclude: frozenset[str] = frozenset(),
    progress: Callable[[FuzzResult], None] | None = None,
    modes: Sequence[str] = MODES,
) -> FuzzSummary:
    """Check the programs of seeds ``seed .. seed + count - 1``: ``batch`` programs per build,
    ``jobs`` builds at a time. Results come in seed order."""
    import tempfile
    import time
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    seeds = list(range(seed, seed + count))
    results: list[FuzzResult] = []
    with tempfile.TemporaryDirectory(prefix="fortran-ad-fuzz-") as tmp:
        tasks = [
            (tuple(seeds[k : k + batch]), tmp, exclude, tuple(modes))
            for k in range(0, count, batch)
        ]
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            for rs in pool.map(_run_batch, tasks):
                for r in rs:
                    results.append(r)
                    if progress is not None:
                        progress(r)
    return FuzzSummary(results, time.perf_counter() - start)
