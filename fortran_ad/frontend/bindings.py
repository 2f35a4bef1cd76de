"""Type-bound procedure parts: binding lists split for the parser, bindings lowered to IR.

fparser reads one binding per PROCEDURE statement (F2003); F2008 allows a list
(``procedure, public :: get_nx, get_ny``). ``split_binding_lists`` rewrites such a statement,
inside a derived-type definition after its CONTAINS, into one statement per binding joined by
``;`` on the same line, so line numbers (and located errors) stay those of the source.
``bindings`` lowers Specific_Binding / Generic_Binding nodes to ``ir.Binding`` records that
normalize/typebound.py resolves calls through.
"""

from __future__ import annotations

import re

from fparser.two import Fortran2003 as F
from fparser.two.utils import walk

from fortran_ad.frontend.lower_expr import lname
from fortran_ad.ir import nodes as ir

_TYPE_START = re.compile(r"^\s*type\s*(,[^:]*)?(::)?\s*(?!is\b)[a-z_]\w*\s*(\(.*\))?\s*$", re.I)
_TYPE_END = re.compile(r"^\s*end\s*type\b", re.I)
_CONTAINS = re.compile(r"^\s*contains\s*$", re.I)
_BINDING = re.compile(r"^(\s*procedure\s*(\([^)]*\))?\s*(,[^:]*)?::)(.*)$", re.I)


def split_binding_lists(text: str) -> str:
    """``procedure[, attrs] :: a, b => c`` → ``procedure[, attrs] :: a; procedure[, attrs]
    :: b => c`` inside type-bound procedure parts (free form; other lines unchanged)."""
    out: list[str] = []
    in_type = in_bindings = False
    for line in text.split("\n"):
        code = line.split("!", 1)[0]
        if _TYPE_END.match(code):
            in_type = in_bindings = False
        elif _TYPE_START.match(code) and not code.strip().lower().startswith("type("):
            in_type, in_bindings = True, False
        elif in_type and _CONTAINS.match(code):
            in_bindings = True
        elif in_bindings and not code.rstrip().endswith("&"):
            m = _BINDING.match(code)
            if m is not None and "," in m.group(4):
                names = [n.strip() for n in m.group(4).split(",")]
                comment = line[len(code) :]
                line = "; ".join(f"{m.group(1)} {n}" for n in names) + comment
        out.append(line)
    return "\n".join(out)


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
