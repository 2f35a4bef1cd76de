"""Array syntax → loops, so the AD transforms see scalar statements only.

``a(2:n) = b(1:n-1)*c`` becomes a DO loop over the target's section with each operand indexed
by the same iteration. Array intrinsics are lowered in normalize/intrinsics.py: reductions
(SUM, PRODUCT, MAXVAL, ...) and MATMUL into temporaries filled by loops, TRANSPOSE, SPREAD,
CSHIFT, EOSHIFT and RESHAPE into index arithmetic. An assignment that reads its target at
another element is ordered so that every element is read before it is overwritten (the loop
runs backwards where needed, normalize/overlap.py), or goes through a temporary.
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.intrinsic_table import of_class
from fortran_ad.ir.types import Typer
from fortran_ad.ir.walk import children, map_expr, names_in, paths_nest
from fortran_ad.normalize.intrinsics import ArrayIntrinsics
from fortran_ad.normalize.spans import INT1, Iter, Span, fold, int_value, is_unit, wrap

ELEMENTAL = of_class("elemental")  # the elemental intrinsics (ir/intrinsic_table.py)
# array functions whose statements stay as written (passive code only; the AD refuses them
# on active data): their results are not elementwise in any operand
KEEP = frozenset("maxloc minloc findloc pack unpack shape".split())


class Scalarizer:
    """Works for one routine; ``new_symbols`` collects the loop indices and temporaries."""

    # normalize_routine's: MATMUL statements ad/constructs/matmul.py differentiates
    keep_matmul = False
    array_results: frozenset[str] = frozenset()  # user functions with an array result
    in_parallel: frozenset[int] | set[int] = frozenset()  # ids of statements in parallel loops

    def __init__(self, lookup, namer, elemental: set[str]):
        self._lookup = lookup  # name -> Symbol | None
        self.functions = None  # name -> result Symbol of a function of the program
        self.namer = namer
        self.elemental = ELEMENTAL | elemental  # intrinsic and user ELEMENTAL functions
        self.new_symbols: list[ir.Symbol] = []
        self.indices: list[str] = []
        self.locals: set[str] = set()  # the routine's own variables (set by the caller)
        self.dummies: set[str] = set()
        self.pending: list[tuple[str, list[Span]]] = []  # allocatable temporaries of a statement
        self.intr = ArrayIntrinsics(self)

    # -- shapes ------------------------------------------------------------------------------
    def lookup(self, name: str) -> ir.Symbol | None:
        for s in self.new_symbols:
            if s.name == name:
                return s
        return self._lookup(name)

    def rank(self, name: str) -> int:
        sym = self.lookup(name)
        return sym.rank if sym is not None else 0

    def base_rank(self, name: str) -> int:
        """The rank of the variable of a component path through an array of derived type
        (``cs`` of ``cs%q``): the ``head`` of its array references."""
        return self.rank(name.split("%", 1)[0]) if "%" in name else 0

    def whole_component(self, e: ir.ArrayRef) -> ir.ArrayRef:
        """``cs(i)%q`` (an array component of one element) as ``cs(i)%q(:)``."""
        if not e.head or len(e.subs) != e.head or self.rank(e.name) <= e.head:
            return e
        full = (*e.subs, *(ir.Range() for _ in range(self.rank(e.name) - e.head)))
        return ir.ArrayRef(e.name, full, e.head)

    def dim_bounds(
        self, name: str, k: int, loc: ir.SourceLoc, head: tuple[ir.Expr, ...] = ()
    ) -> tuple[ir.Expr, ir.Expr]:
        sym = self.lookup(name)
        r = self.base_rank(name)
        if r and k < r:  # a dimension of the array of derived type
            return self.dim_bounds(name.split("%", 1)[0], k, loc)
        if r:  # a dimension of the component: that of the element referenced (or the first)
            d = sym.dims[k]
            if d.kind == "explicit":
                return (d.lo or INT1, d.hi)
            var = name.split("%", 1)[0]
            if len(head) != r or any(isinstance(h, ir.Range) for h in head):
                head = tuple(ir.Call("lbound", (ir.Name(var), _lit(j + 1))) for j in range(r))
            elem = ir.ArrayRef(name, head, r)
            kk = _lit(k - r + 1)
            return (ir.Call("lbound", (elem, kk)), ir.Call("ubound", (elem, kk)))
        d = sym.dims[k]
        kk = ir.Literal(str(k + 1), "integer")
        if d.kind == "explicit":
            return (d.lo or INT1, d.hi)
        if d.kind == "assumed":
            size = ir.Call("size", (ir.Name(name), kk))
            if d.lo is None:
                return (INT1, size)
            return (d.lo, fold(ir.BinOp("-", ir.BinOp("+", d.lo, size), INT1)))
        if d.kind == "deferred":
            return (ir.Call("lbound", (ir.Name(name), kk)), ir.Call("ubound", (ir.Name(name), kk)))
        raise FortranADError(loc, f"whole-array use of assumed-size array '{name}' has no extent")

    def shape(self, e: ir.Expr, loc: ir.SourceLoc) -> list[Span] | None:
        """The looped dimensions of an array-valued expression, None if it is a scalar."""
        if isinstance(e, ir.Name):
            r = self.rank(e.name)
            return [Span(*self.dim_bounds(e.name, k, loc)) for k in range(r)] if r else None
        if isinstance(e, ir.ArrayRef):
            e = self.whole_component(e)
            out = []
            for k, s in enumerate(e.subs):
                if isinstance(s, ir.Range):
                    lo, hi = (None, None)
                    if s.lo is None or s.hi is None:
                        lo, hi = self.dim_bounds(e.name, k, loc, e.subs[: e.head])
                    out.append(Span(s.lo or lo, s.hi or hi, s.step))
                else:
                    inner = self.shape(s, loc)  # a vector subscript a(idx)
                    if inner is not None:
                        out.extend(inner)
            return out or None
        if isinstance(e, ir.Call):
            if e.name in self.elemental:
                return self._first_shape(_values(e.args), loc)
            return self.intr.shape(e, loc)
        if isinstance(e, ir.ArrayCtor):
            return self.intr.ctor_shape(e, loc)
        if isinstance(e, ir.Keyword):
            return self.shape(e.value, loc)
        if isinstance(e, ir.BinOp | ir.UnOp | ir.Paren):
            return self._first_shape(children(e), loc)
        return None

    def _first_shape(self, es, loc) -> list[Span] | None:
        for c in es:
            sp = self.shape(c, loc)
            if sp is not None:
                return sp
        return None

    def is_array_valued(self, e: ir.Expr) -> bool:
        try:
            return self.shape(e, ir.NOWHERE) is not None
        except FortranADError:
            return True

    def type_of(self, e: ir.Expr) -> ir.TypeSpec | None:
        """The declared-style type of ``e`` (for temporaries), by ir/types.py."""
        t = Typer(self.lookup, self.functions).of(e)
        return t.spec if t is not None else None

    # -- element access ----------------------------------------------------------------------
    def element(self, e: ir.Expr, it: Iter, loc) -> ir.Expr:
        """``e`` at the iteration ``it`` (operands conform to the iteration's spans)."""

        def fn(x: ir.Expr) -> ir.Expr | None:
            if isinstance(x, ir.Call) and x.name in self.elemental:
                return None  # elementwise: its array arguments are indexed below
            if isinstance(x, ir.Call | ir.ArrayCtor):
                if self.shape(x, loc) is None:
                    return x  # reductions and inquiries keep their array arguments
                return self.intr.element(x, it, loc)
            sp = self.shape(x, loc) if isinstance(x, ir.Name | ir.ArrayRef) else None
            if sp is None:
                return None
            if len(sp) != len(it):
                raise FortranADError(loc, "array operands of different rank in one statement")
            subs_in = (
                list(self.whole_component(x).subs)
                if isinstance(x, ir.ArrayRef)
                else [ir.Range() for _ in range(self.rank(x.name))]
            )
            subs: list[ir.Expr] = []
            k = 0
            for s in subs_in:
                if isinstance(s, ir.Range):
                    subs.append(_index(sp[k], *it[k]))
                    k += 1
                elif self.shape(s, loc) is not None:  # vector subscript
                    n = len(self.shape(s, loc) or [])
                    subs.append(self.element(s, it[k : k + n], loc))
                    k += n
                else:
                    subs.append(s)
            head = x.head if isinstance(x, ir.ArrayRef) else self.base_rank(x.name)
            return ir.ArrayRef(x.name, tuple(subs), head)

        return map_expr(e, fn)

    def iteration(self, space: list[Span]) -> Iter:
        return [(sp, ir.Name(self.index(k))) for k, sp in enumerate(space)]

    def loops(self, it: Iter, body: list[ir.Stmt], loc, backwards=frozenset()) -> ir.Stmt:
        """The loop nest of an iteration (first dimension innermost); dimensions in
        ``backwards`` run from hi down to lo (unit steps only)."""
        stmt: tuple[ir.Stmt, ...] = tuple(body)
        for k, (sp, var) in enumerate(it):
            assert isinstance(var, ir.Name)
            if k in backwards:
                minus = ir.UnOp("-", INT1)
                stmt = (ir.Do(var.name, sp.hi, sp.lo, minus, stmt, loc=loc),)
            else:
                stmt = (ir.Do(var.name, sp.lo, sp.hi, sp.step, stmt, loc=loc),)
        return stmt[0]

    def index(self, k: int) -> str:
        while len(self.indices) <= k:
            self.indices.append(self.new_var("i", ir.TypeSpec("integer")))
        return self.indices[k]

    def new_var(self, stem: str, t: ir.TypeSpec | None, dims: tuple[ir.Dim, ...] = ()) -> str:
        name = self.namer.temp(stem)
        self.new_symbols.append(ir.Symbol(name, t, dims, attrs=frozenset({"generated"})))
        return name

    def temp_array(self, stem: str, t, space: list[Span], loc, allocatable: bool = False) -> str:
        """An automatic array shaped like ``space`` when its bounds are specification
        expressions (dummies, constants, inquiries of dummies); otherwise, where the caller
        allows it, an allocatable one that ``assign`` allocates around its statement."""
        if allocatable and not all(
            self.spec_ok(b) for sp in space for b in (sp.lo, sp.hi, sp.step) if b is not None
        ):
            dims = tuple(ir.Dim("deferred") for _ in space)
            name = self.namer.temp(stem)
            attrs = frozenset({"generated", "allocatable"})
            self.new_symbols.append(ir.Symbol(name, t, dims, attrs=attrs))
            self.pending.append((name, space))
            return name
        self.require_spec(space, loc)
        dims = tuple(ir.Dim("explicit", sp.lo, sp.hi) for sp in space)
        if any(sp.step is not None for sp in space):
            dims = tuple(ir.Dim("explicit", INT1, sp.extent()) for sp in space)
        return self.new_var(stem, t, dims)

    def require_spec(self, space: list[Span], loc) -> None:
        for sp in space:
            for bound in (sp.lo, sp.hi, sp.step):
                if bound is not None and not self.spec_ok(bound):
                    raise FortranADError(
                        loc,
                        "this array expression needs a temporary whose bounds are not "
                        "specification expressions",
                        "assign the operand to an array variable first, or use explicit loops",
                    )

    def spec_ok(self, e: ir.Expr) -> bool:
        """Can ``e`` size an automatic array here (dummies, parameters, module variables)?"""
        made = {s.name for s in self.new_symbols}
        for name in names_in(e):
            if name in made:
                return False
            if name in self.locals and name not in self.dummies:
                sym = self.lookup(name)
                if sym is None or "parameter" not in sym.attrs:
                    return False
        return True

    # -- statements --------------------------------------------------------------------------
    def assign(self, s: ir.Assign, mask: ir.Expr | None = None) -> list[ir.Stmt]:
        """One assignment (under a WHERE control ``mask``, an array expression) → loops."""
        return self.allocating(lambda: self._assign(s, mask), s.loc)

    def allocating(self, build, loc) -> list[ir.Stmt]:
        """Statements from ``build()``, with the allocatable temporaries they need allocated
        before and freed after."""
        from fortran_ad.ir.printer import expr

        outer, self.pending = self.pending, []
        body = build()
        pre: list[ir.Stmt] = []
        post: list[ir.Stmt] = []
        for name, space in self.pending:
            bounds = ", ".join(f"{expr(sp.lo)}:{expr(sp.hi)}" for sp in space)
            if any(sp.step is not None for sp in space):
                bounds = ", ".join(expr(sp.extent()) for sp in space)
            used = set().union(*(names_in(sp.hi) | names_in(sp.lo) for sp in space))
            pre.append(ir.Opaque(f"allocate({name}({bounds}))", tuple(sorted(used)), (name,), loc))
            post.append(ir.Opaque(f"deallocate({name})", (), (name,), loc))
        self.pending = outer
        if pre and body and body[0].label:
            from dataclasses import replace

            pre[0] = replace(pre[0], label=body[0].label)
            body[0] = replace(body[0], label=None)
        return [*pre, *body, *post]

    def _array_valued_keep(self, e: ir.Expr) -> bool:
        """Does ``e`` call a KEEP function with an array (or unknown) result? ``maxloc(x, 1)``
        of a vector is a scalar and leaves the statement to be scalarized."""
        from fortran_ad.ir.walk import subexprs

        typer = Typer(self.lookup, self.functions)
        for x in subexprs(e):
            if isinstance(x, ir.Call) and x.name in KEEP:
                t = typer.of(x)
                if t is None or t.rank > 0:
                    return True
        return False

    def _keeps_matmul(self, s: ir.Assign) -> bool:
        from fortran_ad.normalize.matmul_form import has_matmul, match

        if not has_matmul(s.value) or id(s) in self.in_parallel:
            return False

        def rank_of(e: ir.Expr) -> int | None:
            if isinstance(e, ir.ArrayRef) and any(
                not isinstance(x, ir.Range) and self.shape(x, s.loc) is not None for x in e.subs
            ):
                return None  # a vector subscript
            sp = self.shape(e, s.loc)
            return len(sp) if sp else 0

        def is_real(e: ir.Expr) -> bool:
            t = self.type_of(e)
            return t is not None and t.is_real

        return match(s, rank_of, is_real) is not None

    def _assign(self, s: ir.Assign, mask: ir.Expr | None = None) -> list[ir.Stmt]:
        from fortran_ad.normalize.overlap import order

        if self._array_valued_keep(s.value) and mask is None:
            return [s]  # passive array functions: left as written (the AD refuses them if active)
        if isinstance(s.value, ir.Call) and s.value.name in self.array_results:
            if mask is not None:
                raise FortranADError(
                    s.loc, f"function '{s.value.name}' with an array result under a WHERE mask "
                    "is not supported yet", "assign its result to a temporary array first"
                )  # fmt: skip
            return [s]  # c = f(x): the whole result at once (ad/ calls f's derivative once)
        if mask is None and self.keep_matmul and self._keeps_matmul(s):
            return [s]  # a library call the AD differentiates as a whole (ad/constructs/matmul.py)
        pre, value = self.intr.hoist(s.value, s.loc)
        if mask is not None:
            mpre, mask = self.intr.hoist(mask, s.loc)
            pre += mpre
        space = self.shape(s.target, s.loc)
        if space is None:
            return [*pre, ir.Assign(s.target, value, s.loc, s.label)]
        pre += self.allocate_on_assignment(s.target, value, mask, s.loc)
        it = self.iteration(space)
        lhs = self.element(s.target, it, s.loc)
        rhs = self.element(value, it, s.loc)
        cond = self.element(mask, it, s.loc) if mask is not None else None
        name = s.target.name  # type: ignore[union-attr]
        how = order(lhs, rhs, name, it)
        if how is None:  # no safe order: through a temporary shaped like the iteration
            tmp = self.temp_array("tmp", self.type_of(s.target), space, s.loc, True)
            t_elem = self.element(ir.Name(tmp), it, s.loc)
            first = self.loops(it, [_guard(cond, ir.Assign(t_elem, rhs, s.loc))], s.loc)
            second = self.loops(it, [_guard(cond, ir.Assign(lhs, t_elem, s.loc))], s.loc)
            return [*pre, _with_label(first, s.label), second]
        loop = self.loops(it, [_guard(cond, ir.Assign(lhs, rhs, s.loc))], s.loc, how)
        return [*pre, _with_label(loop, s.label)]

    def allocate_on_assignment(
        self, target: ir.Expr, value: ir.Expr, mask: ir.Expr | None, loc
    ) -> list[ir.Stmt]:
        """``x = expr`` with ``x`` a whole ALLOCATABLE array and ``expr`` an array allocates
        ``x`` when it is not allocated (F2003 10.2.1.3; the loops that replace the statement
        would index an unallocated array): ``if (.not. allocated(x)) allocate(x,
        mold=expr)``, whose bounds are ``expr``'s like the standard's, when ``x`` is a local
        (or a component of one); a dummy's or a global's allocation is its owner's, and an
        unallocated one stops the program (ERROR STOP with the line; an ALLOCATE in a
        callee would make its adjoint joint and copy its outputs). A shape change of an
        allocated ``x`` stops the program with a message naming the line (ERROR STOP): it is
        not reproduced, and the loops would run over ``x``'s old bounds. Not
        when ``expr`` mentions ``x`` or a part of it (a valid program has ``x`` allocated
        then); ``s%v = cos(s%u)`` is guarded."""
        from fortran_ad.ir.printer import expr
        from fortran_ad.ir.walk import subexprs, var_of

        if mask is not None or not isinstance(target, ir.Name):
            return []
        sym = self.lookup(target.name)
        if sym is None or "allocatable" not in sym.attrs or not self.is_array_valued(value):
            return []
        var = var_of(target.name)
        if any(paths_nest(target.name, x.name) for x in subexprs(value) if _is_ref(x)):
            return []
        where = f"{loc.file.rsplit('/', 1)[-1]}:{loc.line}" if loc.file else "?"

        def stop(what: str) -> ir.Opaque:
            text = f"error stop 'fortran-ad: {where}: {target.name} {what} (not supported)'"
            return ir.Opaque(text, loc=loc)

        unallocated = ir.UnOp(".not.", ir.Call("allocated", (target,)))
        sym_var = self.lookup(var)
        local = (
            var in self.locals
            and var not in self.dummies
            and sym_var is not None
            and "save" not in sym_var.attrs
        )
        if local:  # allocated here, as the assignment would
            reads = tuple(sorted(names_in(value) | {var}))
            text = f"allocate({target.name}, mold={expr(value)})"
            alloc: ir.Stmt = ir.Opaque(text, reads, (var,), loc)
        else:  # a dummy's or a global's: allocated by its owner (a change of allocation
            alloc = stop("allocated by assignment")  # status would reach the callers)
        out: list[ir.Stmt] = [ir.If(((unallocated, (alloc,)),), loc=loc)]
        space = self.shape(value, loc)
        if space:  # a reallocation to another shape: stop loudly rather than run over the old
            differs = None
            for k, sp in enumerate(space, 1):
                size = ir.Call("size", (target, ir.Literal(str(k), "integer")))
                d = ir.BinOp("/=", size, sp.extent())
                differs = d if differs is None else ir.BinOp(".or.", differs, d)
            out.append(ir.If(((differs, (stop("reshaped by assignment"),)),), loc=loc))
        return out


def _is_ref(x: ir.Expr) -> bool:
    return isinstance(x, ir.Name | ir.ArrayRef)


def _values(args) -> list[ir.Expr]:
    return [a.value if isinstance(a, ir.Keyword) else a for a in args]


def _guard(cond: ir.Expr | None, s: ir.Stmt) -> ir.Stmt:
    return s if cond is None else ir.If(((cond, (s,)),), inline=True, loc=s.loc)


def _index(src: Span, space: Span, v: ir.Expr) -> ir.Expr:
    """Index of a ``src`` section at the index ``v`` of the ``space`` section."""
    if is_unit(src.step) and is_unit(space.step):
        if src.lo == space.lo:
            return v
        a, b = int_value(src.lo), int_value(space.lo)
        if a is not None and b is not None:
            return fold(ir.BinOp("+", v, ir.Literal(str(a - b), "integer")))
        return ir.BinOp("+", v, ir.Paren(ir.BinOp("-", src.lo, wrap(space.lo))))
    k = ir.BinOp("/", ir.Paren(ir.BinOp("-", v, wrap(space.lo))), space.step or INT1)
    return ir.BinOp("+", src.lo, ir.BinOp("*", k, src.step or INT1))


def _with_label(s: ir.Stmt, label: str | None) -> ir.Stmt:
    from dataclasses import replace

    return replace(s, label=label) if label else s


def _lit(k: int) -> ir.Literal:
    return ir.Literal(str(k), "integer")
