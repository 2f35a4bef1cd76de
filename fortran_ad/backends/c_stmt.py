"""Statements for the C back end: one function per IR statement kind (RoutineC calls these).

DO loops evaluate start, stop and step once (Fortran's trip count); a literal step gives a
plain ``for``, a variable step counts trips. SELECT CASE becomes an if-chain on a temporary.
``fad_push``/``fad_pop`` of scalars, arrays and contiguous sections call the typed C tape.
"""

from __future__ import annotations

import re

from fortran_ad.backends.c_expr import c_real_literal
from fortran_ad.backends.c_types import INT8, ctype_of_spec, unsupported
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir

_TAPE = {"fad_push": "push", "fad_pop": "pop"}


def statement(t, s: ir.Stmt) -> None:
    w = t.w
    if s.label and not isinstance(s, ir.Continue | ir.Comment):
        pass  # labels only matter for GOTO, which is refused (Opaque)
    if isinstance(s, ir.Comment):
        w.comment(s.text)
    elif isinstance(s, ir.Assign):
        _assign(t, s)
    elif isinstance(s, ir.CallStmt):
        _call(t, s)
    elif isinstance(s, ir.Do):
        _do(t, s)
    elif isinstance(s, ir.DoWhile):
        cond = t.expr(s.cond) if s.cond is not None else "1"
        w.line(f"while ({cond}) {{")
        _block(t, s.body, s.name)
    elif isinstance(s, ir.If):
        for i, (cond, body) in enumerate(s.branches):
            w.line(f"{'if' if i == 0 else '} else if'} ({t.expr(cond)}) {{")
            _inner(t, body)
        if s.else_body is not None:
            w.line("} else {")
            _inner(t, s.else_body)
        w.line("}")
    elif isinstance(s, ir.Select):
        _select(t, s)
    elif isinstance(s, ir.Exit | ir.Cycle):
        if s.name:
            w.line(f"goto fad_{'exit' if isinstance(s, ir.Exit) else 'cycle'}_{s.name};")
        else:
            w.line("break;" if isinstance(s, ir.Exit) else "continue;")
    elif isinstance(s, ir.Return):
        t.uses_return = True
        w.line("goto fad_return;")
    elif isinstance(s, ir.Stop):
        code = s.code or ""
        message = code.strip("'\"") if code[:1] in "'\"" else ""
        number = code if code.isdigit() else "0"
        msg = message.replace("\\", "\\\\").replace('"', '\\"')
        w.line(f'fad_stop({int(s.error)}, {number}, "{msg}");')
    elif isinstance(s, ir.Continue):
        if s.label:
            w.line(";")
    elif isinstance(s, ir.Opaque):
        _opaque(t, s)
    else:
        raise unsupported(s.loc, f"the statement {type(s).__name__}")


def _inner(t, body: tuple[ir.Stmt, ...]) -> None:
    t.w.indent()
    for s in body:
        t.stmt(s)
    t.w.dedent()


def _block(t, body: tuple[ir.Stmt, ...], name: str | None) -> None:
    """A loop body; a named loop gets labels for EXIT/CYCLE with its name."""
    _inner(t, body)
    if name:
        t.w.line(f"  fad_cycle_{name}:;")
    t.w.line("}")
    if name:
        t.w.line(f"fad_exit_{name}:;")


def _assign(t, s: ir.Assign) -> None:
    target = s.target
    if isinstance(target, ir.Name) and t.var(target.name).rank:
        raise unsupported(s.loc, f"the whole-array assignment to '{target.name}'")
    tt = t.ctype(target)
    value = t.expr(s.value) if t.ctype(s.value) == tt else t.cast(s.value, tt)
    t.w.line(f"{t.expr(target)} = {value};")


