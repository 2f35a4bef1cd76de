"""Derived types in derivative code.

Conventions (see README, "Derived types"):

* A variable of derived type that carries derivatives gets a derivative of the SAME type
  (``sb`` of ``type(state_t)``, the type reached by USE of the primal module); the derivative of
  component ``s%h(i)`` is ``sb%h(i)``. Passive components (integers, logicals, characters) of
  the derivative object are never read nor written by generated code.
* Allocatable components of a derivative object are allocated by generated code: next to every
  ALLOCATE of a primal component (``allocate(sb%h, mold=s%h)``, zeroed), and, at the entry of a
  derivative routine, for every derived-type dummy or module variable whose primal component is
  allocated while the derivative's is not (allocated like the primal, zeroed). A caller may
  allocate them itself (then they must have the primal's bounds).
* Activity is per variable: ``s`` is active when any of its real components is.

Generated statements are written on whole derived-type designators (``call fad_push(s)``,
``sb = 0.0``, ``s0b = s0b + sb``); ``expand`` rewrites them into statements on the real (for
the tape: every numeric) leaf components, recursing through nested types.
"""

from __future__ import annotations

from fortran_ad.ad.rules import real_literal
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import component, is_real, type_name
from fortran_ad.ir.walk import map_body, subexprs

Leaf = tuple[str, ir.Symbol]  # (path suffix "%p%c", component symbol)


def component_deriv(t, e: ir.Expr, loc: ir.SourceLoc | None) -> ir.Expr:
    """``s%h(i)`` → ``sb%h(i)``: the derivative object's component."""
    var, rest = e.name.split("%", 1)
    if t.vector:
        raise FortranADError(
            loc or t.routine.loc,
            f"vector modes do not support derived-type variables yet ('{var}')",
            "use --mode reverse or forward",
        )
    name = f"{t.namer.derivative(var)}%{rest}"
    return ir.ArrayRef(name, e.subs) if isinstance(e, ir.ArrayRef) else ir.Name(name)


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


def leaves(types: dict[str, ir.TypeDef], tname: str, loc, numeric: bool) -> list[Leaf]:
    """Leaf components of a type, nested types expanded: real ones, or (``numeric``) every
    real, integer and logical one (what the tape must save to restore the object)."""
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
            out += [(f"%{c.name}{p}", s) for p, s in leaves(types, inner, loc, numeric)]
        elif "pointer" in c.attrs:
            if numeric and is_real(c):
                raise FortranADError(
                    loc,
                    f"the adjoint would save a '{tname}' object, whose pointer component "
                    f"'{c.name}' may alias data it cannot save",
                )
            continue  # a pointer component aliases data owned elsewhere: never zeroed here
        elif is_real(c) or (numeric and c.type and c.type.base in ("integer", "logical")):
            out.append((f"%{c.name}", c))
    return out


