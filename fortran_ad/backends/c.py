"""IR routine → C99 function (the C back end; files are assembled in backends/c_files.py).

Conventions of the C code (so the ISO_C_BINDING wrappers of backends/c_iface.py can call it):
* every dummy is passed by reference (``double *restrict x``: Fortran forbids aliasing of
  dummies that are written, which is what ``restrict`` says); an assumed-shape array dummy is
  followed by its extents ``int64_t x__n1, ...`` (its lower bounds are the declared ones);
* arrays are column-major; ``X_(i, j)`` is the element macro of array ``x``, defined from its
  lower bounds ``x__lo1`` and extents ``x__n1`` at the top of the function and undefined at
  the end; local arrays live on the heap (fad_malloc) and are freed on the way out;
* scalar dummies read as ``(*x)``; DO loops evaluate their bounds once, as Fortran does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fortran_ad.backends import c_stmt
from fortran_ad.backends.c_expr import ExprPrinter
from fortran_ad.backends.c_types import CType, ctype_of_spec, int_value, unsupported
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import ScopeTable
from fortran_ad.ir.writer import Writer

RESERVED = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while main exp log sin cos tan sqrt pow fabs floor ceil round "
    "trunc fmod abs exit free malloc index y0 y1 j0 j1 gamma signbit isnan remainder errno "
    "stdin stdout stderr isinf isfinite isnormal fpclassify memcpy realloc bool true false "
    "asm typeof".split()
)


def cid(name: str) -> str:
    """A C identifier for a Fortran name (C keywords and libc names get a trailing ``_``)."""
    return name + "_" if name in RESERVED else name


@dataclass
class Var:
    sym: ir.Symbol
    ctype: CType
    cname: str
    dummy: bool = False
    rank: int = 0
    lo: list[str] = field(default_factory=list)
    n: list[str] = field(default_factory=list)
    assumed: bool = False  # assumed-shape dummy: extents passed by the caller
    alloc: bool = False
    heap: bool = False  # a local array we malloc and free
    hosted: bool = False  # a host variable passed to an internal procedure (with lo and n)
    param: bool = False  # a PARAMETER (a const in C; arrays are indexed directly)
    common: str | None = None  # the C text of a COMMON member's storage

    @property
    def macro(self) -> str:
        return self.cname.upper() + "_"


class CWriter(Writer):
    """Indentation without Fortran's ``&`` continuation."""

    def line(self, text: str, label: str | None = None) -> None:
        self.lines.append(self.unit * self.level + text)

    def comment(self, text: str) -> None:
        text = text.strip().lstrip("!").strip()
        self.lines.append(self.unit * self.level + (f"// {text}" if text else "//"))


