"""Derived types in derivative code.

Conventions (see docs/coverage.md, "Derived types, pointers and operators"):

* A variable of derived type that carries derivatives gets a derivative of the SAME type
  (``sb`` of ``type(state_t)``, the type reached by USE of the primal module); the derivative of
  component ``s%h(i)`` is ``sb%h(i)``. Passive components (integers, logicals, characters) of
  the derivative object are never read nor written by generated code.
* Allocatable components of a derivative object are allocated by generated code: next to every
  ALLOCATE of a primal component (``allocate(sb%h, mold=s%h)``, zeroed), and, at the entry of a
  derivative routine, for every derived-type dummy or module variable whose primal component is
  allocated while the derivative's is not (allocated like the primal, zeroed). A caller may
  allocate them itself (then they must have the primal's bounds).
* Activity: ``s`` is active when any of its real components is; the derivative object only
  carries the components analysis/components.py finds active (``leaves(..., active)``).
* Arrays of derived type: ``cs(i)%q(k)`` is ``ArrayRef("cs%q", (i, k), head=1)``; its
  derivative ``csb(i)%q(k)``. Whole-array statements loop over the elements (``each``).
* Vector modes: the derivative object has a leading direction dimension (``sd(nbdirs)``);
  component statements run in a loop over the directions (``directions``).

Generated statements are written on whole derived-type designators (``call fad_push(s)``,
``sb = 0.0``, ``s0b = s0b + sb``); ``expand`` rewrites them into statements on the real (for
the tape: every numeric) leaf components, recursing through nested types.
"""

from __future__ import annotations

from fortran_ad.ad.constructs import object_stacks
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import component, is_real, type_name
from fortran_ad.ir.types import real_literal
from fortran_ad.ir.walk import map_body, map_expr, subexprs

Leaf = tuple[str, ir.Symbol]  # (path suffix "%p%c", component symbol)


def component_deriv(t, e: ir.Expr, loc: ir.SourceLoc | None) -> ir.Expr:
    """``s%h(i)`` → ``sb%h(i)``: the derivative object's component. In the vector modes the
    derivative object has a leading direction dimension: ``sd(:)%h(i)``, ``csd(:, i)%h``
    (statements on them run in a loop over the directions, see ``Expander.directions``)."""
    var, rest = e.name.split("%", 1)
    name = f"{t.namer.derivative(var)}%{rest}"
    if t.vector:
        sym = t.lookup(e.name)
        head = e.head if isinstance(e, ir.ArrayRef) else 0
        subs = e.subs if isinstance(e, ir.ArrayRef) else ()
        whole = sym is not None and sym.rank > len(subs)
        if whole or any(isinstance(x, ir.Range) for x in subs):
            raise FortranADError(
                loc or t.routine.loc,
                f"vector modes cannot carry the whole array component '{e.name}' of a "
                "derived-type derivative (index it element by element)",
            )
        return ir.ArrayRef(name, (ir.Range(), *subs), head + 1)
    return ir.ArrayRef(name, e.subs, e.head) if isinstance(e, ir.ArrayRef) else ir.Name(name)


def refuse_derived_operators(t, e: ir.Expr, loc: ir.SourceLoc) -> None:
    """An operator on derived-type operands that no ``interface operator`` resolved."""
    for x in subexprs(e):
        operands = (x.left, x.right) if isinstance(x, ir.BinOp) else ()
        operands += (x.operand,) if isinstance(x, ir.UnOp) else ()
        for o in operands:
            if isinstance(o, ir.Name | ir.ArrayRef) and type_name(t.lookup(o.name)):
                raise FortranADError(
                    loc,
                    f"operator '{x.op}' on derived type '{type_name(t.lookup(o.name))}' has no "
                    "module procedure fortran-ad can see (interface operator)",
                )


