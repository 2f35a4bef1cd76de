"""Loop dependence: does a DO loop carry a dependence between iterations?

Subscripts are turned into sympy expressions; a subscript is *affine* in the loop variable ``i``
when it is ``a*i + b`` with an integer ``a`` and ``b`` free of ``i`` (and of anything written in
the loop). Two accesses ``x(f(i1))`` and ``x(g(i2))`` of the same array, one of them a write,
conflict across iterations if some dimension cannot tell them apart: per dimension the
equation ``a1*i1 + b1 = a2*i2 + b2`` with ``i1 != i2``. With ``a1 == a2`` and ``b1 - b2`` a
constant, it has a solution iff ``(b2 - b1)/a`` is a non-zero integer (the dependence distance);
a dimension with distance 0 separates the iterations. Anything else (indirect subscripts
``x(idx(i))``, coupled or symbolic offsets) is *unknown* and counts as a dependence. Scalars
written in the loop are private when every iteration writes them before reading them, a
reduction when they only appear as ``s = s + e``, and a dependence otherwise.

``analyse(loop)`` returns a ``Verdict`` (parallel or not, the reasons, and the private and
reduction variables a parallel version needs); ``fortran-ad --parallelize-adjoint`` uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, names_in, subexprs, walk_stmts

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def to_sympy(e: ir.Expr) -> sympy.Expr | None:
    """An integer expression as sympy (names become integer symbols); None if not polynomial."""
    if isinstance(e, ir.Name):
        return sympy.Symbol(e.name, integer=True)
    if isinstance(e, ir.Literal) and e.type == "integer" and "_" not in e.text:
        return sympy.Integer(int(e.text))
    if isinstance(e, ir.Paren):
        return to_sympy(e.expr)
    if isinstance(e, ir.UnOp) and e.op in "+-":
        inner = to_sympy(e.operand)
        return None if inner is None else (-inner if e.op == "-" else inner)
    if isinstance(e, ir.BinOp) and e.op in _OPS:
        left, right = to_sympy(e.left), to_sympy(e.right)
        if left is None or right is None:
            return None
        return sympy.expand(_OPS[e.op](left, right))
    return None


def affine(e: ir.Expr, var: str) -> tuple[int, sympy.Expr] | None:
    """``e == a*var + b`` with integer ``a`` and ``b`` free of ``var``: (a, b); else None."""
    x = to_sympy(e)
    if x is None:
        return None
    v = sympy.Symbol(var, integer=True)
    a = sympy.expand(x).coeff(v, 1)
    b = sympy.expand(x - a * v)
    if not a.is_Integer or v in b.free_symbols or v in a.free_symbols:
        return None
    return int(a), b


def offset(e: ir.Expr, var: str) -> int | None:
    """``c`` when ``e`` is ``var + c`` for an integer constant ``c``."""
    ab = affine(e, var)
    if ab is None or ab[0] != 1 or not ab[1].is_Integer:
        return None
    return int(ab[1])


def position(ref: ir.ArrayRef, var: str) -> tuple[int, int] | None:
    """(dimension, c) of ``x(.., var + c, ..)``: ``var`` in exactly one subscript, there as
    ``var`` plus a constant; None otherwise (also when ``var`` is absent)."""
    found = None
    for k, sub in enumerate(ref.subs):
        if var in names_in(sub):
            off = offset(sub, var)
            if found is not None or off is None:
                return None
            found = (k, off)
    return found


@dataclass
class Verdict:
    parallel: bool
    reasons: list[str] = field(default_factory=list)
    private: set[str] = field(default_factory=set)
    reduction: set[str] = field(default_factory=set)

    def explain(self) -> str:
        if self.parallel:
            extra = f"; private: {', '.join(sorted(self.private))}" if self.private else ""
            red = f"; reduction(+): {', '.join(sorted(self.reduction))}" if self.reduction else ""
            return "parallel" + extra + red
        return "not parallel: " + "; ".join(self.reasons)


def _accesses(body: tuple[ir.Stmt, ...]) -> list[tuple[ir.Expr, bool, ir.Stmt]]:
    """(designator, is_write, statement) for every variable reference in the body."""
    out: list[tuple[ir.Expr, bool, ir.Stmt]] = []
    for s in walk_stmts(body):
        if isinstance(s, ir.Assign):
            out.append((s.target, True, s))
            if isinstance(s.target, ir.ArrayRef):
                for sub in s.target.subs:
                    out += [(x, False, s) for x in subexprs(sub) if _designator(x)]
            out += [(x, False, s) for x in subexprs(s.value) if _designator(x)]
        elif isinstance(s, ir.CallStmt):
            out += [(a, True, s) for a in s.args if _designator(a)]
            out += [(x, False, s) for a in s.args for x in subexprs(a) if _designator(x)]
        elif isinstance(s, ir.Do):
            out.append((ir.Name(s.var), True, s))
        for e in _control_exprs(s):
            out += [(x, False, s) for x in subexprs(e) if _designator(x)]
    return out


def _designator(x: ir.Expr) -> bool:
    return isinstance(x, ir.Name | ir.ArrayRef)


def _control_exprs(s: ir.Stmt) -> tuple[ir.Expr, ...]:
    if isinstance(s, ir.Do):
        return tuple(x for x in (s.start, s.stop, s.step) if x is not None)
    if isinstance(s, ir.If):
        return tuple(c for c, _ in s.branches)
    if isinstance(s, ir.DoWhile) and s.cond is not None:
        return (s.cond,)
    if isinstance(s, ir.Select):
        return (s.expr,)
    return ()


def _separated(a: ir.ArrayRef, b: ir.ArrayRef, var: str, written: set[str]) -> bool | None:
    """True: the two references never meet in different iterations; None: unknown."""
    if len(a.subs) != len(b.subs):
        return None
    for sa, sb in zip(a.subs, b.subs, strict=True):
        if isinstance(sa, ir.Range) or isinstance(sb, ir.Range):
            continue
        if (names_in(sa) | names_in(sb)) & (written - {var}):
            continue  # varies inside the iteration: this dimension proves nothing
        fa, fb = affine(sa, var), affine(sb, var)
        if fa is None or fb is None or fa[0] != fb[0] or fa[0] == 0:
            continue
        diff = sympy.simplify(fb[1] - fa[1])
        if diff.is_Integer and int(diff) == 0:
            return True  # same iteration only
    return None


def scalar_kind(name: str, body: tuple[ir.Stmt, ...]) -> str:
    """'private' (written before read in every iteration), 'reduction' (only s = s + e) or
    'carried'."""
    reads_first = False
    seen_write = False
    only_sums = True
    for s in walk_stmts(body):
        if isinstance(s, ir.Assign) and base_name(s.target) == name:
            v = s.value
            summed = (
                isinstance(v, ir.BinOp)
                and v.op in "+-"
                and v.left == s.target
                and name not in names_in(v.right)
            )
            only_sums &= summed
            if summed and not seen_write:
                reads_first = True
            seen_write = True
            continue
        reads = set()
        if isinstance(s, ir.Assign):
            reads = names_in(s.value)
        elif isinstance(s, ir.CallStmt):
            reads = set().union(*(names_in(a) for a in s.args)) if s.args else set()
        reads |= (
            set().union(*(names_in(e) for e in _control_exprs(s))) if _control_exprs(s) else set()
        )
        if name in reads:
            only_sums = False
            if not seen_write:
                reads_first = True
    top_first = next(
        (s for s in body if name in {base_name(x) for x, _, _ in _accesses((s,))}), None
    )
    if only_sums and seen_write:
        return "reduction"
    if not reads_first and isinstance(top_first, ir.Assign) and base_name(top_first.target) == name:
        return "private"
    return "carried"


def analyse(loop: ir.Do, rank_of) -> Verdict:
    """Is ``loop`` free of loop-carried dependences? ``rank_of(name)`` gives a variable's rank
    (0 for scalars). Calls and opaque statements count as dependences (their effects are not
    analysed)."""
    v = Verdict(True)
    body = loop.body
    for s in walk_stmts(body):
        if isinstance(s, ir.CallStmt | ir.Opaque | ir.DoWhile | ir.Return | ir.Exit):
            v.parallel = False
            v.reasons.append(f"line {s.loc.line}: {type(s).__name__} (effects not analysed)")
    acc = _accesses(body)
    written = {base_name(x) for x, w, _ in acc if w} - {None}
    inner_vars = {s.var for s in walk_stmts(body) if isinstance(s, ir.Do)}
    v.private |= inner_vars
    for name in sorted(written - inner_vars - {loop.var}):
        if rank_of(name) == 0:
            kind = scalar_kind(name, body)
            if kind == "private":
                v.private.add(name)
            elif kind == "reduction":
                v.reduction.add(name)
            else:
                v.parallel = False
                v.reasons.append(f"scalar '{name}' is carried from one iteration to the next")
            continue
        refs = [(x, w) for x, w, _ in acc if base_name(x) == name]
        for i, (a, wa) in enumerate(refs):
            for b, wb in refs[i:]:
                if not (wa or wb):
                    continue
                if not (isinstance(a, ir.ArrayRef) and isinstance(b, ir.ArrayRef)):
                    v.parallel = False
                    v.reasons.append(f"'{name}' is accessed as a whole")
                    break
                if _separated(a, b, loop.var, written) is None:
                    v.parallel = False
                    v.reasons.append(_describe(a, b, loop.var))
            else:
                continue
            break
    v.reasons = list(dict.fromkeys(v.reasons))
    return v


def _describe(a: ir.ArrayRef, b: ir.ArrayRef, var: str) -> str:
    from fortran_ad.ir.printer import expr

    for sa, sb in zip(a.subs, b.subs, strict=False):
        fa, fb = affine(sa, var), affine(sb, var)
        if fa is not None and fb is not None and fa[0] == fb[0] and fa[0] != 0:
            d = sympy.simplify((fb[1] - fa[1]) / fa[0])
            if d.is_Integer and d != 0:
                return f"'{expr(a)}' and '{expr(b)}' meet {abs(int(d))} iteration(s) apart"
    return f"cannot separate '{expr(a)}' and '{expr(b)}' across iterations of '{var}'"
