"""Command line: ``fortran-ad FILES --wrt u,v [--of cost]`` and subcommands.

User errors print as ``file:line:col: error: message`` and exit 2; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from fortran_ad.ad.rewrites import NAMES, enabled
from fortran_ad.checks.spec import MODES as CHECK_MODES
from fortran_ad.driver import DEFAULT_MEMORY_LIMIT, Options, differentiate, roundtrip
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.preprocess import Preprocessing
from fortran_ad.version import __version__

SUBCOMMANDS = {
    "diff": "generate derivative code (the default: `fortran-ad FILES --wrt ...`)",
    "roundtrip": "re-emit sources through the IR (tests the frontend and back end)",
    "check": "generate, compile and verify derivatives (Taylor, dot-product, finite differences)",
    "deps": "print the files `diff` would generate, one per line, writing nothing (for builds)",
    "plan": "print the checkpoint plan (store or recompute per loop, tape and cost estimates)",
}


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip().lower() for n in text.split(",") if n.strip())


def _bytes(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    try:
        value = int(float(t[:-1]) * units[t[-1]]) if t and t[-1] in units else int(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a byte count: '{text}'") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the memory limit must be positive: '{text}'")
    return value


def _is_name(name: str) -> bool:
    """A dummy ``n`` or a component path ``state%h`` (derived-type dummies of the head)."""
    return all(p.strip().isidentifier() for p in name.split("%"))


def _sizes(text: str) -> dict[str, int | float | tuple[int, ...]]:
    """``n=10,dt=0.5``; an allocatable component takes its extents: ``state%h=24x12``."""
    out: dict[str, int | float | tuple[int, ...]] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        try:
            if not _is_name(name):
                raise ValueError
            v = value.strip().lower().replace("d", "e")
            if "%" in name and "x" in v:
                out[name.strip().lower()] = tuple(int(n) for n in v.split("x"))
                continue
            out[name.strip().lower()] = int(v) if v.lstrip("+-").isdigit() else float(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad size '{part}' (want name=number)") from None
    return out


def _cost_sizes(sizes: dict) -> dict[str, int | float]:
    """The values the cost model reads: dummies (component bounds are the check's)."""
    return {k: v for k, v in sizes.items() if "%" not in k and not isinstance(v, tuple)}


def _values(text: str) -> dict[str, int | float | bool]:
    """``--set n=10,dt=0.5,wet=.true.``: fixed values of the head's dummies for the check."""
    out: dict[str, int | float | bool] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        v = value.strip().lower()
        if v in (".true.", "true", ".false.", "false"):
            out[name.strip().lower()] = v.strip(".") == "true"
        else:
            out.update(_sizes(part))
    return out


def _ranges(text: str) -> dict[str, tuple[float, float]]:
    """``--range x=0.1:2,t=250:300``: the interval each real input is drawn from."""
    out: dict[str, tuple[float, float]] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        lo, sep, hi = value.partition(":")
        try:
            if not (_is_name(name) and sep):
                raise ValueError
            out[name.strip().lower()] = (float(lo.replace("d", "e")), float(hi.replace("d", "e")))
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad range '{part}' (want name=lo:hi)") from None
    return out


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("sources", nargs="+", help="Fortran source files, modules first")
    p.add_argument(
        "--fixed-form",
        dest="fixed_form",
        action="store_true",
        default=None,
        help="treat all sources as fixed form (default: by suffix)",
    )
    p.add_argument(
        "--free-form",
        dest="fixed_form",
        action="store_false",
        help="treat all sources as free form",
    )
    p.add_argument(
        "--form",
        choices=["fixed", "free"],
        default=None,
        help="source form of all sources (default: by suffix; same as --fixed-form/--free-form)",
    )
    p.add_argument(
        "-D",
        dest="defines",
        action="append",
        default=[],
        metavar="NAME[=VAL]",
        help="define a preprocessor macro (upper-case suffixes .F/.F90 are preprocessed)",
    )
    p.add_argument(
        "-I",
        dest="include_dirs",
        action="append",
        default=[],
        metavar="DIR",
        help="folder searched for #include and INCLUDE files (after the including file's)",
    )
    p.add_argument(
        "--cpp", action="store_true", help="preprocess every source, whatever its suffix"
    )
    p.add_argument("--debug", action="store_true", help="show Python tracebacks")


def _add_ad(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wrt", type=_names, required=True, help="independent variables: u,v")
    p.add_argument("--of", type=_names, default=None, help="dependent variables (default: outputs)")
    p.add_argument("--head", default=None, help="the routine to differentiate")
    p.add_argument(
        "--mode",
        choices=["reverse", "forward", "vector", "vector-reverse"],
        default="reverse",
        help="reverse (adjoint, _b), forward (tangent, _d), vector (many tangents at once, _dv), "
        "vector-reverse (many adjoints at once, _bv); vector modes add a leading dimension "
        "nbdirs to every derivative (xd(nbdirs, n)) and an argument nbdirs at the end",
    )
    p.add_argument(
        "--memory-limit",
        type=_bytes,
        default=DEFAULT_MEMORY_LIMIT,
        help="tape limit at run time, e.g. 4G (default 4 GiB)",
    )
    p.add_argument(
        "--size", type=_sizes, default={}, help="values for the cost model: n=1000,nt=500,dt=5.0"
    )
    p.add_argument("--explain", action="store_true", help="print why variables are active")
    p.add_argument(
        "--checkpoint",
        choices=["ilp", "store-all", "recompute-all"],
        default="ilp",
        help="what the adjoint stores and what it recomputes: chosen by an integer linear "
        "program under --memory-limit (default), or a fixed policy",
    )
    p.add_argument(
        "--calls",
        choices=["auto", "joint", "split"],
        default="auto",
        help="call sites: joint (the adjoint re-runs the callee) or split (its tape is kept); "
        "auto lets the ilp policy choose per call site (the fixed policies keep joint)",
    )
    p.add_argument(
        "--parallelize-adjoint",
        action="store_true",
        help="run the adjoint of every loop the dependence analysis proves parallel as an "
        "OpenMP loop (loops with !$omp directives or DO CONCURRENT always are)",
    )
    p.add_argument(
        "--omp-atomic",
        dest="omp_increments",
        action="store_const",
        const="atomic",
        default="auto",
        help="make shared adjoint increments in parallel loops !$omp atomic instead of the "
        "scatter-to-gather rewrite (for comparison)",
    )
    p.add_argument(
        "--gradient-only",
        action="store_true",
        help="reverse mode: the head's adjoint only guarantees the gradients and may leave the "
        "primal outputs unfinished; its forward sweep keeps only what the backward sweep needs "
        "(dead primal code removed, as Tapenade and jax.grad do)",
    )
    p.add_argument(
        "--no-loop-rewrites",
        dest="loop_rewrites",
        action="store_false",
        help="keep the per-iteration tape records and plain backward loops (no block "
        "records, no simd reductions; for comparison; the SDFG back end always does)",
    )
    p.add_argument(
        "--rewrites",
        default="",
        metavar="[+|-]NAME,...",
        help="turn single loop rewrites of the adjoint off (-name) or on (+name) after "
        "--no-loop-rewrites or the default (all on), e.g. --rewrites=-simd,-gather; names: "
        f"{', '.join(NAMES)} (ad/rewrites/__init__.py states what each assumes)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fortran-ad",
        description="Automatic differentiation of unmodified Fortran.\n\nsubcommands:\n"
        + "\n".join(f"  {k:<10} {v}" for k, v in SUBCOMMANDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="fortran-ad [diff] FILES --wrt u,v [--of cost] [-o DIR]\n"
        "       fortran-ad roundtrip FILES -o DIR\n"
        "       fortran-ad check FILES --wrt u,v [--of cost] [--size n=...]\n"
        "       fortran-ad deps FILES --wrt u,v [--of cost] [-o DIR]",
    )
    parser.add_argument("--version", action="version", version=f"fortran-ad {__version__}")
    parser.add_argument(
        "--cmake-dir",
        action="store_true",
        help="print the folder of FortranADConfig.cmake (for CMAKE_PREFIX_PATH) and exit",
    )
    parser.add_argument(
        "--make-dir", action="store_true", help="print the folder of fortran-ad.mk and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog="fortran-ad")
    d = sub.add_parser("diff", help=SUBCOMMANDS["diff"])
    _add_common(d)
    _add_ad(d)
    d.add_argument("-o", "--output", type=Path, default=Path("."), help="output directory")
    d.add_argument(
        "--python",
        metavar="NAME",
        default=None,
        help="also compile the code and build the Python module NAME (f90wrap) in the output "
        "directory: import NAME; NAME.<module>_b.<head>_b(...), or fortran_ad.load(DIR)",
    )
    d.add_argument(
        "--emit",
        choices=("fortran", "c", "sdfg"),
        default="fortran",
        help="back end: Fortran (default), C99 with ISO_C_BINDING wrappers, or sdfg: the primal "
        "and adjoint of the head as DaCe SDFGs (<head>.sdfg, <head>_b.sdfg)",
    )
    d.add_argument(
        "--backend",
        choices=["fortran", "dace"],
        default="fortran",
        help="dace: compile the adjoint SDFG with DaCe (C++/OpenMP) into lib<head>_b.so and "
        "write <stem>_b.f90, an ISO_C_BINDING module with the Fortran adjoint's signature",
    )
    r = sub.add_parser("roundtrip", help=SUBCOMMANDS["roundtrip"])
    _add_common(r)
    r.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    c = sub.add_parser("check", help=SUBCOMMANDS["check"])
    _add_common(c)
    _add_ad(c)
    c.add_argument("--sample", type=Path, default=None, help="sample.toml with sizes and ranges")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.add_argument(
        "--set",
        type=_values,
        action="append",
        default=[],
        metavar="NAME=VALUE,...",
        help="fixed values of the head's dummies (numbers, .true./.false.); override the sample",
    )
    c.add_argument(
        "--range",
        type=_ranges,
        action="append",
        default=[],
        metavar="NAME=LO:HI,...",
        help="intervals the real inputs are drawn from (default 0.5:1.5); override the sample",
    )
    c.add_argument(
        "--modes",
        default=",".join(CHECK_MODES),
        help="derivative modes to generate and check, comma-separated (default: all of "
        f"{','.join(CHECK_MODES)}); the check ignores --mode",
    )
    pl = sub.add_parser("plan", help=SUBCOMMANDS["plan"])
    _add_common(pl)
    _add_ad(pl)
    pl.add_argument("--json", action="store_true", help="machine-readable output")
    dp = sub.add_parser("deps", help=SUBCOMMANDS["deps"])
    _add_common(dp)
    _add_ad(dp)
    dp.add_argument("-o", "--output", type=Path, default=Path("."), help="output directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top_level = {"-h", "--help", "--version", "--cmake-dir", "--make-dir"}
    if argv and argv[0] not in SUBCOMMANDS and argv[0] not in top_level:
        argv.insert(0, "diff")  # the default command (also for `fortran-ad --wrt x` alone)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmake_dir or args.make_dir:
        from fortran_ad.build.integration import CMAKE_DIR, MAKE_DIR

        print(CMAKE_DIR if args.cmake_dir else MAKE_DIR)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _run(args)
    except FortranADError as exc:
        if args.debug:
            raise
        print(exc.render(), file=sys.stderr)
        return 2


def _rewrites(spec: str) -> str:
    """``--rewrites`` checked against the registry (unknown names fail here)."""
    enabled(True, spec)
    return spec


def _backend(args: argparse.Namespace) -> str:
    emit, backend = getattr(args, "emit", "fortran"), getattr(args, "backend", "fortran")
    if emit != "fortran" and backend == "dace":
        raise FortranADError(None, f"choose one of --emit {emit} and --backend dace")
    if getattr(args, "python", None) and (emit == "sdfg" or backend == "dace"):
        raise FortranADError(None, "--python builds the Fortran output: drop --emit/--backend")
    return "sdfg" if emit == "sdfg" else backend


def _run(args: argparse.Namespace) -> int:
    if args.form is not None:
        args.fixed_form = args.form == "fixed"
    if args.command == "roundtrip":
        pp = Preprocessing(tuple(args.defines), tuple(args.include_dirs), args.cpp)
        for path in roundtrip(args.sources, args.output, args.fixed_form, pp):
            print(path)
        return 0
    options = Options(
        sources=tuple(args.sources),
        out=getattr(args, "output", Path(".")),
        mode=args.mode,
        wrt=args.wrt,
        of=args.of,
        head=args.head.lower() if args.head else None,
        memory_limit=args.memory_limit,
        fixed_form=args.fixed_form,
        explain=args.explain,
        sizes=args.size if args.command == "check" else _cost_sizes(args.size),
        checkpoint=args.checkpoint,
        calls=args.calls,
        defines=tuple(args.defines),
        include_dirs=tuple(args.include_dirs),
        cpp=args.cpp,
        backend=_backend(args),
        parallelize_adjoint=args.parallelize_adjoint,
        omp_increments=args.omp_increments,
        loop_rewrites=args.loop_rewrites,
        rewrites=_rewrites(args.rewrites),
        gradient_only=args.gradient_only,
    )
    if options.gradient_only and options.backend != "fortran":
        raise FortranADError(None, "--gradient-only is for the Fortran back end")
    if options.gradient_only and getattr(args, "emit", "fortran") == "c":
        raise FortranADError(None, "--gradient-only is for the Fortran back end: drop --emit c")
    if args.command == "plan":
        from fortran_ad.driver import checkpoint_plan

        result = checkpoint_plan(options)
        print(result.to_json() if args.json else result.table())
        return 0
    if args.command == "check":
        from fortran_ad.checks.run import run_check_cli

        values = {k: v for d in args.set for k, v in d.items()}
        ranges = {k: v for d in args.range for k, v in d.items()}
        options = replace(options, sizes={**options.sizes, **values})
        return run_check_cli(options, args.sample, args.json, args.modes, ranges)
    if args.command == "deps":
        from fortran_ad.build.integration import planned_outputs

        for path in planned_outputs(options):
            print(path)
        return 0
    if getattr(args, "emit", "fortran") == "c":
        if getattr(args, "python", None):
            raise FortranADError(None, "--python builds the Fortran output: drop --emit c")
        from fortran_ad.backends.c_files import write_c

        written = write_c(options)
    elif getattr(args, "python", None):
        from fortran_ad.build.python import build_python

        written = build_python(options, args.python)
    else:
        written = differentiate(options)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
