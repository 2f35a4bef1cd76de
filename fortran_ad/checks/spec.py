"""What the check harness needs to know about the head routine's dummies.

``build_spec`` turns the head ``ir.Routine`` plus the user's choices (wrt/of, fixed values,
ranges) into a frozen :class:`HarnessSpec`. All validation of user input happens here, so the
Fortran emitter (``harness.py``) can assume a consistent spec and every mistake the user can fix
surfaces as a located ``FortranADError`` before anything is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.printer import dims_text, expr, type_text
from fortran_ad.ir.symbols import implicit_rules, implicit_type, type_name
from fortran_ad.ir.walk import names_in

#: Range for real inputs nobody gave one for: positive, so log/sqrt/** are defined.
DEFAULT_RANGE = (0.5, 1.5)
MODES = ("reverse", "forward", "vector", "vector-reverse")
#: Prefix of the harness variable holding a dummy's derivative, per mode (``fad_b_x``…).
DERIV_PREFIX = {"reverse": "b", "forward": "d", "vector": "dv", "vector-reverse": "bv"}
#: Suffix of the derivative routine and module, per mode (``<head>_bv`` in ``<module>_bv``).
UNIT_SUFFIX = {"reverse": "b", "forward": "d", "vector": "dv", "vector-reverse": "bv"}
#: Vector derivatives: ``xd(nbdirs, n)`` (leading, as in Tapenade) or ``xd(n, nbdirs)``.
VECTOR_AXES = ("leading", "trailing")
FixedValue = int | float | bool | tuple[int, ...]  # a tuple: bounds of a component


@dataclass(frozen=True)
class Dummy:
    """One dummy argument of the head, as the harness declares, sets and perturbs it."""

    name: str  # a component path ``state%h`` for a real leaf of a derived-type dummy
    category: str  # "real" | "integer" | "logical" | "derived" (then its leaves are real ones)
    type: str  # declaration type text, e.g. "real(dp)"
    dims: str | None  # allocation bounds text "(nz, 0:n + 1)", None for scalars
    rank: int
    intent: str | None
    fixed: FixedValue | None  # value set before every run, or None: drawn from ``lo..hi``
    lo: float
    hi: float
    wrt: bool
    of: bool
    has_b: bool  # has an adjoint argument in the reverse signature
    has_d: bool  # has a tangent argument in the forward signature
    has_dv: bool = False  # has a tangent argument in the vector (forward) signature
    has_bv: bool = False  # has an adjoint argument in the vector-reverse signature
    obj: str | None = None  # a leaf: the derived-type dummy it is a component of
    alloc: str | None = None  # a leaf allocatable component: its allocation bounds "(24)"

    def has(self, mode: str) -> bool:
        """Whether the dummy has a derivative argument in ``mode``'s head signature."""
        return {
            "reverse": self.has_b,
            "forward": self.has_d,
            "vector": self.has_dv,
            "vector-reverse": self.has_bv,
        }[mode]

    @property
    def relative(self) -> bool:
        """Positive inputs get directions relative to each element (x + h*d stays positive)."""
        return self.fixed is None and self.lo >= 0.0 and self.hi > 0.0

    @property
    def scale(self) -> float:
        """Typical magnitude: directions are scaled by it so perturbations are relative."""
        if self.fixed is not None:
            return abs(float(self.fixed)) or 1.0
        return max(abs(self.lo), abs(self.hi)) or 1.0