class Expander:
    """Rewrites statements on whole derived-type designators into component statements."""

    def __init__(self, t) -> None:
        self.t = t
        self.types = t.info.scope.types
        self.primal = primal = {d: v for v, d in t.namer.derivs.items()}
        self.symbols = {s.name: s for s in t.temps}
        self.temps = set(self.symbols)
        for d, v in primal.items():
            sym = t.lookup(v)
            if sym is not None:
                self.symbols.setdefault(d, sym)

    def symbol(self, name: str) -> ir.Symbol | None:
        var, *parts = name.split("%")
        sym = self.symbols.get(var) or self.t.lookup(var)
        return component(sym, parts, self.types) if parts else sym

    def derived(self, e: ir.Expr) -> str | None:
        if isinstance(e, ir.Name):
            return type_name(self.symbol(e.name))
        if isinstance(e, ir.ArrayRef) and type_name(self.symbol(e.name)):
            raise FortranADError(
                self.t.routine.loc, f"arrays of derived type ('{e.name}') cannot carry derivatives"
            )
        return None

    def stmt(self, s: ir.Stmt) -> list[ir.Stmt] | None:
        if isinstance(s, ir.CallStmt) and s.name in ("fad_push", "fad_pop") and len(s.args) == 1:
            tname = self.derived(s.args[0])
            if tname is not None:
                return self._tape(s, s.args[0].name, tname)
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.Name):
            var = s.target.name.split("%")[0]
            tname = self.derived(s.target)
            if tname is not None and (var in self.primal or var in self.temps):
                return self._assign(s, tname)  # derivative statements only; primal ones stay
        return None

    def _tape(self, s: ir.CallStmt, var: str, tname: str) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        items = leaves(self.types, tname, self.loc(s), numeric=True)
        for path, sym in items if s.name == "fad_push" else reversed(items):
            ref = ir.Name(var + path)
            if "allocatable" not in sym.attrs:
                out.append(ir.CallStmt(s.name, (ref,), s.loc))
                continue
            out += self._push_alloc(ref, sym) if s.name == "fad_push" else self._pop_alloc(ref, sym)
        return out

    def _push_alloc(self, ref: ir.Name, sym: ir.Symbol) -> list[ir.Stmt]:
        """An allocatable component: its data and bounds if allocated, then the status."""
        is_alloc = ir.Call("allocated", (ref,))
        bounds = (ir.Call("lbound", (ref,)), ir.Call("ubound", (ref,))) if sym.rank else ()
        saves = tuple(ir.CallStmt("fad_push", (x,)) for x in (ref, *bounds))
        return [ir.If(((is_alloc, saves),)), ir.CallStmt("fad_push", (is_alloc,))]

    def _pop_alloc(self, ref: ir.Name, sym: ir.Symbol) -> list[ir.Stmt]:
        """Restore status, bounds and data (reallocated when the bounds changed since)."""
        flag, lo, hi = self.flag()
        rank = ir.Range(None, ir.Literal(str(sym.rank), "integer"))
        lb, ub = ir.ArrayRef(lo.name, (rank,)), ir.ArrayRef(hi.name, (rank,))
        bounds = ", ".join(f"{lo.name}({k}):{hi.name}({k})" for k in range(1, sym.rank + 1))
        text = f"{ref.name}"
        moved = ir.BinOp(
            ".or.",
            ir.Call("any", (ir.BinOp("/=", ir.Call("lbound", (ref,)), lb),)),
            ir.Call("any", (ir.BinOp("/=", ir.Call("ubound", (ref,)), ub),)),
        )
        is_alloc = ir.Call("allocated", (ref,))
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
            ir.CallStmt("fad_pop", (ref,)),
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
        x = s.target.name
        v = s.value
        if isinstance(v, ir.Name) and self.derived(v):
            return None  # intrinsic assignment of the whole object
        if isinstance(v, ir.Literal):  # zero: every real leaf (allocated like the primal's)
            out = []
            primal = self.primal.get(x) if "%" not in x else None
            for p, sym in leaves(self.types, tname, self.loc(s), False):
                if primal is not None and "allocatable" in sym.attrs:
                    cond = ir.Call("allocated", (ir.Name(primal + p),))
                    out.append(ir.If(((cond, tuple(allocate_zeroed(x + p, primal + p, sym))),)))
                out.append(zero_leaf(x + p, sym))
            return out
        if (
            isinstance(v, ir.BinOp)
            and v.op in ("+", "-")
            and v.left == s.target
            and isinstance(v.right, ir.Name)
            and self.derived(v.right)
        ):  # an adjoint increment x = x +- y
            out: list[ir.Stmt] = []
            for p, sym in leaves(self.types, tname, self.loc(s), False):
                out += increment(x + p, v.right.name + p, v.op, sym)
            return out
        from fortran_ad.backends.fortran import expr

        raise FortranADError(
            s.loc, f"cannot differentiate '{expr(s.target)} = {expr(v)}' on derived type {tname}"
        )


def zero_leaf(path: str, sym: ir.Symbol) -> ir.Stmt:
    zero = ir.Assign(ir.Name(path), real_literal("0.0", sym.type))
    if "allocatable" in sym.attrs:
        return ir.If(((ir.Call("allocated", (ir.Name(path),)), (zero,)),), inline=True)
    return zero