def leaves(types: dict[str, ir.TypeDef], tname: str, loc, numeric: bool, active=None) -> list[Leaf]:
    """Leaf components of a type, nested types expanded: real ones, or (``numeric``) every
    real, integer and logical one (what the tape must save to restore the object). ``active``
    (the (type, component) pairs of analysis/components.py) drops passive real components."""
    td = types.get(tname)
    if td is None:
        raise FortranADError(loc, f"the definition of derived type '{tname}' is not in the sources")
    out: list[Leaf] = []
    for c in td.components:
        inner = type_name(c)
        if inner is not None:
            if c.rank or c.attrs & {"allocatable", "pointer"}:
                raise FortranADError(
                    loc,
                    f"component '{c.name}' of '{tname}' (an array, allocatable or pointer of "
                    "derived type) cannot carry derivatives yet",
                )
            out += [(f"%{c.name}{p}", s) for p, s in leaves(types, inner, loc, numeric, active)]
        elif "pointer" in c.attrs:
            if numeric and is_real(c):
                raise FortranADError(
                    loc,
                    f"the adjoint would save a '{tname}' object, whose pointer component "
                    f"'{c.name}' may alias data it cannot save",
                )
            continue  # a pointer component aliases data owned elsewhere: never zeroed here
        elif is_real(c) and not numeric and active is not None and (tname, c.name) not in active:
            continue  # a passive component: the derivative object's copy is never touched
        elif is_real(c) or (numeric and c.type and c.type.base in ("integer", "logical")):
            out.append((f"%{c.name}", c))
    return out


def ref(obj: ir.Expr, path: str) -> ir.Expr:
    """The leaf ``path`` ("%p%c") of an object designator: ``s%p%c``, or of an element of an
    array of derived type ``cs(i)%p%c`` (ArrayRef.head)."""
    if isinstance(obj, ir.ArrayRef):
        return ir.ArrayRef(obj.name + path, obj.subs, len(obj.subs))
    return ir.Name(obj.name + path)


def _text(e: ir.Expr) -> str:
    from fortran_ad.ir.printer import expr

    return expr(e)


