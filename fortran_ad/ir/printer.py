"""IR → free-form Fortran. Parentheses come from the tree (user's Paren nodes) plus the minimum
that precedence needs; literals print exactly as stored; output is deterministic."""

from __future__ import annotations

from fortran_ad.ir import nodes as ir
from fortran_ad.ir import omp_text as omp
from fortran_ad.ir.writer import Writer

# Fortran operator precedence, higher binds tighter. Unary +/- sits between * and binary +.
PREC = {
    "**": 8,
    "*": 7,
    "/": 7,
    "+": 5,
    "-": 5,
    "//": 4,
    "==": 3,
    "/=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    ".eq.": 3,
    ".ne.": 3,
    ".lt.": 3,
    ".le.": 3,
    ".gt.": 3,
    ".ge.": 3,
    ".and.": 1,
    ".or.": 0,
    ".eqv.": -1,
    ".neqv.": -1,
}
UNARY_PREC = {"-": 6, "+": 6, ".not.": 2}
ATOM = 9
_ARITH = {"**", "*", "/", "+", "-"}


def prec(e: ir.Expr) -> int:
    if isinstance(e, ir.BinOp):
        return PREC[e.op]
    if isinstance(e, ir.UnOp):
        return UNARY_PREC[e.op]
    if isinstance(e, ir.Literal) and e.type in ("real", "integer") and e.text.startswith("-"):
        return UNARY_PREC["-"]
    return ATOM


def expr(e: ir.Expr) -> str:
    """Fortran text of an expression."""
    if isinstance(e, ir.Name):
        return e.name
    if isinstance(e, ir.Literal):
        return e.text
    if isinstance(e, ir.ArrayRef):
        if e.head:  # cs(i)%q(k): the variable's subscripts, then the component's
            var, rest = e.name.split("%", 1)
            head = ", ".join(expr(s) for s in e.subs[: e.head])
            tail = ", ".join(expr(s) for s in e.subs[e.head :])
            return f"{var}({head})%{rest}" + (f"({tail})" if e.subs[e.head :] else "")
        return f"{e.name}({', '.join(expr(s) for s in e.subs)})"
    if isinstance(e, ir.Call):
        name, args = as_spelled(e.name, e.args, e.spelled)
        return f"{name}({', '.join(expr(a) for a in args)})"
    if isinstance(e, ir.Keyword):
        return f"{e.name}={expr(e.value)}"
    if isinstance(e, ir.Range):
        parts = [expr(e.lo) if e.lo is not None else "", expr(e.hi) if e.hi is not None else ""]
        if e.step is not None:
            parts.append(expr(e.step))
        return ":".join(parts)
    if isinstance(e, ir.Paren):
        return f"({expr(e.expr)})"
    if isinstance(e, ir.ArrayCtor):
        return f"[{', '.join(expr(i) for i in e.items)}]"
    if isinstance(e, ir.ImpliedDo):
        step = f", {expr(e.step)}" if e.step is not None else ""
        items = ", ".join(expr(i) for i in e.items)
        return f"({items}, {e.var} = {expr(e.lo)}, {expr(e.hi)}{step})"
    if isinstance(e, ir.OpaqueExpr):
        return e.text
    if isinstance(e, ir.UnOp):
        inner = expr(e.operand)
        p = prec(e.operand)
        if p <= UNARY_PREC[e.op] and p != ATOM or isinstance(e.operand, ir.UnOp):
            inner = f"({inner})"
        sep = " " if e.op == ".not." else ""
        return f"{e.op}{sep}{inner}"
    if isinstance(e, ir.BinOp):
        p = PREC[e.op]
        left, right = expr(e.left), expr(e.right)
        lp, rp = prec(e.left), prec(e.right)
        if lp < p or (e.op == "**" and lp == p) or (e.op == "**" and lp == UNARY_PREC["-"]):
            left = f"({left})"
        if e.op == "**":
            need_right = rp < p
        else:
            need_right = rp <= p
        if e.op in _ARITH and rp == UNARY_PREC["-"]:
            need_right = True
        if need_right:
            right = f"({right})"
        if e.op == "**":
            return f"{left}**{right}"
        if e.op in ("*", "/"):
            return f"{left}*{right}" if e.op == "*" else f"{left}/{right}"
        return f"{left} {e.op} {right}"
    raise TypeError(f"cannot print {type(e).__name__}")


