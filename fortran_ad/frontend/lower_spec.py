"""fparser2 specification statements → IR SpecItems, and the symbol table built from them."""

from __future__ import annotations

from fparser.two import Fortran2003 as F
from fparser.two.utils import walk

from fortran_ad.frontend.lower_expr import Scope, lname, lower_expr
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import implicit_type

_SHAPE_LISTS = (
    F.Explicit_Shape_Spec_List,
    F.Assumed_Shape_Spec_List,
    F.Deferred_Shape_Spec_List,
)


def type_spec(node: F.Base) -> ir.TypeSpec:
    """Intrinsic_Type_Spec / Declaration_Type_Spec → TypeSpec, kind text as written."""
    if isinstance(node, F.Declaration_Type_Spec):
        return ir.TypeSpec(f"{str(node.items[0]).lower()}({lname(node.items[1])})")
    base = str(node.items[0]).lower()
    sel = node.items[1]
    if sel is None:
        return ir.TypeSpec(base)
    if isinstance(sel, F.Kind_Selector):
        if sel.items[0] == "*":  # real*8
            return ir.TypeSpec(base, f"*{sel.items[1]}")
        return ir.TypeSpec(base, lname(sel.items[1]))
    if base == "character":
        return ir.TypeSpec(base, None, str(sel).lower())
    return ir.TypeSpec(base, str(sel).lower())


def _dim(node: F.Base, scope: Scope) -> ir.Dim:
    if isinstance(node, F.Explicit_Shape_Spec):
        lo, hi = node.items
        return ir.Dim(
            "explicit", lower_expr(lo, scope) if lo is not None else None, lower_expr(hi, scope)
        )
    if isinstance(node, F.Assumed_Shape_Spec):
        lo = node.items[0]
        return ir.Dim("assumed", lower_expr(lo, scope) if lo is not None else None)
    if isinstance(node, F.Deferred_Shape_Spec):
        return ir.Dim("deferred")
    if isinstance(node, F.Assumed_Size_Spec):
        raise AssertionError("assumed-size handled by dims()")
    raise AssertionError(f"unexpected shape spec {type(node).__name__}")


def dims(node: F.Base | None, scope: Scope) -> tuple[ir.Dim, ...]:
    if node is None:
        return ()
    if isinstance(node, F.Assumed_Size_Spec):
        explicit, last_lo = node.items
        head = dims(explicit, scope) if explicit is not None else ()
        lo = lower_expr(last_lo, scope) if last_lo is not None else None
        return (*head, ir.Dim("assumed_size", lo))
    if isinstance(node, _SHAPE_LISTS):
        return tuple(_dim(d, scope) for d in node.items)
    return (_dim(node, scope),)


def entity(node: F.Entity_Decl, scope: Scope) -> ir.Entity:
    name, shape, length, init = node.items
    value = None
    if init is not None:
        value = lower_expr(init.items[1], scope)
    return ir.Entity(
        lname(name), dims(shape, scope), value, str(length).lower() if length else None
    )


def array_names(spec: F.Base | None) -> set[str]:
    """Names given a shape anywhere in a specification part (to tell arrays from functions)."""
    found: set[str] = set()
    if spec is None:
        return found
    for decl in walk(spec, F.Entity_Decl):
        if decl.items[1] is not None:
            found.add(lname(decl.items[0]))
    for stmt in walk(spec, F.Type_Declaration_Stmt):
        if stmt.items[1] is not None and "dimension" in str(stmt.items[1]).lower():
            for decl in walk(stmt.items[2], F.Entity_Decl):
                found.add(lname(decl.items[0]))
    for stmt in walk(spec, F.Dimension_Stmt):
        for name, _ in stmt.items[0]:
            found.add(lname(name))
    for obj in walk(spec, F.Common_Block_Object):
        found.add(lname(obj.items[0]))
    return found


def _attr_text(attr: F.Base) -> str:
    return str(attr).lower().replace(" ", "")


