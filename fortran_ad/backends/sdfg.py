"""IR routine → dace 1.0.2 SDFG (the data-centric lowering target, not the AD IR).

Control flow uses the control-flow-region API: ``do`` loops become ``LoopRegion``s, IF and
SELECT CASE become ``ConditionalBlock``s. Each assignment is one state with one tasklet; adjoint
accumulations ``xb(i) = xb(i) + e`` write ``e`` through a WCR sum memlet. Loops known parallel
(``do concurrent``, ``!$omp parallel do``, or a band ``sdfg_map.parallel_band`` proves
independent) become Map scopes with one tasklet per iteration. The tape (``fad_push`` /
``fad_pop``) becomes one transient stack array per type, sized by the symbolic count of pushes,
with its top in an SDFG symbol updated on interstate edges. Anything else is a located error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import dace
from dace.properties import CodeBlock
from dace.sdfg.state import (
    BreakBlock,
    ConditionalBlock,
    ContinueBlock,
    ControlFlowRegion,
    LoopRegion,
)

from fortran_ad.backends import sdfg_map
from fortran_ad.backends.sdfg_map import WCR_SUM, push_counts
from fortran_ad.backends.sdfg_expr import Access, Exprs, Tasklet
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import type_bytes
from fortran_ad.ir.walk import exprs_of_body, names_in, walk_stmts

_ALLOC = re.compile(r"^\s*allocate\s*\(\s*(\w+)\s*,\s*source\s*=\s*(\w+)\s*\)\s*$", re.I)
_DEALLOC = re.compile(r"^\s*deallocate\s*\(\s*\w+\s*\)\s*$", re.I)
SKIPPED_CALLS = {"fad_tape_set_limit"}  # the stack is sized from the push count instead


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
        if self.last is None and self.pending:
            self.add(self.region.add_state(self.label("assign"), is_start_block=True))
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
        if var in self.pending or any(var in v for v in self.pending.values()):
            self.state("assign")
        self.pending[var] = value

    def close(self) -> None:
        if self.pending or self.last is None:
            self.state("end")


class Lowering:
    """One routine; ``lookup`` resolves names the routine does not declare (module data)."""

    def __init__(self, r: ir.Routine, lookup: Callable[[str], ir.Symbol | None]) -> None:
        self.r, self.lookup = r, lookup
        self.sdfg = dace.SDFG(r.name)
        self.kinds: dict[str, str] = {}
        self.los: dict[str, tuple[str, ...]] = {}
        self.ints: set[str] = set()
        self.n = 0
        self.x = Exprs(self._kind, lambda n: self.los[n], lambda n: n in self.ints)
        self.tape_tops: dict[str, str] = {}

    def label(self, what: str) -> str:
        self.n += 1
        return f"{what}_{self.n}"

    def _kind(self, name: str) -> str:
        if name not in self.kinds:
            raise FortranADError(self.r.loc, f"'{name}' is not known to the SDFG back end")
        return self.kinds[name]

    # ---- data ------------------------------------------------------------------------------
    def symbol(self, name: str, loc: ir.SourceLoc) -> ir.Symbol:
        s = self.r.symbol(name) or self.lookup(name)
        if s is None:
            raise FortranADError(loc, f"'{name}' has no declaration the SDFG back end can see")
        return s

    def declare(self) -> None:
        r = self.r
        names = set(r.args)
        for e in exprs_of_body(r.body):
            names |= names_in(e)
        for s in walk_stmts(r.body):
            if isinstance(s, ir.Do):
                names.add(s.var)
        alloc = {}
        for s in walk_stmts(r.body):
            m = _ALLOC.match(s.text) if isinstance(s, ir.Opaque) else None
            if m:
                alloc[m.group(1).lower()] = m.group(2).lower()
        for name in list(names):
            for d in self.symbol(name, r.loc).dims:
                names |= names_in(d.lo) if d.lo is not None else set()
                names |= names_in(d.hi) if d.hi is not None else set()

        def order(n: str) -> tuple[int, str]:
            sym = self.symbol(n, r.loc)
            return (1 if n in alloc else 0 if "parameter" in sym.attrs or not sym.dims else 1, n)

        for name in sorted(names, key=order):
            sym = self.symbol(name, r.loc)
            if "parameter" in sym.attrs:
                self._constant(sym)
            elif name in alloc:
                self._array(name, self.symbol(alloc[name], r.loc), transient=True)
            elif sym.type is not None and sym.type.base == "integer" and not sym.dims:
                self.kinds[name] = "symbol"
                self.ints.add(name)
                self.sdfg.add_symbol(name, dtype_of(sym.type))
            elif sym.type is not None and sym.type.is_real:
                self._array(name, sym, transient=name not in r.args)
            else:
                t = sym.type.base if sym.type else "untyped"
                raise FortranADError(
                    sym.loc,
                    f"'{name}' ({t}{', array' if sym.dims else ''}) is not supported by the "
                    "SDFG back end (real scalars and arrays, integer scalars only)",
                )

    def _array(self, name: str, sym: ir.Symbol, transient: bool) -> None:
        if "pointer" in sym.attrs or ("allocatable" in sym.attrs and not transient):
            raise FortranADError(sym.loc, f"'{name}': pointers and allocatable dummies (SDFG)")
        dtype = dtype_of(sym.type)
        if not sym.dims:
            self.kinds[name] = "scalar"
            self.los[name] = ("1",)
            self.sdfg.add_array(name, [1], dtype, transient=transient)
            return
        shape, los = [], []
        for d in sym.dims:
            if d.kind != "explicit" or d.hi is None:
                raise FortranADError(
                    sym.loc, f"'{name}': only explicit-shape arrays are supported (SDFG)"
                )
            lo = self.x.sym(d.lo, sym.loc) if d.lo is not None else "1"
            hi = self.x.sym(d.hi, sym.loc)
            los.append(lo)
            shape.append(f"{hi} - {lo} + 1" if lo != "1" else hi)
        shape = [dace.symbolic.pystr_to_symbolic(ext) for ext in shape]
        strides, acc = [], 1
        for ext in shape:
            strides.append(acc)
            acc = acc * ext
        self.kinds[name] = "array"
        self.los[name] = tuple(los)
        self.sdfg.add_array(name, shape, dtype, strides=strides, transient=transient)

    def _constant(self, sym: ir.Symbol) -> None:
        value = _evaluate(sym.init, lambda n: self._const_value(n, sym.loc))
        if value is None or sym.dims:
            raise FortranADError(sym.loc, f"parameter '{sym.name}': value not known (SDFG)")
        self.kinds[sym.name] = "constant"
        self.sdfg.add_constant(sym.name, value)

    def _const_value(self, name: str, loc: ir.SourceLoc) -> float | int | None:
        s = self.symbol(name, loc)
        return _evaluate(s.init, lambda n: self._const_value(n, loc)) if s.init else None

    # ---- statements ------------------------------------------------------------------------
    def lower(self) -> dace.SDFG:
        self.declare()
        self._tape()
        chain = Chain(self.sdfg, self.label)
        for top in self.tape_tops.values():
            chain.assign(top, "0")
        self.body(chain, self.r.body)
        chain.close()
        return self.sdfg

    def body(self, chain: Chain, stmts: tuple[ir.Stmt, ...]) -> None:
        for s in stmts:
            self.stmt(chain, s)

    def stmt(self, chain: Chain, s: ir.Stmt) -> None:
        if isinstance(s, ir.Comment | ir.Continue):
            return
        if isinstance(s, ir.Assign):
            self.assign(chain, s)
        elif isinstance(s, ir.Do):
            band = sdfg_map.parallel_band(s, self.x)
            if band is not None:
                sdfg_map.add_map(chain.state("map"), band, self.x, s.loc, self.label)
            else:
                chain.add(self.loop(s))
        elif isinstance(s, ir.DoWhile):
            cond = self.x.cond(s.cond, s.loc) if s.cond is not None else "True"
            loop = LoopRegion(self.label("while"), condition_expr=cond, sdfg=self.sdfg)
            self.region(loop, s.body)
            chain.add(loop)
        elif isinstance(s, ir.If):
            cb = ConditionalBlock(self.label("if"), sdfg=self.sdfg)
            for cond, b in s.branches:
                cb.add_branch(CodeBlock(self.x.cond(cond, s.loc)), self.branch(b))
            if s.else_body is not None:
                cb.add_branch(None, self.branch(s.else_body))
            chain.add(cb)
        elif isinstance(s, ir.Select):
            chain.add(self.select(s))
        elif isinstance(s, ir.Exit | ir.Cycle):
            if s.name:
                raise FortranADError(s.loc, "EXIT/CYCLE with a construct name (SDFG)")
            block = BreakBlock if isinstance(s, ir.Exit) else ContinueBlock
            chain.add(block(self.label("exit" if isinstance(s, ir.Exit) else "cycle")))
        elif isinstance(s, ir.CallStmt) and s.name in ("fad_push", "fad_pop"):
            self.tape_op(chain, s)
        elif isinstance(s, ir.CallStmt) and s.name in SKIPPED_CALLS:
            return
        elif isinstance(s, ir.Opaque) and (_ALLOC.match(s.text) or _DEALLOC.match(s.text)):
            m = _ALLOC.match(s.text)
            if m:
                self.copy(chain.state("alloc"), m.group(2).lower(), m.group(1).lower())
        elif isinstance(s, ir.CallStmt):
            raise FortranADError(
                s.loc, f"call to '{s.name}': the SDFG back end lowers single routines only"
            )
        else:
            from fortran_ad.backends.fortran import _simple

            text = _simple(s) or type(s).__name__
            raise FortranADError(s.loc, f"the SDFG back end cannot lower '{text}'")

    def region(self, region: ControlFlowRegion, stmts: tuple[ir.Stmt, ...]) -> None:
        chain = Chain(region, self.label)
        self.body(chain, stmts)
        chain.close()

    def branch(self, stmts: tuple[ir.Stmt, ...]) -> ControlFlowRegion:
        region = ControlFlowRegion(self.label("branch"), sdfg=self.sdfg)
        self.region(region, stmts)
        return region

    def loop(self, s: ir.Do) -> LoopRegion:
        step = self.x.sym(s.step, s.loc) if s.step is not None else "1"
        sign = _sign(step)
        if sign == 0:
            raise FortranADError(s.loc, "DO step of unknown sign (SDFG back end)")
        cmp = "<=" if sign > 0 else ">="
        start, stop = self.x.sym(s.start, s.loc), self.x.sym(s.stop, s.loc)
        loop = LoopRegion(
            self.label(f"do_{s.var}"),
            condition_expr=f"{s.var} {cmp} {stop}",
            loop_var=s.var,
            initialize_expr=f"{s.var} = {start}",
            update_expr=f"{s.var} = {s.var} + {step}",
            sdfg=self.sdfg,
        )
        self.region(loop, s.body)
        return loop

    def select(self, s: ir.Select) -> ConditionalBlock:
        cb = ConditionalBlock(self.label("select"), sdfg=self.sdfg)
        sel = self.x.cond(s.expr, s.loc)
        default = None
        for case in s.cases:
            if not case.selectors:
                default = case
                continue
            parts = []
            for x in case.selectors:
                if isinstance(x, ir.Range):
                    lo = f"({sel} >= {self.x.cond(x.lo, s.loc)})" if x.lo is not None else "True"
                    hi = f"({sel} <= {self.x.cond(x.hi, s.loc)})" if x.hi is not None else "True"
                    parts.append(f"({lo} and {hi})")
                else:
                    parts.append(f"({sel} == {self.x.cond(x, s.loc)})")
            cb.add_branch(CodeBlock(" or ".join(parts)), self.branch(case.body))
        if default is not None:
            cb.add_branch(None, self.branch(default.body))
        return cb

    def assign(self, chain: Chain, s: ir.Assign) -> None:
        name = s.target.name if isinstance(s.target, ir.Name | ir.ArrayRef) else None
        if name is not None and self.kinds.get(name) == "symbol":
            chain.assign(name, self.x.sym(s.value, s.loc))
            return
        if isinstance(s.target, ir.Name) and self.kinds.get(name) == "array":
            if not isinstance(s.value, ir.Name) or self.kinds.get(s.value.name) != "array":
                raise FortranADError(s.loc, "whole-array assignments must copy an array (SDFG)")
            self.copy(chain.state("copy"), s.value.name, name)
            return
        out = self.x.access(s.target, s.loc)
        if out is None:
            raise FortranADError(s.loc, "assignment target not supported by the SDFG back end")
        t = Tasklet()
        acc = sdfg_map.accumulation(s)
        value = acc[1] if acc else s.value
        code = self.x.tasklet(value, s.loc, t)
        t.code.append(f"__out = {'-' if acc and acc[0] == '-' else ''}({code})")
        state = chain.state(f"l{s.loc.line}")
        add_tasklet(state, f"s{s.loc.line}", t, {"__out": (out, WCR_SUM if acc else None)})

    def copy(self, state: dace.SDFGState, src: str, dst: str) -> None:
        desc = self.sdfg.arrays[src]
        state.add_nedge(
            state.add_read(src), state.add_write(dst), dace.Memlet.from_array(src, desc)
        )

    # ---- the tape --------------------------------------------------------------------------
    def _tape(self) -> None:
        for dtype, count in push_counts(self.r.body, self.x, self._tape_type).items():
            name, top = f"fad_tape_{dtype.to_string()}", f"fad_top_{dtype.to_string()}"
            self.sdfg.add_array(name, [count], dtype, transient=True)
            self.sdfg.add_symbol(top, dace.int64)
            self.kinds[name], self.los[name] = "array", ("0",)
            self.tape_tops[dtype.to_string()] = top

    def _tape_type(self, s: ir.CallStmt) -> dace.typeclass:
        if len(s.args) != 1 or self.x.access(s.args[0], s.loc) is None:
            raise FortranADError(s.loc, f"{s.name}: the SDFG back end tapes real elements only")
        base = s.args[0].name if isinstance(s.args[0], ir.Name | ir.ArrayRef) else ""
        return self.sdfg.arrays[base].dtype

    def tape_op(self, chain: Chain, s: ir.CallStmt) -> None:
        dtype = self._tape_type(s).to_string()
        tape, top = f"fad_tape_{dtype}", self.tape_tops[dtype]
        value = self.x.access(s.args[0], s.loc)
        slot = Access(tape, top)
        t = Tasklet()
        if s.name == "fad_push":
            t.code.append(f"__out = {t.connector(value)}")
            add_tasklet(chain.state("push"), "push", t, {"__out": (slot, None)})
            chain.assign(top, f"{top} + 1")
        else:
            chain.assign(top, f"{top} - 1")
            t.code.append(f"__out = {t.connector(slot)}")
            add_tasklet(chain.state("pop"), "pop", t, {"__out": (value, None)})


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


def _sign(step: str) -> int:
    try:
        v = int(eval(step, {}))  # noqa: S307 - a symbolic integer made of literals
    except (NameError, SyntaxError, TypeError):
        return 0
    return (v > 0) - (v < 0)


def _evaluate(e: ir.Expr | None, name: Callable[[str], float | int | None]) -> float | int | None:
    """The value of a constant expression (PARAMETER initialisers), or None."""
    from fortran_ad.backends.sdfg_expr import number

    if isinstance(e, ir.Literal) and e.type in ("real", "integer"):
        text = number(e, ir.NOWHERE)
        return float(text) if e.type == "real" else int(text)
    if isinstance(e, ir.Name):
        return name(e.name)
    if isinstance(e, ir.Paren):
        return _evaluate(e.expr, name)
    if isinstance(e, ir.UnOp) and e.op in "+-":
        v = _evaluate(e.operand, name)
        return None if v is None else (-v if e.op == "-" else v)
    if isinstance(e, ir.BinOp) and e.op in ("+", "-", "*", "/", "**"):
        a, b = _evaluate(e.left, name), _evaluate(e.right, name)
        if a is None or b is None:
            return None
        if e.op == "/" and isinstance(a, int) and isinstance(b, int):
            return int(a / b)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None, "**": a**b}[e.op]
    return None


def lower_routine(r: ir.Routine, lookup: Callable[[str], ir.Symbol | None]) -> dace.SDFG:
    """The SDFG of one routine (validated: a failure here is a bug of this back end)."""
    sdfg = Lowering(r, lookup).lower()
    sdfg.validate()
    return sdfg
