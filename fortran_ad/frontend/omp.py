"""OpenMP loop directives and DO CONCURRENT locality specs → ``ir.Parallel`` on ``ir.Do``.

fparser keeps ``!$omp`` lines as comments and (f2008) rejects the F2018 locality specs of DO
CONCURRENT, so: ``strip_locality`` removes ``local(...)``/``shared(...)``/``default(none)``
from DO CONCURRENT headers before parsing (keeping them per line), and ``attach`` folds the
``!$omp parallel do`` / ``!$omp do`` comment lines (with ``!$omp&`` continuations) into the
loop that follows, dropping the matching ``!$omp end ...`` line. A ``!$omp parallel`` region
whose only statement is an ``!$omp do`` loop becomes one ``parallel do``. Other directives stay
comments (ad/parallel/loops.py refuses them in differentiated routines).
"""

from __future__ import annotations

import re
from dataclasses import replace

from fortran_ad.ir import nodes as ir

_SENTINEL = re.compile(r"^\s*!\$omp&?\s*", re.I)
_CONCURRENT = re.compile(r"^(\s*(?:\w+\s*:\s*)?do\s+concurrent\s*)(\(.*)$", re.I)


def is_omp(s: ir.Stmt) -> bool:
    return isinstance(s, ir.Comment) and bool(_SENTINEL.match(s.text))


def is_atomic(s: ir.Stmt) -> bool:
    """An ``!$omp atomic`` directive (it governs the statement right after it)."""
    return is_omp(s) and s.text.lower().replace(" ", "").startswith("!$ompatomic")


