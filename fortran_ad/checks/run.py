"""Build and run the derivative check: generate, compile with gfortran, run, judge.

Entry points sharing one compile-and-run core:

* ``check_files`` takes primal, runtime and derivative *files* (tests hand it hand-written
  adjoints, so the checker is verified independently of the generator);
* ``prepare_check`` loads the sources and calls the generator for each mode (reverse, forward,
  vector, vector-reverse); its ``PreparedCheck.run`` hands the generated texts, or a modified
  copy of them, to ``check_files``;
* ``check_options`` is the public path (prepare, then run); ``run_check_cli`` wraps it for
  ``fortran-ad check`` (exit 0 pass, 1 fail; FortranADError propagates to the CLI: exit 2).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fortran_ad.checks.harness import harness_source
from fortran_ad.checks.inputs import find_head, find_setup, load_case
from fortran_ad.checks.report import CheckReport, evaluate
from fortran_ad.checks.spec import MODES, FixedValue, build_spec
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.load import load
from fortran_ad.frontend.preprocess import Preprocessing
from fortran_ad.ir import nodes as ir
from fortran_ad.options import DEFAULT_MEMORY_LIMIT, Options
from fortran_ad.runtime import MPI_SOURCE, RUNTIME_FILES
from fortran_ad.runtime.cache import cached_object

COMPILER = "gfortran"
# FORTRAN_AD_CHECK_FFLAGS adds compiler flags (e.g. "-ffpe-trap=invalid,zero,overflow").
FLAGS = ("-O2", "-Wall", "-fcheck=all", *os.environ.get("FORTRAN_AD_CHECK_FFLAGS", "").split())
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


def _compile_runtime(fc: str, source: Path, build: Path, index: int, extra: Sequence[str]) -> Path:
    """A run-time source (the tape, revolve, MPI adjoints): the same text with the same flags
    compiles to the same object, so it comes from the object cache (runtime/cache.py) after
    the first check that compiled it."""
    obj = build / f"{index:03d}_{source.stem}.o"
    (build / "mod").mkdir(exist_ok=True)
    cached_object(
        fc,
        (*FLAGS, *extra),
        source,
        obj,
        build / "mod",
        lambda: _compile(fc, source, build, index, extra),
    )
    return obj


def _form_flags(fixed_form: bool | None, pp: Preprocessing | None = None) -> tuple[str, ...]:
    """gfortran flags for the primal sources: the form, and the preprocessor's -D/-I."""
    form = () if fixed_form is None else ("-ffixed-form",) if fixed_form else ("-ffree-form",)
    if pp is None:
        return form
    cpp = ("-cpp",) if pp.force_cpp else ()
    defs = tuple(f"-D{d}" for d in pp.defines)
    incs = tuple(f"-I{Path(d).resolve()}" for d in pp.include_dirs)
    return (*form, *cpp, *defs, *incs)


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
    vector_axis: str | None = None,
    pp: Preprocessing | None = None,
    nprocs: int | None = None,
    gradient_only: bool = False,
    setup: tuple[str, str | None] | None = None,
    types: Mapping[str, ir.TypeDef] | None = None,
) -> CheckReport:
    """Compile primal, runtime, derivative files and the harness (in that order), run, judge.

    ``signatures`` maps each mode present among ``derivative`` to the head signature. Bad
    user input raises FortranADError (so does a primal that gfortran rejects); generated code
    that does not compile or crashes gives a report with ``error`` set (``ok`` False).
    ``workdir`` keeps the build (harness included) for inspection; default: a temp folder.
    ``vector_axis`` (where the vector modes' nbdirs dimension is): default, read from the
    head's declarations in the derivative files (``vector_axis_of``). Code calling MPI (the
    runtime includes fad_mpi.f90) is built with mpif90 and run on ``nprocs`` ranks
    (``checks/mpi.py``; default FORTRAN_AD_MPI_NP or 2). ``setup`` (routine, module) is
    called before every call of the head (it sets the module state the head reads).
    ``types``: the program's derived types, for derived-type dummies (checks/objects.py).
    """
    if vector_axis is None:
        texts = [Path(p).read_text(errors="replace") for p in derivative]
        vector_axis = vector_axis_of(texts, routine.name)
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
        vector_axis=vector_axis,
        types=types,
    )
    spec = replace(spec, gradient_only=gradient_only)
    if setup is not None:
        name, mod = setup
        uses = (*spec.uses, f"use {mod}, only: {name}") if mod else spec.uses
        spec = replace(spec, setup=name, uses=uses)
    if any(Path(p).name == MPI_SOURCE.name for p in runtime):
        from fortran_ad.checks import mpi

        def build(folder: Path) -> CheckReport:
            flags = _form_flags(fixed_form, pp)
            n = nprocs or mpi.default_nprocs()
            args = (spec, folder, primal, runtime, derivative, flags, timeout, n)
            return mpi.build_and_run(_compile, *args)
    else:
        fc = _compiler()

        def build(folder: Path) -> CheckReport:
            args = (primal, runtime, derivative, fixed_form, timeout, pp)
            return _build_and_run(fc, spec, folder, *args)

    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="fortran-ad-check-") as tmp:
            return build(Path(tmp))
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    return build(workdir)