class Expander:
    """Rewrites statements on whole derived-type designators into component statements; a
    whole array of derived type becomes a loop nest over its elements."""

    def __init__(self, t) -> None:
        self.t = t
        self.types = t.info.scope.types
        self.primal = primal = {d: v for v, d in t.namer.derivs.items()}
        self.symbols = {s.name: s for s in t.temps}
        self.temps = set(self.symbols)
        for d, v in primal.items():
            sym = t.lookup(v)
            if sym is not None:  # (vector modes: with the leading direction dimension)
                self.symbols.setdefault(d, t._vector_sym(sym) if t.vector else sym)
        self.dir: str | None = None  # the direction loop index of the vector modes

    def symbol(self, name: str) -> ir.Symbol | None:
        var, *parts = name.split("%")
        sym = self.symbols.get(var) or self.t.lookup(var)
        return component(sym, parts, self.types) if parts else sym

    def derived(self, e: ir.Expr) -> str | None:
        """The type of a whole object (a variable, or an element of an array of types)."""
        if isinstance(e, ir.Name):
            return type_name(self.symbol(e.name))
        if isinstance(e, ir.ArrayRef) and type_name(self.symbol(e.name)):
            subs = e.subs[1:] if self.t.vector and e.subs[0] == ir.Range() else e.subs
            if "%" in e.name or any(isinstance(x, ir.Range) for x in subs):
                raise FortranADError(
                    self.t.routine.loc,
                    f"sections of arrays of derived type ('{_text(e)}') cannot carry derivatives "
                    "as whole objects yet",
                )
            return type_name(self.symbol(e.name))
        return None

    def rank(self, obj: ir.Expr) -> int:
        sym = self.symbol(obj.name) if isinstance(obj, ir.Name) else None
        return sym.rank if sym is not None else 0

    def each(self, objs: tuple[ir.Expr, ...], body, backwards: bool = False) -> list[ir.Stmt]:
        """``body(elements)`` for every element of whole arrays of derived type ``objs`` (the
        first one's bounds; all conform), or ``body(objs)`` for scalar objects."""
        if self.t.vector and _dir_section(objs[0]):  # sd(:), csd(:, i): per direction
            k = ir.Name(self.direction())
            elems = tuple(
                ir.ArrayRef(o.name, (k, *o.subs[1:])) if _dir_section(o) else o for o in objs
            )
            one, nb = ir.Literal("1", "integer"), ir.Name(self.t.namer.nbdirs)
            return [ir.Do(k.name, one, nb, None, tuple(body(elems)))]
        r = self.rank(objs[0])
        if not r:
            return body(objs)
        idx = [self.t.temp("e", ir.TypeSpec("integer")) for _ in range(r)]
        for k in idx:
            self.symbols[k] = next(x for x in self.t.temps if x.name == k)
        elems = tuple(ir.ArrayRef(o.name, tuple(ir.Name(k) for k in idx)) for o in objs)
        stmts: tuple[ir.Stmt, ...] = tuple(body(elems))
        first = objs[0]
        for j, k in enumerate(idx):  # first dimension innermost
            dim = ir.Literal(str(j + 1), "integer")
            lo, hi = (ir.Call(f, (first, dim)) for f in ("lbound", "ubound"))
            loop = (
                (k, hi, lo, ir.UnOp("-", ir.Literal("1", "integer")))
                if backwards
                else (k, lo, hi, None)
            )
            stmts = (ir.Do(*loop, stmts),)
        return list(stmts)

    def like(self, obj: ir.Expr, primal: str) -> ir.Expr:
        """The primal object of a derivative object (element): the direction dropped."""
        subs = obj.subs[1:] if self.t.vector and isinstance(obj, ir.ArrayRef) else ()
        if not self.t.vector and isinstance(obj, ir.ArrayRef):
            subs = obj.subs
        return ir.ArrayRef(primal, subs) if subs else ir.Name(primal)

    def directions(self, s: ir.Stmt) -> list[ir.Stmt] | None:
        """A vector-mode statement on derivative components (``sd(:)%h(i) = ...``) as a loop
        over the directions, so that allocatable components are referenced one object at a
        time (``sd(fad_d)%h(i)``; Fortran forbids ``sd(:)%h(i)`` when ``h`` is allocatable)."""
        if not (self.t.vector and isinstance(s, ir.Assign)):
            return None
        exprs = (s.target, s.value)
        if not any(_dir_head(x) for e in exprs for x in subexprs(e)):
            return None
        k = ir.Name(self.direction())

        def fn(x: ir.Expr) -> ir.Expr | None:
            if isinstance(x, ir.ArrayRef) and x.subs and x.subs[0] == ir.Range():
                inner = tuple(map_expr(y, fn) for y in x.subs[1:])
                return ir.ArrayRef(x.name, (k, *inner), x.head)
            return None

        body = ir.Assign(map_expr(s.target, fn), map_expr(s.value, fn), s.loc, s.label)
        return [ir.Do(k.name, ir.Literal("1", "integer"), ir.Name(self.t.namer.nbdirs), None,
                      (body,), loc=s.loc)]  # fmt: skip

    def direction(self) -> str:
        if self.dir is None:
            self.dir = self.t.temp("d", ir.TypeSpec("integer"))
        return self.dir

    def stmt(self, s: ir.Stmt) -> list[ir.Stmt] | None:
        out = self._stmt(s)
        if out is None:
            return self.directions(s)
        return [y for x in out for y in (self.directions(x) or [x])]

    def _stmt(self, s: ir.Stmt) -> list[ir.Stmt] | None:
        if isinstance(s, ir.CallStmt) and s.name in ("fad_push", "fad_pop") and len(s.args) == 1:
            tname = self.derived(s.args[0])
            if tname is not None:
                pop = s.name == "fad_pop"
                return self.each(s.args[:1], lambda o: self._tape(s, o[0], tname), pop)
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.Name | ir.ArrayRef):
            var = s.target.name.split("%")[0]
            tname = self.derived(s.target)
            if tname is not None and (var in self.primal or var in self.temps):
                return self._assign(s, tname)  # derivative statements only; primal ones stay
        return None

    def _tape(self, s: ir.CallStmt, obj: ir.Expr, tname: str) -> list[ir.Stmt]:
        if self._hidden(tname):  # saved whole (ad/constructs/object_stacks.py)
            self.t.__dict__.setdefault("object_stacks", set()).add(tname)
            return [ir.CallStmt(object_stacks.procedure(s.name, tname), (obj,), s.loc)]
        out: list[ir.Stmt] = []
        items = leaves(self.types, tname, self.loc(s), numeric=True)
        for path, sym in items if s.name == "fad_push" else reversed(items):
            leaf = ref(obj, path)
            if "allocatable" not in sym.attrs:
                out.append(ir.CallStmt(s.name, (leaf,), s.loc))
                continue
            save = self._push_alloc if s.name == "fad_push" else self._pop_alloc
            out += save(leaf, sym)
        return out

    def _hidden(self, tname: str) -> bool:
        """Are some components of ``tname`` PRIVATE where this routine is written (in a
        module: a module routine's derivative can host a stack of whole objects)?"""
        owners = getattr(self.t, "type_modules", None)
        if owners is None or self.t.info.module is None:
            return False
        visible = getattr(self.t, "visible_module", None)
        return object_stacks.hidden(self.types, tname, owners, visible)

    def _push_alloc(self, leaf: ir.Expr, sym: ir.Symbol) -> list[ir.Stmt]:
        """An allocatable component: its data and bounds if allocated, then the status."""
        is_alloc = ir.Call("allocated", (leaf,))
        bounds = (ir.Call("lbound", (leaf,)), ir.Call("ubound", (leaf,))) if sym.rank else ()
        saves = tuple(ir.CallStmt("fad_push", (x,)) for x in (leaf, *bounds))
        return [ir.If(((is_alloc, saves),)), ir.CallStmt("fad_push", (is_alloc,))]

    def _pop_alloc(self, leaf: ir.Expr, sym: ir.Symbol) -> list[ir.Stmt]:
        """Restore status, bounds and data (reallocated when the bounds changed since)."""
        flag, lo, hi = self.flag()
        rank = ir.Range(None, ir.Literal(str(sym.rank), "integer"))
        lb, ub = ir.ArrayRef(lo.name, (rank,)), ir.ArrayRef(hi.name, (rank,))
        bounds = ", ".join(f"{lo.name}({k}):{hi.name}({k})" for k in range(1, sym.rank + 1))
        text = _text(leaf)
        moved = ir.BinOp(
            ".or.",
            ir.Call("any", (ir.BinOp("/=", ir.Call("lbound", (leaf,)), lb),)),
            ir.Call("any", (ir.BinOp("/=", ir.Call("ubound", (leaf,)), ub),)),
        )
        is_alloc = ir.Call("allocated", (leaf,))
        dealloc = ir.Opaque(f"deallocate({text})")
        shape = f"({bounds})" if sym.rank else ""
        restore = (
            *(ir.CallStmt("fad_pop", (x,)) for x in ((ub, lb) if sym.rank else ())),
            *(
                (ir.If(((is_alloc, (ir.If(((moved, (dealloc,)),), inline=True),)),)),)
                if sym.rank
                else ()
            ),
            ir.If(((ir.UnOp(".not.", is_alloc), (ir.Opaque(f"allocate({text}{shape})"),)),)),
            ir.CallStmt("fad_pop", (leaf,)),
        )
        gone = (ir.If(((is_alloc, (dealloc,)),), inline=True),)
        return [ir.CallStmt("fad_pop", (flag,)), ir.If(((flag, restore),), gone)]

    def loc(self, s: ir.Stmt) -> ir.SourceLoc:
        return s.loc if s.loc.line > 0 else self.t.routine.loc

    def flag(self) -> tuple[ir.Name, ir.Name, ir.Name]:
        """Helpers of a pop: allocation status and bounds (up to rank 7)."""
        if getattr(self, "_flag", None) is None:
            seven = (ir.Dim("explicit", None, ir.Literal("7", "integer")),)
            self._flag = (
                self.t.temp("allocated", ir.TypeSpec("logical")),
                self.t.temp("lbound", ir.TypeSpec("integer"), seven),
                self.t.temp("ubound", ir.TypeSpec("integer"), seven),
            )
            for name in self._flag:
                self.symbols[name] = next(x for x in self.t.temps if x.name == name)
        return tuple(ir.Name(n) for n in self._flag)

    def _assign(self, s: ir.Assign, tname: str) -> list[ir.Stmt] | None:
        x = s.target
        v = s.value
        if isinstance(v, ir.Name | ir.ArrayRef) and "%" not in v.name and self.derived(v):
            return None  # intrinsic assignment of the whole object
        lvs = leaves(self.types, tname, self.loc(s), False, self.t.activity.components)
        if isinstance(v, ir.Literal):  # zero: every real leaf (allocated like the primal's)
            primal = self.primal.get(x.name) if "%" not in x.name else None

            def zero(o: tuple[ir.Expr, ...]) -> list[ir.Stmt]:
                out: list[ir.Stmt] = []
                like = self.like(o[0], primal) if primal is not None else None
                for p, sym in lvs:
                    if like is not None and "allocatable" in sym.attrs:
                        cond = ir.Call("allocated", (ref(like, p),))
                        body = allocate_zeroed(ref(o[0], p), ref(like, p), sym)
                        out.append(ir.If(((cond, tuple(body)),)))
                    out.append(zero_leaf(ref(o[0], p), sym))
                return out

            return self.each((x,), zero)
        if (
            isinstance(v, ir.BinOp)
            and v.op in ("+", "-")
            and v.left == s.target
            and isinstance(v.right, ir.Name | ir.ArrayRef)
            and self.derived(v.right)
        ):  # an adjoint increment x = x +- y

            def inc(o: tuple[ir.Expr, ...]) -> list[ir.Stmt]:
                out: list[ir.Stmt] = []
                for p, sym in lvs:
                    out += increment(ref(o[0], p), ref(o[1], p), v.op, sym)
                return out

            return self.each((x, v.right), inc)
        raise FortranADError(
            s.loc, f"cannot differentiate '{_text(s.target)} = {_text(v)}' on derived type {tname}"
        )