# --------------------------------------------------------------------------------------------
# Declarations


def type_text(t: ir.TypeSpec) -> str:
    if t.base == "character":
        return "character" + (t.length or "")
    if t.kind is None:
        return t.base
    if t.kind.startswith("*"):
        return f"{t.base}{t.kind}"
    return f"{t.base}({t.kind})"


def dims_text(dims: tuple[ir.Dim, ...]) -> str:
    parts = []
    for d in dims:
        lo = expr(d.lo) if d.lo is not None else None
        if d.kind == "explicit":
            hi = expr(d.hi) if d.hi is not None else ""
            parts.append(f"{lo}:{hi}" if lo is not None else hi)
        elif d.kind == "assumed":
            parts.append(f"{lo}:" if lo is not None else ":")
        elif d.kind == "deferred":
            parts.append(":")
        else:
            parts.append(f"{lo}:*" if lo is not None else "*")
    return f"({', '.join(parts)})"


def entity_text(ent: ir.Entity, pointer: bool = False) -> str:
    text = ent.name
    if ent.dims:
        text += dims_text(ent.dims)
    if ent.length:
        text += f"*{ent.length.lstrip('*')}"
    if ent.init is not None:
        text += (" => " if pointer else " = ") + expr(ent.init)
    return text


def spec_item(w: Writer, item: ir.SpecItem) -> None:
    if isinstance(item, ir.CommentSpec):
        w.comment(item.text)
    elif isinstance(item, ir.Use):
        if item.only is not None:
            names = ", ".join(a if a == b else f"{a} => {b}" for a, b in item.only)
            w.line(f"use {item.module}, only: {names}" if names else f"use {item.module}, only:")
        elif item.renames:
            w.line(f"use {item.module}, " + ", ".join(f"{a} => {b}" for a, b in item.renames))
        else:
            w.line(f"use {item.module}")
    elif isinstance(item, ir.Implicit):
        if not item.rules:
            w.line("implicit none")
        else:
            w.line("implicit " + ", ".join(f"{t} ({letters})" for t, letters in item.rules))
    elif isinstance(item, ir.TypeDecl):
        head = ", ".join((type_text(item.type), *item.attrs))
        ptr = "pointer" in item.attrs
        w.line(f"{head} :: " + ", ".join(entity_text(e, ptr) for e in item.entities))
    elif isinstance(item, ir.Common):
        members = ", ".join(entity_text(e) for e in item.members)
        w.line(f"common /{item.block}/ {members}")
    elif isinstance(item, ir.AttrStmt | ir.OpaqueSpec | ir.Interface):
        for text in item.text.splitlines():
            w.line(text)
    else:
        raise TypeError(f"cannot print {type(item).__name__}")


# --------------------------------------------------------------------------------------------
# Statements


def body(w: Writer, stmts: tuple[ir.Stmt, ...]) -> None:
    for s in stmts:
        stmt(w, s)


def as_spelled(
    name: str, args: tuple[ir.Expr, ...], spelled: ir.Spelling | None
) -> tuple[str, tuple[ir.Expr, ...]]:
    """A call to the specific a generic or type binding resolved to, named as the source
    did (ir.Spelling): ``obj%binding(rest)`` or ``generic(args)``."""
    if spelled is None or spelled.specific != name:
        return name, args
    if not spelled.name.startswith("%"):
        return spelled.name, args
    obj = args[spelled.passed]
    obj = obj.value if isinstance(obj, ir.Keyword) else obj
    rest = args[: spelled.passed] + args[spelled.passed + 1 :]
    return f"{expr(obj)}{spelled.name}", rest