def symbols_from_spec(
    spec: tuple[ir.SpecItem, ...],
    args: tuple[str, ...],
    used_names: list[str],
    implicit_rules: dict[str, ir.TypeSpec] | None,
    skip: set[str],
) -> tuple[ir.Symbol, ...]:
    """Merge declarations into Symbols; implicitly typed names get attr "implicit".

    ``used_names`` are names referenced in the body (in order); those not declared, not
    skipped (functions, host/module names) and typed by the implicit rules become symbols.
    ``implicit_rules`` is None under IMPLICIT NONE.
    """
    table: dict[str, dict] = {}

    def get(name: str, loc: ir.SourceLoc) -> dict:
        if name not in table:
            table[name] = {
                "type": None,
                "dims": (),
                "intent": None,
                "attrs": set(),
                "init": None,
                "loc": loc,
            }
        return table[name]

    def give(entry: dict, attr: str) -> None:
        if attr.startswith("intent("):
            entry["intent"] = attr[7:-1].replace(" ", "")
        elif not attr.startswith("dimension"):
            entry["attrs"].add(attr)

    for item in spec:
        if isinstance(item, ir.TypeDecl):
            for ent in item.entities:
                entry = get(ent.name, item.loc)
                entry["type"] = item.type
                for a in item.attrs:
                    give(entry, a)
                if ent.dims or item.dims:
                    entry["dims"] = ent.dims or item.dims
                if ent.init is not None:
                    entry["init"] = ent.init
        elif isinstance(item, ir.Common):
            for ent in item.members:
                entry = get(ent.name, item.loc)
                entry["attrs"].add(f"common/{item.block}/")
                if ent.dims:
                    entry["dims"] = ent.dims
        elif isinstance(item, ir.AttrStmt):
            for ent in item.targets:
                entry = get(ent.name, item.loc)
                if ent.dims:
                    entry["dims"] = ent.dims
                if ent.init is not None:
                    entry["init"] = ent.init
                give(entry, item.attr)
    for arg in args:
        get(arg, ir.NOWHERE)
    for name in used_names:
        if name in table or name in skip or implicit_rules is None:
            continue
        if implicit_type(name, implicit_rules) is not None:
            get(name, ir.NOWHERE)
    out = []
    for name, e in table.items():
        attrs = set(e["attrs"])
        t = e["type"]
        if t is None:
            attrs.add("implicit")
            t = implicit_type(name, implicit_rules) if implicit_rules is not None else None
        the_dims = e["dims"]
        if attrs & {"allocatable", "pointer"}:  # x(:) parses as assumed shape; it is deferred
            the_dims = tuple(ir.Dim("deferred") if d.kind == "assumed" else d for d in the_dims)
        out.append(ir.Symbol(name, t, the_dims, e["intent"], frozenset(attrs), e["init"], e["loc"]))
    return tuple(out)


def attr_stmt(node: F.Base, loc: ir.SourceLoc, scope: Scope) -> ir.AttrStmt | None:
    """Dimension/Parameter/Intent/Save/... statements; None if not an attribute statement."""
    text = str(node)
    if isinstance(node, F.Dimension_Stmt):
        targets = tuple(ir.Entity(lname(n), dims(d, scope)) for n, d in node.items[0])
        return ir.AttrStmt(text, "dimension", targets, loc)
    if isinstance(node, F.Parameter_Stmt):
        targets = tuple(
            ir.Entity(lname(d.items[0]), (), lower_expr(d.items[1], scope))
            for d in node.items[1].items
        )
        return ir.AttrStmt(text, "parameter", targets, loc)
    if isinstance(node, F.Intent_Stmt):
        names = tuple(ir.Entity(lname(n)) for n in walk(node.items[1], F.Name))
        return ir.AttrStmt(text, f"intent({str(node.items[0]).lower()})", names, loc)
    simple = {
        F.Save_Stmt: "save",
        F.External_Stmt: "external",
        F.Intrinsic_Stmt: "intrinsic",
        F.Allocatable_Stmt: "allocatable",
        F.Target_Stmt: "target",
        F.Optional_Stmt: "optional",
    }
    for cls, attr in simple.items():
        if isinstance(node, cls):
            names = tuple(ir.Entity(lname(n)) for n in walk(node, F.Name))
            return ir.AttrStmt(text, attr, names, loc)
    return None


def type_def(node: F.Derived_Type_Def, loc: ir.SourceLoc, scope: Scope, locate=None) -> ir.TypeDef:
    """A derived-type definition: kept verbatim, with its data components as Symbols (a
    PRIVATE one, by attribute or by the type's PRIVATE statement, carries "private"), its
    parent type and its type-bound procedures (frontend/bindings.py)."""
    from fortran_ad.frontend.bindings import bindings, parent_type

    name = lname(walk(node, F.Type_Name)[0])
    components: list[ir.Symbol] = []
    default_private = any(isinstance(c, F.Private_Components_Stmt) for c in node.children)
    for stmt in walk(node, F.Data_Component_Def_Stmt):
        tspec, attrs, decls = stmt.items
        texts = [_attr_text(a) for a in (attrs.items if attrs is not None else ())]
        if default_private and "public" not in texts and "private" not in texts:
            texts.append("private")
        shared: tuple[ir.Dim, ...] = ()
        for a in attrs.items if attrs is not None else ():
            if isinstance(a, F.Dimension_Component_Attr_Spec):
                shared = dims(a.items[1], scope)
        flags = frozenset(t for t in texts if not t.startswith("dimension"))
        for decl in decls.items:
            ent = entity(decl, scope)
            the_dims = ent.dims or shared
            if flags & {"allocatable", "pointer"}:
                the_dims = tuple(ir.Dim("deferred") for _ in the_dims)
            components.append(
                ir.Symbol(ent.name, type_spec(tspec), the_dims, None, flags, ent.init, loc)
            )
    return ir.TypeDef(
        str(node), loc, name, tuple(components), parent_type(node), bindings(node, locate, loc)
    )