@dataclass(frozen=True)
class HarnessSpec:
    """Everything ``harness.harness_source`` needs; built and checked by ``build_spec``."""

    head: str
    module: str | None  # None: an external (F77) routine
    uses: tuple[str, ...]  # USE lines copied from the head and its module (kinds resolve)
    params: tuple[str, ...]  # local parameter declarations the types or bounds need
    dummies: tuple[Dummy, ...]
    modes: tuple[str, ...]
    directions: int = 3
    seed: int = 12345
    tape: bool = False  # the fad_tape runtime is linked: set its limit, check it is balanced
    memory_limit: int = 4 * 1024**3
    vector_axis: str = "leading"  # where vector modes put the nbdirs dimension: VECTOR_AXES
    gradient_only: bool = False  # adjoints may leave primal outputs unfinished (not checked)
    setup: str | None = None  # a subroutine without arguments called before every run
    leaves: tuple[Dummy, ...] = ()  # real components of derived-type dummies (checks/objects.py)
    passive: tuple[tuple[str, FixedValue], ...] = ()  # fixed non-real scalar components

    def reals(self) -> tuple[Dummy, ...]:
        """The dummies and component leaves that carry values: not the objects themselves."""
        return tuple(d for d in (*self.dummies, *self.leaves) if d.category != "derived")

    def draws(self) -> str:
        """How the inputs that have no fixed value are drawn, for messages."""
        drawn = [
            d
            for d in self.reals()
            if d.fixed is None and d.category == "real" and d.intent != "out"
        ]
        return ", ".join(f"{d.name} uniform in [{d.lo:g}, {d.hi:g}]" for d in drawn)

    def wrt(self) -> tuple[Dummy, ...]:
        return tuple(d for d in self.reals() if d.wrt)

    def of(self) -> tuple[Dummy, ...]:
        return tuple(d for d in self.reals() if d.of)


def _use_text(u: ir.Use) -> str:
    if u.only is not None:
        names = ", ".join(a if a == b else f"{a} => {b}" for a, b in u.only)
        return f"use {u.module}, only: {names}" if names else f"use {u.module}, only:"
    if u.renames:
        return f"use {u.module}, " + ", ".join(f"{a} => {b}" for a, b in u.renames)
    return f"use {u.module}"


_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[edq][+-]?\d+)?_?", re.I)
_WORD = re.compile(r"\b[a-z]\w*\b(?!\s*\()", re.I)


def _kind_names(kind: str | None) -> set[str]:
    """Identifiers a kind text refers to (``dp`` in ``kind(1.0_dp)``; not function names)."""
    if not kind:
        return set()
    text = _NUMBER.sub(" ", kind.lstrip("*").lower())
    return {m.group(0) for m in _WORD.finditer(text)} - {"kind"}


def _param_decls(
    names: set[str], routine: ir.Routine, module: ir.Module | None, rules: dict | None
) -> tuple[str, ...]:
    """Declarations of the named constants (local to the head or its module), dependencies
    first. Copying them makes private module constants and routine-local PARAMETERs usable in
    the harness's declarations; constants from other modules come through the copied USE."""
    out: list[str] = []
    done: set[str] = set()

    def visit(name: str, depth: int) -> None:
        if name in done or depth > 50:
            return
        done.add(name)
        sym = routine.symbol(name)
        if sym is None or "parameter" not in sym.attrs:
            sym = module.symbol(name) if module is not None else None
        if sym is None or "parameter" not in sym.attrs or sym.init is None:
            return
        t = sym.type or implicit_type(name, rules)
        if t is None:
            return
        deps = names_in(sym.init) | _kind_names(t.kind)
        for d in sym.dims:
            deps |= names_in(d.lo) if d.lo is not None else set()
            deps |= names_in(d.hi) if d.hi is not None else set()
        for dep in sorted(deps):
            visit(dep, depth + 1)
        dims = dims_text(sym.dims) if sym.dims else ""
        out.append(f"{type_text(t)}, parameter :: {name}{dims} = {expr(sym.init)}")

    for n in sorted(names):
        visit(n, 0)
    return tuple(out)


def _fail(routine: ir.Routine, sym: ir.Symbol | None, message: str, hint: str | None = None):
    loc = sym.loc if sym is not None and sym.loc != ir.NOWHERE else routine.loc
    return FortranADError(loc, message, hint)


def _category(t: ir.TypeSpec) -> str | None:
    if t.is_real:
        return "real"
    if t.base in ("integer", "logical"):
        return t.base
    return None