class Linker:
    """What the routine translator needs to know about other routines (c_files provides it)."""

    def routine(self, name: str) -> ir.Routine | None:  # pragma: no cover - interface
        raise NotImplementedError

    def cname(self, name: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def parameter(self, sym: ir.Symbol) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def extras(self, name: str) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def common(self, block: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class RoutineC(ExprPrinter):
    """Translates one normalized routine."""

    def __init__(self, r: ir.Routine, scope: ScopeTable, linker: Linker, public: bool):
        self.r = r
        self.scope = scope
        self.linker = linker
        self.public = public
        self.loc = r.loc
        self.vars: dict[str, Var] = {}
        self.w = CWriter()
        self.uses_return = False
        self.tmp = 0
        from fortran_ad.ir.walk import walk_stmts

        assigned = {
            x.target.name
            for x in walk_stmts(r.body)
            if isinstance(x, ir.Assign) and isinstance(x.target, ir.Name)
        }
        for s in r.symbols:
            if s.name not in (*r.args, r.result, *assigned) and self.functions(s.name):
                continue  # an external function's type, declared in the caller (F77)
            if s.name in r.args or s.name == r.result or "parameter" not in s.attrs:
                self.vars[s.name] = self._var(s)
        self.extras = linker.extras(r.name)
        for name in self.extras:  # host variables of an internal procedure: trailing arguments
            v = self._var(scope.host.lookup(name))
            v.dummy = v.hosted = True
            self.vars[name] = v

    # ---- names ------------------------------------------------------------------------------
    def lookup(self, name: str) -> ir.Symbol | None:
        sym = self.scope.lookup(name)
        if sym is not None and sym.type is None:  # implicitly typed (F77)
            from dataclasses import replace

            from fortran_ad.ir.symbols import implicit_rules, implicit_type

            sym = replace(sym, type=implicit_type(name, implicit_rules(self.r.spec)))
        return sym

    def functions(self, name: str) -> ir.Symbol | None:
        callee = self.linker.routine(name)
        own = self.vars.get(name) if hasattr(self, "vars") else None
        if callee is None or callee.kind != "function" or own is not None:
            return None
        return callee.symbol(callee.result)

    def var(self, name: str) -> Var:
        if name in self.vars:
            return self.vars[name]
        sym = self.lookup(name)
        if sym is None:
            raise FortranADError(self.loc, f"the C back end cannot resolve '{name}'")
        if "parameter" in sym.attrs:
            v = Var(sym, ctype_of_spec(sym.type, self.lookup), self.param(sym), param=True)
            if sym.dims:
                v.rank, v.lo, v.n = 1, *param_shape(sym, self.loc)
            self.vars[name] = v
            return v
        raise unsupported(
            self.loc, f"the module or host variable '{name}' (only PARAMETERs are shared with C)"
        )

    def param(self, sym: ir.Symbol) -> str:
        if self.r.symbol(sym.name) is sym:
            return cid(sym.name)
        return self.linker.parameter(sym)

    def _var(self, s: ir.Symbol) -> Var:
        s = self.lookup(s.name) if s.type is None else s
        if s is None or s.type is None:
            raise unsupported(s.loc, f"the untyped variable '{s.name}'")
        v = Var(s, ctype_of_spec(s.type, self.lookup, s.loc), cid(s.name))
        block = next((a[7:-1] for a in s.attrs if a.startswith("common/")), None)
        if block is not None:
            v.common = self._common(s, block, v.ctype)
        v.dummy = s.name in self.r.args
        v.rank = len(s.dims)
        v.alloc = "allocatable" in s.attrs or "pointer" in s.attrs
        if "pointer" in s.attrs or "optional" in s.attrs or "target" in s.attrs:
            what = next(a for a in ("pointer", "optional", "target") if a in s.attrs)
            raise unsupported(s.loc, f"{what.upper()} variables ('{s.name}')")
        for d, dim in enumerate(s.dims, start=1):
            v.lo.append(f"{v.cname}__lo{d}")
            v.n.append(f"{v.cname}__n{d}")
            if dim.kind == "assumed":
                v.assumed = True
        v.heap = v.rank > 0 and s.name not in self.r.args and not v.alloc and v.common is None
        return v

    # ---- ExprPrinter hooks --------------------------------------------------------------------
    def ref(self, name: str, whole: bool = False) -> str:
        v = self.var(name)
        if v.rank and not whole:
            raise unsupported(self.loc, f"whole-array use of '{name}' in an expression")
        if v.dummy and not v.rank:
            return f"(*{v.cname})"
        return v.cname

    def element(self, name: str, subs: tuple[ir.Expr, ...]) -> str:
        v = self.var(name)
        if len(subs) != v.rank:
            raise FortranADError(self.loc, f"'{name}' has rank {v.rank}, not {len(subs)}")
        if v.param:
            return f"{v.cname}[({self.expr(subs[0])}) - {v.lo[0]}]"
        return f"{v.macro}({', '.join(self.expr(s) for s in subs)})"

    def extent(self, name: str, dim: int) -> str:
        v = self.var(name)
        if dim > v.rank or self._assumed_size(v, dim):
            raise unsupported(self.loc, f"size of dimension {dim} of '{name}'")
        return v.n[dim - 1]

    def lower(self, name: str, dim: int) -> str:
        return self.var(name).lo[dim - 1]

    def size_text(self, name: str) -> str:
        v = self.var(name)
        if not v.rank or self._assumed_size(v, v.rank):
            raise unsupported(self.loc, f"SIZE of '{name}'")
        return " * ".join(v.n)

    def _assumed_size(self, v: Var, dim: int) -> bool:
        return v.sym.dims[dim - 1].kind == "assumed_size"

    def call_function(self, e: ir.Call) -> str:
        return self._call_text(e.name, e.args)

    # ---- the function -----------------------------------------------------------------------
    def signature(self) -> str:
        r = self.r
        params = []
        for a in r.args:
            v = self.vars[a]
            params.append(f"{v.ctype.c} *restrict {v.cname}")
            if v.assumed:
                params += [f"int64_t {n}" for n in v.n]
        for name in self.extras:
            v = self.vars[name]
            params.append(f"{v.ctype.c} *restrict {v.cname}")
            params += [f"int64_t {b}" for b in (*v.lo, *v.n)]
        ret = self.vars[r.result].ctype.c if r.kind == "function" else "void"
        static = "" if self.public else "static "
        return f"{static}{ret} {self.linker.cname(r.name)}({', '.join(params) or 'void'})"

    def text(self) -> str:
        w = self.w
        for c in self.r.comments:
            w.comment(c)
        w.line(self.signature() + " {")
        w.indent()
        self._declarations()
        for s in self.r.body:
            self.stmt(s)
        w.dedent()
        if self.uses_return:
            w.line("fad_return:;")
        w.indent()
        for v in self.vars.values():
            if (v.heap or v.alloc) and v.common is None:
                w.line(f"free({v.cname});")
        if self.r.kind == "function":
            w.line(f"return {self.vars[self.r.result].cname};")
        w.dedent()
        w.line("}")
        for v in self.vars.values():
            if v.rank and not v.param:
                w.line(f"#undef {v.macro}")
            elif v.common is not None:
                w.line(f"#undef {v.cname}")
        return w.text()

    def _common(self, s: ir.Symbol, block: str, ct: CType) -> str:
        """``(double *)(npzpar_ + 16)``: gfortran lays a COMMON block out without padding, under
        the symbol ``<block>_`` (blank common: ``__BLNK__``)."""
        item = next(i for i in self.r.spec if isinstance(i, ir.Common) and i.block == block)
        offset = 0
        for member in item.members:
            if member.name == s.name:
                break
            m = self.lookup(member.name)
            size = ctype_of_spec(m.type, self.lookup, m.loc).kind
            for d in m.dims:
                if d.kind != "explicit" or d.hi is None:
                    raise unsupported(m.loc, f"the COMMON array '{m.name}' without fixed size")
                lo = int_value(d.lo, self.lookup) if d.lo is not None else 1
                size *= max(int_value(d.hi, self.lookup) - lo + 1, 0)
            offset += size
        symbol = self.linker.common(block)
        return f"(({ct.c} *)({symbol} + {offset}))"

    def _declarations(self) -> None:
        w = self.w
        for s in self.r.symbols:  # local PARAMETERs first: declarations may use them
            if "parameter" in s.attrs and s.name not in self.r.args:
                self.loc = s.loc
                v = self.var(s.name)
                if s.init is None:
                    raise FortranADError(s.loc, f"PARAMETER '{s.name}' has no value")
                if v.rank:
                    items = ", ".join(self.cast(x, v.ctype) for x in param_items(s, s.loc))
                    w.line(f"static const {v.ctype.c} {v.cname}[{v.n[0]}] = {{{items}}};")
                else:
                    w.line(f"const {v.ctype.c} {v.cname} = {self.cast(s.init, v.ctype)};")
        for v in list(self.vars.values()):
            s = v.sym
            self.loc = s.loc
            if v.hosted or v.param:
                continue
            if v.common is not None:
                if v.rank:
                    w.line(f"{v.ctype.c} *const {v.cname} = {v.common};")
                    self._bounds(v, s.dims)
                else:
                    w.line(f"#define {v.cname} (*{v.common})")
                continue
            if v.dummy:
                if v.rank and not v.assumed:
                    self._bounds(v, s.dims)
                elif v.assumed:
                    for d, dim in enumerate(s.dims):
                        lo = self.expr(dim.lo) if dim.lo is not None else "1"
                        w.line(f"const int64_t {v.lo[d]} = {lo};")
                continue
            if v.alloc:
                w.line(f"{v.ctype.c} *{v.cname} = NULL;")
                w.line("int64_t " + ", ".join(f"{lo} = 1" for lo in v.lo) + ";")
                w.line("int64_t " + ", ".join(f"{n} = 0" for n in v.n) + ";")
            elif v.rank:
                if "save" in s.attrs or s.init is not None:
                    raise unsupported(s.loc, f"the SAVEd or initialized local array '{s.name}'")
                self._bounds(v, s.dims)
                size = " * ".join(v.n)
                w.line(f"{v.ctype.c} *{v.cname} = fad_malloc(sizeof({v.ctype.c}) * {size});")
            elif s.init is not None or "save" in s.attrs:
                init = f" = {self.expr(s.init)}" if s.init is not None else " = 0"
                w.line(f"static {v.ctype.c} {v.cname}{init};")
            else:
                w.line(f"{v.ctype.c} {v.cname};")
        unused = []
        for v in self.vars.values():
            if v.rank and not v.param:
                w.line(f"#define {v.macro}({', '.join(_IDX[: v.rank])}) {self._index(v)}")
                unused += [
                    *v.lo,
                    *(n for d, n in enumerate(v.n) if not self._assumed_size(v, d + 1)),
                ]
        if unused:  # bounds the body may not need (no -Wunused warnings)
            w.line(" ".join(f"(void){x};" for x in unused))
        self.loc = self.r.loc

    def _bounds(self, v: Var, dims: tuple[ir.Dim, ...]) -> None:
        for d, dim in enumerate(dims):
            lo = self.expr(dim.lo) if dim.lo is not None else "1"
            self.w.line(f"const int64_t {v.lo[d]} = {lo};")
            if dim.kind == "assumed_size":
                continue
            if dim.kind != "explicit" or dim.hi is None:
                raise unsupported(v.sym.loc, f"the array declaration of '{v.sym.name}'")
            self.w.line(f"const int64_t {v.n[d]} = fad_extent({v.lo[d]}, {self.expr(dim.hi)});")

    def _index(self, v: Var) -> str:
        terms = f"(({_IDX[v.rank - 1]}) - {v.lo[v.rank - 1]})"
        for d in range(v.rank - 2, -1, -1):
            terms = f"(({_IDX[d]}) - {v.lo[d]}) + {v.n[d]} * ({terms})"
        return f"{v.cname}[{terms}]"

    # ---- statements -------------------------------------------------------------------------
    def stmt(self, s: ir.Stmt) -> None:
        self.loc = s.loc if s.loc.line else self.loc
        c_stmt.statement(self, s)

    def _call_text(self, name: str, args: tuple[ir.Expr, ...]) -> str:
        callee = self.linker.routine(name)
        if callee is None:
            raise unsupported(self.loc, f"the call of '{name}' (not in the given sources)")
        if any(isinstance(a, ir.Keyword) for a in args) or len(args) != len(callee.args):
            raise unsupported(self.loc, f"keyword or optional arguments in the call of '{name}'")
        out: list[str] = []
        for a, dname in zip(args, callee.args, strict=True):
            out += self.actual(a, callee.symbol(dname))
        for extra in self.linker.extras(name):
            v = self.var(extra)
            out.append(v.cname if v.dummy or v.rank else f"&{v.cname}")
            out += [*v.lo, *(n if n else "0" for n in v.n)]
        return f"{self.linker.cname(name)}({', '.join(out)})"

    def actual(self, a: ir.Expr, dummy: ir.Symbol | None) -> list[str]:
        """C arguments for actual ``a`` passed to ``dummy`` (address, then extents)."""
        if dummy is None or dummy.type is None:
            raise unsupported(self.loc, "an untyped dummy argument")
        dt = ctype_of_spec(dummy.type, self.lookup, self.loc)
        if not dummy.dims:
            if (
                isinstance(a, ir.Name | ir.ArrayRef)
                and self.ctype(a) == dt
                and not self.var(a.name).param
            ):
                if isinstance(a, ir.Name) and self.var(a.name).rank:
                    raise unsupported(self.loc, f"array '{a.name}' passed to a scalar dummy")
                text = self.expr(a)
                return [text[2:-1] if text.startswith("(*") else f"&{text}"]
            return [f"&({dt.c}){{{self.cast(a, dt)}}}"]
        pointer, extents = self.section(a)
        if self.ctype(a) != dt:
            raise unsupported(self.loc, "an array argument of another type or kind")
        assumed = any(d.kind == "assumed" for d in dummy.dims)
        if assumed:
            if extents is None or len(extents) != len(dummy.dims):
                raise unsupported(self.loc, "this actual argument of an assumed-shape dummy")
            return [pointer, *extents]
        return [pointer]

    def section(self, a: ir.Expr) -> tuple[str, list[str] | None]:
        """Pointer to the first element of a contiguous whole array, section or element
        (sequence association), and the extents of its ranged dimensions (None for an
        element)."""
        if isinstance(a, ir.Name):
            v = self.var(a.name)
            if not v.rank:
                raise unsupported(self.loc, f"scalar '{a.name}' passed to an array dummy")
            return v.cname, v.n
        if not isinstance(a, ir.ArrayRef):
            raise unsupported(self.loc, "an array expression as an actual argument")
        v = self.var(a.name)
        firsts, extents, scalar_seen, full_prev = [], [], False, True
        for d, sub in enumerate(a.subs):
            if isinstance(sub, ir.Range):
                full = sub.lo is None and sub.hi is None
                if scalar_seen or sub.step is not None or (bool(extents) and not full_prev):
                    raise unsupported(self.loc, f"the non-contiguous section of '{a.name}'")
                lo = self.expr(sub.lo) if sub.lo is not None else v.lo[d]
                hi = self.expr(sub.hi) if sub.hi is not None else None
                if hi is None:
                    extents.append(v.n[d] if lo == v.lo[d] else f"({v.n[d]} + {v.lo[d]} - {lo})")
                else:
                    extents.append(f"fad_extent({lo}, {hi})")
                firsts.append(lo)
                full_prev = full
            else:
                scalar_seen = True
                firsts.append(self.expr(sub))
        return f"&{v.macro}({', '.join(firsts)})", (extents or None)

    def temp(self, ctype: str, value: str) -> str:
        self.tmp += 1
        name = f"fad_c{self.tmp}"
        self.w.line(f"const {ctype} {name} = {value};")
        return name


def param_items(sym: ir.Symbol, loc) -> tuple[ir.Expr, ...]:
    """The values of a rank-1 PARAMETER array (an array constructor)."""
    init = sym.init.expr if isinstance(sym.init, ir.Paren) else sym.init
    if len(sym.dims) != 1 or not isinstance(init, ir.ArrayCtor):
        raise unsupported(loc, f"the PARAMETER array '{sym.name}' (only rank 1, [...] values)")
    if any(isinstance(x, ir.ArrayCtor | ir.Call) for x in init.items):
        raise unsupported(loc, f"implied-DO or nested values of PARAMETER '{sym.name}'")
    return init.items


def param_shape(sym: ir.Symbol, loc) -> tuple[list[str], list[str]]:
    d = sym.dims[0]
    lo = d.lo.text if isinstance(d.lo, ir.Literal) else "1"
    if d.lo is not None and not isinstance(d.lo, ir.Literal):
        raise unsupported(loc, f"the lower bound of PARAMETER array '{sym.name}'")
    return [lo], [str(len(param_items(sym, loc)))]


_IDX = ("i1", "i2", "i3", "i4", "i5", "i6", "i7")
