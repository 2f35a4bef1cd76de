"""Subroutine calls as nested SDFGs, whole arrays on the tape, and whole-array fills.

A call ``call f(n, x, y(i), s)`` becomes a NestedSDFG node holding the SDFG of ``f`` (lowered
once per routine): integer dummies are symbols mapped to the actuals' integer expressions
(intent(in) only), array dummies take the actual array whole, scalar dummies one element or
a real scalar; intent(in) dummies are inputs, intent(out) outputs, the rest both. Actuals that
are expressions, array sections and sequence association are located errors.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import dace

from fortran_ad.backends.sdfg_expr import Access, Tasklet
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir

if TYPE_CHECKING:
    from fortran_ad.backends.sdfg import Lowering
    from fortran_ad.backends.sdfg_cfg import Chain


def call(low: Lowering, chain: Chain, s: ir.CallStmt) -> None:
    if low.resolve is None or (callee := low.resolve(s.name)) is None:
        raise FortranADError(s.loc, f"call to '{s.name}': no routine the SDFG back end can lower")
    r, sub = callee
    if len(s.args) != len(r.args) or any(isinstance(a, ir.Keyword) for a in s.args):
        raise FortranADError(s.loc, f"call to '{s.name}': positional arguments only (SDFG)")
    inputs: dict[str, Access] = {}
    outputs: dict[str, Access] = {}
    symbols: dict[str, str] = {}
    for dummy, actual in zip(r.args, s.args, strict=True):
        if dummy in sub.symbols and dummy not in sub.arrays:
            if (r.symbol(dummy).intent or "inout") != "in":
                raise FortranADError(
                    s.loc, f"integer '{dummy}' of '{s.name}' must be intent(in) (SDFG)"
                )
            symbols[dummy] = low.x.sym(actual, s.loc)
            continue
        if dummy not in sub.arrays:
            continue  # unused by the callee
        acc = _actual(low, dummy, actual, sub, s)
        if acc.subset == "":  # assumed-shape dummies take the actual's extents
            for k, ext in enumerate(low.sdfg.arrays[acc.data].shape):
                if f"__{dummy}_n{k}" in sub.symbols:
                    symbols[f"__{dummy}_n{k}"] = str(ext)
        intent = r.symbol(dummy).intent or "inout"
        if intent in ("in", "inout"):
            inputs[dummy] = acc
        if intent in ("out", "inout"):
            outputs[dummy] = acc
    for name in sub.free_symbols:
        if name not in symbols:
            symbols[name] = name  # module constants and symbols of the same name
    state = chain.state(f"call_{s.name}")
    sub = copy.deepcopy(sub)  # one SDFG object per call site (it records its parent)
    node = state.add_nested_sdfg(sub, None, set(inputs), set(outputs), symbols)
    reads: dict[str, dace.nodes.AccessNode] = {}
    for conn, acc in inputs.items():
        reads.setdefault(acc.data, state.add_read(acc.data))
        state.add_edge(reads[acc.data], None, node, conn, _memlet(low, acc))
    writes: dict[str, dace.nodes.AccessNode] = {}
    for conn, acc in outputs.items():
        writes.setdefault(acc.data, state.add_write(acc.data))
        state.add_edge(node, conn, writes[acc.data], None, _memlet(low, acc))


def _actual(low: Lowering, dummy: str, actual: ir.Expr, sub: dace.SDFG, s: ir.CallStmt) -> Access:
    rank = len(sub.arrays[dummy].shape)
    if isinstance(actual, ir.Name) and low.kinds.get(actual.name) == "array":
        outer = low.sdfg.arrays[actual.name]
        if len(outer.shape) != rank:
            raise FortranADError(
                s.loc, f"'{actual.name}' passed to '{dummy}' of '{s.name}': ranks differ (SDFG)"
            )
        return Access(actual.name, "")
    acc = low.x.access(actual, s.loc)
    if acc is None or rank != 1 or sub.arrays[dummy].shape[0] != 1:
        raise FortranADError(
            s.loc,
            f"actual argument for '{dummy}' of '{s.name}': whole arrays, elements and real "
            "scalars only (SDFG)",
        )
    return acc


def _memlet(low: Lowering, acc: Access) -> dace.Memlet:
    if acc.subset == "":
        return dace.Memlet.from_array(acc.data, low.sdfg.arrays[acc.data])
    return dace.Memlet(f"{acc.data}[{acc.subset}]")


def array_tape(low: Lowering, chain: Chain, s: ir.CallStmt, tape: str, top: str) -> None:
    """``fad_push(a)`` / ``fad_pop(a)`` of a whole array: one Map copies it to or from the
    stack at ``top`` (column-major order), and ``top`` moves by its size."""
    name = s.args[0].name
    desc = low.sdfg.arrays[name]
    params = [f"__k{d}" for d in range(len(desc.shape))]
    ranges = {p: f"0:{ext}" for p, ext in zip(params, desc.shape, strict=True)}
    linear = " + ".join(f"({p}) * ({st})" for p, st in zip(params, desc.strides, strict=True))
    element = f"{name}[{', '.join(params)}]"
    slot = f"{tape}[{top} + {linear}]"
    size = str(desc.total_size)
    if s.name == "fad_push":
        src, dst = element, slot
    else:
        chain.assign(top, f"{top} - ({size})")
        src, dst = slot, element
    state = chain.state(s.name.removeprefix("fad_") + "_array")
    state.add_mapped_tasklet(
        low.label(f"{s.name}_{name}"),
        ranges,
        {"__in": dace.Memlet(src)},
        "__out = __in",
        {"__out": dace.Memlet(dst)},
        external_edges=True,
    )
    if s.name == "fad_push":
        chain.assign(top, f"{top} + ({size})")


def fill(low: Lowering, state: dace.SDFGState, name: str, s: ir.Assign) -> None:
    """``a = expr`` with a scalar ``expr`` (``xb = 0.0_dp``): one Map over ``a``."""
    desc = low.sdfg.arrays[name]
    t = Tasklet()
    value = low.x.tasklet(s.value, s.loc, t)  # arrays in expr would need the element: refused
    params = [f"__k{d}" for d in range(len(desc.shape))]
    state.add_mapped_tasklet(
        low.label(f"fill_{name}"),
        {p: f"0:{ext}" for p, ext in zip(params, desc.shape, strict=True)},
        {c: dace.Memlet(f"{d}[{sub}]") for (d, sub), c in t.inputs.items()},
        f"__out = {value}",
        {"__out": dace.Memlet(f"{name}[{', '.join(params)}]")},
        external_edges=True,
    )
