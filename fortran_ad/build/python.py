"""Python bindings of the derivative code: ``fortran-ad FILES --wrt ... --python NAME -o DIR``.

Steps, in a scratch folder so that DIR gets all files or none:

1. generate the derivative sources (the same pipeline as ``fortran-ad``);
2. compile the primal sources, the tape runtime and the derivative sources with gfortran
   (``-fPIC``), in that order;
3. resolve the kinds of the head derivative's arguments with a probe program (``kinds.py``)
   and run f90wrap on the derivative sources, wrapping only the head's derivative routine
   (``--only <head>_b``: helper routines stay internal and cannot trip the wrapper);
4. build the extension ``_NAME`` with f2py-f90wrap, linking every object, so the module
   needs nothing but libgfortran at run time;
5. write the derivative sources, ``NAME.py``, ``_NAME*.so`` and ``NAME.fad.json`` (the
   manifest: which argument is what, read by :func:`fortran_ad.load`) into DIR.

``import NAME; NAME.<module>_b.<head>_b(...)`` then calls the adjoint with NumPy arrays
(Fortran order; scalars the routine updates must be 0-d arrays: f2py copies Python floats).
Compiler errors are FortranADErrors carrying gfortran's message.
"""

from __future__ import annotations

import keyword
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from fortran_ad.build.kinds import NUMPY_DTYPES, KindText, kind_map, split_kind
from fortran_ad.build.manifest import MANIFEST_SUFFIX, Arg, Manifest
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.load import load
from fortran_ad.options import Options
from fortran_ad.outputs import write_outputs
from fortran_ad.runtime.cache import cached_object

COMPILER = "gfortran"
#: Flags of every object in the extension (the tests build their Fortran reference with them).
FFLAGS: tuple[str, ...] = ("-O2", "-fPIC")
TIMEOUT = 900.0


class _ToolError(Exception):
    def __init__(self, what: str, output: str) -> None:
        super().__init__(what)
        self.what = what
        self.output = output


def _run(cmd: Sequence[str], cwd: Path, what: str) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )
    if proc.returncode != 0:
        raise _ToolError(what, (proc.stdout + proc.stderr).strip())
    return proc.stdout


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _first_location(output: str) -> str | None:
    """``file:line:col`` of gfortran's first diagnostic, to locate the error like it does."""
    m = re.search(r"^(\S+?):(\d+):(\d+):\s*$", output, re.MULTILINE)
    return f"{m.group(1)}:{m.group(2)}:{m.group(3)}" if m else None


