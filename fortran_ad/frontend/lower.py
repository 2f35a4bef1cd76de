"""fparser2 parse trees → IR. The only module (with lower_expr/lower_spec) that imports fparser.

STMT_HANDLERS and SPEC_HANDLERS are the greppable fence: statements not listed become Opaque
(kept verbatim, their names recorded as read and written); ``fortran_ad.ad`` refuses an Opaque
statement that touches active data, naming its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fparser.common.readfortran import FortranStringReader
from fparser.common.sourceinfo import FortranFormat
from fparser.two import Fortran2003 as F
from fparser.two import Fortran2008 as F08
from fparser.two.parser import ParserFactory
from fparser.two.utils import FortranSyntaxError, NoMatchError, walk

from fortran_ad.errors import FortranADError
from fortran_ad.frontend.lower_expr import Scope, lname, lookup, lower_expr
from fortran_ad.frontend.lower_spec import (
    array_names,
    attr_stmt,
    entity,
    symbols_from_spec,
    type_spec,
)
from fortran_ad.frontend.lower_spec import dims as lower_dims
from fortran_ad.frontend.preprocess import Source
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import NO_HOST, implicit_rules

_PARSER = None


def _parser():  # the fparser factory is global state; build it once, here only
    global _PARSER
    if _PARSER is None:
        _PARSER = ParserFactory().create(std="f2008")
    return _PARSER


class ModuleRegistry:
    """What files lowered earlier tell later ones about their modules (as a compiler's .mod
    files would): which names are arrays (to tell a(i) from f(i)) and which names exist."""

    def __init__(self) -> None:
        self.arrays: dict[str, set[str]] = {}
        self.names: dict[str, set[str]] = {}


class _Ctx:
    """Per-file lowering context: file name, source lines (for columns), known module arrays."""

    def __init__(self, source: Source, modules: ModuleRegistry):
        self.path = source.path
        self.lines = source.text.splitlines()
        self.module_arrays = modules.arrays
        self.module_names = modules.names

    def loc(self, node: object) -> ir.SourceLoc:
        item = getattr(node, "item", None)
        if item is None or getattr(item, "span", None) is None:
            for child in walk(node):
                item = getattr(child, "item", None)
                if item is not None and getattr(item, "span", None) is not None:
                    break
            else:
                return ir.SourceLoc(self.path, 0, 0)
        line = item.span[0]
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        col = len(text) - len(text.lstrip()) + 1
        return ir.SourceLoc(self.path, line, col)

    def label(self, node: object) -> str | None:
        item = getattr(node, "item", None)
        lab = getattr(item, "label", None) if item is not None else None
        return str(lab) if lab is not None else None


def parse(source: Source) -> F.Program:
    folder = str(Path(source.path).resolve().parent)
    reader = FortranStringReader(source.text, ignore_comments=False, include_dirs=[folder])
    reader.set_format(FortranFormat(not source.fixed_form, False))
    try:
        tree = _parser()(reader)
    except (FortranSyntaxError, NoMatchError) as exc:
        msg = str(exc)
        m = re.search(r"at line (\d+)", msg)
        line = int(m.group(1)) if m else 1
        lines = source.text.splitlines()
        bad = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        raise FortranADError(
            ir.SourceLoc(source.path, line, 1), f"syntax error: '{bad}'" if bad else "syntax error"
        ) from None
    except Exception as exc:  # fparser raises assorted internal errors on garbage input
        raise FortranADError(ir.SourceLoc(source.path, 1, 1), f"cannot parse: {exc}") from None
    if tree is None or not tree.children:
        raise FortranADError(ir.SourceLoc(source.path, 1, 1), "no Fortran program units found")
    return tree


# --------------------------------------------------------------------------------------------
# Statements


def _body(nodes: list, ctx: _Ctx, scope: Scope) -> tuple[ir.Stmt, ...]:
    out: list[ir.Stmt] = []
    for node in nodes:
        if isinstance(node, _CONSTRUCTS):  # fparser may put preceding comments inside
            while node.children and isinstance(node.children[0], F.Comment):
                comment = node.children[0]
                if str(comment).strip():
                    out.append(ir.Comment(comment_text(comment), ctx.loc(comment)))
                node.children.pop(0)
        stmt = lower_stmt(node, ctx, scope)
        if stmt is not None:
            out.append(stmt)
    return tuple(out)


_CONSTRUCTS = (
    F.Block_Nonlabel_Do_Construct,
    F.Block_Label_Do_Construct,
    F.If_Construct,
    F.Case_Construct,
)


def _assign(node: F.Assignment_Stmt, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    lhs, _, rhs = node.items
    target = lower_expr(lhs, scope)
    if isinstance(target, ir.Call):  # a(i) with a undeclared array: treat as array
        target = ir.ArrayRef(target.name, target.args)
    return ir.Assign(target, lower_expr(rhs, scope), ctx.loc(node), ctx.label(node))


def _call(node: F.Call_Stmt, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    name, args = node.items
    lowered: tuple[ir.Expr, ...] = ()
    if args is not None:
        lowered = tuple(lower_expr(a, scope) for a in args.items)
    return ir.CallStmt(lname(name), lowered, ctx.loc(node), ctx.label(node))


def _do(node: F.Base, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    head, *rest = node.children
    end_label = None
    if isinstance(node, F.Block_Label_Do_Construct):
        end_label = str(head.items[1])
        last = rest[-1]
        if isinstance(last, F.Continue_Stmt | F.End_Do_Stmt) and ctx.label(last) == end_label:
            rest = rest[:-1]
    else:
        rest = rest[:-1]  # End_Do_Stmt
    return _build_do(node, head, rest, end_label, ctx, scope)


def _build_do(node, head, rest: list, end_label, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    """One DO loop. Loops sharing a terminal label (``do 20 i`` / ``do 20 j`` / ``20 continue``)
    arrive as a bare Label_Do_Stmt inside the outer body; they are nested back here."""
    for i, child in enumerate(rest):
        if isinstance(child, F.Label_Do_Stmt) and str(child.items[1]) == end_label:
            inner = _build_do(node, child, rest[i + 1 :], None, ctx, scope)
            body = (*_body(rest[:i], ctx, scope), inner)
            break
    else:
        body = _body(rest, ctx, scope)
    control = head.items[2] if isinstance(head, F.Label_Do_Stmt) else head.items[1]
    name = getattr(head.item, "name", None)
    loc, label = ctx.loc(head), ctx.label(head)
    if control is None:
        return ir.DoWhile(None, body, name, end_label, loc, label)
    cond, counter = control.items[0], control.items[1]
    if cond is not None:
        return ir.DoWhile(lower_expr(cond, scope), body, name, end_label, loc, label)
    if counter is None:  # DO CONCURRENT (header in the last slot)
        header = control.items[3]
        if header is None or header.items[1] is not None:  # with a mask: kept verbatim
            return _opaque(node, ctx)
        loop: ir.Stmt | None = None
        for spec in reversed(header.items[0].items):
            var, lo, hi, step = spec.items
            inner_body = body if loop is None else (loop,)
            loop = ir.Do(
                lname(var),
                lower_expr(lo, scope),
                lower_expr(hi, scope),
                lower_expr(step, scope) if step is not None else None,
                inner_body,
                None,
                None,
                ("concurrent",),
                loc,
            )
        assert loop is not None
        from dataclasses import replace

        return replace(loop, name=name, label=label)
    var, bounds = counter
    step = lower_expr(bounds[2], scope) if len(bounds) > 2 else None
    return ir.Do(
        lname(var),
        lower_expr(bounds[0], scope),
        lower_expr(bounds[1], scope),
        step,
        body,
        name,
        end_label,
        (),
        loc,
        label,
    )


def _if_construct(node: F.If_Construct, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    branches: list[tuple[ir.Expr, tuple[ir.Stmt, ...]]] = []
    else_body: tuple[ir.Stmt, ...] | None = None
    cond: ir.Expr | None = None
    current: list = []
    in_else = False
    head = node.children[0]
    for child in node.children:
        if isinstance(child, F.If_Then_Stmt | F.Else_If_Stmt):
            if cond is not None:
                branches.append((cond, _body(current, ctx, scope)))
            cond, current = lower_expr(child.items[0], scope), []
        elif isinstance(child, F.Else_Stmt):
            branches.append((cond, _body(current, ctx, scope)))
            cond, current, in_else = None, [], True
        elif isinstance(child, F.End_If_Stmt):
            if in_else:
                else_body = _body(current, ctx, scope)
            elif cond is not None:
                branches.append((cond, _body(current, ctx, scope)))
        else:
            current.append(child)
    name = getattr(head.item, "name", None)
    return ir.If(tuple(branches), else_body, name, False, ctx.loc(head), ctx.label(head))


def _if_stmt(node: F.If_Stmt, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    cond, action = node.items
    inner = lower_stmt(action, ctx, scope)
    assert inner is not None
    loc = ctx.loc(node)
    inner = _relocate(inner, loc)
    return ir.If(((lower_expr(cond, scope), (inner,)),), None, None, True, loc, ctx.label(node))


def _relocate(stmt: ir.Stmt, loc: ir.SourceLoc) -> ir.Stmt:
    from dataclasses import replace

    return replace(stmt, loc=loc)


def _select(node: F.Case_Construct, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    head = node.children[0]
    expr = lower_expr(head.items[0], scope)
    cases: list[ir.Case] = []
    selectors: tuple[ir.Expr, ...] | None = None
    current: list = []
    for child in node.children[1:]:
        if isinstance(child, F.Case_Stmt | F.End_Select_Stmt):
            if selectors is not None:
                cases.append(ir.Case(selectors, _body(current, ctx, scope)))
            current = []
            if isinstance(child, F.Case_Stmt):
                sel = child.items[0].items[0]
                if sel is None:
                    selectors = ()
                else:
                    items = sel.items if isinstance(sel, F.Case_Value_Range_List) else (sel,)
                    selectors = tuple(_case_value(v, scope) for v in items)
        else:
            current.append(child)
    name = getattr(head.item, "name", None)
    return ir.Select(expr, tuple(cases), name, ctx.loc(head), ctx.label(head))


def _case_value(node: F.Base, scope: Scope) -> ir.Expr:
    if isinstance(node, F.Case_Value_Range):
        lo, hi = node.items
        return ir.Range(
            lower_expr(lo, scope) if lo is not None else None,
            lower_expr(hi, scope) if hi is not None else None,
        )
    return lower_expr(node, scope)


def _stop(node: F.Base, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    code = node.items[1] if len(node.items) > 1 else None
    return ir.Stop(
        str(code) if code is not None else None,
        isinstance(node, F08.Error_Stop_Stmt),
        ctx.loc(node),
        ctx.label(node),
    )


def _named(cls: type) -> Callable:
    def make(node: F.Base, ctx: _Ctx, scope: Scope) -> ir.Stmt:
        name = node.items[1] if len(node.items) > 1 else None
        return cls(lname(name) if name is not None else None, ctx.loc(node), ctx.label(node))

    return make


STMT_HANDLERS: dict[type, Callable[[F.Base, _Ctx, Scope], ir.Stmt | None]] = {
    F.Assignment_Stmt: _assign,
    F.Call_Stmt: _call,
    F.Block_Nonlabel_Do_Construct: _do,
    F.Block_Label_Do_Construct: _do,
    F.If_Construct: _if_construct,
    F.If_Stmt: _if_stmt,
    F.Case_Construct: _select,
    F.Return_Stmt: lambda n, c, s: ir.Return(c.loc(n), c.label(n)),
    F.Continue_Stmt: lambda n, c, s: ir.Continue(c.loc(n), c.label(n)),
    F.Exit_Stmt: _named(ir.Exit),
    F.Cycle_Stmt: _named(ir.Cycle),
    F.Stop_Stmt: _stop,
    F08.Error_Stop_Stmt: _stop,
    F.Comment: lambda n, c, s: ir.Comment(comment_text(n), c.loc(n)) if str(n).strip() else None,
}


def comment_text(node: F.Comment) -> str:
    """Comment text in free form: fixed-form 'C'/'*' in column 1 becomes '!'."""
    text = str(node)
    if text[:1] and text[0] in "cC*":
        return "!" + text[1:]
    return text


# Statements that only write the names in their first list-like child (the rest are read).
_WRITES_FIRST = (F.Allocate_Stmt, F.Deallocate_Stmt, F.Read_Stmt)


def lower_stmt(node: F.Base, ctx: _Ctx, scope: Scope) -> ir.Stmt | None:
    handler = lookup(STMT_HANDLERS, node)
    if handler is not None:
        return handler(node, ctx, scope)
    return _opaque(node, ctx)


def _missing_include(node: F.Base, ctx: _Ctx) -> None:
    """fparser inlines INCLUDE files it finds; one it keeps was not found."""
    if isinstance(node, F.Include_Stmt):
        raise FortranADError(
            ctx.loc(node),
            f"cannot find INCLUDE file {node.items[0]}",
            "it is looked for next to the including source",
        )


def _opaque(node: F.Base, ctx: _Ctx) -> ir.Opaque:
    _missing_include(node, ctx)
    names = tuple(sorted({lname(n) for n in walk(node, F.Name)}))
    writes = names if isinstance(node, _WRITES_FIRST) else ()
    if isinstance(node, F.Write_Stmt | F.Print_Stmt):
        writes = ()
    elif not isinstance(node, _WRITES_FIRST):
        writes = names  # unknown statement: assume it may write anything it names
    return ir.Opaque(str(node), names, writes, ctx.loc(node), ctx.label(node))


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
    if isinstance(node, F.Common_Stmt):
        items = node.items[0]
        if len(items) == 1:
            block, objs = items[0]
            members = tuple(_common_member(o, scope) for o in objs.items)
            return ir.Common(lname(block) if block is not None else "", members, loc)
    attr = attr_stmt(node, loc, scope)
    if attr is not None:
        return attr
    _missing_include(node, ctx)
    return ir.OpaqueSpec(str(node), loc)


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
        if arg_list is not None:
            args = tuple(lname(a) for a in arg_list.items)
        if kind == "function":
            result = name
            if suffix is not None and suffix.items[0] is not None:
                result, result_clause = lname(suffix.items[0]), True
    spec_node = _children_of(node, F.Specification_Part)
    scope = Scope(array_names(spec_node), host)
    spec = _spec(spec_node, ctx, scope)
    for item in spec:
        if isinstance(item, ir.Use):
            for local, remote in item.only or [
                (n, n) for n in ctx.module_arrays.get(item.module, ())
            ]:
                if remote in ctx.module_arrays.get(item.module, ()):
                    scope.arrays.add(local)
    exec_node = _children_of(node, F.Execution_Part)
    body = _body(list(exec_node.children), ctx, scope) if exec_node is not None else ()
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
        ts = ir.TypeSpec(rtype) if rtype else implicit_type(result, rules)
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
    for item in spec:
        if isinstance(item, ir.Use):
            for local, remote in item.only or [
                (n, n) for n in ctx.module_arrays.get(item.module, ())
            ]:
                if remote in ctx.module_arrays.get(item.module, ()):
                    scope.arrays.add(local)
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
    tree = parse(source)
    ctx = _Ctx(source, modules if modules is not None else ModuleRegistry())
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
            from dataclasses import replace

            unit = replace(unit, comments=tuple(pending) + unit.comments)
            pending = []
        units.append(unit)
    return ir.SourceFile(source.path, tuple(units), source.fixed_form, tuple(pending))


def stem(path: str) -> str:
    return Path(path).stem
