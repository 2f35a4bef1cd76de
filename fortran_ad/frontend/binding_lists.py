"""F2008 binding lists, rewritten into what fparser reads, every line kept in place.

Fortran 2008 lets one specific-binding statement of a type-bound procedure part declare several
bindings, ``procedure, private :: load_l0, load_i0, load_r0 => load_real`` (R445
type-bound-proc-decl-list); fparser 0.2.5 reads only the F2003 form with one binding, and ECMWF's
I/O modules (``hdf5_file_mod``) stopped on a syntax error. ``split_binding_lists`` writes such a
statement as one statement a binding, separated by ``;`` on the statement's first line
(``procedure, private :: load_l0; procedure, private :: load_i0; ...``); its continuation lines
become blank, so every later line keeps its number. The meaning is the same (the F2003 form),
and the derived type, kept verbatim, re-emits the split statements.

Only statements inside a derived type's CONTAINS part are touched (interface blocks and
procedure declarations take lists already). Free form only: a fixed-form source with a binding
list still gets fparser's located syntax error.
"""

from __future__ import annotations

import re

_TYPE_DEF = re.compile(
    r"\s*type\b(?!\s*is\b)\s*(,[^:]*::|::)?\s*[a-z_]\w*\s*(\([^)]*\))?\s*(!.*)?$", re.I
)
_END_TYPE = re.compile(r"\s*end\s*type\b", re.I)
_CONTAINS = re.compile(r"\s*contains\s*(!.*)?$", re.I)
_PROCEDURE = re.compile(r"\s*procedure\b", re.I)


def _code(line: str) -> str:
    """A line without its trailing comment (binding statements hold no strings)."""
    return line.split("!", 1)[0].rstrip()


def _split(statement: str) -> str | None:
    """``procedure[...] :: a, b => p`` → ``procedure[...] :: a; procedure[...] :: b => p``; None
    when there is nothing to split."""
    head, sep, names = statement.partition("::")
    if not sep:
        return None
    items = [n.strip() for n in names.split(",")]
    if len(items) < 2 or not all(items):
        return None
    return "; ".join(f"{head.rstrip()} :: {n}" for n in items)


def split_binding_lists(text: str, fixed_form: bool) -> str:
    """``text`` with every F2008 binding list in a type-bound procedure part split (see the
    module docstring); the same number of lines."""
    if fixed_form or "procedure" not in text.lower():
        return text
    lines = text.split("\n")
    in_type = in_bindings = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if not in_type:
            in_type = bool(_TYPE_DEF.match(line)) and not _is_continued(line)
            i += 1
            continue
        if _END_TYPE.match(line):
            in_type = in_bindings = False
        elif _CONTAINS.match(line):
            in_bindings = True
        elif in_bindings and _PROCEDURE.match(line):
            end = i
            while _is_continued(lines[end]) and end + 1 < len(lines):
                end += 1
            joined = " ".join(_code(x).rstrip("&").strip().lstrip("&") for x in lines[i : end + 1])
            split = _split(joined)
            if split is not None:
                indent = line[: len(line) - len(line.lstrip())]
                lines[i] = indent + split
                for k in range(i + 1, end + 1):
                    lines[k] = ""
            i = end
        i += 1
    return "\n".join(lines)


def _is_continued(line: str) -> bool:
    return _code(line).endswith("&")
