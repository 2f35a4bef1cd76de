"""Type-bound procedure parts lowered to IR (binding lists of F2008 were split into one
statement per binding before parsing: frontend/binding_lists.py).

``bindings`` lowers Specific_Binding / Generic_Binding nodes to ``ir.Binding`` records that
normalize/typebound.py resolves calls through.
"""

from __future__ import annotations

from fparser.two import Fortran2003 as F
from fparser.two.utils import walk

from fortran_ad.frontend.lower_expr import lname
from fortran_ad.ir import nodes as ir


def parent_type(node: F.Derived_Type_Def) -> str | None:
    for spec in walk(node.children[0], F.Type_Attr_Spec):
        if str(spec.items[0]).upper() == "EXTENDS":
            return lname(spec.items[1])
    return None


def bindings(node: F.Derived_Type_Def, locate, loc: ir.SourceLoc) -> tuple[ir.Binding, ...]:
    out: list[ir.Binding] = []
    for b in walk(node, (F.Specific_Binding, F.Generic_Binding)):
        where = locate(b) if locate is not None else loc
        if isinstance(b, F.Generic_Binding):
            spec = b.items[1]
            name = lname(spec) if isinstance(spec, F.Name) else str(spec).lower()
            out.append(
                ir.Binding(name, specifics=tuple(lname(n) for n in b.items[2].items), loc=where)
            )
            continue
        _iface, attrs, _colons, name_node, proc = b.items
        passed: str | None = ""
        deferred = False
        for a in attrs.items if attrs is not None else ():
            if isinstance(a, F.Binding_PASS_Arg_Name):
                passed = lname(a.items[1])
            elif str(a).upper() == "NOPASS":
                passed = None
            elif str(a).upper() == "DEFERRED":
                deferred = True
        name = lname(name_node)
        target = None if deferred else lname(proc) if proc is not None else name
        out.append(ir.Binding(name, target, (), passed, deferred, where))
    return tuple(out)