def _simple(s: ir.Stmt) -> str | None:
    """One-line text of a simple statement, None for constructs."""
    if isinstance(s, ir.Assign):
        return f"{expr(s.target)} = {expr(s.value)}"
    if isinstance(s, ir.PointerAssign):
        return f"{expr(s.target)} => {expr(s.value)}"
    if isinstance(s, ir.CallStmt):
        name, args = as_spelled(s.name, s.args, s.spelled)
        return f"call {name}({', '.join(expr(a) for a in args)})" if args else f"call {name}"
    if isinstance(s, ir.Return):
        return "return"
    if isinstance(s, ir.Exit):
        return f"exit {s.name}" if s.name else "exit"
    if isinstance(s, ir.Cycle):
        return f"cycle {s.name}" if s.name else "cycle"
    if isinstance(s, ir.Stop):
        word = "error stop" if s.error else "stop"
        return f"{word} {s.code}" if s.code else word
    if isinstance(s, ir.Continue):
        return "continue"
    if isinstance(s, ir.Goto):
        if s.arithmetic:
            return f"if ({expr(s.index)}) {', '.join(s.targets)}"
        if s.index is not None:
            return f"go to ({', '.join(s.targets)}) {expr(s.index)}"
        return f"go to {s.targets[0]}"
    if isinstance(s, ir.Opaque):
        return s.text
    return None


def stmt(w: Writer, s: ir.Stmt) -> None:
    if isinstance(s, ir.Comment):
        w.comment(s.text)
        return
    text = _simple(s)
    if text is not None:
        w.line(text, s.label)
        return
    named = f"{s.name}: " if getattr(s, "name", None) else ""
    if isinstance(s, ir.Do | ir.DoWhile):
        for d in getattr(s, "directives", ()):
            w.line(d)
        par = getattr(s, "parallel", None)
        closing = None
        if par is not None and par.kind != "concurrent":
            opening, closing = omp.directive_lines(par)
            for text in opening:
                w.comment(text)
        lab = f" {s.end_label}" if s.end_label else ""
        if par is not None and par.kind == "concurrent":
            step = f":{expr(s.step)}" if s.step is not None else ""
            head = f"do concurrent ({s.var} = {expr(s.start)}:{expr(s.stop)}{step})"
            head += omp.locality_text(par)
        elif isinstance(s, ir.Do):
            step = f", {expr(s.step)}" if s.step is not None else ""
            head = f"do{lab} {s.var} = {expr(s.start)}, {expr(s.stop)}{step}"
        else:
            head = f"do{lab} while ({expr(s.cond)})" if s.cond is not None else f"do{lab}"
        w.line(named + head, s.label)
        w.indent()
        body(w, s.body)
        w.dedent()
        if s.end_label:
            if not (s.body and s.body[-1].label == s.end_label):
                w.line("continue", s.end_label)
        else:
            w.line(f"end do {s.name}" if s.name else "end do")
        if closing is not None:
            w.comment(closing)
    elif isinstance(s, ir.If):
        if s.inline and len(s.branches) == 1 and len(s.branches[0][1]) == 1:
            inner = _simple(s.branches[0][1][0])
            if inner is not None:
                w.line(f"if ({expr(s.branches[0][0])}) {inner}", s.label)
                return
        for i, (cond, b) in enumerate(s.branches):
            if i == 0:
                w.line(f"{named}if ({expr(cond)}) then", s.label)
            else:
                w.line(f"else if ({expr(cond)}) then")
            w.indent()
            body(w, b)
            w.dedent()
        if s.else_body is not None:
            w.line("else")
            w.indent()
            body(w, s.else_body)
            w.dedent()
        w.line(f"end if {s.name}" if s.name else "end if")
    elif isinstance(s, ir.Select):
        w.line(f"{named}select case ({expr(s.expr)})", s.label)
        for case in s.cases:
            if case.selectors:
                w.line("case (" + ", ".join(expr(x) for x in case.selectors) + ")")
            else:
                w.line("case default")
            w.indent()
            body(w, case.body)
            w.dedent()
        w.line(f"end select {s.name}" if s.name else "end select")
    elif isinstance(s, ir.Where | ir.Forall | ir.Associate):
        _array_construct(w, s, named)
    else:
        raise TypeError(f"cannot print {type(s).__name__}")


