"""Differential check of the adjoint's loop rewrites: all rewrites against none.

Every optional rewrite (fortran_ad/ad/rewrites/__init__.py) promises the plain adjoint's results up
to the rounding of reordered sums. For a program this module generates the reverse-mode head with
several rewrite selections, renames each derivative module apart (``<module>_b`` ->
``<module>_b_v<k>``; module procedures are named by their module, so nothing else clashes), and
builds them with one driver into one executable, in one gfortran invocation. The driver calls every
variant on the same inputs and seeds and prints every real argument afterwards; each must match the
plain variant's to ``RTOL`` relative per element (the variable's largest magnitude times ``RTOL`` as
the floor near zero).

A disagreement is bisected over the switches in one more build: the variants "all but r" for
each rewrite r (r is guilty when leaving it out restores agreement) and "only r" (r alone
disagrees). Heads must have integer scalars fixed by ``sizes`` and real scalars or arrays whose
bounds are those integers or literals (the fuzz programs' heads).
"""

from __future__ import annotations

import random
import re
import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from fortran_ad.ad import rewrites as rw
from fortran_ad.frontend.load import load
from fortran_ad.ir import nodes as ir
from fortran_ad.options import Options

RTOL = 1e-12
FLAGS = ("-O0", "-fcheck=all")  # fast to build; both variants see the same compiler
PLAIN = "none"  # the reference: no loop rewrite


@dataclass
class Differential:
    """Outcome: ``status`` "agree" | "differ" | "error"; ``guilty`` the rewrites whose removal
    restores agreement (else those that disagree alone); ``where`` the differing arguments."""

    status: str
    detail: str = ""
    guilty: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    fired: Counter[str] = field(default_factory=Counter)


def _generate(program: list[ir.SourceFile], opts: Options, spec: str) -> dict[str, str]:
    from fortran_ad.ad.core.generate import generate

    return generate(program, replace(opts, mode="reverse", rewrites=spec, loop_rewrites=True))


def _rename(text: str, modules: Sequence[str], k: int) -> str:
    for m in modules:
        text = re.sub(rf"\b{m}\b", f"{m}_v{k}", text, flags=re.I)
    return text


def _dims(sym: ir.Symbol, sizes: Mapping[str, int]) -> list[int]:
    out = []
    for d in sym.dims:
        if d.kind != "explicit" or d.hi is None:
            raise ValueError(f"differential check: unsupported bounds of '{sym.name}'")
        lo = 1 if d.lo is None else _value(d.lo, sizes)
        out.append(_value(d.hi, sizes) - lo + 1)
    return out


def _value(e: ir.Expr, sizes: Mapping[str, int]) -> int:
    """An integer bound of literals and fixed sizes (+ - * / and parentheses)."""
    from fortran_ad.ir.printer import expr

    text = expr(e).lower().replace("/", "//")
    if not re.fullmatch(r"[\w\s+\-*/()]+", text):
        raise ValueError(f"differential check: unsupported bound '{expr(e)}'")
    return int(eval(text, {"__builtins__": {}}, dict(sizes)))  # noqa: S307 - checked above