def _do(t, s: ir.Do) -> None:
    w = t.w
    v = t.var(s.var)
    i = t.ref(s.var)
    it = v.ctype.c
    start = t.cast(s.start, v.ctype)
    stop = t.cast(s.stop, v.ctype)
    if s.parallel is not None and s.parallel.kind != "concurrent":
        w.comment(f"! OpenMP {s.parallel.kind} loop, serial in C")
    step = s.step
    if (step is None or _simple(step)) and _invariant(t, s.stop, s.body):
        hi = stop  # Fortran evaluates the bound once; here it cannot change in the loop
        lit = 1 if step is None else _literal_value(step)
        cmp, inc = ("<=", "++") if lit > 0 else (">=", "--")
        incr = f"{i}{inc}" if abs(lit) == 1 else f"{i} += {lit}"
        w.line(f"for ({i} = {start}; {i} {cmp} {hi}; {incr}) {{")
        _block(t, s.body, s.name)
        return
    w.line("{")
    w.indent()
    lit = None
    if step is None:
        lit = 1
    elif isinstance(step, ir.Literal):
        lit = int(step.text.partition("_")[0])
    elif isinstance(step, ir.UnOp) and step.op == "-" and isinstance(step.operand, ir.Literal):
        lit = -int(step.operand.text.partition("_")[0])
    hi = stop if _simple(s.stop) else t.temp(it, stop)
    if lit is not None:
        cmp, inc = ("<=", "++") if lit > 0 else (">=", "--")
        incr = f"{i}{inc}" if abs(lit) == 1 else f"{i} += {lit}"
        w.line(f"for ({i} = {start}; {i} {cmp} {hi}; {incr}) {{")
    else:
        st = t.temp(it, t.cast(step, v.ctype))
        n = t.temp("int64_t", f"fad_trips({start}, {hi}, {st})")
        w.line(f"{i} = {start};")
        w.line(f"for (int64_t fad_k = {n}; fad_k > 0; fad_k--, {i} += {st}) {{")
    _block(t, s.body, s.name)
    w.dedent()
    w.line("}")


def _literal_value(e: ir.Expr) -> int:
    if isinstance(e, ir.UnOp):
        return -_literal_value(e.operand) if e.op == "-" else _literal_value(e.operand)
    return int(e.text.partition("_")[0])


def _invariant(t, e: ir.Expr, body: tuple[ir.Stmt, ...]) -> bool:
    """Does ``e`` keep its value while ``body`` runs (no variable of it is written, no call)?"""
    from fortran_ad.ir.walk import base_name, exprs_of_body, names_in, subexprs, walk_stmts

    for x in exprs_of_body(body):  # a user function may change its arguments or host data
        if any(isinstance(c, ir.Call) and t.linker.routine(c.name) for c in subexprs(x)):
            return False

    if any(
        isinstance(x, ir.Call) and x.name not in ("size", "lbound", "ubound") for x in subexprs(e)
    ):
        return False
    written: set[str] = set()
    for s in walk_stmts(body):
        if isinstance(s, ir.Assign):
            written.add(base_name(s.target) or "")
        elif isinstance(s, ir.CallStmt):
            if s.name not in _TAPE:
                return False  # a callee may change host variables too: evaluate once
            written |= {base_name(a) or "" for a in s.args}
        elif isinstance(s, ir.Do):
            written.add(s.var)
        elif isinstance(s, ir.Opaque):
            written |= set(s.writes)
    return not (names_in(e) & written)


def _simple(e: ir.Expr) -> bool:
    return isinstance(e, ir.Literal) or (
        isinstance(e, ir.UnOp) and isinstance(e.operand, ir.Literal)
    )


def _select(t, s: ir.Select) -> None:
    w = t.w
    st = t.ctype(s.expr)
    w.line("{")
    w.indent()
    sel = t.temp(st.c, t.expr(s.expr))
    first = True
    default = None
    for case in s.cases:
        if not case.selectors:
            default = case
            continue
        conds = []
        for x in case.selectors:
            if isinstance(x, ir.Range):
                parts = []
                if x.lo is not None:
                    parts.append(f"{sel} >= {t.expr(x.lo)}")
                if x.hi is not None:
                    parts.append(f"{sel} <= {t.expr(x.hi)}")
                conds.append("(" + " && ".join(parts) + ")")
            else:
                conds.append(f"{sel} == {t.expr(x)}")
        w.line(f"{'if' if first else '} else if'} ({' || '.join(conds)}) {{")
        first = False
        _inner(t, case.body)
    if default is not None:
        if first:
            w.line("{")
        else:
            w.line("} else {")
        _inner(t, default.body)
    if not first or default is not None:
        w.line("}")
    w.dedent()
    w.line("}")


def _call(t, s: ir.CallStmt) -> None:
    if s.name in _TAPE:
        _tape(t, _TAPE[s.name], s)
    elif s.name == "fad_tape_set_limit":
        t.w.line(f"fad_tape_set_limit({t.cast(s.args[0], INT8)});")
    else:
        t.w.line(t._call_text(s.name, s.args) + ";")