def increment(x: str, y: str, op: str, sym: ir.Symbol) -> list[ir.Stmt]:
    add = ir.Assign(ir.Name(x), ir.BinOp(op, ir.Name(x), ir.Name(y)))
    if "allocatable" not in sym.attrs:
        return [add]
    return [
        ir.If(
            ((ir.Call("allocated", (ir.Name(y),)), (*allocate_zeroed(x, y, sym), add)),),
        )
    ]


def allocate_zeroed(d: str, like: str, sym: ir.Symbol) -> list[ir.Stmt]:
    """``d`` allocated like ``like`` and zeroed, unless it is allocated already."""
    zero = ir.Assign(ir.Name(d), real_literal("0.0", sym.type))
    body = (ir.Opaque(f"allocate({d}, mold={like})"), zero)
    not_alloc = ir.UnOp(".not.", ir.Call("allocated", (ir.Name(d),)))
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
        tname = type_name(t.lookup(arg.name)) if isinstance(arg, ir.Name) else None
        if tname is None or s.name not in ("fad_push", "fad_pop"):
            out.append(s)
            continue
        if getattr(t, "_tape_expander", None) is None:
            t._tape_expander = Expander(t)
        out += t._tape_expander._tape(s, arg.name, tname)
    return out


def entry_allocations(t, names: list[str]) -> list[ir.Stmt]:
    """Allocate (zeroed) the derivatives' allocatable components whose primal components are
    allocated, for the derived-type dummies and module variables ``names``."""
    out: list[ir.Stmt] = []
    for n in names:
        sym = t.lookup(n)
        tname = type_name(sym)
        if tname is None or (t.tangent_like and n in t.routine.args and sym.intent == "in"):
            continue  # an intent(in) tangent is the caller's to allocate
        d = t.namer.derivative(n)
        for p, sym in leaves(t.info.scope.types, tname, t.routine.loc, False):
            if "allocatable" in sym.attrs:
                cond = ir.Call("allocated", (ir.Name(n + p),))
                out.append(ir.If(((cond, tuple(allocate_zeroed(d + p, n + p, sym))),)))
    return out


def allocated_paths(text: str) -> list[str]:
    """Objects an ALLOCATE/DEALLOCATE statement names (``s%h`` and ``a`` in
    ``allocate(s%h(n), a(n), stat=i)``)."""
    inner = text[text.index("(") + 1 : text.rindex(")")]
    out, depth, cur = [], 0, ""
    for ch in inner + ",":
        if ch == "," and depth == 0:
            item = cur.strip().replace(" ", "").lower()
            if "=" not in item.split("(")[0]:
                out.append(item.split("(")[0])
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    return out


def guarded_deallocate(s: ir.Opaque) -> list[ir.Stmt]:
    """A DEALLOCATE as ``if (allocated(x)) deallocate(x)`` per object (the adjoint's deferred
    DEALLOCATE runs after the backward sweep restored the allocation status of components)."""
    return [
        ir.Opaque(f"if (allocated({x})) deallocate({x})", loc=s.loc)
        for x in allocated_paths(s.text.strip().lower())
    ]


def mirror_allocation(t, s: ir.Opaque) -> list[ir.Stmt] | None:
    """The derivative side of an ALLOCATE/DEALLOCATE of components (None: no component
    paths). An ALLOCATE allocates the derivative component like the primal's (zeroed) unless
    it is allocated already (a seed given by the caller is kept)."""
    text = s.text.strip().lower()
    if not text.startswith(("allocate", "deallocate")) or "(" not in text:
        return None
    paths = allocated_paths(text)
    if not paths:
        return None
    out: list[ir.Stmt] = []
    alloc = text.startswith("allocate")
    for path in paths:
        if not t.is_active(ir.Name(path)):
            continue
        sym = t.lookup(path)
        if type_name(sym) is not None:
            raise FortranADError(s.loc, f"allocatable derived-type component '{path}' is active")
        d = component_deriv(t, ir.Name(path), s.loc).name if "%" in path else None
        d = d or t.namer.derivative(path)
        if alloc:
            out += allocate_zeroed(d, path, sym)
        else:
            out.append(ir.Opaque(f"if (allocated({d})) deallocate({d})"))
    return out