def _dummy(
    routine: ir.Routine,
    a: str,
    sym: ir.Symbol | None,
    t: ir.TypeSpec | None,
    wrt: Sequence[str],
    of: Sequence[str],
    value: FixedValue | None,
    ranges: Mapping[str, tuple[float, float]],
    has: Mapping[str, Mapping[str, bool]],
) -> Dummy:
    """Check one dummy against the user's choices and describe it."""
    cat = _category(t) if t is not None else None
    if sym is None or t is None or cat is None:
        tt = type_text(t) if t else "unknown"
        raise _fail(
            routine,
            sym,
            f"the check cannot set dummy '{a}' of type '{tt}'",
            "heads with integer, logical and real dummies are supported",
        )
    if any(d.kind != "explicit" for d in sym.dims):
        raise _fail(
            routine,
            sym,
            f"dummy '{a}' has no explicit shape",
            "the check allocates arrays by their declared bounds: x(n, 0:m)",
        )
    if isinstance(value, tuple):
        raise _fail(routine, sym, f"bounds given for '{a}': only allocatable components take them")
    if value is None and cat != "real":
        raise _fail(
            routine,
            sym,
            f"no value for {cat} dummy '{a}'",
            f"give one with --size {a}=... or in the sample's [case.check]",
        )
    if value is not None and cat == "real" and isinstance(value, bool):
        raise _fail(routine, sym, f"value for real dummy '{a}' is a logical")
    if a in wrt and (cat != "real" or sym.intent == "out"):
        why = "is not real" if cat != "real" else "is intent(out)"
        raise _fail(routine, sym, f"--wrt '{a}' {why}", "choose real inputs to differentiate")
    if a in of and (cat != "real" or sym.intent == "in"):
        why = "is not real" if cat != "real" else "is intent(in)"
        raise _fail(routine, sym, f"--of '{a}' {why}", "choose real outputs")
    lo, hi = ranges.get(a, DEFAULT_RANGE)
    if not lo <= hi:
        raise _fail(routine, sym, f"empty range [{lo}, {hi}] for '{a}'")
    return Dummy(
        name=a,
        category=cat,
        type=type_text(t),
        dims=dims_text(sym.dims) if sym.dims else None,
        rank=len(sym.dims),
        intent=sym.intent,
        fixed=value,
        lo=float(lo),
        hi=float(hi),
        wrt=a in wrt,
        of=a in of,
        has_b=has.get("reverse", {}).get(a, False),
        has_d=has.get("forward", {}).get(a, False),
        has_dv=has.get("vector", {}).get(a, False),
        has_bv=has.get("vector-reverse", {}).get(a, False),
    )


def _object(routine, a, sym, types, wrt, of, fixed, ranges, has):
    """A derived-type dummy: the object itself, its real leaves, its fixed passive scalars."""
    from fortran_ad.checks.objects import object_parts, range_of, under

    vector = [m for m in has if m in ("vector", "vector-reverse")]
    if vector:
        raise _fail(
            routine,
            sym,
            f"the {vector[0]} mode check cannot pass the derived-type dummy '{a}'",
            "check the scalar modes: modes=('reverse', 'forward') / --modes reverse,forward",
        )
    if sym.intent == "out" and any(under(w, [a]) or w == a for w in wrt):
        raise _fail(routine, sym, f"--wrt '{a}' is intent(out)", "choose real inputs")
    found, fixed_parts = object_parts(routine, a, sym, types, fixed)
    parts = []
    for path, c, bounds in found:
        lo, hi = range_of(path, ranges, DEFAULT_RANGE)
        if not lo <= hi:
            raise _fail(routine, sym, f"empty range [{lo}, {hi}] for '{path}'")
        on = {m: has[m].get(a, False) for m in has}
        parts.append(
            Dummy(
                name=path,
                category="real",
                type=type_text(c.type),
                dims=None,
                rank=len(c.dims),
                intent=sym.intent,
                fixed=None,
                lo=float(lo),
                hi=float(hi),
                wrt=under(path, wrt),
                of=under(path, of),
                has_b=on.get("reverse", False),
                has_d=on.get("forward", False),
                obj=a,
                alloc=bounds,
            )
        )
    obj = Dummy(
        name=a,
        category="derived",
        type=f"type({type_name(sym)})",  # a CLASS dummy: the harness declares the type
        dims=dims_text(sym.dims) if sym.dims else None,
        rank=len(sym.dims),
        intent=sym.intent,
        fixed=None,
        lo=DEFAULT_RANGE[0],
        hi=DEFAULT_RANGE[1],
        wrt=False,
        of=False,
        has_b=has.get("reverse", {}).get(a, False),
        has_d=has.get("forward", {}).get(a, False),
    )
    return obj, parts, fixed_parts