def _array_construct(w: Writer, s: ir.Where | ir.Forall | ir.Associate, named: str) -> None:
    """WHERE, FORALL and ASSOCIATE (gone after normalization; printed for roundtrips)."""
    if isinstance(s, ir.Where):
        if s.inline and len(s.branches) == 1 and s.else_body is None:
            inner = _simple(s.branches[0][1][0])
            w.line(f"where ({expr(s.branches[0][0])}) {inner}", s.label)
            return
        arms = [("where" if i == 0 else "elsewhere", c, b) for i, (c, b) in enumerate(s.branches)]
        for i, (word, cond, b) in enumerate(arms):
            w.line(f"{named if i == 0 else ''}{word} ({expr(cond)})", s.label if i == 0 else None)
            w.indent()
            body(w, b)
            w.dedent()
        if s.else_body is not None:
            w.line("elsewhere")
            w.indent()
            body(w, s.else_body)
            w.dedent()
        w.line(f"end where {s.name}" if s.name else "end where")
        return
    if isinstance(s, ir.Forall):
        parts = []
        for var, lo, hi, step in s.specs:
            st = f":{expr(step)}" if step is not None else ""
            parts.append(f"{var} = {expr(lo)}:{expr(hi)}{st}")
        if s.mask is not None:
            parts.append(expr(s.mask))
        head = f"forall ({', '.join(parts)})"
        if s.inline and len(s.body) == 1 and _simple(s.body[0]) is not None:
            w.line(f"{head} {_simple(s.body[0])}", s.label)
            return
        w.line(named + head, s.label)
        w.indent()
        body(w, s.body)
        w.dedent()
        w.line(f"end forall {s.name}" if s.name else "end forall")
        return
    pairs = ", ".join(f"{n} => {expr(e)}" for n, e in s.assocs)
    w.line(f"{named}associate ({pairs})", s.label)
    w.indent()
    body(w, s.body)
    w.dedent()
    w.line(f"end associate {s.name}" if s.name else "end associate")


# --------------------------------------------------------------------------------------------
# Units


def routine(w: Writer, r: ir.Routine) -> None:
    for c in r.comments:
        w.comment(c)
    prefix = " ".join(r.prefix) + " " if r.prefix else ""
    args = ", ".join(r.args)
    if r.kind == "program":
        w.line(f"program {r.name}")
    elif r.kind == "function":
        res = f" result({r.result})" if r.result_clause else ""
        w.line(f"{prefix}function {r.name}({args}){res}")
    else:
        w.line(f"{prefix}subroutine {r.name}({args})" if r.args else f"{prefix}subroutine {r.name}")
    w.indent()
    for item in r.spec:
        spec_item(w, item)
    body(w, r.body)
    w.dedent()
    if r.contains:
        w.line("contains")
        w.indent()
        for i, c in enumerate(r.contains):
            if i:
                w.blank()
            routine(w, c)
        w.dedent()
    w.line(f"end {r.kind} {r.name}")


def module(w: Writer, m: ir.Module) -> None:
    for c in m.comments:
        w.comment(c)
    w.line(f"module {m.name}")
    w.indent()
    for item in m.spec:
        spec_item(w, item)
    w.dedent()
    if m.routines:
        w.line("contains")
        w.indent()
        for r in m.routines:
            w.blank()
            routine(w, r)
        w.dedent()
    w.line(f"end module {m.name}")


def source_file(f: ir.SourceFile) -> str:
    """Fortran text of a whole file (free form)."""
    w = Writer()
    for i, unit in enumerate(f.units):
        if i:
            w.blank()
        if isinstance(unit, ir.Module):
            module(w, unit)
        elif isinstance(unit, ir.Routine):
            routine(w, unit)
        else:
            for line in unit.text.splitlines():
                w.line(line)
    for c in f.trailing_comments:
        w.comment(c)
    return w.text()
