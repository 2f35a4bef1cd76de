"""Rendering a generated program, deterministic and hypothesis-driven generation, batches."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fortran_ad.checks.fuzzgen.base import (
    HEAD,
    NMAX,
    NMIN,
    X_RANGE,
    Chooser,
    DrawChooser,
    RandomChooser,
    Routine,
    Var,
)
from fortran_ad.checks.fuzzgen.stmts import Gen
from fortran_ad.checks.fuzzgen.storage import specs


# -- rendering -----------------------------------------------------------------------------
def _decls(r: Routine) -> list[str]:
    out = ["integer, intent(in) :: n"]
    if r.int_arg:
        out.append("integer, intent(inout) :: kk")
    for d, intent, rank in r.sig:
        out.append(f"real(dp), intent({intent}) :: {d}{'(n)' if rank else ''}")
    targets = {v.alias for v in r.reals if v.alias}
    for v in r.reals:  # fuzzgen/base.Var.alias: the pointer and its target
        if v.alias:
            out += [f"real(dp), target :: {v.alias}(n)", f"real(dp), pointer :: {v.name}(:)"]
    if r.dtype:  # components st%s, st%v of the derived-type local (or dummy: type-actual)
        kind = "class" if r.bound else "type"  # the passed-object dummy of a binding: CLASS
        out.append(f"{kind}({r.dtype}){', intent(inout)' if r.type_arg else ''} :: st")
    locals_ = [
        v
        for v in r.reals
        if v.name not in r.args
        and not v.glob
        and not v.alias
        and v.name not in targets
        and "%" not in v.name
    ]
    scal = [v.name for v in locals_ if v.rank == 0]
    arr = list(
        dict.fromkeys(
            f"{v.name}(n, 2)" if v.col else f"{v.name}(n)" for v in locals_ if v.rank == 1
        )
    )
    if _uses(r.lines, "q"):  # the kernels' private scalar (kernels.rewrite_kernel)
        scal.append("q")
    arr += [f"{m}(n, n)" for m in ("g2", "h2") if _uses(r.lines, m)]  # fuzzgen/nests.py
    if scal or arr:
        out.append(f"real(dp) :: {', '.join(scal + arr)}")
    ints = sorted(
        {v for line in r.lines for v in re.findall(r"\bdo (?:concurrent \()?(\w+) =", line)}
    )
    ints += [v for v in ("m", "kk") if _uses(r.lines, v) and v not in r.args]
    ints += ["ix(n)"] if _uses(r.lines, "ix") else []  # fuzzgen/indirect.py
    if ints:
        out.append(f"integer :: {', '.join(ints)}")
    return out


def _uses(lines: list[str], var: str) -> bool:
    pat = re.compile(rf"\b{var}\b")
    return any(pat.search(line) for line in lines)


def _wrap(line: str, width: int = 100) -> list[str]:
    """Free-form continuation lines (gfortran's limit is 132 columns), split at spaces."""
    indent = line[: len(line) - len(line.lstrip())] + "    "
    out: list[str] = []
    while len(line) > width:
        cut = line.rfind(" ", len(indent) + 10, width)
        if cut < 0:
            cut = line.find(" ", width)
            if cut < 0:
                break
        out.append(line[:cut] + " &")
        line = indent + "& " + line[cut + 1 :]
    return [*out, line]


def _render(r: Routine) -> list[str]:
    args = ", ".join(r.args)
    if r.kind == "func":
        res = f" result({r.result})" if r.result != r.name else ""
        head = f"function {r.name}({args}){res}"
        decls = [*_decls(r), f"real(dp) :: {r.result}{'(n)' if r.result_rank else ''}"]
        end = f"end function {r.name}"
    else:
        head = f"subroutine {r.name}({args})"
        decls = _decls(r)
        end = f"end subroutine {r.name}"
    decls += specs(lambda name: _uses(r.lines, name))
    body = [w for line in r.lines for w in _wrap("    " + line)]
    return ["  " + head, *("    " + d for d in decls), *body, "  " + end]


@dataclass(frozen=True)
class FuzzProgram:
    """One generated program and the check to run on it (names end in ``suffix``)."""

    seed: int
    routines: str  # the module procedures, as text
    n: int
    suffix: str = ""
    private: tuple[str, ...] = ()
    wrt: tuple[str, ...] = ("x", "y")
    of: tuple[str, ...] = ("y", "cost")
    state: tuple[str, ...] = ()  # module variables (real scalars)
    generics: tuple[tuple[str, str], ...] = ()  # (generic name, its specific)
    types: tuple[str, ...] = ()  # derived types (feature derived-type): components s, v(:)
    bindings: tuple[tuple[str, str, str], ...] = ()  # (type, binding, specific): type-bound

    @property
    def source(self) -> str:
        """The whole module."""
        lines = [
            f"! fortran-ad fuzz program, seed {self.seed}: fortran-ad check THIS_FILE",
            f"!   --head {self.head} --wrt {','.join(self.wrt)} --of {','.join(self.of)} "
            f"--size n={self.n}",
            f"module {self.module}",
            *module_spec(self.private, self.state, self.generics, self.types, self.bindings),
            self.routines,
            f"end module {self.module}",
        ]
        return "\n".join(lines) + "\n"

    @property
    def head(self) -> str:
        return HEAD + self.suffix

    @property
    def module(self) -> str:
        return "fuzz_mod" + self.suffix

    @property
    def sizes(self) -> dict[str, int]:
        return {"n": self.n}

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        return {"x": X_RANGE, "y": X_RANGE}

    @property
    def stem(self) -> str:
        return f"fuzz_{self.seed}"

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.stem}.f90"
        path.write_text(self.source)
        return path

    def cli_args(self, path: str, modes: Sequence[str] = ("reverse", "forward")) -> list[str]:
        """Arguments of ``python -m fortran_ad check`` for this program (the default input
        range of the check, [0.5, 1.5], is X_RANGE)."""
        return [
            "check",
            path,
            "--head",
            self.head,
            "--wrt",
            ",".join(self.wrt),
            "--of",
            ",".join(self.of),
            "--size",
            f"n={self.n}",
            "--modes",
            ",".join(modes),
        ]