def build_spec(
    routine: ir.Routine,
    module: ir.Module | None,
    signatures: Mapping[str, Sequence[tuple[str, bool]]],
    wrt: Sequence[str],
    of: Sequence[str] | None,
    fixed: Mapping[str, FixedValue],
    ranges: Mapping[str, tuple[float, float]],
    directions: int = 3,
    seed: int = 12345,
    tape: bool = False,
    memory_limit: int = 4 * 1024**3,
    vector_axis: str = "leading",
    types: Mapping[str, ir.TypeDef] | None = None,
) -> HarnessSpec:
    """Check the user's choices against the head and describe every dummy for the harness.

    ``signatures`` maps each generated mode (one of ``MODES``) to the head signature
    (dummy name, has a derivative argument) the generator reported for it. ``types``: the
    program's derived types, for derived-type dummies and component paths (checks/objects.py).
    """
    modes = tuple(m for m in MODES if m in signatures)
    if not modes:
        raise FortranADError(None, "no derivative mode to check", f"modes: {', '.join(MODES)}")
    if directions < 1:
        raise FortranADError(None, "the number of random directions must be at least 1")
    if vector_axis not in VECTOR_AXES:
        raise FortranADError(None, f"unknown vector axis '{vector_axis}'", " or ".join(VECTOR_AXES))
    wrt = [w.replace(" ", "").lower() for w in wrt]
    has = {m: {n.lower(): b for n, b in signatures[m]} for m in modes}
    rules = implicit_rules(routine.spec, None)
    types = dict(types or {})
    for name in [*wrt, *(of or ()), *fixed, *ranges]:
        if name.split("%", 1)[0] not in routine.args:
            raise _fail(
                routine,
                None,
                f"'{name}' is not a dummy argument of '{routine.name}'",
                f"its dummies are: {', '.join(routine.args)}",
            )
    if not wrt:
        raise _fail(routine, None, "no independent variables (--wrt) given")
    if of is None:
        of = []
        for a in routine.args:
            sym = routine.symbol(a)
            t = (sym.type if sym else None) or implicit_type(a, rules)
            if sym and t and t.is_real and sym.intent in ("out", "inout"):
                of.append(a)
        if not of:
            raise _fail(
                routine,
                None,
                f"'{routine.name}' has no real output to check",
                "name the dependent variables with --of",
            )
    of = [o.replace(" ", "").lower() for o in of]
    from fortran_ad.ad.core.head_names import check_head_name

    for flag, names in (("--wrt", wrt), ("--of", of)):
        for n in names:
            if "%" in n or type_name(routine.symbol(n)) is not None:
                check_head_name(routine, types, n, flag)
    kind_names: set[str] = set()
    dummies = []
    leaves: list[Dummy] = []
    passive: list[tuple[str, FixedValue]] = []
    for a in routine.args:
        sym = routine.symbol(a)
        if type_name(sym) is not None:
            obj, parts, fixed_parts = _object(routine, a, sym, types, wrt, of, fixed, ranges, has)
            dummies.append(obj)
            leaves += parts
            passive += fixed_parts
            for c in parts:
                kind_names |= _kind_names(c.type.split("(", 1)[-1].rstrip(")"))
            continue
        t = (sym.type if sym else None) or implicit_type(a, rules)
        if sym is not None and t is not None:
            kind_names |= _kind_names(t.kind)
            for d in sym.dims:
                for b in (d.lo, d.hi):
                    kind_names |= names_in(b) if b is not None else set()
        dummies.append(_dummy(routine, a, sym, t, wrt, of, fixed.get(a), ranges, has))
    uses = [] if module is None else [_use_text(u) for u in module.spec if isinstance(u, ir.Use)]
    uses += [_use_text(u) for u in routine.spec if isinstance(u, ir.Use)]
    arg_names = set(routine.args)
    params = _param_decls(kind_names - arg_names, routine, module, rules)
    return HarnessSpec(
        head=routine.name,
        module=module.name if module is not None else None,
        uses=tuple(dict.fromkeys(uses)),
        params=params,
        dummies=tuple(dummies),
        modes=modes,
        directions=directions,
        seed=seed,
        tape=tape,
        memory_limit=memory_limit,
        vector_axis=vector_axis,
        leaves=tuple(leaves),
        passive=tuple(passive),
    )