def _driver(
    routine: ir.Routine, header: list[str], sizes: Mapping[str, int], nvar: int, module: str
) -> str:
    """A program calling ``<head>_b`` of every variant on the same values, printing every real
    argument after each call: ``V <variant> <arg> <values>``."""
    syms = {s.name: s for s in routine.symbols}
    rng = random.Random(20260101)
    decl, init, calls = [], [], []
    args = []
    prev = None
    for a in header:
        primal = a if a in syms else prev
        prev = a if a in syms else prev
        sym = syms[primal]
        if sym.type is not None and sym.type.base == "integer":
            args.append(str(int(sizes[a])))
            continue
        dims = _dims(sym, sizes)
        size = 1
        for d in dims:
            size *= d
        shape = f"({', '.join(map(str, dims))})" if dims else ""
        lo, hi = (0.5, 1.5) if a == primal else (-1.0, 1.0)
        vals = [f"{rng.uniform(lo, hi):.17f}_dp" for _ in range(size)]
        decl.append(f"real(dp) :: i_{a}{shape}, {a}{shape}")
        if dims:
            init.append(f"i_{a} = reshape([{', '.join(vals)}], [{', '.join(map(str, dims))}])")
        else:
            init.append(f"i_{a} = {vals[0]}")
        args.append(a)
    reals = [a for a in args if not a[0].isdigit()]
    for k in range(nvar):
        calls += [f"{a} = i_{a}" for a in reals]
        calls.append(f"call v{k}({', '.join(args)})")
        fmt = "'(a, i0, 1x, a, *(1x, es25.17e3))'"
        calls += [f"write(*, {fmt}) 'V ', {k}, '{a}', {a}" for a in reals]
    uses = [f"use {module}_v{k}, only: v{k} => {routine.name}_b" for k in range(nvar)]
    body = [*uses, "implicit none", "integer, parameter :: dp = kind(1.0d0)", *decl, *init, *calls]
    lines = []
    for line in body:
        while len(line) > 120:
            cut = line.rfind(", ", 0, 118) + 1
            lines.append(line[:cut] + " &")
            line = "    & " + line[cut:].lstrip()
        lines.append(line)
    return "program fad_diff\n" + "\n".join("  " + x for x in lines) + "\nend program fad_diff\n"


def _parse(out: str) -> dict[int, dict[str, list[float]]]:
    got: dict[int, dict[str, list[float]]] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "V":
            got.setdefault(int(parts[1]), {})[parts[2]] = [float(v) for v in parts[3:]]
    return got


def _differs(ref: dict[str, list[float]], got: dict[str, list[float]]) -> list[str]:
    bad = []
    for name, a in ref.items():
        b = got.get(name)
        if b is None or len(a) != len(b):
            bad.append(name)
            continue
        scale = max([abs(v) for v in a] + [1e-300])
        pairs = zip(a, b, strict=True)
        if any(abs(u - v) > RTOL * max(abs(u), abs(v), 1e-3 * scale) for u, v in pairs):
            bad.append(name)
    return bad