def module_spec(
    private: Sequence[str],
    state: Sequence[str] = (),
    generics: Sequence[tuple[str, str]] = (),
    types: Sequence[str] = (),
    bindings: Sequence[tuple[str, str, str]] = (),
) -> list[str]:
    out = ["  implicit none", "  integer, parameter :: dp = kind(1.0d0)"]
    for name in types:
        out += [f"  type :: {name}", "    real(dp) :: s", "    real(dp), allocatable :: v(:)"]
        procs = [f"    procedure, pass(st) :: {b} => {p}" for t, b, p in bindings if t == name]
        out += ["  contains", *procs] if procs else []
        out += [f"  end type {name}"]
    out += _wrap(f"  real(dp) :: {', '.join(state)}") if state else []
    out += _wrap(f"  private :: {', '.join(private)}") if private else []
    for name, specific in generics:
        out += [f"  interface {name}", f"    module procedure {specific}", "  end interface"]
    return [*out, "contains"]


def build_program(
    ch: Chooser,
    seed: int = 0,
    suffix: str = "",
    exclude: frozenset[str] = frozenset(),
    include: frozenset[str] = frozenset(),
) -> FuzzProgram:
    """A program drawn from ``ch`` (see the module docstring); routine and module names end
    in ``suffix`` so that several programs can be linked together. ``include``: features of
    ``OPT_IN`` to use too."""
    g = Gen(ch, exclude, include)
    g.state = f"gs{suffix}" if "module-state" not in g.exclude else ""
    helpers: list[Routine] = []
    # the last helper takes the head's derived-type local whole: no other helper calls it
    typed = not {"type-actual", "derived-type"} & g.exclude and ch.chance(0.5)
    count = ch.integer(0, 2)
    count = max(count, 1) if typed else count
    for k in range(count):
        callees = helpers[:] if helpers and ch.chance(0.5) else []
        dt = f"fz_st{suffix}" if typed and k == count - 1 else ""
        h = g.helper(f"fuzz_h{k + 1}{suffix}", callees, dt)
        if dt and "type-bound" not in g.exclude and ch.chance(0.5):
            h.bound = "hb"  # a binding of the type, st its passed-object dummy (CLASS)
        if "generic" not in g.exclude and ch.chance(0.5):
            h.generic = f"fuzz_g{k + 1}{suffix}"
        g.body(h, ch.integer(2, 6))
        helpers.append(h)
    reals = [Var("x", 1, *X_RANGE, writable=False), Var("y", 1), Var("cost", 0)]
    reals += [Var(f"t{k}", 0) for k in range(1, ch.integer(1, 3) + 1)]
    reals += [Var(f"w{k}", 1) for k in range(1, ch.integer(0, 2) + 1)]
    if ch.chance(0.3):
        reals += [Var("z", 1, col=1), Var("z", 1, col=2)]
    if g.state:
        reals.append(Var(g.state, 0, glob=True))
    dtype = ""
    if typed or ("derived-type" not in g.exclude and ch.chance(0.4)):
        dtype = f"fz_st{suffix}"
        reals += [Var("st%v", 1), Var("st%s", 0)]
    ws = [v.name for v in reals if v.name.startswith("w")]
    if ws and "pointer-alias" not in g.exclude and ch.chance(0.4):
        reals.append(Var("pw", 1, alias=ch.choice(ws)))
    sig = [("x", "in", 1), ("y", "inout", 1), ("cost", "out", 0)]
    head = Routine(
        HEAD + suffix,
        "head",
        ["n", "x", "y", "cost"],
        reals,
        (NMIN, NMAX),
        "cost",
        callees=helpers,
        sig=sig,
        dtype=dtype,
    )
    g.body(head, ch.integer(3, 14))
    routines: list[str] = []
    for r in [*helpers, head]:
        routines += ["", *_render(r)]
    n = ch.integer(NMIN, min(NMAX, 9))
    private = tuple(h.name for h in helpers if h.private)
    wrt = ch.choice([("x", "y"), ("x", "y"), ("x",), ("y",)])
    of = ch.choice([("y", "cost"), ("y", "cost"), ("cost",), ("y",)])
    state = (g.state,) if g.state else ()
    generics = tuple((h.generic, h.name) for h in helpers if h.generic)
    types = (dtype,) if dtype else ()
    bindings = tuple((dtype, h.bound, h.name) for h in helpers if h.bound)
    return FuzzProgram(
        seed, "\n".join(routines), n, suffix, private, wrt, of, state, generics, types, bindings
    )