def check_name(name: str) -> str:
    """The module name must be a Python identifier that f2py can prefix with ``_``."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise FortranADError(
            None,
            f"--python '{name}' is not a valid Python module name",
            "use letters, digits and underscores, starting with a letter",
        )
    return name


def build_python(
    options: Options, name: str, fflags: Sequence[str] = FFLAGS, keep: Path | None = None
) -> list[Path]:
    """Generate the derivatives of ``options`` and build the Python module ``name`` in
    ``options.out``; returns the written paths. ``keep``: build in this folder and leave it
    (objects, wrappers, logs) instead of a temporary one."""
    from fortran_ad.ad.core.generate import generate, head_signature
    from fortran_ad.checks.inputs import find_head

    check_name(name)
    if options.mode not in ("reverse", "forward"):
        raise FortranADError(
            None, f"--python supports --mode reverse and forward, not {options.mode}"
        )
    fc = shutil.which(COMPILER)
    if fc is None:
        raise FortranADError(None, f"'{COMPILER}' not found on PATH", "--python compiles the code")
    program = load(options.sources, options.fixed_form, options.preprocessing)
    module, routine = find_head(program, options.head, options.wrt)
    _refuse_objects(routine)
    of = options.of if options.of is not None else _default_of(routine)
    opts = replace(options, head=routine.name, of=of)
    files = generate(program, opts)
    signature = head_signature(program, opts)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return _build(opts, name, fflags, files, signature, module, routine, fc, keep.resolve())
    with tempfile.TemporaryDirectory(prefix="fortran-ad-python-") as tmp:
        return _build(opts, name, fflags, files, signature, module, routine, fc, Path(tmp))


def _refuse_objects(routine) -> None:
    """f90wrap passes arrays and scalars: a derived-type dummy of the head is refused."""
    from fortran_ad.ir import nodes as ir
    from fortran_ad.ir.symbols import type_name

    for a in routine.args:
        sym = routine.symbol(a)
        if type_name(sym) is not None:
            raise FortranADError(
                sym.loc if sym.loc != ir.NOWHERE else routine.loc,
                f"--python cannot pass dummy '{a}' of type({type_name(sym)}): the bindings "
                "take arrays and scalars",
                "wrap the head in a routine taking the components as arrays",
            )


def _build(opts, name, fflags, files, signature, module, routine, fc, build: Path) -> list[Path]:
    from fortran_ad.ad.core import naming
    from fortran_ad.build.integration import RUNTIME_NAME
    from fortran_ad.checks.run import _form_flags

    gen = build / "gen"
    gen.mkdir(exist_ok=True)
    (build / "mod").mkdir(exist_ok=True)
    for fname, text in files.items():
        (gen / fname).write_text(text)
    runtime = [gen / RUNTIME_NAME] if RUNTIME_NAME in files else []
    derivative = [gen / f for f in files if f != RUNTIME_NAME]
    form = _form_flags(opts.fixed_form, opts.preprocessing)  # -ffixed-form, -D, -I as checks do
    objects = []
    for i, src in enumerate([*(Path(s).resolve() for s in opts.sources), *runtime, *derivative]):
        primal = i < len(opts.sources)
        obj = build / f"{i:03d}_{src.stem}.o"
        cmd = [fc, *fflags, *(form if primal else ()), "-J", build / "mod", "-I", build / "mod"]
        try:
            step = [*cmd, "-c", src, "-o", obj]
            if src in runtime:
                compile_ = partial(_run, step, build, "gfortran failed")
                cached_object(fc, fflags, src, obj, build / "mod", compile_)
            else:
                _run(step, build, f"gfortran failed on {src.name}")
        except _ToolError as exc:
            what = "the primal source" if primal else "the generated file"
            raise FortranADError(
                _first_location(exc.output) or str(src),
                f"gfortran cannot compile {what} {src.name}",
                exc.output,
            ) from None
        objects.append(obj)

    suffix = naming.UNIT_SUFFIX[opts.mode]
    dmodule = naming.module_name(module.name, opts.mode) if module is not None else None
    droutine = naming.routine_name(routine.name, opts.mode)
    proc = _wrapped_procedure(derivative, dmodule, droutine)
    uses = _scope_uses(module, routine)
    kinds = [k for a in proc.arguments if (k := split_kind(a.type)) is not None]
    kmap = kind_map(fc, build, uses, kinds, [f for f in fflags if f != "-fPIC"])
    (build / "kind_map").write_text(repr(kmap) + "\n")
    wrap = build / "wrap"
    wrap.mkdir(exist_ok=True)
    try:
        _run(
            [sys.executable, "-m", "f90wrap", "-m", name, "-k", build / "kind_map"]
            + ["--only", droutine, "--", *derivative],
            wrap,
            "f90wrap failed",
        )
        wrappers = sorted(wrap.glob("f90wrap_*.f90"))
        _run(
            [sys.executable, "-m", "f90wrap.scripts.f2py_f90wrap", "--fcompiler=gnu95"]
            + [f"--f90flags={' '.join(fflags)}", f"-I{build / 'mod'}", "--build-dir", "f2py"]
            + ["-c", "-m", f"_{name}", *wrappers, *objects],
            wrap,
            "f2py-f90wrap failed",
        )
    except _ToolError as exc:
        raise FortranADError(
            None, f"building the Python module '{name}': {exc.what}", _tail(exc.output)
        ) from None
    manifest = _manifest(opts, name, dmodule, droutine, proc, signature, kmap, suffix)
    (wrap / f"{name}{MANIFEST_SUFFIX}").write_text(manifest.to_json())
    written = write_outputs(files, opts.out)
    artifacts = [wrap / f"{name}.py", *wrap.glob(f"_{name}.*.so"), *wrap.glob(f"_{name}.so")]
    artifacts.append(wrap / f"{name}{MANIFEST_SUFFIX}")
    for src in artifacts:
        shutil.copyfile(src, Path(opts.out) / src.name)
        written.append(Path(opts.out) / src.name)
    return written


def _default_of(routine) -> tuple[str, ...]:
    """The head's real intent(out)/inout dummies: what ``--of`` defaults to."""
    from fortran_ad.ir.symbols import implicit_rules, implicit_type

    rules = implicit_rules(routine.spec, None)
    out = []
    for a in routine.args:
        sym = routine.symbol(a)
        t = (sym.type if sym else None) or implicit_type(a, rules)
        if sym is not None and t is not None and t.is_real and sym.intent in ("out", "inout"):
            out.append(a)
    return tuple(out)