class _Build:
    def __init__(self, source: Path, head: str, opts: Options, folder: Path) -> None:
        from fortran_ad.checks.inputs import find_head

        self.source, self.folder, self.opts = source, folder, opts
        self.program = load([str(source)])
        module, self.routine = find_head(self.program, head, tuple(opts.wrt))
        self.module = f"{module.name}_b" if module is not None else ""
        self.fired: Counter[str] = Counter()  # what the "all" variant's generation rewrote

    def run(self, specs: Sequence[str]) -> tuple[dict[int, dict[str, list[float]]], str]:
        """Values per variant (``{}`` and the reason when generation or the build failed)."""
        from fortran_ad.checks.run import _OPENMP, _compiler, openmp_flags

        texts: dict[str, str] = {}
        for k, spec in enumerate(specs):
            rw.FIRED.clear()
            try:
                files = _generate(self.program, self.opts, spec)
            except Exception as exc:  # noqa: BLE001 - a variant that fails is a finding
                return {}, f"generation with rewrites '{spec}' failed: {exc}"
            if spec == "all":
                self.fired = Counter(rw.FIRED)
            for name, text in files.items():
                if name == "fad_tape.f90" or name.endswith(".h"):
                    texts.setdefault(name, text)
                else:
                    texts[f"v{k}_{name}"] = _rename(text, [self.module], k)
        header = _header(texts, self.routine.name)
        if header is None:
            return {}, "no adjoint head in the generated code"
        sizes = {k.lower(): v for k, v in self.opts.sizes.items()}
        drv = _driver(self.routine, header, sizes, len(specs), self.module)
        self.folder.mkdir(parents=True, exist_ok=True)
        fc = _compiler()
        # -fopenmp when a text has directives: the parallel adjoint loops run on threads
        omp = openmp_flags([self.source]) or any(_OPENMP.search(t) for t in texts.values())
        flags = (*FLAGS, "-fopenmp") if omp else FLAGS
        tape = _tape(fc, texts.pop("fad_tape.f90"), flags)
        paths = [tape / "fad_tape.o", self.source.resolve()]
        for name, text in texts.items():
            if not name.endswith(".h"):
                (self.folder / name).write_text(text)
                paths.append(self.folder / name)
        (self.folder / "fad_diff.f90").write_text(drv)
        paths.append(self.folder / "fad_diff.f90")
        cmd = [fc, *flags, "-I", str(tape), "-o", "fad_diff", *map(str, paths)]
        proc = subprocess.run(cmd, cwd=self.folder, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return {}, "build failed:\n" + (proc.stdout + proc.stderr)[-3000:]
        run = subprocess.run(
            ["./fad_diff"], cwd=self.folder, capture_output=True, text=True, timeout=600
        )
        if run.returncode != 0:
            return {}, f"run failed (exit {run.returncode}):\n{run.stderr[-3000:]}"
        return _parse(run.stdout), ""


def _tape(fc: str, text: str, flags: Sequence[str] = FLAGS) -> Path:
    """A folder with the tape runtime compiled (object and modules), one per text and flags."""
    import contextlib
    import hashlib
    import os
    import tempfile

    key = hashlib.sha1("\n".join([text, *flags]).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"fortran-ad-diff-tape-{key}"
    if (folder / "fad_tape.o").exists():
        return folder
    work = Path(tempfile.mkdtemp(prefix="fortran-ad-diff-tape-"))
    (work / "fad_tape.f90").write_text(text)
    cmd = [fc, *flags, "-c", "fad_tape.f90", "-o", "fad_tape.o"]
    subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=600, check=True)
    with contextlib.suppress(OSError):  # another process may have been first
        os.rename(work, folder)
    return folder


def _header(texts: Mapping[str, str], head: str) -> list[str] | None:
    pat = re.compile(rf"^\s*subroutine\s+{head}_b\s*\(([^)]*)\)", re.I | re.M)
    for text in texts.values():
        m = pat.search(text.replace("&\n", " ").replace("&", " "))
        if m:
            return [a.strip().lower() for a in m.group(1).split(",") if a.strip()]
    return None


def differential(
    source: Path, head: str, wrt: Sequence[str], of: Sequence[str] | None,
    sizes: Mapping[str, int], folder: Path,
) -> Differential:  # fmt: skip
    """Check the adjoint of ``head`` with all rewrites against the plain one; bisect."""
    opts = Options(
        sources=(str(source),), wrt=tuple(wrt), of=tuple(of) if of is not None else None,
        head=head, sizes=dict(sizes),
    )  # fmt: skip
    build = _Build(source, head, opts, folder)
    got, why = build.run([PLAIN, "all"])
    fired = build.fired
    if why:
        return Differential("error", why, fired=fired)
    where = _differs(got[0], got[1])
    if not where:
        return Differential("agree", fired=fired)
    minus = [f"all,-{n}" for n in rw.NAMES]
    got, why = build.run([PLAIN, *minus])
    if why:
        return Differential("differ", f"bisection failed: {why}", (), tuple(where), fired)
    guilty = [n for i, n in enumerate(rw.NAMES) if not _differs(got[0], got[1 + i])]
    if not guilty:  # no single removal helps: which rewrites disagree alone
        got, why = build.run([PLAIN, *(f"none,+{n}" for n in rw.NAMES)])
        if not why:
            guilty = [n for i, n in enumerate(rw.NAMES) if _differs(got[0], got[1 + i])]
    detail = (
        f"adjoint with all rewrites differs from the plain one in {', '.join(where)}; "
        f"guilty: {', '.join(guilty) or 'no single rewrite (an interaction)'}"
    )
    return Differential("differ", detail, tuple(guilty), tuple(where), fired)