def generate(
    seed: int,
    exclude: frozenset[str] = frozenset(),
    suffix: str = "",
    include: frozenset[str] = frozenset(),
) -> FuzzProgram:
    """The program for ``seed`` (same seed, same bytes)."""
    return build_program(RandomChooser(seed), seed, suffix, exclude, include)


def programs(exclude: frozenset[str] = frozenset(), include: frozenset[str] = frozenset()) -> Any:
    """Hypothesis strategy of FuzzProgram; shrinking simplifies the program."""
    from hypothesis import strategies as st

    @st.composite
    def _programs(draw: Callable[[Any], Any]) -> FuzzProgram:
        return build_program(DrawChooser(draw), exclude=exclude, include=include)

    return _programs()


# -- batches: several programs behind one head, checked with one build ------------------------
@dataclass(frozen=True)
class Batch:
    """Programs (names suffixed ``_<seed>``) called one after the other by ``fuzz_batch``."""

    programs: tuple[FuzzProgram, ...]

    def var(self, name: str, p: FuzzProgram) -> str:
        return f"{name}_{p.seed}"

    @property
    def wrt(self) -> list[str]:
        return [self.var(v, p) for p in self.programs for v in p.wrt]

    @property
    def of(self) -> list[str]:
        return [self.var(v, p) for p in self.programs for v in p.of]

    @property
    def sizes(self) -> dict[str, int]:
        return {self.var("n", p): p.n for p in self.programs}

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        return {self.var(v, p): r for p in self.programs for v, r in p.ranges.items()}

    def source(self) -> str:
        """One module: every program's routines, then ``fuzz_batch`` calling each head."""
        ps = self.programs
        args = [self.var(v, p) for p in ps for v in ("n", "x", "y", "cost")]
        private = [h for p in ps for h in p.private]
        state = [v for p in ps for v in p.state]
        generics = [x for p in ps for x in p.generics]
        types = [x for p in ps for x in p.types]
        bindings = [x for p in ps for x in p.bindings]
        lines = ["module fuzz_batch_mod", *module_spec(private, state, generics, types, bindings)]
        lines += [p.routines for p in ps]
        lines += ["", *_wrap(f"  subroutine fuzz_batch({', '.join(args)})")]
        for p in ps:
            n, x, y, c = (self.var(v, p) for v in ("n", "x", "y", "cost"))
            lines += [
                f"    integer, intent(in) :: {n}",
                f"    real(dp), intent(in) :: {x}({n})",
                f"    real(dp), intent(inout) :: {y}({n})",
                f"    real(dp), intent(out) :: {c}",
            ]
        for p in ps:
            lines.append(
                f"    call {p.head}({', '.join(self.var(v, p) for v in ('n', 'x', 'y', 'cost'))})"
            )
        lines += ["  end subroutine fuzz_batch", "end module fuzz_batch_mod"]
        return "\n".join(lines) + "\n"