def vector_axis_of(texts: Sequence[str], head: str) -> str:
    """Where the generated vector routine ``<head>_dv`` / ``<head>_bv`` puts the direction
    dimension of its array derivatives: "leading" (``xd(nbdirs, n)``) or "trailing"
    (``xd(n, nbdirs)``), read from its declarations (nbdirs is its last dummy). "leading"
    when no text tells (no vector routine, or only scalar derivatives: both layouts agree)."""
    head_re = re.compile(
        rf"^\s*subroutine\s+{re.escape(head)}_(?:dv|bv)\s*\((?P<args>[^)]*)\)"
        rf"(?P<body>.*?)^\s*end\s+subroutine",
        re.IGNORECASE | re.MULTILINE | re.DOTALL,
    )
    for text in texts:
        for m in head_re.finditer(text):
            nbdirs = re.escape(m.group("args").replace("&", " ").split(",")[-1].strip())
            if re.search(rf"::.*\w\s*\(\s*{nbdirs}\s*,", m.group("body"), re.IGNORECASE):
                return "leading"
            if re.search(rf"::.*,\s*{nbdirs}\s*\)", m.group("body"), re.IGNORECASE):
                return "trailing"
    return "leading"


_OPENMP = re.compile(r"^\s*!\$omp", re.I | re.M)


def openmp_flags(paths: Sequence[Path | str]) -> tuple[str, ...]:
    """``-fopenmp`` when a source has OpenMP directives (the adjoint of DO CONCURRENT does)."""
    for p in paths:
        if _OPENMP.search(Path(p).read_text(errors="replace")):
            return ("-fopenmp",)
    return ()


def _build_and_run(fc, spec, build, primal, runtime, derivative, fixed_form, timeout, pp=None):
    harness = build / HARNESS_NAME
    harness.write_text(harness_source(spec))
    objects = []
    omp = openmp_flags([*primal, *derivative])
    for i, src in enumerate(primal):
        try:
            flags = (*_form_flags(fixed_form, pp), *omp)
            objects.append(_compile(fc, Path(src).resolve(), build, i, flags))
        except _CompileError as exc:
            raise FortranADError(
                str(src), "gfortran cannot compile the primal source", str(exc)
            ) from None
    try:
        for i, src in enumerate(runtime, start=len(objects)):
            objects.append(_compile_runtime(fc, Path(src).resolve(), build, i, omp))
        for i, src in enumerate([*derivative, harness], start=len(objects)):
            objects.append(_compile(fc, Path(src).resolve(), build, i, omp))
        exe = build / "fad_check"
        cmd = [fc, *FLAGS, *omp, "-o", str(exe), *map(str, objects)]
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
    return evaluate(spec.head, run.stdout, spec.gradient_only, spec.draws())


