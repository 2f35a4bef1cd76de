"""MATMUL kept as a library call: the tangent and adjoint rules of the statement forms.

Normalization (normalize/scalarize.py) keeps an assignment as written, instead of lowering
MATMUL to loops (normalize/intrinsics.py), when normalize/matmul_form.py recognises it: a sum of
scalar multiples of ``matmul(x, y)`` and of the target itself::

    c = alpha*matmul(a, b) + beta*c      c = c + matmul(transpose(a), b(:, 1:k))
    y = matmul(a, x)                     y = 0.5_dp*(matmul(a, x) + matmul(x, b))

with ``x``, ``y`` whole arrays, sections or ``transpose(...)`` of them (rank 2x2, 2x1 or
1x2), none of them the target's variable, and scalar coefficients that do not mention it.
gfortran then calls its MATMUL (BLAS ``dgemm`` with ``-fexternal-blas``), and so does the
derivative code. Rules, with G the seed of the target and ``op(P)`` = P or transpose(P):

    C = X Y  (2x2):  X̄ += G Yᵀ,  Ȳ += Xᵀ G            ẏ = Ẋ Y + X Ẏ
    y = X v  (2x1):  v̄ += Gᵀ X,  X̄ += G vᵀ (a rank-1 update: a loop over columns)
    y = v X  (1x2):  v̄ += X G,   X̄ += v Gᵀ
    c = ... + β c:   β̄ += Σ G∘c (c before the statement), then G = β G (else G = 0)
    α (matmul):      ᾱ += Σ G∘(X Y) = Σ P̄ₐ∘P for either operand P (degree-one homogeneity:
                     the gradient of one operand, kept in a temporary, is reused)

Vector modes keep the loop lowering (normalize_routine's ``keep_matmul``).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import mul, wrap_sum
from fortran_ad.ir.walk import base_name, names_in
from fortran_ad.normalize.matmul_form import ONE, Form, Operand, Product, match, wrap
from fortran_ad.normalize.matmul_form import has_matmul as has_matmul
from fortran_ad.normalize.matmul_form import kept as kept


# -- the AD side ----------------------------------------------------------------------------
def form_of(t, s: ir.Assign) -> Form:
    """The kept form of ``s`` as the derivative transforms see it (t: a RoutineAD)."""
    if t.vector:
        raise FortranADError(s.loc, "internal: MATMUL kept for a vector mode")

    def rank_of(e: ir.Expr) -> int | None:
        if isinstance(e, ir.ArrayRef):
            return sum(isinstance(x, ir.Range) for x in e.subs)
        sym = t.lookup(e.name) if isinstance(e, ir.Name) else None
        return sym.rank if sym is not None else 0

    def is_real(e: ir.Expr) -> bool:
        sym = t.lookup(base_name(e))
        return sym is not None and sym.type is not None and sym.type.is_real

    form = match(s, rank_of, is_real)
    if form is None:
        raise FortranADError(s.loc, "internal: MATMUL left in a statement normalization lowers")
    return form


def _lin(t, coef: ir.Expr | None, loc) -> list[tuple[ir.Expr, ir.Expr | None]]:
    return t.linearize(coef, loc) if coef is not None else []


def tangent(t, s: ir.Assign) -> list[ir.Stmt]:
    """ċ = Σ coef·(Ẋ Y + X Ẏ) + Σ ċoef·X Y [+ β ċ + β̇ c], before the primal statement."""
    form = form_of(t, s)
    parts: list[ir.Expr] = []
    for p in form.products:
        x, y = p.x, p.y
        if t.is_active(x.ref):
            parts.append(mul(p.coef, ir.Call("matmul", (x.expr(t.deriv(x.ref)), y.expr()))))
        if t.is_active(y.ref):
            parts.append(mul(p.coef, ir.Call("matmul", (x.expr(), y.expr(t.deriv(y.ref))))))
        for ref, pc in _lin(t, p.coef, s.loc):
            parts.append(mul(mul(pc, t.deriv(ref)), p.value()))
    if form.keeps:
        parts.append(mul(form.self_coef, t.deriv(s.target)))
        for ref, pc in _lin(t, form.self_coef, s.loc):
            parts.append(mul(mul(pc, t.deriv(ref)), s.target))
    total = _sum(parts) if parts else t.zero(s.target)
    return [ir.Assign(t.deriv(s.target), total, s.loc, s.label), replace(s, label=None)]


def adjoint(t, s: ir.Assign) -> list[ir.Stmt]:
    """The increments of the operands' and coefficients' adjoints, then the target's seed
    scaled (``c`` on both sides) or zeroed. ``c`` holds its value before ``s`` here."""
    form = form_of(t, s)
    g = t.deriv(s.target)
    out: list[ir.Stmt] = []
    for p in form.products:
        coef_terms = _lin(t, p.coef, s.loc)
        reused: tuple[ir.Expr, ir.Expr] | None = None  # (temporary, operand) with Σ tmp∘op
        for first in (True, False):
            op = p.x if first else p.y
            if not t.is_active(op.ref):
                continue
            grad = _gradient(p, first, g)
            if grad is None:  # the matrix of a matrix-vector product: a rank-1 update
                out += _rank1(t, p, first, g, s.target, s.loc)
                continue
            tmp = _work(t, op)
            out += [*kept_allocated(t, tmp.name, op, s.loc), ir.Assign(tmp, grad, s.loc)]
            grad = tmp
            if coef_terms and reused is None:
                reused = (tmp, op.ref)
            out.append(_inc(t.deriv(op.ref), mul(p.coef, grad), s.loc))
        total = (
            ir.Call("sum", (ir.BinOp("*", reused[0], reused[1]),))
            if reused is not None
            else ir.Call("sum", (ir.BinOp("*", g, p.value()),))
        )
        out += [_inc(t.deriv(ref), mul(pc, total), s.loc) for ref, pc in coef_terms]
    if form.keeps:
        total = ir.Call("sum", (ir.BinOp("*", g, s.target),))
        for ref, pc in _lin(t, form.self_coef, s.loc):
            out.append(_inc(t.deriv(ref), mul(pc, total), s.loc))
        if form.self_coef is not None:
            out.append(ir.Assign(g, mul(form.self_coef, g), s.loc))
    else:
        out.append(ir.Assign(g, t.zero(s.target), s.loc))
    return out


def reads(t, s: ir.Assign) -> set[str]:
    """Names whose values the adjoint of ``s`` reads (ad/core/needed.py, ad/core/tbr.py)."""
    form = form_of(t, s)
    out = _subscript_names(s.target)
    for p in form.products:
        lin = _lin(t, p.coef, s.loc)
        ax, ay = t.is_active(p.x.ref), t.is_active(p.y.ref)
        if ax or lin:
            out |= names_in(p.y.ref)
        if ay or lin:
            out |= names_in(p.x.ref)
        if ax:
            out |= _subscript_names(p.x.ref)
        if ay:
            out |= _subscript_names(p.y.ref)
        if (ax or ay) and p.coef is not None:
            out |= names_in(p.coef)
        for ref, pc in lin:
            out |= _subscript_names(ref) | (names_in(pc) if pc is not None else set())
    if form.keeps:
        lin = _lin(t, form.self_coef, s.loc)
        if form.self_coef is not None:
            out |= names_in(form.self_coef)
        if lin:
            out.add(base_name(s.target))
        for ref, pc in lin:
            out |= _subscript_names(ref) | (names_in(pc) if pc is not None else set())
    return out


def _subscript_names(e: ir.Expr) -> set[str]:
    out: set[str] = set()
    if isinstance(e, ir.ArrayRef):
        for x in e.subs:
            out |= names_in(x)
    return out


def _gradient(p: Product, first: bool, g: ir.Expr) -> ir.Expr | None:
    """The adjoint of the operand's designator (transposes moved back), or None for the
    matrix of a matrix-vector product."""
    x, y = p.x, p.y
    if x.rank == 2 and y.rank == 2:
        if first:  # X̄ = G Yᵀ; P̄ = (G Yᵀ)ᵀ = Y Gᵀ when X = Pᵀ
            if x.transposed:
                return _mm(y.expr(), ir.Call("transpose", (g,)))
            return _mm(g, y.expr(flip=True))
        if y.transposed:  # Ȳ = Xᵀ G; Q̄ = Gᵀ X when Y = Qᵀ
            return _mm(ir.Call("transpose", (g,)), x.expr())
        return _mm(x.expr(flip=True), g)
    if x.rank == 2:  # y = X v: v̄ = Gᵀ X
        return None if first else _mm(g, x.expr())
    return _mm(y.expr(), g) if first else None  # y = v X: v̄ = X G


def _rank1(t, p: Product, first: bool, g: ir.Expr, target: ir.Expr, loc) -> list[ir.Stmt]:
    """M(:, j) += coef·u·w(j): X̄ = G vᵀ (2x1) or v Gᵀ (1x2), transposed back for X = Pᵀ.
    Vectors are (designator, primal designator) pairs: the primal one has the bounds."""
    op = p.x if first else p.y
    vec = p.y.ref if first else p.x.ref
    u, w = ((g, target), (vec, vec)) if first else ((vec, vec), (g, target))
    if op.transposed:  # X̄(i, j) = u(i) w(j)
        u, w = w, u
    j = ir.Name(t.temp("j", ir.TypeSpec("integer")))
    col = _element(t, t.deriv(op.ref), op.ref, 1, j)
    term = mul(p.coef, ir.BinOp("*", u[0], _element(t, w[0], w[1], 0, j)))
    deriv = t.deriv(op.ref)  # the matrix's columns (one spelling for all its rank-1 loops)
    size = ir.Call("size", (deriv, _lit(2)) if isinstance(deriv, ir.Name) else (w[0],))
    return [ir.Do(j.name, ONE, size, None, (_inc(col, term, loc),), loc=loc)]


def _element(t, d: ir.Expr, primal: ir.Expr, k: int, j: ir.Name) -> ir.Expr:
    """``d`` with its k-th looped dimension (0-based, among the ranges) fixed at position j;
    ``primal`` (the designator ``d`` is the derivative of, or ``d``) declares the bounds."""
    sym = t.lookup(base_name(primal))
    if isinstance(d, ir.Name):
        rank = sym.rank if sym is not None else k + 1
        subs: list[ir.Expr] = [ir.Range() for _ in range(rank)]
        subs[k] = _offset(_lower(sym, d.name, k), j, None)
        return ir.ArrayRef(d.name, tuple(subs))
    assert isinstance(d, ir.ArrayRef)
    n = [m for m, x in enumerate(d.subs) if isinstance(x, ir.Range)][k]
    r = d.subs[n]
    assert isinstance(r, ir.Range)
    subs = list(d.subs)
    subs[n] = _offset(r.lo if r.lo is not None else _lower(sym, d.name, n), j, r.step)
    return ir.ArrayRef(d.name, tuple(subs))


def _lower(sym: ir.Symbol | None, name: str, k: int) -> ir.Expr:
    """The lower bound of dimension k: 1 when declared so, else ``lbound(name, k + 1)``."""
    if sym is not None and len(sym.dims) > k:
        dim = sym.dims[k]
        if dim.kind in ("explicit", "assumed") and (dim.lo is None or dim.lo == ONE):
            return ONE
    return ir.Call("lbound", (ir.Name(name), _lit(k + 1)))


def _offset(lo: ir.Expr, j: ir.Name, step: ir.Expr | None) -> ir.Expr:
    """lo + (j - 1)*step, spelled j when lo and the step are 1."""
    if lo == ONE and step is None:
        return j
    jm1: ir.Expr = ir.BinOp("-", j, ONE)
    if step is not None:
        jm1 = ir.BinOp("*", ir.Paren(jm1), wrap(step))
    return ir.BinOp("+", lo, jm1)


def _work(t, op: Operand) -> ir.Name:
    """A work array for the gradient of ``op``: allocatable, SAVEd and threadprivate
    (``declarations``), so it stays allocated between calls. Freed and allocated again on
    every call, the product's result page-faults in each time (glibc gives large freed
    blocks back to the kernel): that was half the time of symm's and trmm's gradients at
    NPBench's M sizes."""
    sym = t.lookup(base_name(op.ref))
    dims = tuple(ir.Dim("deferred") for _ in range(op.rank))
    return ir.Name(t.temp("mmb", sym.type, dims, frozenset({"allocatable", "save"})))


