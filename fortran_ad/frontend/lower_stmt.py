"""fparser2 statements → IR statements, and the parse itself (with lower.py, lower_expr.py and
lower_spec.py, the only code that imports fparser).

STMT_HANDLERS is the greppable fence: statements not listed become Opaque (kept verbatim, their
names recorded as read and written); ``fortran_ad.ad`` refuses an Opaque statement that touches
active data, naming its line.
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
from fortran_ad.frontend import omp
from fortran_ad.frontend.lower_array import ARRAY_HANDLERS
from fortran_ad.frontend.lower_expr import Scope, lname, lookup, lower_expr
from fortran_ad.frontend.preprocess import Source
from fortran_ad.ir import nodes as ir

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
        self.source = source
        self.lines = source.text.splitlines()
        self.module_arrays = modules.arrays
        self.module_names = modules.names
        self.locality: dict[int, str] = {}  # DO CONCURRENT locality specs by line (omp.py)

    def body(self, nodes: list, scope: Scope) -> tuple[ir.Stmt, ...]:
        """Lower a block of statements (the array constructs' bodies: lower_array.py)."""
        return _body(nodes, self, scope)

    def stmt(self, node: F.Base, scope: Scope) -> ir.Stmt | None:
        return lower_stmt(node, self, scope)

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
        file, orig = self.source.origin(line)  # through #include / INCLUDE to the real file
        return ir.SourceLoc(file, orig, col)

    def label(self, node: object) -> str | None:
        item = getattr(node, "item", None)
        lab = getattr(item, "label", None) if item is not None else None
        return str(lab) if lab is not None else None


def parse(source: Source) -> F.Program:
    folder = str(Path(source.path).resolve().parent)
    reader = FortranStringReader(source.text, ignore_comments=False, include_dirs=[folder])
    reader.set_format(FortranFormat(not source.fixed_form, False))

    def error(message: str, item: object = None) -> None:  # fparser would sys.exit(1)
        span = getattr(item, "span", None)
        line = span[0] if span else max(1, len(source.text.splitlines()))
        file, orig = source.origin(line)
        text = message.replace(" Ignoring.", "").strip()
        raise FortranADError(ir.SourceLoc(file, orig, 1), f"syntax error: {text}")

    reader.error = error
    try:
        tree = _parser()(reader)
    except FortranADError:
        raise
    except (FortranSyntaxError, NoMatchError) as exc:
        msg = str(exc)
        m = re.search(r"at line (\d+)", msg)
        line = int(m.group(1)) if m else 1
        lines = source.text.splitlines()
        bad = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        file, orig = source.origin(line)
        raise FortranADError(
            ir.SourceLoc(file, orig, 1), f"syntax error: '{bad}'" if bad else "syntax error"
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
    return tuple(omp.attach(out))


_CONSTRUCTS = (
    F.Block_Nonlabel_Do_Construct,
    F.Block_Label_Do_Construct,
    F.If_Construct,
    F.Case_Construct,
    F.Where_Construct,
    F.Forall_Construct,
    F.Associate_Construct,
)


def _assign(node: F.Assignment_Stmt, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    lhs, _, rhs = node.items
    target = lower_expr(lhs, scope)
    if isinstance(target, ir.Call):  # a(i) with a undeclared array: treat as array
        target = ir.ArrayRef(target.name, target.args)
    return ir.Assign(target, lower_expr(rhs, scope), ctx.loc(node), ctx.label(node))


def _pointer_assign(node: F.Base, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    """``p => t`` and ``nullify(p)`` (one object; bounds remapping stays opaque)."""
    if isinstance(node, F.Nullify_Stmt):
        objs = node.items[1]
        items = objs.items if isinstance(objs, F.SequenceBase) else (objs,)
        if len(items) != 1:
            return _opaque(node, ctx)
        target, value = lower_expr(items[0], scope), ir.Call("null", ())
    else:
        lhs, bounds, rhs = node.items
        if bounds is not None:
            return _opaque(node, ctx)
        if isinstance(lhs, F.Data_Pointer_Object):  # g%view: (variable, "%", component)
            first, _, last = lhs.items
            inner = lower_expr(first, scope)
            path = f"{inner.name}%{lname(last)}" if isinstance(inner, ir.Name) else None
            target = ir.Name(path) if path else ir.OpaqueExpr(str(lhs))
        else:
            target = lower_expr(lhs, scope)
        value = lower_expr(rhs, scope)
    if not isinstance(target, ir.Name):
        return _opaque(node, ctx)
    return ir.PointerAssign(target, value, ctx.loc(node), ctx.label(node))


def _call(node: F.Call_Stmt, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    name, args = node.items
    lowered: tuple[ir.Expr, ...] = ()
    if args is not None:
        lowered = tuple(lower_expr(a, scope) for a in args.items)
    # ``call obj%binding(...)``: the name keeps the object's path (normalize/typebound.py
    # resolves it to the specific procedure, the object as its passed argument, or refuses)
    callee = str(name).lower().replace(" ", "") if "%" in str(name) else lname(name)
    return ir.CallStmt(callee, lowered, ctx.loc(node), ctx.label(node))


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
        specs = header.items[0].items
        for depth, spec in reversed(list(enumerate(specs))):
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
                (),
                loc,
                parallel=omp.concurrent_spec(
                    ctx.locality.get(loc.line) if depth == 0 else None,
                    len(specs) if depth == 0 else 1,
                ),
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


def _goto(node: F.Base, ctx: _Ctx, scope: Scope) -> ir.Stmt:
    loc, label = ctx.loc(node), ctx.label(node)
    if isinstance(node, F.Goto_Stmt):
        return ir.Goto((str(node.items[0]),), None, False, loc, label)
    if isinstance(node, F.Computed_Goto_Stmt):
        targets = tuple(str(x) for x in node.items[0].items)
        return ir.Goto(targets, lower_expr(node.items[1], scope), False, loc, label)
    expr, *targets = node.items  # arithmetic IF
    return ir.Goto(tuple(str(t) for t in targets), lower_expr(expr, scope), True, loc, label)


STMT_HANDLERS: dict[type, Callable[[F.Base, _Ctx, Scope], ir.Stmt | None]] = {
    F.Assignment_Stmt: _assign,
    F.Call_Stmt: _call,
    F.Pointer_Assignment_Stmt: _pointer_assign,
    F.Nullify_Stmt: _pointer_assign,
    F.Block_Nonlabel_Do_Construct: _do,
    F.Block_Label_Do_Construct: _do,
    F.If_Construct: _if_construct,
    F.If_Stmt: _if_stmt,
    F.Case_Construct: _select,
    F.Return_Stmt: lambda n, c, s: ir.Return(c.loc(n), c.label(n)),
    F.Continue_Stmt: lambda n, c, s: ir.Continue(c.loc(n), c.label(n)),
    F.Goto_Stmt: _goto,
    F.Computed_Goto_Stmt: _goto,
    F.Arithmetic_If_Stmt: _goto,
    F.Exit_Stmt: _named(ir.Exit),
    F.Cycle_Stmt: _named(ir.Cycle),
    F.Stop_Stmt: _stop,
    F08.Error_Stop_Stmt: _stop,
    F.Comment: lambda n, c, s: ir.Comment(comment_text(n), c.loc(n)) if str(n).strip() else None,
    **ARRAY_HANDLERS,  # WHERE, FORALL, ASSOCIATE (frontend/lower_array.py)
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
    """fparser inlines INCLUDE files it finds; one it keeps was not found (except MPI's
    mpif.h, kept verbatim for mpif90: its names are external integers, issue #13)."""
    if isinstance(node, F.Include_Stmt) and str(node.items[0]).strip("'\" ").lower() != "mpif.h":
        raise FortranADError(
            ctx.loc(node),
            f"cannot find INCLUDE file {node.items[0]}",
            "it is looked for next to the including source",
        )


def _allocated_objects(node: F.Base) -> tuple[str, ...]:
    """The objects an ALLOCATE/DEALLOCATE statement (de)allocates (not its bounds or STAT=)."""
    items = node.items[1] if isinstance(node, F.Allocate_Stmt) else node.items[0]
    out = []
    for obj in items.items if items is not None else ():
        first = obj.items[0] if isinstance(obj, F.Allocation) else obj
        out.append(lname(first.items[0] if isinstance(first, F.Part_Ref) else first))
    for opt in walk(node, (F.Alloc_Opt, F.Dealloc_Opt)):
        if str(opt.items[0]).upper() in ("STAT", "ERRMSG"):
            out.extend(lname(n) for n in walk(opt.items[1], F.Name))
    return tuple(sorted(set(out)))


def _opaque(node: F.Base, ctx: _Ctx) -> ir.Opaque:
    _missing_include(node, ctx)
    names = tuple(sorted({lname(n) for n in walk(node, F.Name)}))
    writes = names if isinstance(node, _WRITES_FIRST) else ()
    if isinstance(node, F.Allocate_Stmt | F.Deallocate_Stmt):
        try:
            return ir.Opaque(
                str(node), names, _allocated_objects(node), ctx.loc(node), ctx.label(node)
            )
        except (AttributeError, IndexError, TypeError):
            pass  # an unusual form: assume it writes everything it names
    if isinstance(node, F.Write_Stmt | F.Print_Stmt):
        writes = ()
    elif not isinstance(node, _WRITES_FIRST):
        writes = names  # unknown statement: assume it may write anything it names
    return ir.Opaque(str(node), names, writes, ctx.loc(node), ctx.label(node))
