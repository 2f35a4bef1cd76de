"""Types of expressions, for the temporaries normalization declares (normalize/scalarize.py)."""

from __future__ import annotations

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import subexprs

_LOGICAL_OPS = frozenset(
    "== /= < <= > >= .and. .or. .eqv. .neqv. .eq. .ne. .lt. .le. .gt. .ge.".split()
)


_INTEGER_RESULT = frozenset(
    "int nint floor ceiling size lbound ubound count len len_trim index maxloc minloc".split()
)


def _literal_type(e: ir.Literal) -> ir.TypeSpec:
    text = e.text.lower()
    if e.type == "real":
        if "_" in text:
            return ir.TypeSpec("real", text.rsplit("_", 1)[1])
        return ir.TypeSpec("double precision") if "d" in text else ir.TypeSpec("real")
    return ir.TypeSpec(e.type)


def _first_real(e: ir.Expr, lookup) -> ir.TypeSpec | None:
    for x in subexprs(e):
        if isinstance(x, ir.Name | ir.ArrayRef):
            sym = lookup(x.name)
            if sym is not None and sym.type is not None and sym.type.is_real:
                return sym.type
        elif isinstance(x, ir.Literal) and x.type == "real":
            return _literal_type(x)
    return None


def expr_type(e: ir.Expr, lookup) -> ir.TypeSpec | None:
    """The type of an expression (for temporaries): logical for comparisons, the real
    operand's for mixed arithmetic, the declared type of variables."""
    if isinstance(e, ir.BinOp) and e.op in _LOGICAL_OPS:
        return ir.TypeSpec("logical")
    if isinstance(e, ir.UnOp):
        return ir.TypeSpec("logical") if e.op == ".not." else expr_type(e.operand, lookup)
    if isinstance(e, ir.Paren | ir.Keyword):
        return expr_type(e.expr if isinstance(e, ir.Paren) else e.value, lookup)
    if isinstance(e, ir.BinOp):
        tl, tr = expr_type(e.left, lookup), expr_type(e.right, lookup)
        if tl is not None and tl.is_real:
            return tl
        return tr if tr is not None and tr.is_real else tl or tr
    if isinstance(e, ir.Literal):
        return _literal_type(e)
    if isinstance(e, ir.Name | ir.ArrayRef):
        sym = lookup(e.name)
        return sym.type if sym is not None else None
    if isinstance(e, ir.Call):
        args = [a.value if isinstance(a, ir.Keyword) else a for a in e.args]
        if e.name in ("real", "dble", "float", "sngl"):
            if e.name == "dble":
                return ir.TypeSpec("double precision")
            if len(args) > 1:
                from fortran_ad.backends.fortran import expr

                return ir.TypeSpec("real", expr(args[1]))
            return ir.TypeSpec("real")
        if e.name in _INTEGER_RESULT:
            return ir.TypeSpec("integer")
        if e.name in ("any", "all", "allocated", "present"):
            return ir.TypeSpec("logical")
        found = _first_real(e, lookup)
        if found is not None or not args:
            return found
        return expr_type(args[0], lookup)
    return _first_real(e, lookup)