def kept_allocated(t, name: str, op: Operand, loc) -> list[ir.Stmt]:
    """``name`` allocated with the bounds of ``op``'s designator, kept from the last call
    when they match (explicit bounds, not reallocation on assignment: the C back end lowers
    the assignment that follows to loops)."""
    from fortran_ad.ir.printer import expr

    bounds = _bounds(t, op)
    work = ir.Name(name)
    differ: ir.Expr | None = None
    for k, (lo, hi) in enumerate(bounds):
        for fn, b in (("lbound", lo), ("ubound", hi)):
            ne = ir.BinOp("/=", ir.Call(fn, (work, _lit(k + 1))), b)
            differ = ne if differ is None else ir.BinOp(".or.", differ, ne)
    assert differ is not None
    free = ir.Opaque(f"deallocate({name})", (), (name,), loc)
    text = ", ".join(f"{expr(lo)}:{expr(hi)}" for lo, hi in bounds)
    reads = tuple(sorted(names_in(op.ref)))
    alloc = ir.Opaque(f"allocate({name}({text}))", reads, (name,), loc)
    allocated = ir.Call("allocated", (work,))
    return [
        ir.If(((allocated, (ir.If(((differ, (free,)),), inline=True),)),), loc=loc),
        ir.If(((ir.UnOp(".not.", allocated), (alloc,)),), inline=True, loc=loc),
    ]


