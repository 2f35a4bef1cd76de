"""fparser2 expressions → IR expressions.

One table (EXPR_HANDLERS) names every fparser class we model; anything else becomes an
OpaqueExpr (kept verbatim, with the names it mentions so analyses can refuse it when active).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fparser.two import Fortran2003 as F
from fparser.two.utils import BinaryOpBase, UnaryOpBase, walk

from fortran_ad.ir import nodes as ir


class Scope:
    """What the lowering needs to know about names: which are arrays (vs. functions)."""

    def __init__(self, arrays: set[str], parent: Scope | None = None):
        self.arrays = arrays
        self.parent = parent

    def is_array(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.arrays:
                return True
            scope = scope.parent
        return False


def lname(node: object) -> str:
    return str(node).lower()


def _literal(node: F.Base, type_: str) -> ir.Literal:
    value, kind = node.items[0], node.items[1]
    text = str(value) if type_ == "character" else str(value).lower()
    if kind is not None:
        text = f"{kind}_{text}" if type_ == "character" else f"{text}_{str(kind).lower()}"
    return ir.Literal(text, type_)


def _subs(node: F.Base | None, scope: Scope) -> tuple[ir.Expr, ...]:
    if node is None:
        return ()
    items = node.items if isinstance(node, F.SequenceBase) else (node,)
    return tuple(lower_expr(i, scope) for i in items)


def _part_ref(node: F.Part_Ref, scope: Scope) -> ir.Expr:
    name = lname(node.items[0])
    subs = _subs(node.items[1], scope)
    if scope.is_array(name):
        return ir.ArrayRef(name, subs)
    return ir.Call(name, subs)


def _func_ref(node: F.Base, scope: Scope) -> ir.Expr:
    return ir.Call(lname(node.items[0]), _subs(node.items[1], scope))


def _triplet(node: F.Subscript_Triplet, scope: Scope) -> ir.Range:
    lo, hi, step = node.items
    return ir.Range(
        lower_expr(lo, scope) if lo is not None else None,
        lower_expr(hi, scope) if hi is not None else None,
        lower_expr(step, scope) if step is not None else None,
    )


def _structure_constructor(node: F.Base, scope: Scope) -> ir.Expr:
    """fparser reads ``f(x, 1.5_dp)`` as a structure constructor when it cannot rule that
    out; without derived types in scope it is a function reference."""
    name, specs = node.items
    args: tuple[ir.Expr, ...] = ()
    if specs is not None:
        items = specs.items if isinstance(specs, F.SequenceBase) else (specs,)
        lowered = []
        for item in items:
            if isinstance(item, F.Component_Spec):
                lowered.append(ir.Keyword(lname(item.items[0]), lower_expr(item.items[1], scope)))
            else:
                lowered.append(lower_expr(item, scope))
        args = tuple(lowered)
    return ir.Call(lname(name), args)


def _data_ref(node: F.Data_Ref, scope: Scope) -> ir.Expr:
    """``s%p%c`` → Name("s%p%c"), ``s%h(i)`` → ArrayRef("s%h", (i,)); an array of derived
    type subscripted first: ``cs(i)%q(k)`` → ArrayRef("cs%q", (i, k), head=1). Subscripts on
    an inner part (``s%a(i)%b``) stay opaque."""
    names: list[str] = []
    head: tuple[ir.Expr, ...] = ()
    subs: tuple[ir.Expr, ...] | None = None
    parts = node.items
    for k, part in enumerate(parts):
        if isinstance(part, F.Part_Ref) and k == len(parts) - 1:
            names.append(lname(part.items[0]))
            subs = _subs(part.items[1], scope)
        elif isinstance(part, F.Part_Ref) and k == 0:
            names.append(lname(part.items[0]))
            head = _subs(part.items[1], scope)
        elif isinstance(part, F.Name):
            names.append(lname(part))
        else:
            return opaque_expr(node)
    path = "%".join(names)
    if head:
        return ir.ArrayRef(path, head + (subs or ()), len(head))
    return ir.ArrayRef(path, subs) if subs is not None else ir.Name(path)


def _actual_arg(node: F.Actual_Arg_Spec, scope: Scope) -> ir.Keyword:
    return ir.Keyword(lname(node.items[0]), lower_expr(node.items[1], scope))


def _array_ctor(node: F.Array_Constructor, scope: Scope) -> ir.Expr:
    values = node.items[1]
    if values is None or not isinstance(values, F.Ac_Value_List | F.Base):
        return ir.ArrayCtor(())
    items = values.items if isinstance(values, F.Ac_Value_List) else (values,)
    if values.__class__ is F.Ac_Implied_Do:
        items = (values,)
    return ir.ArrayCtor(tuple(lower_expr(i, scope) for i in items))


def _implied_do(node: F.Ac_Implied_Do, scope: Scope) -> ir.Expr:
    values, control = node.items
    items = values.items if isinstance(values, F.Ac_Value_List) else (values,)
    var, bounds = control.items
    step = lower_expr(bounds[2], scope) if len(bounds) > 2 else None
    return ir.ImpliedDo(
        tuple(lower_expr(i, scope) for i in items),
        lname(var),
        lower_expr(bounds[0], scope),
        lower_expr(bounds[1], scope),
        step,
    )


EXPR_HANDLERS: dict[type, Callable[[F.Base, Scope], ir.Expr]] = {
    F.Name: lambda n, s: ir.Name(lname(n)),
    F.Int_Literal_Constant: lambda n, s: _literal(n, "integer"),
    F.Real_Literal_Constant: lambda n, s: _literal(n, "real"),
    F.Logical_Literal_Constant: lambda n, s: _literal(n, "logical"),
    F.Char_Literal_Constant: lambda n, s: _literal(n, "character"),
    F.Complex_Literal_Constant: lambda n, s: ir.Literal(str(n).lower(), "complex"),
    F.Part_Ref: _part_ref,
    F.Intrinsic_Function_Reference: _func_ref,
    F.Function_Reference: _func_ref,
    F.Structure_Constructor: _structure_constructor,
    F.Data_Ref: _data_ref,
    F.Subscript_Triplet: _triplet,
    F.Actual_Arg_Spec: _actual_arg,
    F.Parenthesis: lambda n, s: ir.Paren(lower_expr(n.items[1], s)),
    F.Array_Constructor: _array_ctor,
    F.Ac_Implied_Do: _implied_do,
}

# Relational operators are kept as written (lower case); this maps them to one spelling.
RELATIONAL = {
    ".eq.": "==",
    ".ne.": "/=",
    ".lt.": "<",
    ".le.": "<=",
    ".gt.": ">",
    ".ge.": ">=",
    "==": "==",
    "/=": "/=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}


def opaque_expr(node: F.Base) -> ir.OpaqueExpr:
    names = sorted({lname(n) for n in walk(node, F.Name)})
    base = None
    if isinstance(node, F.Data_Ref):  # s%a(i): the variable is s
        first = node.items[0]
        base = lname(first.items[0] if isinstance(first, F.Part_Ref) else first)
    return ir.OpaqueExpr(str(node), tuple(names), base)


def lookup(table: dict[type, Callable], node: object) -> Callable | None:
    """The handler for ``node``'s class or its nearest base (fparser's F2008 classes derive
    from the F2003 ones)."""
    for cls in type(node).__mro__:
        handler = table.get(cls)
        if handler is not None:
            return handler
    return None


def _component_ref(left: ir.Expr, right: ir.Expr, node: F.Base) -> ir.Expr:
    """``a%b`` (``a%b(i)``) as the component reference it is, else the text as written."""
    if isinstance(left, ir.Name) and isinstance(right, ir.Name):
        return ir.Name(f"{left.name}%{right.name}")
    if isinstance(left, ir.Name) and isinstance(right, ir.ArrayRef) and not right.head:
        return replace(right, name=f"{left.name}%{right.name}")
    return ir.OpaqueExpr(str(node))


def lower_expr(node: F.Base, scope: Scope) -> ir.Expr:
    handler = lookup(EXPR_HANDLERS, node)
    if handler is not None:
        return handler(node, scope)
    if isinstance(node, BinaryOpBase):
        left, op, right = node.items
        if str(op) == "%":  # fparser reads some actual arguments ``a%b`` as an operation
            return _component_ref(lower_expr(left, scope), lower_expr(right, scope), node)
        return ir.BinOp(str(op).lower(), lower_expr(left, scope), lower_expr(right, scope))
    if isinstance(node, UnaryOpBase):
        op, operand = node.items
        return ir.UnOp(str(op).lower(), lower_expr(operand, scope))
    return opaque_expr(node)