def _tape(t, kind: str, s: ir.CallStmt) -> None:
    (a,) = s.args
    ct = t.ctype(a)
    fn = f"fad_{kind}_{ct.tag}"
    if kind == "push" and not isinstance(a, ir.Name | ir.ArrayRef):  # a branch tag: a value
        t.w.line(f"{fn}(&({ct.c}){{{t.expr(a)}}}, 1);")
        return
    if (
        isinstance(a, ir.Name)
        and not t.var(a.name).rank
        or (isinstance(a, ir.ArrayRef) and not any(isinstance(x, ir.Range) for x in a.subs))
    ):
        t.w.line(f"{fn}(&{t.expr(a)}, 1);")
        return
    pointer, extents = t.section(a)
    if isinstance(a, ir.Name) and t.var(a.name).alloc:
        pointer = t.var(a.name).cname
    t.w.line(f"{fn}({pointer}, {' * '.join(extents or ['1'])});")


_ALLOC_SOURCE = re.compile(r"allocate\s*\(\s*(\w+)\s*,\s*(source|mold)\s*=\s*(\w+)\s*\)", re.I)
_ALLOC = re.compile(r"allocate\s*\((.*)\)\s*$", re.I)
_DEALLOC = re.compile(r"deallocate\s*\((.*)\)\s*$", re.I)


def _opaque(t, s: ir.Opaque) -> None:
    text = s.text.strip()
    w = t.w
    m = _ALLOC_SOURCE.fullmatch(text)
    if m:
        dst, how, src = t.var(m.group(1).lower()), m.group(2).lower(), t.var(m.group(3).lower())
        if not dst.alloc or dst.rank != src.rank:
            raise unsupported(s.loc, f"the statement '{text}'")
        for d in range(dst.rank):
            w.line(f"{dst.lo[d]} = {src.lo[d]};")
            w.line(f"{dst.n[d]} = {src.n[d]};")
        size = " * ".join(dst.n)
        w.line(f"{dst.cname} = fad_malloc(sizeof({dst.ctype.c}) * {size});")
        if how == "source":
            w.line(f"memcpy({dst.cname}, {src.cname}, sizeof({dst.ctype.c}) * {size});")
        return
    m = _DEALLOC.fullmatch(text)
    if m:
        for name in _split_top(m.group(1)):
            v = t.var(name.strip().lower())
            w.line(f"free({v.cname});")
            w.line(f"{v.cname} = NULL;")
        return
    m = _ALLOC.fullmatch(text)
    if m:
        for item in _split_top(m.group(1)):
            _allocate(t, item, s)
        return
    raise unsupported(s.loc, f"the statement '{text.splitlines()[0][:60]}'")


def _allocate(t, item: str, s: ir.Opaque) -> None:
    parsed = allocation_dims(item)
    if parsed is None or "=" in item:
        raise unsupported(s.loc, f"the allocation '{item.strip()}'")
    name, bounds = parsed
    v = t.var(name)
    if not v.alloc or len(bounds) != v.rank:
        raise FortranADError(s.loc, f"cannot allocate '{name}' here")
    for d, (lo, hi) in enumerate(bounds):
        lo_c, hi_c = _bound(t, lo, s), _bound(t, hi, s)
        t.w.line(f"{v.lo[d]} = {lo_c};")
        t.w.line(f"{v.n[d]} = fad_extent({v.lo[d]}, {hi_c});")
    size = " * ".join(v.n)
    t.w.line(f"{v.cname} = fad_malloc(sizeof({v.ctype.c}) * {size});")


_TOKEN = re.compile(r"\s*(\d+|[a-z_]\w*|[-+*/()])", re.I)


def _bound(t, text: str, s: ir.Opaque) -> str:
    """A bound of an ALLOCATE written as names, integers and + - * / ( )."""
    out = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise unsupported(s.loc, f"the allocation bound '{text}'")
        tok = m.group(1).lower()
        out.append(t.ref(tok) if tok[0].isalpha() or tok[0] == "_" else tok)
        pos = m.end()
    return "".join(out)


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


__all__ = ["c_real_literal", "ctype_of_spec", "statement"]


def allocation_dims(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """``allocate(a(0:n, m))`` → ("a", [("0", "n"), ("1", "m")]) for simple bounds."""
    m = re.fullmatch(r"\s*(\w+)\s*\((.*)\)\s*", text)
    if m is None:
        return None
    out = []
    for part in m.group(2).split(","):
        lo, _, hi = part.rpartition(":")
        out.append((lo.strip() or "1", hi.strip()))
    return m.group(1).lower(), out
