"""Array syntax → loops, so the AD transforms see scalar statements only.

``a(2:n) = b(1:n-1)*c`` becomes a DO loop over the target's section with each operand indexed
by the same iteration; SUM/DOT_PRODUCT without DIM/MASK become reduction loops into a temporary.
Array assignments whose right side reads the target at another index are refused (located):
a scalar loop would change their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

from fortran_ad.ad.rules import real_literal
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import map_expr, subexprs

ELEMENTAL = frozenset(
    "sqrt exp log log10 sin cos tan asin acos atan atan2 sinh cosh tanh abs sign max min mod "
    "modulo dim real dble float int nint floor ceiling aint anint merge dsqrt dexp dlog dsin "
    "dcos dabs dsign dmax1 dmin1 amax1 amin1".split()
)
INT1 = ir.Literal("1", "integer")


@dataclass(frozen=True)
class Span:
    """One looped dimension: lo:hi:step (step None = 1)."""

    lo: ir.Expr
    hi: ir.Expr
    step: ir.Expr | None


class Scalarizer:
    """Works for one routine; ``new_symbols`` collects the loop indices and temporaries."""

    def __init__(self, lookup, namer, elemental: set[str]):
        self.lookup = lookup  # name -> Symbol | None
        self.namer = namer
        self.elemental = ELEMENTAL | elemental  # intrinsic and user ELEMENTAL functions
        self.new_symbols: list[ir.Symbol] = []
        self.indices: list[str] = []

    # -- shapes ------------------------------------------------------------------------------
    def rank(self, name: str) -> int:
        sym = self.lookup(name)
        return sym.rank if sym is not None else 0

    def _dim_bounds(self, name: str, k: int, loc: ir.SourceLoc) -> tuple[ir.Expr, ir.Expr]:
        sym = self.lookup(name)
        d = sym.dims[k]
        kk = ir.Literal(str(k + 1), "integer")
        if d.kind == "explicit":
            return (d.lo or INT1, d.hi)
        if d.kind == "assumed":
            size = ir.Call("size", (ir.Name(name), kk))
            if d.lo is None:
                return (INT1, size)
            return (d.lo, ir.BinOp("-", ir.BinOp("+", d.lo, size), INT1))
        if d.kind == "deferred":
            return (ir.Call("lbound", (ir.Name(name), kk)), ir.Call("ubound", (ir.Name(name), kk)))
        raise FortranADError(loc, f"whole-array use of assumed-size array '{name}' has no extent")

    def spans(self, e: ir.Expr, loc: ir.SourceLoc) -> list[Span] | None:
        """The looped dimensions of an array-valued designator, None if scalar."""
        if isinstance(e, ir.Name) and self.rank(e.name) > 0:
            return [Span(*self._dim_bounds(e.name, k, loc), None) for k in range(self.rank(e.name))]
        if isinstance(e, ir.ArrayRef) and any(isinstance(s, ir.Range) for s in e.subs):
            out = []
            for k, s in enumerate(e.subs):
                if isinstance(s, ir.Range):
                    if s.lo is None or s.hi is None:
                        lo, hi = self._dim_bounds(e.name, k, loc)
                    out.append(Span(s.lo or lo, s.hi or hi, s.step))
            return out
        return None

    def is_array_valued(self, e: ir.Expr) -> bool:
        """Does ``e`` denote an array (reductions and inquiries of arrays are scalars)?"""
        if isinstance(e, ir.Call):
            if e.name not in self.elemental:
                return False
            return any(self.is_array_valued(a) for a in e.args)
        if self.spans(e, ir.NOWHERE) is not None:
            return True
        if isinstance(e, ir.ArrayRef):
            return False
        from fortran_ad.ir.walk import children

        return any(self.is_array_valued(c) for c in children(e))

    # -- element access ----------------------------------------------------------------------
    def element(self, e: ir.Expr, space: list[Span], idx: list[str], loc) -> ir.Expr:
        """``e`` at the iteration ``idx`` of ``space`` (operands conform to the space)."""

        def fn(x: ir.Expr) -> ir.Expr | None:
            if isinstance(x, ir.Call) and x.name not in self.elemental:
                return x  # reductions and inquiries keep their array arguments
            sp = self.spans(x, loc)
            if sp is None:
                return None
            if len(sp) != len(space):
                raise FortranADError(loc, "array operands of different rank in one assignment")
            subs_in = (
                list(x.subs)
                if isinstance(x, ir.ArrayRef)
                else [ir.Range() for _ in range(self.rank(x.name))]
            )
            subs: list[ir.Expr] = []
            k = 0
            for s in subs_in:
                if isinstance(s, ir.Range):
                    subs.append(_index(sp[k], space[k], idx[k]))
                    k += 1
                else:
                    subs.append(s)
            return ir.ArrayRef(x.name, tuple(subs))

        return map_expr(e, fn)

    def loops(self, space: list[Span], body: list[ir.Stmt], loc) -> tuple[ir.Stmt, list[str]]:
        idx = [self.index(k) for k in range(len(space))]
        stmt: tuple[ir.Stmt, ...] = tuple(body)
        for k, sp in enumerate(space):  # first dimension innermost
            stmt = (ir.Do(idx[k], sp.lo, sp.hi, sp.step, stmt, loc=loc),)
        return stmt[0], idx

    def index(self, k: int) -> str:
        while len(self.indices) <= k:
            name = self.namer.temp("i")
            self.indices.append(name)
            self.new_symbols.append(
                ir.Symbol(name, ir.TypeSpec("integer"), attrs=frozenset({"generated"}))
            )
        return self.indices[k]

    # -- statements --------------------------------------------------------------------------
    def assign(self, s: ir.Assign) -> list[ir.Stmt]:
        pre, value = self.hoist_reductions(s.value, s.loc)
        s = ir.Assign(s.target, value, s.loc, s.label)
        space = self.spans(s.target, s.loc)
        if space is None:
            return [*pre, s]
        target_name = s.target.name  # type: ignore[union-attr]
        idx = [self.index(k) for k in range(len(space))]
        lhs = self.element(s.target, space, idx, s.loc)
        rhs = self.element(s.value, space, idx, s.loc)
        for x in subexprs(rhs):
            if isinstance(x, ir.ArrayRef) and x.name == target_name and x != lhs:
                raise FortranADError(
                    s.loc,
                    f"array assignment reads its target '{target_name}' at another index",
                    "write this statement as an explicit DO loop (its meaning depends on order)",
                )
        loop, _ = self.loops(space, [ir.Assign(lhs, rhs, s.loc)], s.loc)
        return [*pre, _with_label(loop, s.label)]

    def hoist_reductions(self, e: ir.Expr, loc) -> tuple[list[ir.Stmt], ir.Expr]:
        """SUM(x) / DOT_PRODUCT(a, b) without DIM/MASK → a temporary filled by a loop."""
        pre: list[ir.Stmt] = []

        def fn(x: ir.Expr) -> ir.Expr | None:
            if not isinstance(x, ir.Call) or x.name not in ("sum", "dot_product"):
                return None
            if any(isinstance(a, ir.Keyword) for a in x.args) or (
                x.name == "sum" and len(x.args) != 1
            ):
                raise FortranADError(loc, f"{x.name.upper()} with DIM or MASK is not supported yet")
            inner_pre, args = [], []
            for a in x.args:
                p, a2 = self.hoist_reductions(a, loc)
                inner_pre += p
                args.append(a2)
            body = args[0] if x.name == "sum" else ir.BinOp("*", args[0], args[1])
            space, ref = self._space_of(body, loc)
            sym = self.lookup(ref)
            tmp = self.namer.temp("sum")
            self.new_symbols.append(ir.Symbol(tmp, sym.type, attrs=frozenset({"generated"})))
            idx = [self.index(k) for k in range(len(space))]
            elem = self.element(body, space, idx, loc)
            acc = ir.Assign(ir.Name(tmp), ir.BinOp("+", ir.Name(tmp), _paren(elem)), loc)
            loop, _ = self.loops(space, [acc], loc)
            pre.extend(inner_pre)
            pre.append(ir.Assign(ir.Name(tmp), real_literal("0.0", sym.type), loc))
            pre.append(loop)
            return ir.Name(tmp)

        new = map_expr(e, fn)
        return pre, new

    def _space_of(self, e: ir.Expr, loc) -> tuple[list[Span], str]:
        """The iteration space of an array expression: that of its first array operand."""
        found = self._first_array(e, loc)
        if found is None:
            raise FortranADError(loc, "reduction over an expression with no array operand")
        return found

    def _first_array(self, e: ir.Expr, loc) -> tuple[list[Span], str] | None:
        if isinstance(e, ir.Call) and e.name not in self.elemental:
            return None  # SUM(x) inside is a scalar
        sp = self.spans(e, loc)
        if sp is not None:
            return sp, e.name  # type: ignore[union-attr]
        if isinstance(e, ir.ArrayRef):
            return None
        from fortran_ad.ir.walk import children

        for c in children(e):
            found = self._first_array(c, loc)
            if found is not None:
                return found
        return None


def _paren(e: ir.Expr) -> ir.Expr:
    return ir.Paren(e) if isinstance(e, ir.BinOp) and e.op in ("+", "-") else e


def _index(src: Span, space: Span, var: str) -> ir.Expr:
    """Index of a ``src`` section at iteration ``var`` of the ``space`` section."""
    v: ir.Expr = ir.Name(var)
    if _is_unit(src.step) and _is_unit(space.step):
        if src.lo == space.lo:
            return v
        a, b = _int(src.lo), _int(space.lo)
        if a is not None and b is not None:
            d = a - b
            return ir.BinOp("+" if d > 0 else "-", v, ir.Literal(str(abs(d)), "integer"))
        return ir.BinOp("+", v, ir.Paren(ir.BinOp("-", src.lo, _wrap(space.lo))))
    k = ir.BinOp("/", ir.Paren(ir.BinOp("-", v, _wrap(space.lo))), space.step or INT1)
    return ir.BinOp("+", src.lo, ir.BinOp("*", k, src.step or INT1))


def _wrap(e: ir.Expr) -> ir.Expr:
    return ir.Paren(e) if isinstance(e, ir.BinOp) else e


def _is_unit(e: ir.Expr | None) -> bool:
    return e is None or (isinstance(e, ir.Literal) and e.text == "1")


def _int(e: ir.Expr) -> int | None:
    if isinstance(e, ir.Literal) and e.type == "integer" and e.text.lstrip("-").isdigit():
        return int(e.text)
    return None


def _with_label(s: ir.Stmt, label: str | None) -> ir.Stmt:
    from dataclasses import replace

    return replace(s, label=label) if label else s
