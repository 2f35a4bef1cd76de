"""The one place that lays out Fortran lines: indentation and 132-column ``&`` continuation."""

from __future__ import annotations

import textwrap

MAX_COLUMNS = 132
_BREAK_AT = 120  # leave room for " &" and readability


class Writer:
    """Collects free-form lines; ``line()`` wraps long statements at safe spaces."""

    def __init__(self, indent_unit: str = "  ") -> None:
        self.lines: list[str] = []
        self.level = 0
        self.unit = indent_unit

    def indent(self) -> None:
        self.level += 1

    def dedent(self) -> None:
        self.level -= 1

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def comment(self, text: str) -> None:
        """A comment at the current indentation (text starts with '!'), wrapped at spaces into
        further '!' lines when longer than the line limit (only plain '! ' comments: a
        directive or conditional-compilation line such as '!$omp' stays as it is)."""
        prefix = self.unit * self.level
        text = text.strip()
        if len(prefix) + len(text) <= MAX_COLUMNS or not text.startswith("! "):
            self.lines.append(prefix + text)
            return
        body = text[1:].strip()
        width = max(MAX_COLUMNS - len(prefix) - 2, 40)
        parts = textwrap.wrap(body, width, break_long_words=False, break_on_hyphens=False)
        self.lines.extend(f"{prefix}! {p}" for p in parts or [""])

    def line(self, text: str, label: str | None = None) -> None:
        prefix = self.unit * self.level
        if label is not None:
            prefix = f"{label} {prefix}"
        self.lines.extend(split_long_line(prefix + text))

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def split_long_line(text: str) -> list[str]:
    """Split a statement longer than the limit, preferably at spaces outside character
    literals; a stretch without spaces is cut anywhere outside literals, the continuation then
    resuming right after its leading ``&`` (free form joins the two halves into one token);
    a literal longer than a line is cut inside (a continued character context)."""
    if len(text) <= MAX_COLUMNS:
        return [text]
    indent = len(text) - len(text.lstrip())
    sentinel = _directive_sentinel(text)
    if sentinel is not None:
        return _split_directive(text, indent, sentinel)
    out: list[str] = []
    rest = text
    while len(rest) > MAX_COLUMNS:
        cut = _break_point(rest, _BREAK_AT)
        if cut is not None:
            out.append(rest[:cut].rstrip() + " &")
            rest = " " * (indent + 4) + "& " + rest[cut:].lstrip()
            continue
        cut = _hard_break(rest, _BREAK_AT)
        if cut is None:  # inside a character literal: continued there (a character context
            cut = _BREAK_AT  # resumes right after the next line's leading ``&``)
        if cut <= indent + 6:
            break  # nothing to gain (a line indented past the limit): left long
        out.append(rest[:cut] + "&")
        rest = " " * (indent + 4) + "&" + rest[cut:]
    out.append(rest)
    return out


def _directive_sentinel(text: str) -> str | None:
    """``!$omp`` / ``!$acc`` (as written) when ``text`` is a directive line."""
    head = text.lstrip()[:5]
    return head if head.lower() in ("!$omp", "!$acc") else None


def _split_directive(text: str, indent: int, sentinel: str) -> list[str]:
    """A long directive: each continuation line starts with the sentinel (``!$omp&``), or
    the compiler takes it for ordinary code (free form)."""
    out: list[str] = []
    rest = text
    while len(rest) > MAX_COLUMNS:
        cut = _break_point(rest, _BREAK_AT)
        if cut is None:
            break  # no space to break at: left long (gfortran reports it)
        out.append(rest[:cut].rstrip() + " &")
        rest = " " * indent + sentinel + "& " + rest[cut:].lstrip()
    out.append(rest)
    return out


def _hard_break(text: str, limit: int) -> int | None:
    """The last position before ``limit`` outside quotes (after the indentation)."""
    quote: str | None = None
    best = None
    start = len(text) - len(text.lstrip()) + 6
    for i, ch in enumerate(text[:limit]):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif i > start:
            best = i
    return best


def _break_point(text: str, limit: int) -> int | None:
    """Last space before ``limit`` not inside quotes (and not in the leading indentation)."""
    quote: str | None = None
    best = None
    start = len(text) - len(text.lstrip()) + 4
    for i, ch in enumerate(text):
        if i > limit:
            break
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == " " and i > start and text[i - 1] != "&":
            best = i
    return best
