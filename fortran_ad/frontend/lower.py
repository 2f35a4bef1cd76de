"""fparser2 program units and specification parts → IR (statements: lower_stmt.py).

Files are lowered in the order given, as a compiler would compile them: what modules provide
(array names, entity names) is carried to later files by a ModuleRegistry.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fparser.two import Fortran2003 as F
from fparser.two.utils import walk

from fortran_ad.frontend.binding_lists import split_binding_lists
from fortran_ad.frontend.coverage import check_coverage
from fortran_ad.frontend.lower_expr import Scope, lname
from fortran_ad.frontend.lower_spec import (
    array_names,
    attr_stmt,
    entity,
    symbols_from_spec,
    type_def,
    type_spec,
)
from fortran_ad.frontend.lower_spec import dims as lower_dims
from fortran_ad.frontend.lower_stmt import (
    ModuleRegistry,
    _body,
    _Ctx,
    _missing_include,
    comment_text,
    parse,
)
from fortran_ad.frontend.omp import leading_directives, strip_locality
from fortran_ad.frontend.parts import unit_parts
from fortran_ad.frontend.preprocess import Source
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import NO_HOST, implicit_rules

__all__ = ["ModuleRegistry", "lower_source", "parse"]

# --------------------------------------------------------------------------------------------
# Specification parts


def _spec(node: F.Base | None, ctx: _Ctx, scope: Scope) -> tuple[ir.SpecItem, ...]:
    if node is None:
        return ()
    out: list[ir.SpecItem] = []
    for child in node.children:
        if isinstance(child, F.Implicit_Part):
            out.extend(_spec(child, ctx, scope))
            continue
        if isinstance(child, F.Common_Stmt):  # one item per block: /a/ x /b/ y is two
            loc = ctx.loc(child)
            for block, objs in child.items[0]:
                members = tuple(_common_member(o, scope) for o in objs.items)
                out.append(ir.Common(lname(block) if block is not None else "", members, loc))
            continue
        out.append(_spec_item(child, ctx, scope))
    return tuple(out)


def _spec_item(node: F.Base, ctx: _Ctx, scope: Scope) -> ir.SpecItem:
    loc = ctx.loc(node)
    if isinstance(node, F.Comment):
        return ir.CommentSpec(comment_text(node), loc)
    if isinstance(node, F.Use_Stmt):
        module = lname(node.items[2])
        only_list = node.items[4]
        if node.items[3] and "only" in node.items[3].lower():
            pairs = []
            for item in only_list.items if only_list is not None else ():
                if isinstance(item, F.Rename):
                    pairs.append((lname(item.items[1]), lname(item.items[2])))
                else:
                    pairs.append((lname(item), lname(item)))
            return ir.Use(module, tuple(pairs), (), loc)
        renames = ()
        if only_list is not None:
            renames = tuple(
                (lname(r.items[1]), lname(r.items[2])) for r in walk(only_list, F.Rename)
            )
        return ir.Use(module, None, renames, loc)
    if isinstance(node, F.Implicit_Stmt):
        if str(node.items[0]).upper() == "NONE":
            return ir.Implicit((), loc)
        rules = []
        for spec in node.items[0].items:
            letters = ",".join(
                f"{ls.items[0]}-{ls.items[1]}".lower() if ls.items[1] else str(ls.items[0]).lower()
                for ls in spec.items[1].items
            )
            rules.append((str(spec.items[0]).lower(), letters))
        return ir.Implicit(tuple(rules), loc)
    if isinstance(node, F.Type_Declaration_Stmt):
        tspec, attrs, ents = node.items
        attr_texts: list[str] = []
        dim_attr: tuple[ir.Dim, ...] = ()
        for a in attrs.items if attrs is not None else ():
            if isinstance(a, F.Dimension_Attr_Spec):
                dim_attr = lower_dims(a.items[1], scope)
            attr_texts.append(str(a).lower().replace(" ", ""))
        entities = tuple(entity(e, scope) for e in ents.items)
        return ir.TypeDecl(type_spec(tspec), tuple(attr_texts), entities, dim_attr, loc)
    attr = attr_stmt(node, loc, scope)
    if attr is not None:
        return attr
    if isinstance(node, F.Derived_Type_Def):
        return type_def(node, loc, scope, ctx.loc)
    if isinstance(node, F.Interface_Block):
        return _interface(node, loc)
    _missing_include(node, ctx)
    return ir.OpaqueSpec(str(node), loc)


def _interface(node: F.Interface_Block, loc: ir.SourceLoc) -> ir.Interface:
    """A generic interface (its specifics) or a block of external interfaces (their names)."""
    head = node.children[0]
    generic = head.items[0] if head.items else None
    name = lname(generic) if isinstance(generic, F.Name) else None
    procs: list[str] = []
    for stmt in walk(node, F.Procedure_Stmt):
        procs.extend(lname(n) for n in stmt.items[0].items)
    bodies = [lname(s.items[1]) for s in walk(node, (F.Subroutine_Stmt, F.Function_Stmt))]
    return ir.Interface(str(node), loc, name, tuple(procs + bodies), tuple(bodies))


def _common_member(node: F.Base, scope: Scope) -> ir.Entity:
    if isinstance(node, F.Common_Block_Object):
        return ir.Entity(lname(node.items[0]), lower_dims(node.items[1], scope))
    return ir.Entity(lname(node))


# --------------------------------------------------------------------------------------------
# Program units


def _children_of(node: F.Base, cls: type) -> F.Base | None:
    for c in node.children:
        if isinstance(c, cls):
            return c
    return None


def _lower_routine(
    node: F.Base, ctx: _Ctx, host: Scope | None, host_rules: dict | None, host_names: set[str]
) -> ir.Routine:
    comments = []
    head = None
    for c in node.children:
        if isinstance(c, F.Comment):
            if str(c).strip():
                comments.append(comment_text(c))
        else:
            head = c
            break
    assert head is not None
    kind = {
        F.Subroutine_Stmt: "subroutine",
        F.Function_Stmt: "function",
        F.Program_Stmt: "program",
    }[type(head)]
    prefix: tuple[str, ...] = ()
    prefix_type: ir.TypeSpec | None = None
    args: tuple[str, ...] = ()
    result = None
    result_clause = False
    if kind == "program":
        name = lname(head.items[1])
    else:
        pre, name_node, arg_list, suffix = head.items
        name = lname(name_node)
        if pre is not None:
            prefix = tuple(str(p).lower() for p in pre.items)
            for p in pre.items:  # ``real(dp) function f``: the result's type, kind as written
                if isinstance(p, F.Intrinsic_Type_Spec | F.Declaration_Type_Spec):
                    prefix_type = type_spec(p)
        if arg_list is not None:
            args = tuple(lname(a) for a in arg_list.items)
        if kind == "function":
            result = name
            if suffix is not None and suffix.items[0] is not None:
                result, result_clause = lname(suffix.items[0]), True
    spec_node, exec_node = unit_parts(node, ctx)
    scope = Scope(array_names(spec_node), host)
    spec = _spec(spec_node, ctx, scope)
    _import_arrays(spec, ctx, scope)
    body = _body(list(exec_node.children), ctx, scope) if exec_node is not None else ()
    spec, body = leading_directives(spec, body)
    internal = _children_of(node, F.Internal_Subprogram_Part)
    rules = implicit_rules(spec, host_rules)
    host_names = host_names | _imported_names(spec, ctx)
    used = [lname(n) for n in walk(exec_node, F.Name)] if exec_node is not None else []
    called = {lname(c.items[0]) for c in walk(exec_node, F.Call_Stmt)} if exec_node else set()
    contained: list[F.Base] = []
    if internal is not None:
        contained = [
            c
            for c in internal.children
            if isinstance(c, F.Subroutine_Subprogram | F.Function_Subprogram)
        ]
    internal_names = {
        lname(_children_of(c, F.Subroutine_Stmt | F.Function_Stmt).items[1]) for c in contained
    }
    func_like = {e.name for e in walk_calls(body)}
    skip = host_names | called | internal_names | func_like | {name}
    if result is not None:
        skip.discard(result)
    symbols = symbols_from_spec(spec, args, used, rules, skip)
    if result is not None and not any(s.name == result for s in symbols):
        from fortran_ad.ir.symbols import implicit_type

        rtype = None
        for p in prefix:
            if p not in ("pure", "elemental", "recursive", "impure", "module"):
                rtype = p
        ts = prefix_type or (ir.TypeSpec(rtype) if rtype else implicit_type(result, rules))
        symbols = (*symbols, ir.Symbol(result, ts, (), None, frozenset({"implicit"})))
    my_names = {s.name for s in symbols} | host_names
    children = tuple(_lower_routine(c, ctx, scope, rules, my_names) for c in contained)
    return ir.Routine(
        name,
        kind,
        args,
        spec,
        body,
        symbols,
        result,
        result_clause,
        prefix,
        children,
        tuple(comments),
        ctx.loc(head),
    )


def _import_arrays(spec: tuple[ir.SpecItem, ...], ctx: _Ctx, scope: Scope) -> None:
    """Arrays that USE statements bring in (so that ``a(i)`` is read as an element)."""
    for item in spec:
        if isinstance(item, ir.Use):
            arrays = ctx.module_arrays.get(item.module, set())
            pairs = item.only if item.only is not None else [(n, n) for n in arrays]
            scope.arrays.update(local for local, remote in pairs if remote in arrays)


def _imported_names(spec: tuple[ir.SpecItem, ...], ctx: _Ctx) -> set[str]:
    """Names USE statements bring into a scope (all of a module's when there is no ONLY)."""
    out: set[str] = set()
    for item in spec:
        if isinstance(item, ir.Use):
            if item.only is not None:
                out |= {local for local, _ in item.only}
            else:
                out |= ctx.module_names.get(item.module, set())
                out |= {local for local, _ in item.renames}
    return out


def walk_calls(body: tuple[ir.Stmt, ...]) -> list[ir.Call]:
    """Every function reference in a body (used to keep function names out of the symbols)."""
    from fortran_ad.ir.walk import exprs_of_body, subexprs

    out = []
    for e in exprs_of_body(body):
        for sub in subexprs(e):
            if isinstance(sub, ir.Call):
                out.append(sub)
    return out


def _lower_module(node: F.Module, ctx: _Ctx) -> ir.Module:
    comments = [
        comment_text(c) for c in node.children if isinstance(c, F.Comment) and str(c).strip()
    ]
    head = _children_of(node, F.Module_Stmt)
    name = lname(head.items[1])
    spec_node = _children_of(node, F.Specification_Part)
    arrays = array_names(spec_node)
    ctx.module_arrays[name] = set(arrays)
    scope = Scope(set(arrays))
    spec = _spec(spec_node, ctx, scope)
    _import_arrays(spec, ctx, scope)
    rules = implicit_rules(spec)
    symbols = symbols_from_spec(spec, (), [], rules, set())
    sub_part = _children_of(node, F.Module_Subprogram_Part)
    routines: list[ir.Routine] = []
    names = {s.name for s in symbols} | _imported_names(spec, ctx)
    ctx.module_names[name] = {s.name for s in symbols} | {
        lname(_children_of(c, F.Subroutine_Stmt | F.Function_Stmt).items[1])
        for c in (sub_part.children if sub_part is not None else [])
        if isinstance(c, F.Subroutine_Subprogram | F.Function_Subprogram)
    }
    if sub_part is not None:
        for c in sub_part.children:
            if isinstance(c, F.Subroutine_Subprogram | F.Function_Subprogram):
                routines.append(_lower_routine(c, ctx, scope, rules, names))
    return ir.Module(name, spec, symbols, tuple(routines), tuple(comments), ctx.loc(head))


def lower_source(source: Source, modules: ModuleRegistry | None = None) -> ir.SourceFile:
    """Parse and lower one source file. ``modules`` carries what modules lowered before
    provide (files are lowered in the order given, as a compiler would)."""
    text, locality = strip_locality(source.text)
    text = split_binding_lists(text, source.fixed_form)
    tree = parse(replace(source, text=text))
    ctx = _Ctx(source, modules if modules is not None else ModuleRegistry())
    ctx.locality = locality
    units: list[ir.Unit] = []
    pending: list[str] = []
    for node in tree.children:
        if isinstance(node, F.Comment):
            if str(node).strip():
                pending.append(comment_text(node))
            continue
        if isinstance(node, F.Module):
            unit: ir.Unit = _lower_module(node, ctx)
        elif isinstance(node, F.Subroutine_Subprogram | F.Function_Subprogram | F.Main_Program):
            unit = _lower_routine(node, ctx, None, NO_HOST, set())
        else:
            unit = ir.OpaqueUnit(str(node), ctx.loc(node))
        if pending and not isinstance(unit, ir.OpaqueUnit):
            unit = replace(unit, comments=tuple(pending) + unit.comments)
            pending = []
        units.append(unit)
    lowered = ir.SourceFile(source.path, tuple(units), source.fixed_form, tuple(pending))
    check_coverage(source, lowered, text)
    return lowered


def stem(path: str) -> str:
    return Path(path).stem
