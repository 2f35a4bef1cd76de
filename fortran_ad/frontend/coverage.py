"""Statement coverage: every statement of the (preprocessed) source is in the IR.

The invariant, checked on every file ``lower_source`` lowers: each statement the text holds is
either lowered into an IR node located on its line, or inside a construct kept verbatim (an
interface block, a derived-type definition, an opaque statement or unit), or deliberately
dropped and accounted for here: comments and blank lines (comments are kept on their own
terms), and the statements that only delimit a construct whose head is lowered (END ..., ELSE,
ELSE IF, ELSEWHERE, CASE, CONTAINS, TYPE IS / CLASS IS) and CONTINUE (a no-op; as a jump target
its label travels with the IR). Anything else missing is a statement the frontend lost, and
generation stops with a located error naming the first one, instead of differentiating a
program that silently lacks it.

How it counts, in one pass over the text and one over the IR:

* ``source_statements`` splits the text into statements the way a Fortran reader does
  (continuation lines, ``;``, comments and strings), each with its line and whether it only
  delimits a construct.
* Every IR node that stands for a statement (spec items, statements at any depth, routine and
  module heads) counts one at its (origin) line. A node kept verbatim (``text``) stands for as
  many consecutive statements as its text has statement lines (fparser prints one statement a
  line), from its own line on.
* A line is covered when it has at least as many IR nodes as it has statements (several
  statements share a line after ``;``; an IF statement yields two nodes, a COMMON statement one
  per block: never fewer).

Lines are compared by origin (file, line), as IR locations are, so statements of ``#include``
files are checked where they came from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from fortran_ad.errors import FortranADError
from fortran_ad.frontend.cpp import Origin
from fortran_ad.frontend.preprocess import Source
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import walk_stmts

_DELIMITER = re.compile(
    r"(end\b|end(do|if|select|where|forall|associate|type|interface|module|subroutine|"
    r"function|program|block|blockdata|critical|enum|submodule|procedure)\b|else\b|elseif\b|"
    r"elsewhere\b|case\b|contains\b|continue\b|type\s+is\b|class\s+(is|default)\b)",
    re.I,
)
# name[(...)] = ... (assignment, statement function) or => (pointer assignment)
_ASSIGNMENT = re.compile(r"[a-z_]\w*\s*(\((?:[^()]|\([^()]*\))*\))?\s*=", re.I)
_LABEL = re.compile(r"\d+\s+")


@dataclass(frozen=True)
class Statement:
    line: int  # 1-based line of the text where it starts
    text: str  # its code, continuation lines joined
    delimiter: bool  # only delimits a construct (END, ELSE, CASE, CONTAINS, CONTINUE, ...)


def _is_delimiter(text: str) -> bool:
    code = _LABEL.sub("", text.strip(), count=1)
    if _ASSIGNMENT.match(code):
        return False
    return bool(_DELIMITER.match(code))


def _code(line: str, quote: str | None) -> tuple[list[str], str | None, bool]:
    """The statement pieces of one line of code (split at ``;``), the open quote at its end,
    and whether it ends with a continuation ``&``. Comments (``!``) are cut off."""
    pieces, current = [], []
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            current.append(ch)
            if ch == quote:
                if i + 1 < len(line) and line[i + 1] == quote:  # '' inside '...'
                    current.append(ch)
                    i += 1
                else:
                    quote = None
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch == "!":
            break
        elif ch == ";":
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    last = "".join(current).rstrip()
    more = last.endswith("&")
    pieces.append(last[:-1] if more else last)
    return pieces, quote, more


def source_statements(text: str, fixed_form: bool) -> list[Statement]:
    """The statements of a source text, in order (comments and blank lines are not ones)."""
    out: list[tuple[int, list[str]]] = []
    quote: str | None = None
    continuing = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if fixed_form:
            if not raw.strip() or raw[:1] in "cC*!" or raw.lstrip().startswith("!"):
                continue
            head, body = raw[:6], raw[6:72]
            if "\t" in head:  # tab format: a nonzero digit after the tab continues
                head, body = raw[: raw.index("\t")], raw[raw.index("\t") + 1 :]
                continuation = body[:1] in "123456789" and not head.strip()
                body = body[1:] if continuation else body
            else:
                continuation = len(head) > 5 and head[5] not in " 0" and not head[:5].strip()
            pieces, quote, _ = _code(body, quote if continuation else None)
            if continuation and out:
                out[-1][1].append(pieces[0])
                pieces = pieces[1:]
            out.extend((number, [p]) for p in pieces)
            continue
        stripped = raw.strip()
        if not continuing and (not stripped or stripped.startswith(("!", "#"))):
            continue
        if continuing and (not stripped or stripped.startswith("!")):
            continue  # comment lines may sit between continuation lines
        line = raw.lstrip()
        if continuing and line.startswith("&"):
            line = line[1:]
        pieces, quote, more = _code(line, quote if continuing else None)
        if continuing and out:
            out[-1][1].append(pieces[0])
            pieces = pieces[1:]
        out.extend((number, [p]) for p in pieces)
        continuing = more
    return [
        Statement(n, "".join(parts), _is_delimiter("".join(parts)))
        for n, parts in out
        if "".join(parts).strip()
    ]


def _spec_nodes(spec: tuple[ir.SpecItem, ...]) -> Iterator[object]:
    for item in spec:
        if not isinstance(item, ir.CommentSpec):
            yield item


def ir_nodes(file: ir.SourceFile) -> Iterator[object]:
    """Every IR node that stands for one or more source statements (comments excluded)."""

    def routine(r: ir.Routine) -> Iterator[object]:
        yield r
        yield from _spec_nodes(r.spec)
        for s in walk_stmts(r.body):
            if not isinstance(s, ir.Comment):
                yield s
        for c in r.contains:
            yield from routine(c)

    for unit in file.units:
        if isinstance(unit, ir.Module):
            yield unit
            yield from _spec_nodes(unit.spec)
            for r in unit.routines:
                yield from routine(r)
        elif isinstance(unit, ir.Routine):
            yield from routine(unit)
        else:
            yield unit


def _verbatim_length(node: object) -> int:
    """How many statements a node kept verbatim stands for (1 for everything else)."""
    text = getattr(node, "text", None)
    if not isinstance(text, str) or isinstance(node, ir.AttrStmt):
        return 1
    return max(1, sum(1 for s in source_statements(text, False)))


def check_coverage(source: Source, file: ir.SourceFile, text: str | None = None) -> None:
    """Raise a located error naming the first statement of ``source`` that the lowered
    ``file`` lost. ``text`` is what was parsed, when it differs from ``source.text`` only in
    rewrites that keep every line in place."""
    statements = source_statements(source.text if text is None else text, source.fixed_form)
    origin: list[Origin] = [source.origin(s.line) for s in statements]
    wanted: Counter[Origin] = Counter(
        o for o, s in zip(origin, statements, strict=True) if not s.delimiter
    )
    have: Counter[Origin] = Counter()
    at: dict[Origin, list[int]] = {}  # where each origin's statements sit in ``statements``
    for i, o in enumerate(origin):
        at.setdefault(o, []).append(i)
    used: Counter[Origin] = Counter()  # verbatim nodes already placed at an origin
    for node in ir_nodes(file):
        loc: ir.SourceLoc = node.loc  # type: ignore[attr-defined]
        key = (loc.file, loc.line)
        length = _verbatim_length(node)
        if length == 1:
            have[key] += 1
            continue
        places = at.get(key, [])
        if used[key] >= len(places):
            have[key] += 1
            continue
        start = places[used[key]]
        used[key] += 1
        for i in range(start, min(start + length, len(statements))):
            if not statements[i].delimiter:
                have[origin[i]] += 1
    lines = (source.text if text is None else text).splitlines()
    for o, s in zip(origin, statements, strict=True):
        if not s.delimiter and have[o] < wanted[o]:
            raw = lines[s.line - 1]
            raise FortranADError(
                ir.SourceLoc(o[0], o[1], len(raw) - len(raw.lstrip()) + 1),
                f"internal error: statement not lowered: '{s.text.strip()}'",
                "fortran-ad would have dropped it silently; please report this input",
            )
