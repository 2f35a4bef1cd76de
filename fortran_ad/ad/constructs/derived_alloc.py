"""Allocation around derived types and allocatables in derivative code (see
ad/constructs/derived.py).

* ALLOCATE/DEALLOCATE of components (``allocate(s%h(n))``, ``allocate(cs(i)%w(2))``): the
  derivative component is allocated alongside (``mirror_allocation``).
* At the entry of a derivative routine, the derivatives' allocatable components are allocated
  like the primal's (``entry_allocations``).
* Arguments a call writes are saved with their allocation status and bounds when they are
  whole allocatables (``save``/``restore``: an actual may be unallocated before the call).
"""

from __future__ import annotations

from fortran_ad.ad.constructs.derived import Expander, allocate_zeroed, leaves, ref
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import type_name


def allocated_paths(text: str) -> list[str]:
    """Objects an ALLOCATE/DEALLOCATE statement names (``s%h`` and ``a`` in
    ``allocate(s%h(n), a(n), stat=i)``)."""
    inner = text[text.index("(") + 1 : text.rindex(")")]
    out, depth, cur = [], 0, ""
    for ch in inner + ",":
        if ch == "," and depth == 0:
            item = cur.strip().replace(" ", "").lower()
            if "=" not in item.split("(")[0]:
                out.append(_object(item))
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    return out


def _object(item: str) -> str:
    """The allocate-object of an allocation item: ``cs(i)%w`` of ``cs(i)%w(2)``, ``a`` of
    ``a(n)`` (an element of an array of derived type keeps its subscripts)."""
    if "%" not in item:
        return item.split("(")[0]
    last = item.rsplit("%", 1)[1]
    return item[: item.rindex("(")] if "(" in last else item


def split_object(path: str) -> tuple[str, str, str]:
    """``cs(i)%w`` → ("cs", "(i)", "%w"); ``s%h`` → ("s", "", "%h")."""
    var, _, rest = path.partition("%")
    head = var[var.index("(") :] if "(" in var else ""
    return var.split("(")[0], head, f"%{rest}" if rest else ""


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
    if not any("%" in p for p in paths):
        return None  # (a component in the MOLD= or SOURCE= expression is no allocate-object)
    if not all("%" in p for p in paths):
        raise FortranADError(
            s.loc,
            "ALLOCATE/DEALLOCATE of both components and whole variables: derivative code "
            "undoes them differently",
            "write one statement for the components and one for the variables",
        )
    out: list[ir.Stmt] = []
    alloc = text.startswith("allocate")
    for path in paths:
        var, head, rest = split_object(path)
        if not t.is_active(ir.Name(var + rest)):
            continue
        sym = t.lookup(var + rest)
        if type_name(sym) is not None:
            raise FortranADError(s.loc, f"allocatable derived-type component '{path}' is active")
        d = t.namer.derivative(var) + head + rest
        if t.vector:  # one derivative object per direction: csd(fad_d, i)%w
            k = t.temp("d", ir.TypeSpec("integer"))
            d = f"{t.namer.derivative(var)}({k}{', ' + head[1:-1] if head else ''}){rest}"
        if alloc:
            dx = ir.OpaqueExpr(d, (t.namer.derivative(var),), t.namer.derivative(var))
            stmts = allocate_zeroed(dx, ir.OpaqueExpr(path, (var,), var), sym)
        else:
            stmts = [ir.Opaque(f"if (allocated({d})) deallocate({d})")]
        if t.vector:
            one, nb = ir.Literal("1", "integer"), ir.Name(t.namer.nbdirs)
            stmts = [ir.Do(k, one, nb, None, tuple(stmts), loc=s.loc)]
        out += stmts
    return out


def entry_allocations(t, names: list[str]) -> list[ir.Stmt]:
    """Allocate (zeroed) the derivatives' allocatable components whose primal components are
    allocated, for the derived-type dummies and module variables ``names``."""
    out: list[ir.Stmt] = []
    ex = Expander(t)
    for n in names:
        sym = t.lookup(n)
        tname = type_name(sym)
        if tname is None or (t.tangent_like and n in t.routine.args and sym.intent == "in"):
            continue  # an intent(in) tangent is the caller's to allocate
        allocs = [
            (p, c)
            for p, c in leaves(
                t.info.scope.types, tname, t.routine.loc, False, t.activity.components
            )
            if "allocatable" in c.attrs
        ]

        def alloc(o: tuple[ir.Expr, ...], allocs=allocs, n=n) -> list[ir.Stmt]:
            stmts: list[ir.Stmt] = []
            for p, c in allocs:
                d, x = ref(o[0], p), ref(ex.like(o[0], n), p)
                cond = ir.Call("allocated", (x,))
                stmts.append(ir.If(((cond, tuple(allocate_zeroed(d, x, c))),)))
            return stmts

        if allocs:
            out += ex.each((ir.Name(t.namer.derivative(n)),), alloc)
    return out


def _whole_allocatable(t, a: ir.Expr) -> ir.Symbol | None:
    sym = t.lookup(a.name) if isinstance(a, ir.Name) else None
    if sym is not None and "allocatable" in sym.attrs and type_name(sym) is None:
        return sym
    return None


def save(t, a: ir.Expr) -> list[ir.Stmt]:
    """Save an argument a call writes: a whole allocatable variable with its allocation status
    and bounds (it may be unallocated before the call that allocates it)."""
    sym = _whole_allocatable(t, a)
    if sym is None:
        return [ir.CallStmt("fad_push", (a,))]
    return Expander(t)._push_alloc(a, sym)


def restore(t, a: ir.Expr) -> list[ir.Stmt]:
    """The pop matching ``save``."""
    sym = _whole_allocatable(t, a)
    if sym is None:
        return [ir.CallStmt("fad_pop", (a,))]
    if getattr(t, "_tape_expander", None) is None:
        t._tape_expander = Expander(t)
    return t._tape_expander._pop_alloc(a, sym)
