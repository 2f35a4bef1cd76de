"""Build and run the derivative check: generate, compile with gfortran, run, judge.

Two entry points share one compile-and-run core:

* ``check_files`` takes primal, runtime and derivative *files* (tests hand it hand-written
  adjoints, so the checker is verified independently of the generator);
* ``check_options`` is the public path: it loads the sources, calls the generator for each
  mode and hands the generated files to ``check_files``. ``run_check_cli`` wraps it for
  ``fortran-ad check`` (exit 0 pass, 1 fail; FortranADError propagates to the CLI: exit 2).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from fortran_ad.checks.harness import harness_source
from fortran_ad.checks.inputs import find_head, load_case
from fortran_ad.checks.report import CheckReport, evaluate
from fortran_ad.checks.spec import MODES, FixedValue, build_spec
from fortran_ad.driver import DEFAULT_MEMORY_LIMIT, Options, load
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.runtime import RUNTIME_SOURCES

COMPILER = "gfortran"
FLAGS = ("-O2", "-Wall", "-fcheck=all")
RUN_TIMEOUT = 600.0
HARNESS_NAME = "fad_check.f90"


class _CompileError(Exception):
    def __init__(self, source: Path, output: str) -> None:
        super().__init__(f"gfortran failed on {source.name}:\n{output.strip()}")
        self.source = source


def _compiler() -> str:
    found = shutil.which(COMPILER)
    if found is None:
        raise FortranADError(
            None,
            f"'{COMPILER}' not found on PATH",
            "the check compiles the generated code; install gfortran",
        )
    return found


def _compile(fc: str, source: Path, build: Path, index: int, extra: Sequence[str] = ()) -> Path:
    """Compile one file to an object in ``build`` (modules in build/mod)."""
    mod = build / "mod"
    mod.mkdir(exist_ok=True)
    obj = build / f"{index:03d}_{source.stem}.o"
    cmd = [fc, *FLAGS, *extra, "-J", str(mod), "-I", str(mod), "-c", str(source), "-o", str(obj)]
    proc = subprocess.run(cmd, cwd=build, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if proc.returncode != 0:
        raise _CompileError(source, proc.stdout + proc.stderr)
    return obj


def _form_flags(fixed_form: bool | None) -> tuple[str, ...]:
    return () if fixed_form is None else ("-ffixed-form",) if fixed_form else ("-ffree-form",)


def check_files(
    routine: ir.Routine,
    module: ir.Module | None,
    signatures: Mapping[str, Sequence[tuple[str, bool]]],
    primal: Sequence[Path],
    derivative: Sequence[Path],
    wrt: Sequence[str],
    of: Sequence[str] | None = None,
    fixed: Mapping[str, FixedValue] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    runtime: Sequence[Path] = (),
    directions: int = 3,
    seed: int = 12345,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    fixed_form: bool | None = None,
    workdir: Path | None = None,
    timeout: float = RUN_TIMEOUT,
) -> CheckReport:
    """Compile primal, runtime, derivative files and the harness (in that order), run, judge.

    ``signatures`` maps each mode present among ``derivative`` to the head signature. Bad
    user input raises FortranADError (so does a primal that gfortran rejects); generated code
    that does not compile or crashes gives a report with ``error`` set (``ok`` False).
    ``workdir`` keeps the build (harness included) for inspection; default: a temp folder.
    """
    spec = build_spec(
        routine,
        module,
        signatures,
        wrt,
        of,
        fixed or {},
        ranges or {},
        directions,
        seed,
        tape=bool(runtime),
        memory_limit=memory_limit,
    )
    fc = _compiler()
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="fortran-ad-check-") as tmp:
            return _build_and_run(
                fc, spec, Path(tmp), primal, runtime, derivative, fixed_form, timeout
            )
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    return _build_and_run(fc, spec, workdir, primal, runtime, derivative, fixed_form, timeout)


def _build_and_run(fc, spec, build, primal, runtime, derivative, fixed_form, timeout):
    harness = build / HARNESS_NAME
    harness.write_text(harness_source(spec))
    objects = []
    for i, src in enumerate(primal):
        try:
            objects.append(_compile(fc, Path(src).resolve(), build, i, _form_flags(fixed_form)))
        except _CompileError as exc:
            raise FortranADError(
                str(src), "gfortran cannot compile the primal source", str(exc)
            ) from None
    try:
        for i, src in enumerate([*runtime, *derivative, harness], start=len(objects)):
            objects.append(_compile(fc, Path(src).resolve(), build, i))
        exe = build / "fad_check"
        cmd = [fc, *FLAGS, "-o", str(exe), *map(str, objects)]
        proc = subprocess.run(cmd, cwd=build, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise _CompileError(exe, proc.stdout + proc.stderr)
    except _CompileError as exc:
        return CheckReport(spec.head, (), str(exc))
    try:
        run = subprocess.run([str(exe)], cwd=build, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return CheckReport(spec.head, (), f"the check program ran longer than {timeout:g} s")
    if run.returncode != 0:
        tail = (run.stdout[-1500:] + "\n" + run.stderr[-3000:]).strip()
        return CheckReport(
            spec.head, (), f"the check program failed (exit {run.returncode}):\n{tail}"
        )
    return evaluate(spec.head, run.stdout)


def check_options(
    options: Options,
    sample: Path | str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    modes: Sequence[str] = MODES,
    directions: int = 3,
    seed: int = 12345,
    workdir: Path | None = None,
) -> CheckReport:
    """Generate derivatives of the head for each mode, then check them (public path).

    Values: the sample case's [case.check] overridden by ``options.sizes``; ranges: the case's
    [case.ranges] overridden by ``ranges``; real inputs without a range get a positive default.
    """
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise FortranADError(
            None,
            f"unknown check modes: {', '.join(bad) or 'none'}",
            f"choose from {', '.join(MODES)}",
        )
    case = load_case(Path(sample), options.head) if sample is not None else None
    head = options.head or (case.head if case else None)
    wrt = options.wrt or (case.wrt if case else ())
    of = options.of if options.of is not None else (case.of if case else None)
    sources = options.sources or (case.sources if case else ())
    fixed: dict[str, FixedValue] = dict(case.fixed) if case else {}
    fixed.update({k.lower(): v for k, v in options.sizes.items()})
    all_ranges = dict(case.ranges) if case else {}
    all_ranges.update({k.lower(): (float(lo), float(hi)) for k, (lo, hi) in (ranges or {}).items()})
    program = load(sources, options.fixed_form)
    module, routine = find_head(program, head, tuple(wrt))
    # validate the user's choices before spending time on generation
    build_spec(routine, module, {m: [] for m in modes}, wrt, of, fixed, all_ranges, directions)
    from fortran_ad.ad.generate import generate, head_signature

    opts = replace(options, sources=tuple(sources), head=routine.name, wrt=tuple(wrt), of=of)
    runtime_names = {p.name for p in RUNTIME_SOURCES}
    signatures: dict[str, list[tuple[str, bool]]] = {}
    files: dict[str, str] = {}
    for mode in MODES:
        if mode in modes:
            mode_opts = replace(opts, mode=mode)
            for name, text in generate(program, mode_opts).items():
                files.setdefault(name, text)
            signatures[mode] = list(head_signature(program, mode_opts))
    with tempfile.TemporaryDirectory(prefix="fortran-ad-gen-") as tmp:
        gen = Path(tmp)
        for name, text in files.items():
            (gen / name).write_text(text)
        runtime = [gen / n for n in files if n in runtime_names]
        derivative = [gen / n for n in files if n not in runtime_names]
        return check_files(
            routine,
            module,
            signatures,
            [Path(s) for s in sources],
            derivative,
            wrt,
            of,
            fixed,
            all_ranges,
            runtime,
            directions,
            seed,
            options.memory_limit,
            options.fixed_form,
            workdir,
        )


def run_check_cli(options: Options, sample_path: Path | None, as_json: bool) -> int:
    """``fortran-ad check``: print the table (or JSON); 0 when every check passes, else 1.

    FortranADError (bad input) propagates: the CLI prints it and exits 2.
    """
    return report_exit(check_options(options, sample_path), as_json)


def report_exit(report: CheckReport, as_json: bool = False) -> int:
    """Print ``report`` as a table or JSON; the exit code: 0 when it passed, else 1."""
    print(report.to_json() if as_json else report.table())
    return 0 if report.ok else 1
