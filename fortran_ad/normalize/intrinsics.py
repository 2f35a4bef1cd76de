"""Array intrinsics → loops and index arithmetic (for normalize/scalarize.py).

* Reductions SUM, PRODUCT, MAXVAL, MINVAL, COUNT, ANY, ALL (with DIM and MASK), DOT_PRODUCT,
  MATMUL (matrix-matrix, matrix-vector, vector-matrix) and array constructors are *hoisted*:
  a temporary filled by loops before the statement. The AD then differentiates the loops, so
  no reduction needs a rule of its own. MAXVAL/MINVAL keep the first extremal element in array
  element order (``if (x > acc) acc = x``): on ties that element receives the whole adjoint.
* TRANSPOSE, SPREAD, CSHIFT, EOSHIFT and RESHAPE are *index maps*: their element at an
  iteration is an element of their argument (EOSHIFT: MERGE with the boundary).
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.intrinsic_table import TABLE
from fortran_ad.ir.types import real_literal
from fortran_ad.ir.walk import map_expr
from fortran_ad.normalize.spans import Span, fold, is_unit, wrap

REDUCTIONS = frozenset("sum product maxval minval count any all".split())
HOISTED = REDUCTIONS | {"dot_product", "matmul"}
INDEX_MAPS = frozenset("transpose spread cshift eoshift reshape".split())
INT1 = ir.Literal("1", "integer")
LOGICAL = ir.TypeSpec("logical")
INTEGER = ir.TypeSpec("integer")


def _lit(n: int) -> ir.Literal:
    return ir.Literal(str(n), "integer")


def _args(call: ir.Call, names: tuple[str, ...], loc) -> dict[str, ir.Expr]:
    """Actual arguments by dummy name (positional then keyword), as the standard names them."""
    out: dict[str, ir.Expr] = {}
    for i, a in enumerate(call.args):
        if isinstance(a, ir.Keyword):
            out[a.name] = a.value
        elif i < len(names):
            out[names[i]] = a
        else:
            raise FortranADError(loc, f"{call.name.upper()}: unsupported argument {i + 1}")
    unknown = set(out) - set(names)
    if unknown:
        raise FortranADError(loc, f"{call.name.upper()}: unsupported argument {sorted(unknown)[0]}")
    return out


# the arguments the lowering supports: the first ones of each intrinsic, named as the
# standard names them (ir/intrinsic_table.py)
_SUPPORTED_ARGS = {
    "sum": 3, "product": 3, "maxval": 3, "minval": 3, "count": 2, "any": 2, "all": 2,
    "transpose": 1, "spread": 3, "cshift": 3, "eoshift": 4, "reshape": 2, "dot_product": 2,
    "matmul": 2,
}  # fmt: skip
SIGNATURES = {name: TABLE[name].args[:n] for name, n in _SUPPORTED_ARGS.items()}


def _dim(value: ir.Expr | None, loc, name: str) -> int:
    if value is None:
        return 1
    if isinstance(value, ir.Literal) and value.type == "integer" and value.text.isdigit():
        return int(value.text)
    raise FortranADError(loc, f"{name.upper()} with a DIM that is not an integer constant")


class ArrayIntrinsics:
    def __init__(self, sc) -> None:
        self.sc = sc  # the Scalarizer

    # -- shapes ------------------------------------------------------------------------------
    def shape(self, call: ir.Call, loc) -> list | None:

        sc = self.sc
        if call.name not in SIGNATURES:
            return None
        a = _args(call, SIGNATURES[call.name], loc)
        if call.name in REDUCTIONS:
            if "dim" not in a:
                return None
            sp = sc.shape(a.get("array", a.get("mask")), loc) or []
            k = _dim(a["dim"], loc, call.name)
            return [s for j, s in enumerate(sp) if j != k - 1] or None
        if call.name == "dot_product":
            return None
        if call.name == "matmul":
            sa, sb = sc.shape(a["matrix_a"], loc), sc.shape(a["matrix_b"], loc)
            out = ([sa[0]] if len(sa) == 2 else []) + ([sb[1]] if len(sb) == 2 else [])
            return out
        if call.name == "transpose":
            sp = sc.shape(a["matrix"], loc)
            return [sp[1], sp[0]]
        if call.name == "spread":
            sp = list(sc.shape(a["source"], loc) or [])
            k = _dim(a.get("dim"), loc, "spread")
            sp.insert(k - 1, Span(INT1, a["ncopies"]))
            return sp
        if call.name == "reshape":
            shp = a["shape"]
            if not isinstance(shp, ir.ArrayCtor) or any(
                isinstance(i, ir.ImpliedDo) for i in shp.items
            ):
                raise FortranADError(loc, "RESHAPE needs its SHAPE as an array constructor [m, n]")
            return [Span(INT1, x) for x in shp.items]
        return sc.shape(a["array"], loc)  # cshift, eoshift

    def ctor_shape(self, e: ir.ArrayCtor, loc) -> list:

        total: ir.Expr = _lit(0)
        for item in e.items:
            total = fold(ir.BinOp("+", total, self._count(item, loc)))
        if isinstance(total, ir.BinOp) and total.left == _lit(0) and total.op == "+":
            total = total.right
        return [Span(INT1, total)]

    def _count(self, item: ir.Expr, loc) -> ir.Expr:

        if isinstance(item, ir.ImpliedDo):
            trips = Span(item.lo, item.hi, item.step).extent()
            inner = ir.ArrayCtor(item.items)
            n = self.ctor_shape(inner, loc)[0].hi
            return trips if n == INT1 else ir.BinOp("*", ir.Paren(trips), ir.Paren(n))
        sp = self.sc.shape(item, loc)
        if sp is None:
            return INT1
        if len(sp) != 1:
            raise FortranADError(loc, "array constructor items must be scalars or vectors")
        return sp[0].extent()

    # -- elements of index maps --------------------------------------------------------------
    def element(self, e: ir.Expr, it, loc) -> ir.Expr:

        sc = self.sc
        if isinstance(e, ir.ArrayCtor) or e.name not in INDEX_MAPS:  # type: ignore[union-attr]
            raise FortranADError(loc, "internal: array value not hoisted before indexing")
        assert isinstance(e, ir.Call)
        a = _args(e, SIGNATURES[e.name], loc)
        if e.name == "transpose":
            return sc.element(a["matrix"], [it[1], it[0]], loc)
        if e.name == "spread":
            k = _dim(a.get("dim"), loc, "spread")
            return sc.element(a["source"], it[: k - 1] + it[k:], loc)
        if e.name in ("cshift", "eoshift"):
            k = _dim(a.get("dim"), loc, e.name) - 1
            shift = a["shift"]
            if sc.shape(shift, loc) is not None:
                raise FortranADError(loc, f"{e.name.upper()} with an array SHIFT")
            sp = sc.shape(a["array"], loc)
            n = sp[k].extent()
            pos = _position(*it[k])
            if e.name == "cshift":
                q = ir.BinOp(
                    "+", ir.Call("modulo", (ir.BinOp("+", _sub1(pos), _w(shift)), n)), INT1
                )
                moved = [*it[:k], (Span(INT1, n), q), *it[k + 1 :]]
                return sc.element(a["array"], moved, loc)
            q = ir.BinOp("+", pos, _w(shift))
            clamped = ir.Call("min", (ir.Call("max", (q, INT1)), n))
            moved = [*it[:k], (Span(INT1, n), clamped), *it[k + 1 :]]
            inside = ir.BinOp(".and.", ir.BinOp(">=", q, INT1), ir.BinOp("<=", q, n))
            boundary = a.get("boundary")
            if boundary is None:
                boundary = real_literal("0.0", sc.type_of(a["array"]))
            value = sc.element(a["array"], moved, loc)
            return ir.Call("merge", (value, sc.element(boundary, it, loc), inside))
        # reshape: the linear (0-based) position, then the source's own subscripts
        src = a["source"]
        ssp = sc.shape(src, loc)
        lin: ir.Expr = _lit(0)
        stride: ir.Expr = INT1
        for sp, v in it:
            lin = ir.BinOp("+", lin, ir.BinOp("*", ir.Paren(_sub1(_position(sp, v))), stride))
            stride = ir.BinOp("*", stride, ir.Paren(sp.extent()))
        moved = []
        stride = INT1
        for sp in ssp:
            ext = sp.extent()
            q = ir.BinOp("+", ir.Call("mod", (ir.BinOp("/", ir.Paren(lin), stride), ext)), INT1)
            moved.append((Span(INT1, ext), q))
            stride = ir.BinOp("*", stride, ir.Paren(ext))
        return sc.element(src, moved, loc)

    # -- hoisting ----------------------------------------------------------------------------
    def hoist(self, e: ir.Expr, loc) -> tuple[list[ir.Stmt], ir.Expr]:
        """Reductions, MATMUL and array constructors in ``e`` → temporaries filled first."""
        pre: list[ir.Stmt] = []

        def fn(x: ir.Expr) -> ir.Expr | None:
            if isinstance(x, ir.Call) and x.name in HOISTED:
                inner = [self.hoist(a, loc) for a in x.args]
                for p, _ in inner:
                    pre.extend(p)
                call = ir.Call(x.name, tuple(a for _, a in inner))
                return self._hoist_call(call, pre, loc)
            if isinstance(x, ir.Call) and x.name == "reshape" and len(x.args) == 2:
                p, source = self.hoist(x.args[0], loc)  # SHAPE stays a constructor
                pre.extend(p)
                return ir.Call(x.name, (source, x.args[1]))
            if isinstance(x, ir.ArrayCtor):
                return self._hoist_ctor(x, pre, loc)
            return None

        return pre, map_expr(e, fn)

    def _hoist_call(self, call: ir.Call, pre: list[ir.Stmt], loc) -> ir.Expr:
        sc = self.sc
        a = _args(call, SIGNATURES[call.name], loc)
        if call.name == "dot_product":
            va, vb = a["vector_a"], a["vector_b"]
            if sc.type_of(va).base == "logical":
                raise FortranADError(loc, "DOT_PRODUCT of logical vectors is not supported")
            call = ir.Call("sum", (ir.BinOp("*", _w(va), _w(vb)),))
            a = {"array": call.args[0]}
        if call.name == "matmul":
            return self._matmul(a["matrix_a"], a["matrix_b"], pre, loc)
        name = call.name
        arr = a.get("array", a.get("mask"))
        space = sc.shape(arr, loc)
        if space is None:
            raise FortranADError(loc, f"{name.upper()} of a scalar")
        mask = a.get("mask") if name not in ("count", "any", "all") else None
        t = {"count": INTEGER, "any": LOGICAL, "all": LOGICAL}.get(name) or sc.type_of(arr)
        it = sc.iteration(space)
        if "dim" in a:
            k = _dim(a["dim"], loc, name) - 1
            res_space = [s for j, s in enumerate(space) if j != k]
            res_it = [x for j, x in enumerate(it) if j != k]
            tmp = sc.temp_array("red", t, res_space, loc, True)
            acc = sc.element(ir.Name(tmp), res_it, loc)
            pre.append(sc.loops(res_it, [ir.Assign(acc, _init(name, acc, t), loc)], loc))
        else:
            tmp = sc.new_var("red", t)
            acc = ir.Name(tmp)
            pre.append(ir.Assign(acc, _init(name, acc, t), loc))
        x = sc.element(arr, it, loc)
        step = _combine(name, acc, x, loc)
        if mask is not None:
            step = ir.If(((sc.element(mask, it, loc), (step,)),), inline=True, loc=loc)
        pre.append(sc.loops(it, [step], loc))
        return ir.Name(tmp)

    def _matmul(self, ma: ir.Expr, mb: ir.Expr, pre: list[ir.Stmt], loc) -> ir.Expr:
        sc = self.sc
        sa, sb = sc.shape(ma, loc), sc.shape(mb, loc)
        if sa is None or sb is None or len(sa) + len(sb) < 3:
            raise FortranADError(loc, "MATMUL needs a matrix and a matrix or vector")
        t = sc.type_of(ma)
        i, l_, j = (ir.Name(sc.index(k)) for k in range(3))
        if len(sa) == 2 and len(sb) == 2:
            full = [(sa[0], i), (sa[1], l_), (sb[1], j)]
            res = [(sa[0], i), (sb[1], j)]
            ea = sc.element(ma, [(sa[0], i), (sa[1], l_)], loc)
            eb = sc.element(mb, [(sa[1], l_), (sb[1], j)], loc)
        elif len(sa) == 2:
            full = [(sa[0], i), (sa[1], l_)]
            res = [(sa[0], i)]
            ea = sc.element(ma, full, loc)
            eb = sc.element(mb, [(sa[1], l_)], loc)
        else:
            full = [(sa[0], l_), (sb[1], j)]
            res = [(sb[1], j)]
            ea = sc.element(ma, [(sa[0], l_)], loc)
            eb = sc.element(mb, full, loc)
        tmp = sc.temp_array("mm", t, [s for s, _ in res], loc, True)
        acc = sc.element(ir.Name(tmp), res, loc)
        pre.append(sc.loops(res, [ir.Assign(acc, real_literal("0.0", t), loc)], loc))
        prod = ir.BinOp("*", _w(ea), _w(eb))
        pre.append(sc.loops(full, [ir.Assign(acc, ir.BinOp("+", acc, prod), loc)], loc))
        return ir.Name(tmp)

    def _hoist_ctor(self, e: ir.ArrayCtor, pre: list[ir.Stmt], loc) -> ir.Expr:
        sc = self.sc
        space = self.ctor_shape(e, loc)
        t = None
        for item in e.items:
            t = sc.type_of(item.items[0] if isinstance(item, ir.ImpliedDo) else item)
            if t is not None and t.is_real:
                break
        tmp = sc.temp_array("ctor", t, space, loc, True)
        simple = all(sc.shape(x, loc) is None and not isinstance(x, ir.ImpliedDo) for x in e.items)
        if simple:
            for k, item in enumerate(e.items):
                target = ir.ArrayRef(tmp, (_lit(k + 1),))
                pre.append(ir.Assign(target, self.hoist(item, loc)[1], loc))
            return ir.Name(tmp)
        pos = ir.Name(sc.new_var("pos", INTEGER))
        pre.append(ir.Assign(pos, _lit(0), loc))
        pre.extend(self._fill(e.items, tmp, pos, loc))
        return ir.Name(tmp)

    def _fill(self, items, tmp: str, pos: ir.Name, loc) -> list[ir.Stmt]:
        sc = self.sc
        out: list[ir.Stmt] = []
        bump = ir.Assign(pos, ir.BinOp("+", pos, INT1), loc)
        for item in items:
            if isinstance(item, ir.ImpliedDo):
                body = tuple(self._fill(item.items, tmp, pos, loc))
                out.append(ir.Do(item.var, item.lo, item.hi, item.step, body, loc=loc))
                continue
            sub_pre, item = self.hoist(item, loc)
            out.extend(sub_pre)
            sp = sc.shape(item, loc)
            if sp is None:
                out += [bump, ir.Assign(ir.ArrayRef(tmp, (pos,)), item, loc)]
            else:
                it = [(sp[0], ir.Name(sc.new_var("j", INTEGER)))]
                put = ir.Assign(ir.ArrayRef(tmp, (pos,)), sc.element(item, it, loc), loc)
                out.append(sc.loops(it, [bump, put], loc))
        return out


def _init(name: str, acc: ir.Expr, t: ir.TypeSpec | None) -> ir.Expr:
    if name in ("sum", "count"):
        return _lit(0) if name == "count" else real_literal("0.0", t)
    if name == "product":
        return real_literal("1.0", t)
    if name in ("any", "all"):
        return ir.Literal(".false." if name == "any" else ".true.", "logical")
    huge = ir.Call("huge", (acc,))
    return ir.UnOp("-", huge) if name == "maxval" else huge


def _combine(name: str, acc: ir.Expr, x: ir.Expr, loc) -> ir.Stmt:
    if name == "sum":
        return ir.Assign(acc, ir.BinOp("+", acc, _w(x)), loc)
    if name == "product":
        return ir.Assign(acc, ir.BinOp("*", acc, _w(x)), loc)
    if name == "count":
        return ir.If(((x, (ir.Assign(acc, ir.BinOp("+", acc, INT1), loc),)),), inline=True)
    if name in ("any", "all"):
        op = ".or." if name == "any" else ".and."
        return ir.Assign(acc, ir.BinOp(op, acc, _w(x)), loc)
    cmp = ">" if name == "maxval" else "<"
    return ir.If(((ir.BinOp(cmp, x, acc), (ir.Assign(acc, x, loc),)),), inline=True, loc=loc)


def _position(sp, v: ir.Expr) -> ir.Expr:
    """1-based position of index ``v`` in span ``sp``."""

    off = fold(ir.BinOp("+", ir.BinOp("-", v, wrap(sp.lo)), INT1))
    if is_unit(sp.step):
        return off
    return ir.BinOp("+", ir.BinOp("/", ir.Paren(ir.BinOp("-", v, wrap(sp.lo))), sp.step), INT1)


def _sub1(e: ir.Expr) -> ir.Expr:

    return fold(ir.BinOp("-", e, INT1))


def _w(e: ir.Expr) -> ir.Expr:
    return ir.Paren(e) if isinstance(e, ir.BinOp | ir.UnOp) else e