def _bounds(t, op: Operand) -> list[tuple[ir.Expr, ir.Expr]]:
    """(lower, upper) per dimension of ``op``'s designator: declared bounds where the
    declaration has them, else lbound/ubound; a strided section counts from 1."""
    like = op.ref
    sym = t.lookup(base_name(like))
    dims = sym.dims if sym is not None else ()

    def declared(k: int, hi: bool) -> ir.Expr:
        d = dims[k] if k < len(dims) else None
        if d is not None and d.kind == "explicit" and (d.hi if hi else True):
            b = d.hi if hi else d.lo
            return b if b is not None else ONE
        return ir.Call("ubound" if hi else "lbound", (ir.Name(like.name), _lit(k + 1)))  # type: ignore[union-attr]

    if isinstance(like, ir.Name):
        return [(declared(k, False), declared(k, True)) for k in range(op.rank)]
    assert isinstance(like, ir.ArrayRef)
    out = []
    for k, r in enumerate(like.subs):
        if not isinstance(r, ir.Range):
            continue
        lo = r.lo if r.lo is not None else declared(k, False)
        hi = r.hi if r.hi is not None else declared(k, True)
        if r.step is None:
            out.append((lo, hi))
        else:
            span = ir.BinOp("+", ir.BinOp("-", hi, wrap(lo)), wrap(r.step))
            out.append((ONE, ir.BinOp("/", ir.Paren(span), wrap(r.step))))
    return out


def _lit(n: int) -> ir.Literal:
    return ir.Literal(str(n), "integer")


def _mm(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Call("matmul", (a, b))


def _inc(target: ir.Expr, term: ir.Expr | None, loc) -> ir.Stmt:
    assert term is not None
    if isinstance(term, ir.UnOp) and term.op == "-":
        return ir.Assign(target, ir.BinOp("-", target, wrap_sum(term.operand)), loc)
    return ir.Assign(target, ir.BinOp("+", target, term), loc)


def _sum(parts: list[ir.Expr]) -> ir.Expr:
    total = parts[0]
    for x in parts[1:]:
        if isinstance(x, ir.UnOp) and x.op == "-":
            total = ir.BinOp("-", total, wrap_sum(x.operand))
        else:
            total = ir.BinOp("+", total, x)
    return total
