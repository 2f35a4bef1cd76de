"""Parallel loop bands as Map scopes, adjoint accumulations, and the tape's symbolic size.

A band of perfectly nested, rectangular DO loops becomes one Map (OpenMP in DaCe's CPU code)
when the loops say so (``do concurrent``, ``!$omp parallel do``) or when this conservative
test proves the iterations independent: the body is straight-line assignments; every array
written is written (and read) at one subscript tuple that moves with every band variable
(``b(i, j)``, never ``b(i)`` in a band over ``i, j``), so iterations never meet and DaCe's WCR
sum memlets of accumulations (``xb(i) = xb(i) + e``, ``xb`` read nowhere else) need no
atomics. Scalar sums and adjoint stencils (``ab(i-1, j) = ab(i-1, j) + ...`` next to
``ab(i, j) = ...``) stay sequential LoopRegions until the engine rewrites them scatter→gather.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dace
import sympy

from fortran_ad.backends.sdfg_expr import Access, Exprs, Tasklet
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import subexprs

WCR_SUM = "lambda a, b: a + b"


def accumulation(s: ir.Assign) -> tuple[str, ir.Expr] | None:
    """``x = x + e`` / ``x = x - e`` with ``x`` not in ``e``: ('+' | '-', e)."""
    v = s.value
    if (
        isinstance(v, ir.BinOp)
        and v.op in "+-"
        and v.left == s.target
        and not any(x == s.target for x in subexprs(v.right))
    ):
        return v.op, v.right
    return None


@dataclass(frozen=True)
class Band:
    ranges: tuple[tuple[str, str], ...]  # (variable, "lo:hi+1") outermost first
    body: tuple[ir.Assign, ...]


def _declared_parallel(s: ir.Do) -> bool:
    par = s.parallel
    return par is not None and par.kind in ("concurrent", "parallel do")


def parallel_band(s: ir.Do, x: Exprs) -> Band | None:
    loops, cur = [], s
    while True:
        loops.append(cur)
        inner = [b for b in cur.body if not isinstance(b, ir.Comment)]
        if len(inner) == 1 and isinstance(inner[0], ir.Do):
            cur = inner[0]
            continue
        break
    body = tuple(b for b in cur.body if not isinstance(b, ir.Comment))
    if not body or not all(isinstance(b, ir.Assign) for b in body):
        return None
    band_vars = {d.var for d in loops}
    ranges = []
    for d in loops:
        try:
            lo, hi = x.sym(d.start, d.loc), x.sym(d.stop, d.loc)
            step = x.sym(d.step, d.loc) if d.step is not None else "1"
        except FortranADError:
            return None
        if step not in ("1", "(-1)", "-1") or _mentions(lo + " " + hi, band_vars):
            return None
        a, b = (lo, hi) if step == "1" else (hi, lo)
        ranges.append((d.var, f"{a}:{b} + 1"))
    try:
        ok = _declared_parallel(s) or _independent(body, band_vars, x)
    except FortranADError:
        return None
    return Band(tuple(ranges), body) if ok else None


def _mentions(text: str, names: set[str]) -> bool:
    import re

    return bool(set(re.findall(r"[a-z_][a-z0-9_]*", text)) & names)


def _independent(body: tuple[ir.Assign, ...], band: set[str], x: Exprs) -> bool:
    plain: dict[str, str] = {}  # array -> its one subset
    accumulated: dict[str, str] = {}
    reads: list[Access] = []
    for s in body:
        out = x.access(s.target, s.loc)
        if out is None:
            return False
        acc = accumulation(s)
        if not isinstance(s.target, ir.ArrayRef):
            return False  # scalar temporaries need privatisation, scalar sums atomics
        written = accumulated if acc else plain
        if written.setdefault(out.data, out.subset) != out.subset:
            return False  # two subsets of one array: iterations could meet
        subs = [x.sym(e, s.loc) for e in s.target.subs]
        if not band <= {v for v in band if any(_moves(sub, v, band) for sub in subs)}:
            return False
        value = acc[1] if acc else s.value
        for e in subexprs(value):
            a = x.access(e, s.loc)
            if a is not None:
                reads.append(a)
    if set(accumulated) & set(plain):
        return False
    for a in reads:
        if a.data in accumulated or (a.data in plain and plain[a.data] != a.subset):
            return False
    return True


def _moves(sub: str, var: str, band: set[str]) -> bool:
    """``sub`` is ``var`` plus a term free of band variables."""
    e = dace.symbolic.pystr_to_symbolic(sub)
    rest = sympy.expand(e - dace.symbolic.pystr_to_symbolic(var))
    return {str(f) for f in rest.free_symbols}.isdisjoint(band) and var in {
        str(f) for f in e.free_symbols
    }


def add_map(
    state: dace.SDFGState, band: Band, x: Exprs, loc: ir.SourceLoc, label: Callable[[str], str]
) -> None:
    """The band as one Map whose tasklet runs the body of one iteration in order: elements
    written earlier in the iteration are read from tasklet locals (scalars assigned in a
    declared-parallel loop stay tasklet locals, as OpenMP PRIVATE / DO CONCURRENT locals)."""
    t = Tasklet()
    outs: dict[str, tuple[Access, str | None]] = {}
    for k, s in enumerate(band.body):
        out = x.access(s.target, s.loc)
        acc = accumulation(s)
        value = x.tasklet(acc[1] if acc else s.value, s.loc, t)
        local = f"__v{k}"
        t.code.append(f"{local} = {'-' if acc and acc[0] == '-' else ''}({value})")
        if acc is None:
            t.local[out.key] = local
            if isinstance(s.target, ir.Name):
                continue  # a scalar of a declared-parallel loop is private: no store
        outs[f"__out{k}"] = (out, WCR_SUM if acc else None)
        t.code.append(f"__out{k} = {local}")
    inputs = {c: dace.Memlet(f"{d}[{sub}]") for (d, sub), c in t.inputs.items()}
    outputs = {c: dace.Memlet(f"{a.data}[{a.subset}]", wcr=wcr) for c, (a, wcr) in outs.items()}
    state.add_mapped_tasklet(
        label(f"map_l{loc.line}"),
        dict(band.ranges),
        inputs,
        "\n".join(t.code),
        outputs,
        external_edges=True,
    )


def push_counts(
    body: tuple[ir.Stmt, ...],
    x: Exprs,
    tape_item: Callable[[ir.CallStmt], tuple[dace.typeclass, object]],
) -> dict[dace.typeclass, sympy.Expr]:
    """How many elements each typed stack receives: a symbolic sum over the loops around each
    push (both branches of an IF count: an upper bound)."""
    counts: dict[dace.typeclass, sympy.Expr] = {}

    def add(into: dict, other: dict) -> None:
        for k, v in other.items():
            into[k] = into.get(k, 0) + v

    def walk(stmts: tuple[ir.Stmt, ...]) -> dict:
        out: dict = {}
        for s in stmts:
            if isinstance(s, ir.CallStmt) and s.name == "fad_push":
                dtype, size = tape_item(s)
                add(out, {dtype: sympy.sympify(size)})
            elif isinstance(s, ir.Do):
                inner = walk(s.body)
                if inner:
                    step = x.sym(s.step, s.loc) if s.step is not None else "1"
                    lo, hi = x.sym(s.start, s.loc), x.sym(s.stop, s.loc)
                    if step in ("(-1)", "-1"):
                        lo, hi = hi, lo
                    elif step != "1":
                        raise FortranADError(s.loc, "values taped in a loop of step /= 1 (SDFG)")
                    lo_e = dace.symbolic.pystr_to_symbolic(lo)
                    hi_e = dace.symbolic.pystr_to_symbolic(hi)
                    for k, v in inner.items():
                        var = next((f for f in v.free_symbols if str(f) == s.var), None)
                        total = (
                            v * (hi_e - lo_e + 1)
                            if var is None
                            else sympy.summation(v, (var, lo_e, hi_e))
                        )
                        add(out, {k: sympy.expand(total)})
            elif isinstance(s, ir.If):
                for _, b in s.branches:
                    add(out, walk(b))
                if s.else_body:
                    add(out, walk(s.else_body))
            elif isinstance(s, ir.Select):
                for case in s.cases:
                    add(out, walk(case.body))
            elif isinstance(s, ir.DoWhile) and walk(s.body):
                raise FortranADError(s.loc, "values taped in a DO WHILE loop (SDFG back end)")
        return out

    add(counts, walk(body))
    return {k: sympy.Max(v, 1) for k, v in counts.items()}
