"""A static cost model of generated code, evaluated with size hints (``--size n=1000,nt=500``).

Counts are estimates, not promises: floating-point operations per statement times trip counts,
and bytes per tape push times trip counts. What is known about sizes lives in a SizeEnv
(checkpoint/env.py: hints, named constants, straight-line scalars, extents bound at call sites,
loop variables at the midpoint of their range). Extents still unknown take DEFAULT_EXTENT;
counted loops whose trip count stays unknown run DEFAULT_TRIPS times, DO WHILE loops
WHILE_TRIPS times. Tape traffic costs PUSH_COST per push (and its pop: a call into the tape
module, whatever it moves) plus BYTE_COST per byte moved: a scalar push costs about
PUSH_COST, a push of a large array about BYTE_COST per byte (a copy). A tape larger than
the last-level cache (LLC_BYTES, from calibration.json, /sys or lscpu; DEFAULT_LLC without
them) streams the part beyond CACHE_SHARE of the cache at BYTE_COST_MEMORY (``byte_cost``).
A DO loop whose iterations form a dependence chain costs per iteration at least the chain's
latency (checkpoint/latency.py), not only its flops; one gfortran vectorises
(checkpoint/vector.py) costs its flops over VECTOR_SPEEDUP. The backward loop of a DO WHILE
runs its trips (``while_counters``). FLOP_SECONDS (seconds per modelled
flop), PUSH_COST, BYTE_COST and BYTE_COST_MEMORY (flop equivalents) and the latencies come
from calibration.json next to this file, which scripts/calibrate_costs.py measures on a
machine (real gfortran runs; docs/architecture.md, "Time model and calibration"); without it
the defaults below apply.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from fortran_ad.checkpoint import latency, vector
from fortran_ad.checkpoint.env import Number, SizeEnv
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import type_bytes, type_name
from fortran_ad.ir.walk import bodies, subexprs

DEFAULT_EXTENT = 100
DEFAULT_TRIPS = 100
WHILE_TRIPS = 10
CALIBRATION = Path(__file__).with_name("calibration.json")


def _calibrated(name: str, default: float) -> float:
    try:
        return float(json.loads(CALIBRATION.read_text())[name])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def llc_bytes() -> int:
    """Size of the last-level cache: /sys (the highest cache level), else ``lscpu``'s, else
    DEFAULT_LLC."""
    best = (0, 0)
    for d in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            level = int((d / "level").read_text())
            kind = (d / "type").read_text().strip()
            size = _bytes((d / "size").read_text().strip())
        except (OSError, ValueError):
            continue
        if kind != "Instruction" and size:
            best = max(best, (level, size))
    if best[1]:
        return best[1]
    import subprocess

    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for key in ("L3 cache:", "L2 cache:"):
        line = next((x for x in out.splitlines() if x.startswith(key)), None)
        if line is not None:
            try:
                return _bytes(line.split(":", 1)[1].split("(")[0].strip())
            except ValueError:
                continue
    return DEFAULT_LLC


def _bytes(text: str) -> int:
    """``32768K``, ``32 MiB``, ``1M`` as bytes."""
    t = text.replace(" ", "").upper().removesuffix("IB").removesuffix("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
    return int(float(t.rstrip("KMG")) * mult)


DEFAULT_LLC = 32 << 20
CACHE_SHARE = 0.5  # of the last-level cache a tape keeps (the sweeps' own arrays share it)
FLOP_SECONDS = _calibrated("flop_seconds", 1e-9)  # seconds per modelled flop
PUSH_COST = _calibrated("push_cost", 10.0)  # flop equivalents per push and its pop
BYTE_COST = _calibrated("byte_cost", 0.1)  # flop equivalents per byte, tape within the cache
BYTE_COST_MEMORY = _calibrated("byte_cost_memory", BYTE_COST)  # tape far beyond the cache
LLC_BYTES = int(_calibrated("llc_bytes", 0)) or llc_bytes()


def byte_cost(resident: float) -> float:
    """Flop equivalents per byte pushed and popped when the tape holds ``resident`` bytes at
    its peak: the share CACHE_SHARE*LLC_BYTES/resident of the bytes (all of them for smaller
    tapes) is popped from the cache, the rest streams from memory."""
    share = min(1.0, CACHE_SHARE * LLC_BYTES / resident) if resident > 0 else 1.0
    return share * BYTE_COST + (1.0 - share) * BYTE_COST_MEMORY


def traffic_cost(pushes: float, nbytes: float, resident: float = 0.0) -> float:
    """Flop equivalents of ``pushes`` pushes (and their pops) moving ``nbytes`` bytes, with
    ``resident`` bytes on the tape at its peak (0: within the cache)."""
    return PUSH_COST * pushes + byte_cost(resident) * nbytes


Sizes = SizeEnv | dict


def as_env(sizes: Sizes, lookup: Callable[[str], ir.Symbol | None] | None = None) -> SizeEnv:
    if isinstance(sizes, SizeEnv):
        return sizes
    env = SizeEnv({k.lower(): v for k, v in sizes.items()})
    return SizeEnv(env.values, {}, lookup) if lookup is not None else env


def eval_int(e: ir.Expr | None, sizes: Sizes) -> int | None:
    """The (integer) value of an expression under the size hints, or None."""
    v = as_env(sizes).value(e)
    return None if v is None else int(v)


def mean_trips(s: ir.Do, env: SizeEnv) -> float:
    """Trip count of a counted loop (its mean when the bounds vary with an outer loop)."""
    lo, hi = env.value(s.start), env.value(s.stop)
    step = env.value(s.step) if s.step is not None else 1
    if lo is None or hi is None or not step:
        return float(DEFAULT_TRIPS)
    count = (hi - lo + step) / step
    exact = all(isinstance(v, int) for v in (lo, hi, step))  # else a mean over an outer loop
    return max(0.0, math.floor(count) if exact else count)


def trips(s: ir.Do | ir.DoWhile, sizes: Sizes) -> int:
    env = as_env(sizes)
    return int(round(while_trips(s, env) if isinstance(s, ir.DoWhile) else mean_trips(s, env)))


def while_trips(s: ir.DoWhile, env: SizeEnv) -> float:
    """Trip count of ``do while (x < b)`` whose body steps ``x = x + c`` once (also ``<=``,
    ``>``, ``>=`` and ``x - c``), from the values before the loop; WHILE_TRIPS otherwise."""
    cond = s.cond
    if not isinstance(cond, ir.BinOp) or cond.op not in ("<", "<=", ">", ">="):
        return float(WHILE_TRIPS)
    x = cond.left
    step = _step_of(s.body, x.name, env) if isinstance(x, ir.Name) else None
    x0, bound = env.value(x), env.value(cond.right)
    if step is None or x0 is None or bound is None or not step:
        return float(WHILE_TRIPS)
    n = (bound - x0) / step
    if cond.op in ("<=", ">="):
        n = math.floor(n) + 1 if n >= 0 else 0
    else:
        n = math.ceil(n) if n > 0 else 0
    return float(n)


def while_counters(fwd: tuple[ir.Stmt, ...], env: SizeEnv) -> dict[str, float]:
    """The iteration counters of the DO WHILE loops in a forward sweep (``fad_count1 =
    fad_count1 + 1`` in the loop body; the backward sweep's counted loop runs ``fad_count1``
    times) and the trips of their loops."""
    out: dict[str, float] = {}
    for s in fwd:
        if isinstance(s, ir.DoWhile):
            for c in s.body:
                name = (
                    c.target.name
                    if isinstance(c, ir.Assign) and isinstance(c.target, ir.Name)
                    else ""
                )
                if name.startswith("fad_count") and _step_of(s.body, name, env) == 1:
                    out[name] = while_trips(s, env)
        inner = inside(s, env) if isinstance(s, ir.Do) else env
        for b in bodies(s):
            out.update(while_counters(b, inner))
    return out


def _step_of(body: tuple[ir.Stmt, ...], name: str, env: SizeEnv) -> float | None:
    steps = [
        s.value
        for s in body
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.Name) and s.target.name == name
    ]
    if len(steps) != 1 or not isinstance(steps[0], ir.BinOp) or steps[0].op not in "+-":
        return None
    e = steps[0]
    if isinstance(e.left, ir.Name) and e.left.name == name:
        c = env.value(e.right)
        return None if c is None else (c if e.op == "+" else -c)
    if e.op == "+" and isinstance(e.right, ir.Name) and e.right.name == name:
        return env.value(e.left)
    return None


def inside(s: ir.Do, env: SizeEnv) -> SizeEnv:
    """The environment of a loop body: the loop variable at the midpoint of its range."""
    lo, hi = env.value(s.start), env.value(s.stop)
    return env.bind(s.var, (lo + hi) / 2 if lo is not None and hi is not None else None)


def elements(sym: ir.Symbol | None, sizes: Sizes) -> float:
    """Elements of a variable: the product of its extents (DEFAULT_EXTENT when unknown)."""
    if sym is None:
        return 1
    env = as_env(sizes)
    ext = env.extents(sym.name)
    if ext is None:  # a temporary the routine does not declare: its own explicit dims
        ext = tuple(_extent(d, env) for d in sym.dims)
    return max(math.prod(DEFAULT_EXTENT if x is None else x for x in ext), 1)


def _extent(d: ir.Dim, env: SizeEnv) -> Number | None:
    if d.kind != "explicit":
        return None
    lo = env.value(d.lo) if d.lo is not None else 1
    hi = env.value(d.hi)
    return None if lo is None or hi is None else max(0, hi - lo + 1)


def ref_bytes(
    e: ir.Expr,
    lookup: Callable[[str], ir.Symbol | None],
    sizes: Sizes,
    types: dict[str, ir.TypeDef] | None = None,
) -> float:
    """Bytes of a designator as pushed on the tape (a derived-type object with all its
    components when ``types`` defines its type)."""
    env = as_env(sizes, lookup)
    name = e.name if isinstance(e, ir.Name | ir.ArrayRef) else None
    sym = lookup(name) if name else None
    per = element_bytes(sym, types or {}) if sym is not None else 8
    if isinstance(e, ir.Name):
        return per * elements(sym, env)
    if isinstance(e, ir.ArrayRef):
        ext = env.section_extents(e) or ()
        return per * max(math.prod(DEFAULT_EXTENT if x is None else x for x in ext), 1)
    return per


def element_bytes(sym: ir.Symbol, types: dict[str, ir.TypeDef], depth: int = 0) -> float:
    """Bytes of one element of ``sym``: its type's size, or for a derived type the sum over
    its components (and its parent's), each with its own extents (DEFAULT_EXTENT per
    deferred or assumed dimension: allocatable profiles count, not just descriptors)."""
    tname = type_name(sym)
    tdef = types.get(tname) if tname else None
    if tdef is None or depth > 8:  # (a recursive type through pointers: stop)
        return type_bytes(sym.type)
    total = 0.0
    while tdef is not None:
        for c in tdef.components:
            if "pointer" in c.attrs:
                continue  # not the object's own storage (the tape saves no pointer targets)
            n = math.prod(DEFAULT_EXTENT if d.kind != "explicit" else _fixed(d) for d in c.dims)
            total += element_bytes(c, types, depth + 1) * n
        tdef = types.get(tdef.parent) if tdef.parent else None
    return max(total, 1.0)


def _fixed(d: ir.Dim) -> float:
    """An explicit extent with literal bounds, else DEFAULT_EXTENT."""
    env = SizeEnv()
    got = _extent(d, env)
    return DEFAULT_EXTENT if got is None else float(got)


# flop equivalents of operations dearer than an add or a multiply (calibrated: division,
# sqrt, ** and exp; the other libm functions cost what exp costs)
_W = {"/": 4.0, "sqrt": 6.0, "**": 20.0, "exp": 20.0, "mod": 6.0}
_W.update({k: _calibrated(f"weight_{k}", v) for k, v in _W.items()})
WEIGHTS = {**_W, "modulo": _W["mod"]}
WEIGHTS.update({f: _W["exp"] for f in ("log", "log10", "sin", "cos", "tan", "tanh", "atan")})
WEIGHTS.update({f: _W["exp"] for f in "asin acos sinh cosh asinh acosh atanh erf erfc".split()})


def _weight(x: ir.Expr) -> float:
    if isinstance(x, ir.BinOp):
        if x.op == "**" and isinstance(x.right, ir.Literal) and x.right.type == "integer":
            return 1.0  # small integer powers are multiplications
        return WEIGHTS.get(x.op, 1)
    if isinstance(x, ir.Call):
        return WEIGHTS.get(x.name, 1)
    return 0.0


def flops(body: tuple[ir.Stmt, ...], sizes: Sizes, callee_cost: Callable[[str], float]) -> float:
    """Estimated floating-point work of running ``body`` once. User functions called in
    expressions cost what ``callee_cost`` says when it knows them (its ``functions``)."""
    env = as_env(sizes)
    known = getattr(callee_cost, "functions", frozenset())
    total = 0.0
    for s in body:
        if isinstance(s, ir.Assign):
            for x in subexprs(s.value):
                total += _weight(x)
                if isinstance(x, ir.Call) and x.name in known:
                    total += callee_cost(x.name)
                if isinstance(x, ir.Call) and x.name == "matmul":  # kept (ad/constructs/matmul.py)
                    total += _matmul_flops(x, env)
            total += 1
        elif isinstance(s, ir.CallStmt):
            total += callee_cost(s.name)
        elif isinstance(s, ir.Do):
            per = flops(s.body, inside(s, env), callee_cost)
            n = mean_trips(s, env)
            if n >= vector.MIN_TRIPS and vector.vectorises(s, known):
                per /= vector.VECTOR_SPEEDUP
            chain = latency.recurrence(s, env.lookup)  # a carried chain: latency-bound
            total += n * max(per, chain / FLOP_SECONDS)
        elif isinstance(s, ir.DoWhile):
            total += while_trips(s, env) * flops(s.body, env, callee_cost)
        else:
            branch = [flops(b, env, callee_cost) for b in bodies(s)]
            total += max(branch, default=0.0)
    return total


def _matmul_flops(call: ir.Call, env: SizeEnv) -> float:
    """2·m·k·n for ``matmul(x, y)`` (x: m×k or k, y: k×n or k), extents from the sizes."""
    ext: list[tuple[float, ...]] = []
    for a in call.args:
        flip = isinstance(a, ir.Call) and a.name == "transpose" and len(a.args) == 1
        ref = a.args[0] if flip else a  # type: ignore[union-attr]
        known = env.section_extents(ref) or (None,)
        e = tuple(DEFAULT_EXTENT if x is None else float(x) for x in known)
        ext.append(tuple(reversed(e)) if flip else e)
    if len(ext) != 2:
        return 0.0
    cols = ext[1][1] if len(ext[0]) == 2 and len(ext[1]) == 2 else 1.0
    return 2.0 * math.prod(ext[0]) * cols if len(ext[0]) == 2 else 2.0 * math.prod(ext[1])


class CalleeCost:
    """Flops of one call of each routine, in the environment of its first call site."""

    def __init__(self, program, envs: dict[str, SizeEnv]) -> None:
        self.program, self.envs = program, envs
        self.memo: dict[str, float] = {}
        self.functions = frozenset(
            n for n, i in program.routines.items() if i.routine.kind == "function"
        )

    def __call__(self, name: str) -> float:
        if name not in self.memo:
            info = self.program.routines.get(name)
            self.memo[name] = float(DEFAULT_TRIPS)  # guards against (refused) recursion
            if info is not None:
                env = self.envs.get(name) or SizeEnv()
                self.memo[name] = flops(info.routine.body, env, self)
        return self.memo[name]


def tape_bytes(body, lookup, sizes: Sizes) -> float:
    """Estimated bytes a (generated, recording) statement list pushes when run once."""
    return tape_traffic(body, lookup, sizes)[1]


def tape_traffic(body, lookup, sizes: Sizes) -> tuple[float, float]:
    """Pushes and bytes a (generated, recording) statement list puts on the tape when run
    once (a branch counts as its larger arm)."""
    env = as_env(sizes, lookup)
    pushes = total = 0.0
    for s in body:
        if isinstance(s, ir.CallStmt) and s.name == "fad_push":
            pushes, total = pushes + 1, total + ref_bytes(s.args[0], lookup, env)
            continue
        if isinstance(s, ir.Do):
            n, inner = mean_trips(s, env), tape_traffic(s.body, lookup, inside(s, env))
        elif isinstance(s, ir.DoWhile):
            n, inner = while_trips(s, env), tape_traffic(s.body, lookup, env)
        else:
            arms = [tape_traffic(b, lookup, env) for b in bodies(s)]
            n, inner = 1.0, max(arms, key=lambda a: (a[1], a[0]), default=(0.0, 0.0))
        pushes, total = pushes + n * inner[0], total + n * inner[1]
    return pushes, total


def segments(n: int, period: int) -> int:
    return math.ceil(n / period) if period > 0 else 0


def callee_costs(program, envs: dict[str, SizeEnv]) -> CalleeCost:
    return CalleeCost(program, envs)


def adjoint_counts(
    sweeps: dict[str, tuple], invocations: dict[str, float], primal: CalleeCost
) -> tuple[float, float, float]:
    """Flops, tape pushes and tape bytes of a store-all adjoint run: per routine, its generated
    forward and backward sweeps and what its forward sweep pushes, times how often it runs
    (calls of subroutines excluded: each counts once per execution; a function in an
    expression costs its primal, its adjoint ``<f>_b`` a primal run and a backward sweep of
    about as much). ``sweeps``: routine -> (symbol lookup, size environment, fwd, bwd)."""

    def cost(name: str) -> float:
        if name in primal.functions:
            return primal(name)
        base = name.removesuffix("_b")
        return 2 * primal(base) if base != name and base in primal.functions else 0.0

    cost.functions = primal.functions  # type: ignore[attr-defined]
    work = pushes = nbytes = 0.0
    for name, (lookup, sizes, fwd, bwd) in sweeps.items():
        if name in primal.functions:
            continue  # counted where it is called
        env = as_env(sizes, lookup)
        runs = invocations.get(name, 0.0)
        back = env
        for counter, n in while_counters(tuple(fwd), env).items():
            back = back.bind(counter, n)  # the backward loop runs the DO WHILE's trips
        work += runs * (flops(tuple(fwd), env, cost) + flops(tuple(bwd), back, cost))
        p, b = tape_traffic(fwd, lookup, env)
        pushes, nbytes = pushes + runs * p, nbytes + runs * b
    return work, pushes, nbytes