def _dir_section(x: ir.Expr) -> bool:
    """A vector-mode derivative object ``sd(:)`` or element ``csd(:, i)``."""
    return isinstance(x, ir.ArrayRef) and "%" not in x.name and x.subs[:1] == (ir.Range(),)


def _dir_head(x: ir.Expr) -> bool:
    """A vector-mode derivative component ``sd(:)%h(i)`` (the direction section first)."""
    return isinstance(x, ir.ArrayRef) and x.head > 0 and x.subs[0] == ir.Range()


def zero_leaf(leaf: ir.Expr, sym: ir.Symbol) -> ir.Stmt:
    zero = ir.Assign(leaf, real_literal("0.0", sym.type))
    if "allocatable" in sym.attrs:
        return ir.If(((ir.Call("allocated", (leaf,)), (zero,)),), inline=True)
    return zero


def increment(x: ir.Expr, y: ir.Expr, op: str, sym: ir.Symbol) -> list[ir.Stmt]:
    add = ir.Assign(x, ir.BinOp(op, x, y))
    if "allocatable" not in sym.attrs:
        return [add]
    return [ir.If(((ir.Call("allocated", (y,)), (*allocate_zeroed(x, y, sym), add)),))]


def allocate_zeroed(d: ir.Expr, like: ir.Expr, sym: ir.Symbol) -> list[ir.Stmt]:
    """``d`` allocated like ``like`` and zeroed, unless it is allocated already."""
    zero = ir.Assign(d, real_literal("0.0", sym.type))
    body = (ir.Opaque(f"allocate({_text(d)}, mold={_text(like)})"), zero)
    not_alloc = ir.UnOp(".not.", ir.Call("allocated", (d,)))
    return [ir.If(((not_alloc, body),))]


def expand(t, body: list[ir.Stmt]) -> list[ir.Stmt]:
    """Component statements for the whole-object statements of a derivative body."""
    ex = Expander(t)
    return list(map_body(tuple(body), ex.stmt))


def expand_tape(t, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
    """Pushes/pops of whole derived-type variables as component pushes/pops, as the sweeps
    produce them (so that the checkpoint planner's tape estimates see the components)."""
    if not t.info.scope.types:
        return stmts
    out: list[ir.Stmt] = []
    for s in stmts:
        arg = s.args[0] if isinstance(s, ir.CallStmt) and len(s.args) == 1 else None
        whole = isinstance(arg, ir.Name) or (isinstance(arg, ir.ArrayRef) and "%" not in arg.name)
        tname = type_name(t.lookup(arg.name)) if whole else None
        if tname is None or s.name not in ("fad_push", "fad_pop"):
            out.append(s)
            continue
        if getattr(t, "_tape_expander", None) is None:
            t._tape_expander = Expander(t)
        out += t._tape_expander.stmt(s)
    return out