@dataclass(frozen=True)
class PreparedCheck:
    """A check with its derivative code generated but not yet compiled: ``files`` maps file
    names to generated text, ``file_modes`` each name to the modes that generated it. ``run``
    compiles and judges them, or a modified copy of them (tests corrupt one statement to see
    the check fail), for all the generated modes or some of them."""

    routine: ir.Routine
    module: ir.Module | None
    signatures: Mapping[str, Sequence[tuple[str, bool]]]
    files: Mapping[str, str]
    file_modes: Mapping[str, tuple[str, ...]]
    sources: tuple[str, ...]
    wrt: tuple[str, ...]
    of: tuple[str, ...] | None
    fixed: Mapping[str, FixedValue]
    ranges: Mapping[str, tuple[float, float]]
    directions: int = 3
    seed: int = 12345
    memory_limit: int = DEFAULT_MEMORY_LIMIT
    fixed_form: bool | None = None
    pp: Preprocessing | None = None
    gradient_only: bool = False  # the adjoints were generated with --gradient-only
    setup: tuple[str, str | None] | None = None  # (routine, module) run before each call
    types: Mapping[str, ir.TypeDef] | None = None  # the program's derived types

    def run(
        self,
        files: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        modes: str | Sequence[str] | None = None,
        nprocs: int | None = None,
    ) -> CheckReport:
        """Compile ``files`` (default: the generated ones) with the primal and the harness,
        run, judge. ``modes``: a subset of the generated modes (default: all of them); files
        another mode generated are left out. Runtime sources (the tape) are known by name."""
        files = self.files if files is None else files
        wanted = tuple(self.signatures) if modes is None else check_modes(modes)
        missing = [m for m in wanted if m not in self.signatures]
        if missing:
            raise FortranADError(None, f"mode {', '.join(missing)} was not generated")
        names = [n for n in files if set(self.file_modes.get(n, wanted)) & set(wanted)]
        runtime_names = {p.name for p in RUNTIME_FILES}
        with tempfile.TemporaryDirectory(prefix="fortran-ad-gen-") as tmp:
            gen = Path(tmp)
            for name in names:
                (gen / name).write_text(files[name])
            return check_files(
                self.routine,
                self.module,
                {m: self.signatures[m] for m in wanted},
                [Path(s) for s in self.sources],
                [gen / n for n in names if n not in runtime_names and not n.endswith(".h")],
                self.wrt,
                self.of,
                self.fixed,
                self.ranges,
                [gen / n for n in names if n in runtime_names],
                self.directions,
                self.seed,
                self.memory_limit,
                self.fixed_form,
                workdir,
                pp=self.pp,
                nprocs=nprocs,
                gradient_only=self.gradient_only,
                setup=self.setup,
                types=self.types,
            )


def check_modes(modes: str | Sequence[str]) -> tuple[str, ...]:
    """The modes to check, in canonical order: "reverse,vector" or a sequence; unknown or no
    names are a FortranADError."""
    names = modes.split(",") if isinstance(modes, str) else list(modes)
    wanted = {m.strip().lower() for m in names if m.strip()}
    bad = sorted(wanted - set(MODES))
    if bad or not wanted:
        raise FortranADError(
            None,
            f"unknown check modes: {', '.join(bad)}" if bad else "no check mode given",
            f"choose from {', '.join(MODES)}",
        )
    return tuple(m for m in MODES if m in wanted)


