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

from fortran_ad.backends import sdfg_call, sdfg_map
from fortran_ad.backends.sdfg_cfg import Chain, add_tasklet, dtype_of, evaluate, quiet, step_sign
from fortran_ad.backends.sdfg_expr import Access, Exprs, Tasklet
from fortran_ad.backends.sdfg_map import WCR_SUM, push_counts
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import exprs_of_body, names_in, walk_stmts

_ALLOC = re.compile(r"^\s*allocate\s*\(\s*(\w+)\s*,\s*source\s*=\s*(\w+)\s*\)\s*$", re.I)
_DEALLOC = re.compile(r"^\s*deallocate\s*\(\s*\w+\s*\)\s*$", re.I)
# DaCe 1.0.2 cannot free transients whose first access is a state nested in a control-flow
# region (it looks the state up in the wrong region): the init state touches every transient,
# and transients live for the whole call
SDFG_LIFE = dace.dtypes.AllocationLifetime.SDFG
SKIPPED_CALLS = {"fad_tape_set_limit"}  # the stack is sized from the push count instead


class Lowering:
    """One routine; ``lookup`` resolves names the routine does not declare (module data)."""

    def __init__(
        self,
        r: ir.Routine,
        lookup: Callable[[str], ir.Symbol | None],
        resolve: Callable[[str], tuple[ir.Routine, dace.SDFG] | None] | None = None,
    ) -> None:
        self.r, self.lookup, self.resolve = r, lookup, resolve
        self.sdfg = dace.SDFG(r.name)
        self.kinds: dict[str, str] = {}
        self.los: dict[str, tuple[str, ...]] = {}
        self.ints: set[str] = set()
        self.n = 0
        self.x = Exprs(self._kind, lambda n: self.los[n], lambda n: n in self.ints, self.extents)
        self.tape_tops: dict[str, str] = {}
        self.alloc: dict[str, str] = {}  # allocatable copy -> its source

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
        alloc = self.alloc
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
            elif r.symbol(name) is None or _shared(sym):
                raise FortranADError(
                    sym.loc if sym.loc.line else r.loc,
                    f"'{name}' lives between calls (module variable, COMMON, SAVE): "
                    f"not supported by the SDFG back end (used in '{r.name}')",
                )
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
                    sym.loc if sym.loc.line else r.loc,
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
            self.sdfg.add_array(name, [1], dtype, transient=transient, lifetime=SDFG_LIFE)
            return
        los = [self.x.sym(d.lo, sym.loc) if d.lo is not None else "1" for d in sym.dims]
        shape = [dace.symbolic.pystr_to_symbolic(ext) for ext in self.extents(name)]
        for k, d in enumerate(sym.dims):
            if d.kind == "assumed" and f"__{name}_n{k}" not in self.sdfg.symbols:
                self.sdfg.add_symbol(f"__{name}_n{k}", dace.int32)  # mapped by the caller
        strides, acc = [], 1
        for ext in shape:
            strides.append(acc)
            acc = acc * ext
        self.kinds[name] = "array"
        self.los[name] = tuple(los)
        self.sdfg.add_array(
            name, shape, dtype, strides=strides, transient=transient, lifetime=SDFG_LIFE
        )

    def extents(self, name: str) -> list[str]:
        """Extents of an array as symbolic text; assumed shape: symbols ``__<name>_n<k>``."""
        name = self.alloc.get(name, name)  # allocate(copy, source=x): the shape of x
        sym = self.symbol(name, self.r.loc)
        out = []
        for k, d in enumerate(sym.dims):
            if d.kind == "assumed" and name in self.r.args:
                out.append(f"__{name}_n{k}")
                continue
            if d.kind != "explicit" or d.hi is None:
                raise FortranADError(
                    sym.loc, f"'{name}': explicit-shape and assumed-shape arrays only (SDFG)"
                )
            lo = self.x.sym(d.lo, sym.loc) if d.lo is not None else "1"
            hi = self.x.sym(d.hi, sym.loc)
            out.append(f"{hi} - ({lo}) + 1" if lo != "1" else hi)
        return out

    def _constant(self, sym: ir.Symbol) -> None:
        value = evaluate(sym.init, lambda n: self._const_value(n, sym.loc))
        if value is None or sym.dims:  # a kind like selected_real_kind(12): fine unless used
            self.kinds[sym.name] = "unknown parameter"
            return
        self.kinds[sym.name] = "constant"
        self.sdfg.add_constant(sym.name, value)

    def _const_value(self, name: str, loc: ir.SourceLoc) -> float | int | None:
        s = self.symbol(name, loc)
        return evaluate(s.init, lambda n: self._const_value(n, loc)) if s.init else None

    # ---- statements ------------------------------------------------------------------------
    def lower(self) -> dace.SDFG:
        self.declare()
        self._tape()
        chain = Chain(self.sdfg, self.label)
        init = chain.state("init")
        for name, desc in self.sdfg.arrays.items():
            if desc.transient:  # see SDFG_LIFE: the first access must be a top-level state
                init.add_nedge(init.add_access(name), init.add_access(name), dace.Memlet())
        for top in self.tape_tops.values():
            chain.assign(top, "0")
        self.body(chain, self.r.body)
        chain.state("exit")
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
            chain.add(cb)  # first: branches take their parent graph from the block
            for cond, b in s.branches:
                cb.add_branch(CodeBlock(self.x.cond(cond, s.loc)), self.branch(b))
            if s.else_body is not None:
                cb.add_branch(None, self.branch(s.else_body))
        elif isinstance(s, ir.Select):
            self.select(chain, s)
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
            sdfg_call.call(self, chain, s)
        else:
            from fortran_ad.ir.printer import _simple

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
        sign = step_sign(step)
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

    def select(self, chain: Chain, s: ir.Select) -> None:
        cb = ConditionalBlock(self.label("select"), sdfg=self.sdfg)
        chain.add(cb)
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

    def assign(self, chain: Chain, s: ir.Assign) -> None:
        name = s.target.name if isinstance(s.target, ir.Name | ir.ArrayRef) else None
        if name is not None and self.kinds.get(name) == "symbol":
            chain.assign(name, self.x.sym(s.value, s.loc))
            return
        if isinstance(s.target, ir.Name) and self.kinds.get(name) == "array":
            if isinstance(s.value, ir.Name) and self.kinds.get(s.value.name) == "array":
                self.copy(chain.state("copy"), s.value.name, name)
            else:
                sdfg_call.fill(self, chain.state("fill"), name, s)
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
        for dtype, count in push_counts(self.r.body, self.x, self._tape_item).items():
            name, top = f"fad_tape_{dtype.to_string()}", f"fad_top_{dtype.to_string()}"
            self.sdfg.add_array(name, [count], dtype, transient=True, lifetime=SDFG_LIFE)
            self.sdfg.add_symbol(top, dace.int64)
            self.kinds[name], self.los[name] = "array", ("0",)
            self.tape_tops[dtype.to_string()] = top

    def _tape_item(self, s: ir.CallStmt) -> tuple[dace.typeclass, object]:
        """The stack type and number of elements one push of ``s`` stores."""
        arg = s.args[0] if len(s.args) == 1 else None
        if isinstance(arg, ir.Name) and self.kinds.get(arg.name) == "symbol":
            return self.sdfg.symbols[arg.name], 1
        if isinstance(arg, ir.Name) and self.kinds.get(arg.name) == "array":
            desc = self.sdfg.arrays[arg.name]
            return desc.dtype, desc.total_size
        if arg is None or self.x.access(arg, s.loc) is None:
            raise FortranADError(
                s.loc, f"{s.name}: the SDFG back end tapes real data and integers only"
            )
        return self.sdfg.arrays[arg.name].dtype, 1

    def tape_op(self, chain: Chain, s: ir.CallStmt) -> None:
        dtype = self._tape_item(s)[0].to_string()
        tape, top = f"fad_tape_{dtype}", self.tape_tops[dtype]
        arg = s.args[0]
        if isinstance(arg, ir.Name) and self.kinds.get(arg.name) == "array":
            sdfg_call.array_tape(self, chain, s, tape, top)
            return
        value = self.x.access(arg, s.loc)  # None: an integer symbol
        slot = Access(tape, top)
        t = Tasklet()
        if s.name == "fad_push":
            t.code.append(f"__out = {t.connector(value) if value else arg.name}")
            add_tasklet(chain.state("push"), "push", t, {"__out": (slot, None)})
            chain.assign(top, f"{top} + 1")
        elif value is None:
            chain.assign(top, f"{top} - 1")
            chain.assign(arg.name, f"{tape}[{top}]")
        else:
            chain.assign(top, f"{top} - 1")
            t.code.append(f"__out = {t.connector(slot)}")
            add_tasklet(chain.state("pop"), "pop", t, {"__out": (value, None)})


def _shared(sym: ir.Symbol) -> bool:
    """State that outlives a call: a transient would silently reset it."""
    return sym.init is not None or any(a.startswith(("common", "save")) for a in sym.attrs)


def lower_routine(
    r: ir.Routine,
    lookup: Callable[[str], ir.Symbol | None],
    resolve: Callable[[str], tuple[ir.Routine, dace.SDFG] | None] | None = None,
) -> dace.SDFG:
    """The SDFG of one routine (validated: a failure here is a bug of this back end);
    ``resolve(name)`` gives the routine and SDFG of a callee."""
    sdfg = Lowering(r, lookup, resolve).lower()
    with quiet():
        sdfg.validate()
    return sdfg
