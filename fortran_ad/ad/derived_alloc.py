"""ALLOCATE/DEALLOCATE of derived-type components (``allocate(s%h(n))``,
``allocate(cs(i)%w(2))``): the derivative component is allocated alongside (see ad/derived.py)."""

from __future__ import annotations

from fortran_ad.ad.derived import allocate_zeroed
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
    if not paths:
        return None
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