def prepare_check(
    options: Options,
    sample: Path | str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    modes: str | Sequence[str] = MODES,
    directions: int = 3,
    seed: int = 12345,
) -> PreparedCheck:
    """Resolve the check's inputs and generate the derivatives of the head for each mode.

    Values: the sample case's [case.check] overridden by ``options.sizes``; ranges: the case's
    [case.ranges] overridden by ``ranges``; real inputs without a range get a positive default.
    """
    modes = check_modes(modes)
    case = load_case(Path(sample), options.head, options.defines or None) if sample else None
    if case is not None and case.defines and not options.defines:
        options = replace(options, defines=case.defines)
    head = options.head or (case.head if case else None)
    wrt = tuple(options.wrt or (case.wrt if case else ()))
    of = options.of if options.of is not None else (case.of if case else None)
    sources = tuple(options.sources or (case.sources if case else ()))
    fixed: dict[str, FixedValue] = dict(case.fixed) if case else {}
    fixed.update({k.lower(): v for k, v in options.sizes.items()})
    all_ranges = dict(case.ranges) if case else {}
    all_ranges.update({k.lower(): (float(lo), float(hi)) for k, (lo, hi) in (ranges or {}).items()})
    program = load(sources, options.fixed_form, options.preprocessing)
    module, routine = find_head(program, head, tuple(w.split("%", 1)[0] for w in wrt))
    setup = find_setup(program, case.setup) if case is not None and case.setup else None
    from fortran_ad.checks.objects import collect_types

    types = collect_types(program)
    # validate the user's choices before spending time on generation
    empty: dict[str, list] = {m: [] for m in modes}
    build_spec(routine, module, empty, wrt, of, fixed, all_ranges, directions, types=types)
    from fortran_ad.ad.core.generate import generate, head_signature

    # the checkpoint planner sees the values the check runs with
    sizes = {k: v for k, v in fixed.items() if isinstance(v, int | float) and "%" not in k}
    sizes = {k: v for k, v in sizes.items() if not isinstance(v, bool)}
    opts = replace(options, sources=sources, head=routine.name, wrt=wrt, of=of, sizes=sizes)
    signatures: dict[str, list[tuple[str, bool]]] = {}
    files: dict[str, str] = {}
    file_modes: dict[str, tuple[str, ...]] = {}
    for mode in modes:
        mode_opts = replace(opts, mode=mode)
        if mode in ("forward", "vector"):  # tangents compute the primal outputs anyway
            mode_opts = replace(mode_opts, gradient_only=False)
        try:
            generated = generate(program, mode_opts)
        except FortranADError as exc:
            scalar = ",".join(m for m in modes if m in ("reverse", "forward"))
            if mode not in ("vector", "vector-reverse") or not scalar:
                raise
            note = f"in {mode} mode; the scalar modes can be checked with --modes {scalar}"
            hint = "; ".join(filter(None, [exc.hint, note]))
            raise FortranADError(exc.loc, exc.message, hint) from None
        for name, text in generated.items():
            files.setdefault(name, text)
            file_modes[name] = (*file_modes.get(name, ()), mode)
        signatures[mode] = list(head_signature(program, mode_opts))
    return PreparedCheck(
        routine=routine,
        module=module,
        signatures=signatures,
        files=files,
        file_modes=file_modes,
        sources=sources,
        wrt=wrt,
        of=tuple(of) if of is not None else None,
        fixed=fixed,
        ranges=all_ranges,
        directions=directions,
        seed=seed,
        memory_limit=options.memory_limit,
        fixed_form=options.fixed_form,
        pp=options.preprocessing,
        gradient_only=options.gradient_only,
        setup=setup,
        types=types,
    )


def check_options(
    options: Options,
    sample: Path | str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    modes: str | Sequence[str] = MODES,
    directions: int = 3,
    seed: int = 12345,
    workdir: Path | None = None,
) -> CheckReport:
    """Generate derivatives of the head for each mode, then check them (public path)."""
    prepared = prepare_check(options, sample, ranges, modes, directions, seed)
    return prepared.run(workdir=workdir)


def run_check_cli(
    options: Options,
    sample_path: Path | None,
    as_json: bool,
    modes: str | Sequence[str] = MODES,
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> int:
    """``fortran-ad check``: print the table (or JSON); 0 when every check passes, else 1.

    FortranADError (bad input, unknown modes) propagates: the CLI prints it and exits 2.
    """
    return report_exit(check_options(options, sample_path, ranges, modes=modes), as_json)


def report_exit(report: CheckReport, as_json: bool = False) -> int:
    """Print ``report`` as a table or JSON; the exit code: 0 when it passed, else 1."""
    print(report.to_json() if as_json else report.table())
    return 0 if report.ok else 1