def _wrapped_procedure(derivative: Sequence[Path], dmodule: str | None, droutine: str):
    """The f90wrap parse of the head's derivative routine (what the wrapper will expose)."""
    from f90wrap import parser

    tree = parser.read_files([str(p) for p in derivative])
    procs = list(tree.procedures)
    for m in tree.modules:
        if dmodule is None or m.name.lower() == dmodule:
            procs += list(m.procedures)
    for p in procs:
        if p.name.lower() == droutine:
            return p
    raise FortranADError(None, f"f90wrap does not see '{droutine}' in the generated code")


def _scope_uses(module, routine) -> list[str]:
    """USE lines under which the head's kinds resolve (as in the check harness)."""
    from fortran_ad.checks.spec import _use_text
    from fortran_ad.ir import nodes as ir

    uses = [] if module is None else [_use_text(u) for u in module.spec if isinstance(u, ir.Use)]
    uses += [_use_text(u) for u in routine.spec if isinstance(u, ir.Use)]
    if module is not None:
        uses.append(f"use {module.name}")
    return list(dict.fromkeys(uses))


def _dims(attributes: Sequence[str]) -> tuple[str, ...]:
    for a in attributes:
        m = re.fullmatch(r"\s*dimension\s*\((.*)\)\s*", a, re.IGNORECASE)
        if m:
            parts, depth, cur = [], 0, ""
            for ch in m.group(1):
                depth += ch == "("
                depth -= ch == ")"
                if ch == "," and depth == 0:
                    parts.append(cur.strip())
                    cur = ""
                else:
                    cur += ch
            return (*parts, cur.strip())
    return ()


def _intent(attributes: Sequence[str]) -> str | None:
    for a in attributes:
        m = re.fullmatch(r"\s*intent\s*\(\s*(in|out|inout|in\s+out)\s*\)\s*", a, re.IGNORECASE)
        if m:
            return m.group(1).replace(" ", "").lower()
    return None


def _manifest(opts, name, dmodule, droutine, proc, signature, kmap, suffix) -> Manifest:
    from f90wrap.fortran import f2c_type

    wrapped = list(proc.arguments)
    by_name = {a.name.lower(): a for a in wrapped}
    roles: dict[str, str | None] = {}
    position = 0
    for dummy, active in signature:
        roles[wrapped[position].name.lower()] = None
        position += 1
        if active:
            roles[wrapped[position].name.lower()] = dummy
            position += 1
    args = []
    for aname, primal in roles.items():
        a = by_name[aname]
        ctype = f2c_type(a.type.strip().lower(), kmap)
        dims = _dims(a.attributes)
        intent = _intent(a.attributes)
        args.append(
            Arg(
                name=aname,
                pyname=f"{aname}_" if keyword.iskeyword(aname) else aname,
                dtype=NUMPY_DTYPES.get(ctype, ctype),
                dims=dims,
                intent=intent,
                derivative_of=primal,
                wrt=primal is None and aname in opts.wrt,
                of=primal is None and aname in opts.of,
                returned=intent == "out" and not dims,
            )
        )
    return Manifest(
        name=name,
        mode=opts.mode,
        head=opts.head,
        routine=droutine,
        module=dmodule,
        wrt=tuple(opts.wrt),
        of=tuple(opts.of),
        args=tuple(args),
    )


__all__ = ["FFLAGS", "MANIFEST_SUFFIX", "Arg", "KindText", "Manifest", "build_python"]