def _balanced_end(text: str) -> int:
    """Index just after the parenthesis that closes the one at text[0]."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i + 1
    return len(text)


def strip_locality(text: str) -> tuple[str, dict[int, str]]:
    """Remove F2018 locality specs from DO CONCURRENT headers; return them by line number."""
    out, found = [], {}
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        m = _CONCURRENT.match(line)
        if m:
            rest = m.group(2)
            end = _balanced_end(rest)
            tail = rest[end:].rstrip("\n")
            if tail.strip() and not tail.strip().startswith("!"):
                found[number] = tail.strip()
                line = m.group(1) + rest[:end] + "\n"
        out.append(line)
    return "".join(out), found


def clauses(text: str) -> list[tuple[str, str | None]]:
    """``private(a, b) schedule(static) nowait`` → [("private", "a, b"), ..., ("nowait", None)]."""
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(text):
        m = re.match(r"[\s,]*([a-z_]+)\s*", text[i:], re.I)
        if not m or not m.group(1):
            break
        name = m.group(1).lower()
        i += m.end()
        arg = None
        if i < len(text) and text[i] == "(":
            end = _balanced_end(text[i:])
            arg = text[i + 1 : i + end - 1].strip()
            i += end
        out.append((name, arg))
    return out


def _names(arg: str | None) -> tuple[str, ...]:
    return tuple(n.strip().lower() for n in (arg or "").split(",") if n.strip())


def parallel_spec(kind: str, text: str) -> ir.Parallel:
    """The clauses of one directive (or of DO CONCURRENT locality specs) as ``ir.Parallel``."""
    lists: dict[str, tuple[str, ...]] = {}
    reduction: list[tuple[str, tuple[str, ...]]] = []
    schedule = default = None
    collapse = 1
    other: list[str] = []
    alias = {"local": "private", "local_init": "firstprivate"}
    for name, arg in clauses(text):
        name = alias.get(name, name)
        if name in ("private", "firstprivate", "lastprivate", "shared"):
            lists[name] = lists.get(name, ()) + _names(arg)
        elif name == "reduction" and arg and ":" in arg:
            op, names = arg.split(":", 1)
            reduction.append((op.strip().lower(), _names(names)))
        elif name == "schedule":
            schedule = (arg or "").replace(" ", "").lower()
        elif name == "collapse":
            collapse = int(arg or "1")
        elif name == "default":
            default = (arg or "").strip().lower()
        else:
            other.append(name if arg is None else f"{name}({arg})")
    return ir.Parallel(
        kind,
        lists.get("private", ()),
        lists.get("firstprivate", ()),
        lists.get("lastprivate", ()),
        lists.get("shared", ()),
        tuple(reduction),
        schedule,
        collapse,
        default,
        tuple(other),
    )


def _directive(stmts: list[ir.Stmt], i: int) -> tuple[str, int]:
    """The directive starting at stmts[i] with its continuation lines, and the next index."""
    text = _SENTINEL.sub("", stmts[i].text).strip()
    i += 1
    while text.endswith("&") and i < len(stmts) and is_omp(stmts[i]):
        text = text[:-1].rstrip() + " " + _SENTINEL.sub("", stmts[i].text).strip().lstrip("&")
        i += 1
    return " ".join(text.split()), i


def _split(directive: str) -> tuple[str, str]:
    """('parallel do', clauses) / ('do', clauses) / ('end parallel do', '') / (other, ...)."""
    low = directive.lower()
    for head in ("end parallel do", "end parallel", "end do", "parallel do", "parallel", "do"):
        m = re.match(head.replace(" ", r"\s+") + r"\b", low)
        if m:
            return head, directive[m.end() :]
    return low.split()[0] if low.split() else "", directive


def _next_stmt(stmts: list[ir.Stmt], i: int) -> int:
    while i < len(stmts) and isinstance(stmts[i], ir.Comment) and not is_omp(stmts[i]):
        i += 1
    return i


def attach(stmts: list[ir.Stmt]) -> list[ir.Stmt]:
    """Fold OpenMP loop directives into the loops they govern (see the module docstring)."""
    out: list[ir.Stmt] = []
    i = 0
    while i < len(stmts):
        s = stmts[i]
        if not is_omp(s):
            out.append(s)
            i += 1
            continue
        directive, after = _directive(stmts, i)
        head, rest = _split(directive)
        if head == "parallel":  # a region holding exactly one !$omp do loop
            j = _next_stmt(stmts, after)
            if j < len(stmts) and is_omp(stmts[j]):
                inner, k = _directive(stmts, j)
                ihead, irest = _split(inner)
                loop = _next_stmt(stmts, k)
                if ihead == "do" and loop < len(stmts) and isinstance(stmts[loop], ir.Do):
                    end = _skip_end(stmts, loop + 1, "end do")
                    e2 = _next_stmt(stmts, end)
                    if e2 < len(stmts) and is_omp(stmts[e2]):
                        last, e3 = _directive(stmts, e2)
                        if _split(last)[0] == "end parallel":
                            spec = parallel_spec("parallel do", rest + " " + irest)
                            out.extend(stmts[after:j])
                            out.extend(stmts[k:loop])
                            out.append(replace(stmts[loop], parallel=spec))
                            i = e3
                            continue
        if head in ("parallel do", "do"):
            j = _next_stmt(stmts, after)
            if j < len(stmts) and isinstance(stmts[j], ir.Do):
                out.extend(stmts[after:j])
                out.append(replace(stmts[j], parallel=parallel_spec(head, rest)))
                i = _skip_end(stmts, j + 1, "end " + head)
                continue
        out.extend(stmts[i:after])
        i = after
    return out


def _skip_end(stmts: list[ir.Stmt], i: int, end: str) -> int:
    """Index after an optional ``!$omp end ...`` line at stmts[i]."""
    if i < len(stmts) and is_omp(stmts[i]):
        directive, after = _directive(stmts, i)
        if _split(directive)[0] == end:
            return after
    return i


def concurrent_spec(locality: str | None, collapse: int) -> ir.Parallel:
    return replace(parallel_spec("concurrent", locality or ""), collapse=collapse)


def leading_directives(
    spec: tuple[ir.SpecItem, ...], body: tuple[ir.Stmt, ...]
) -> tuple[tuple[ir.SpecItem, ...], tuple[ir.Stmt, ...]]:
    """fparser files ``!$omp`` lines right after the declarations under the specification
    part: move them to the start of the body (and attach them to the loop they govern)."""
    k = len(spec)
    while k and isinstance(spec[k - 1], ir.CommentSpec) and _SENTINEL.match(spec[k - 1].text):
        k -= 1
    if k == len(spec):
        return spec, body
    lead = [ir.Comment(c.text, c.loc) for c in spec[k:]]
    return spec[:k], tuple(attach([*lead, *body]))
