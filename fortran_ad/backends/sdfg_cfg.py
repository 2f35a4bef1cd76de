"""Helpers of the SDFG lowering: control-flow chains, tasklets with their memlets, types,
constant folding of PARAMETERs, and a filter for DaCe's warnings about the init state."""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Iterator

import dace
from dace.sdfg.state import ControlFlowRegion

from fortran_ad.backends.sdfg_expr import Access, Tasklet
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import type_bytes


def dtype_of(t: ir.TypeSpec | None) -> dace.typeclass:
    if t is None:
        raise FortranADError(None, "untyped variable in the SDFG back end")
    real = t.base in ("real", "double precision")
    size = type_bytes(t)
    if real:
        return dace.float64 if size == 8 else dace.float32
    if t.base == "integer":
        return dace.int64 if size == 8 and t.kind else dace.int32
    raise FortranADError(None, f"type {t.base} is not supported by the SDFG back end")


class Chain:
    """Blocks of one control-flow region in sequence; symbol assignments wait for the next
    edge (an empty state carries them when nothing follows)."""

    def __init__(self, region: ControlFlowRegion, label: Callable[[str], str]) -> None:
        self.region, self.label = region, label
        self.last: dace.sdfg.state.ControlFlowBlock | None = None
        self.pending: dict[str, str] = {}

    def add(self, block) -> None:
        if self.last is None and self.pending:  # assignments need an edge: start empty
            pending, self.pending = self.pending, {}
            self.add(self.region.add_state(self.label("assign")))
            self.pending = pending
        first = self.last is None
        if isinstance(block, dace.SDFGState) and block.parent_graph is self.region:
            if first:
                self.region.start_block = self.region.node_id(block)
        else:
            self.region.add_node(block, is_start_block=first)
        if not first:
            self.region.add_edge(self.last, block, dace.InterstateEdge(assignments=self.pending))
            self.pending = {}
        self.last = block

    def state(self, what: str) -> dace.SDFGState:
        s = self.region.add_state(self.label(what))
        self.add(s)
        return s

    def assign(self, var: str, value: str) -> None:
        used = set(re.findall(r"\w+", value))
        if (
            var in self.pending
            or used & set(self.pending)
            or any(var in re.findall(r"\w+", v) for v in self.pending.values())
        ):
            self.state("assign")
        self.pending[var] = value

    def close(self) -> None:
        if self.pending or self.last is None:
            self.state("end")


def add_tasklet(
    state: dace.SDFGState, name: str, t: Tasklet, outs: dict[str, tuple[Access, str | None]]
) -> None:
    """One tasklet with its reads and writes as access nodes and memlets."""
    tasklet = state.add_tasklet(name, set(t.inputs.values()), set(outs), "\n".join(t.code))
    reads: dict[str, dace.nodes.AccessNode] = {}
    for (data, subset), conn in t.inputs.items():
        if data not in reads:
            reads[data] = state.add_read(data)
        state.add_edge(reads[data], None, tasklet, conn, dace.Memlet(f"{data}[{subset}]"))
    writes: dict[str, dace.nodes.AccessNode] = {}
    for conn, (acc, wcr) in outs.items():
        if acc.data not in writes:
            writes[acc.data] = state.add_write(acc.data)
        memlet = dace.Memlet(f"{acc.data}[{acc.subset}]", wcr=wcr)
        state.add_edge(tasklet, conn, writes[acc.data], None, memlet)


def step_sign(step: str) -> int:
    try:
        v = int(eval(step, {}))  # noqa: S307 - a symbolic integer made of literals
    except (NameError, SyntaxError, TypeError):
        return 0
    return (v > 0) - (v < 0)


def evaluate(e: ir.Expr | None, name: Callable[[str], float | int | None]) -> float | int | None:
    """The value of a constant expression (PARAMETER initialisers), or None."""
    from fortran_ad.backends.sdfg_expr import number

    if isinstance(e, ir.Literal) and e.type in ("real", "integer"):
        text = number(e, ir.NOWHERE)
        return float(text) if e.type == "real" else int(text)
    if isinstance(e, ir.Name):
        return name(e.name)
    if isinstance(e, ir.Paren):
        return evaluate(e.expr, name)
    if isinstance(e, ir.UnOp) and e.op in "+-":
        v = evaluate(e.operand, name)
        return None if v is None else (-v if e.op == "-" else v)
    if isinstance(e, ir.BinOp) and e.op in ("+", "-", "*", "/", "**"):
        a, b = evaluate(e.left, name), evaluate(e.right, name)
        if a is None or b is None:
            return None
        if e.op == "/" and isinstance(a, int) and isinstance(b, int):
            return int(a / b)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None, "**": a**b}[e.op]
    return None


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """DaCe warns about the init state's touch of uninitialised transients (see SDFG_LIFE)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*uninitialized transient", category=UserWarning)
        warnings.filterwarnings("ignore", message="Found constant", category=UserWarning)
        yield
