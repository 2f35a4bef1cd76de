"""A C preprocessor for Fortran sources, in Python, with an exact line map.

Why not ``cpp``: C preprocessors tokenize C, so Fortran's ``//`` and apostrophes in comments
confuse them, and their line markers are lost again when fixed-form lines are joined. Doing it
here keeps every output line tied to the file and line it came from (``Origin``), so errors
and ``! adjoint of file:line`` comments name the original file, also inside ``#include`` and
Fortran ``INCLUDE`` files.

Supported: ``#include "f"`` / ``<f>``, ``#define`` (object-like and function-like), ``#undef``,
``#ifdef``, ``#ifndef``, ``#if`` / ``#elif`` with ``defined(X)`` and integer expressions,
``#else``, ``#endif``, ``#error``; ``#line``/``#pragma`` and lines of a bare ``#`` are dropped.
Macros are expanded outside strings and comments. Fortran ``INCLUDE 'f'`` lines are inlined
too (with or without the preprocessor), looked for next to the including file, then in ``-I``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from fortran_ad.errors import FortranADError
from fortran_ad.ir.nodes import SourceLoc

Origin = tuple[str, int]  # (file as named to the user, 1-based line)

_DIRECTIVE = re.compile(r"^\s*#\s*(\w*)\s?(.*)$")
_INCLUDE = re.compile(r"^\s*include\s*(['\"])([^'\"]+)\1\s*(!.*)?$", re.I)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_DEFINE = re.compile(r"([A-Za-z_]\w*)(\(([^)]*)\))?\s*(.*)$")
_MAX_DEPTH = 50
_C_COMMENT = re.compile(r"/\*.*?\*/")


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    body: str


@dataclass
class Preprocessor:
    """One preprocessing run: ``defines`` as from ``-D NAME[=VAL]``, ``include_dirs`` from
    ``-I``; ``cpp`` False only inlines Fortran INCLUDE lines."""

    defines: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    cpp: bool = True
    fixed_form: bool = False
    macros: dict[str, Macro] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for d in self.defines:
            name, _, value = d.partition("=")
            if not _IDENT.fullmatch(name.strip()):
                raise FortranADError(None, f"bad -D option '{d}' (want NAME or NAME=VALUE)")
            self.macros[name.strip()] = Macro(name.strip(), None, value if _ else "1")

    # -- files ---------------------------------------------------------------------------------
    def run(self, path: str, text: str) -> tuple[str, tuple[Origin, ...]]:
        lines: list[str] = []
        origins: list[Origin] = []
        self._file(path, text, lines, origins, 0)
        return "\n".join(lines) + "\n", tuple(origins)

    def _find(self, name: str, here: str, loc: SourceLoc, angle: bool = False) -> Path:
        folders = ([] if angle else [Path(here).parent]) + [Path(d) for d in self.include_dirs]
        for folder in folders:
            cand = folder / name
            if cand.is_file():
                return cand
        where = ", ".join(str(f) for f in folders) or "nowhere"
        raise FortranADError(loc, f"cannot find include file '{name}'", f"looked in: {where}")

    def _file(self, path: str, text: str, out: list[str], origins: list[Origin], depth: int):
        if depth > _MAX_DEPTH:
            raise FortranADError(SourceLoc(path, 1, 1), "includes nested too deeply (a cycle?)")
        # stack of [taking, any_branch_taken, else_seen, line]
        stack: list[list] = []
        raw = text.splitlines()
        i = 0
        in_comment = False
        while i < len(raw):
            line, lineno = raw[i], i + 1
            i += 1
            if self.cpp and (in_comment or line.lstrip().startswith("/*")):
                # C comments that start a line (headers shared with C) go, as with cpp
                line, in_comment = _strip_c_comment(line, in_comment)
            m = _DIRECTIVE.match(line) if self.cpp and line.lstrip().startswith("#") else None
            if m:
                while line.endswith("\\") and i < len(raw):  # continued directive
                    line = line[:-1] + " " + raw[i]
                    i += 1
                    out.append("")  # keep one output line per input line
                    origins.append((path, i))
                m = _DIRECTIVE.match(line)
                assert m is not None
                out.append("")  # directives leave an empty line behind
                origins.append((path, lineno))
                self._directive(
                    m.group(1),
                    _C_COMMENT.sub(" ", m.group(2)).strip(),
                    path,
                    lineno,
                    stack,
                    out,
                    origins,
                    depth,
                )
                continue
            if stack and not stack[-1][0]:
                out.append("")
                origins.append((path, lineno))
                continue
            inc = _INCLUDE.match(line) if not self._is_comment(line) else None
            if inc and inc.group(2).lower() == "mpif.h":  # MPI's own header: mpif90 finds it
                out.append(line)  # (the names it declares are external integers, issue #13)
                origins.append((path, lineno))
                continue
            if inc:
                loc = SourceLoc(path, lineno, line.lower().index("include") + 1)
                found = self._find(inc.group(2), path, loc)
                shown = _shown(found, path)
                self._file(shown, _read(found, loc), out, origins, depth + 1)
                continue
            out.append(self._expand(line, SourceLoc(path, lineno, 1)) if self.cpp else line)
            origins.append((path, lineno))
        if stack:
            raise FortranADError(SourceLoc(path, stack[-1][3], 1), "#if without #endif")

    def _is_comment(self, line: str) -> bool:
        if self.fixed_form and line[:1] in ("c", "C", "*", "!"):
            return True
        return line.lstrip().startswith("!")

    # -- directives ----------------------------------------------------------------------------
    def _directive(self, name, arg, path, lineno, stack, out, origins, depth) -> None:
        loc = SourceLoc(path, lineno, 1)
        active = all(s[0] for s in stack)
        if name in ("if", "ifdef", "ifndef"):
            if not active:
                stack.append([False, True, False, lineno])
                return
            if name == "if":
                take = self.evaluate(arg, loc)
            else:
                ident = arg.split()[0] if arg.split() else ""
                if not _IDENT.fullmatch(ident):
                    raise FortranADError(loc, f"#{name} needs a macro name")
                take = (ident in self.macros) == (name == "ifdef")
            stack.append([take, take, False, lineno])
            return
        if name in ("elif", "else", "endif"):
            if not stack:
                raise FortranADError(loc, f"#{name} without #if")
            top = stack[-1]
            if name == "endif":
                stack.pop()
                return
            if top[2]:
                raise FortranADError(loc, f"#{name} after #else")
            outer = all(s[0] for s in stack[:-1])
            if name == "else":
                top[0], top[2] = outer and not top[1], True
            else:
                take = outer and not top[1] and self.evaluate(arg, loc)
                top[0] = take
                top[1] = top[1] or take
            return
        if not active:
            return
        if name == "define":
            m = _DEFINE.match(arg)
            if not m:
                raise FortranADError(loc, "#define needs a macro name")
            params = None
            if m.group(2) is not None and arg[len(m.group(1))] == "(":
                params = tuple(p.strip() for p in m.group(3).split(",") if p.strip())
                body = m.group(4)
            else:
                body = arg[len(m.group(1)) :].strip()
            self.macros[m.group(1)] = Macro(m.group(1), params, body)
        elif name == "undef":
            self.macros.pop(arg.split()[0] if arg else "", None)
        elif name == "include":
            inc = re.match(r"""^(["<])([^">]+)[">]""", arg)
            if not inc:
                raise FortranADError(loc, f"#include needs \"file\" or <file>, not '{arg}'")
            found = self._find(inc.group(2), path, loc, inc.group(1) == "<")
            out.pop()  # the include's own (empty) line is replaced by the file
            origins.pop()
            self._file(_shown(found, path), _read(found, loc), out, origins, depth + 1)
        elif name == "error":
            raise FortranADError(loc, f"#error {arg}")
        elif name in ("line", "pragma", "warning", ""):
            return
        else:
            raise FortranADError(loc, f"unknown preprocessor directive '#{name}'")

    # -- expressions ---------------------------------------------------------------------------
    def evaluate(self, expr: str, loc: SourceLoc) -> bool:
        """An #if expression: defined(), macros, integers, C operators; unknown names are 0."""
        text = re.sub(
            r"\bdefined\s*(\(\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))",
            lambda m: "1" if (m.group(2) or m.group(3)) in self.macros else "0",
            expr,
        )
        text = self._expand(text, loc)
        text = _IDENT.sub("0", text)
        text = re.sub(r"(\d+)[uUlL]+\b", r"\1", text)
        py = (
            text.replace("&&", " and ")
            .replace("||", " or ")
            .replace("!=", " <> ")
            .replace("!", " not ")
            .replace("<>", "!=")
            .replace("/", "//")
        )
        try:
            tree = ast.parse(py.strip() or "0", mode="eval")
            for node in ast.walk(tree):
                if not isinstance(node, _SAFE):
                    raise ValueError(type(node).__name__)
            return bool(eval(compile(tree, "<#if>", "eval"), {"__builtins__": {}}))  # noqa: S307
        except (SyntaxError, ValueError, ZeroDivisionError, TypeError):
            raise FortranADError(loc, f"cannot evaluate #if expression '{expr}'") from None

    # -- macro expansion -----------------------------------------------------------------------
    def _expand(self, line: str, loc: SourceLoc, hidden: frozenset[str] = frozenset()) -> str:
        if not self.macros or self._is_comment(line):
            return line
        out: list[str] = []
        i, n = 0, len(line)
        quote = ""
        while i < n:
            ch = line[i]
            if quote:
                out.append(ch)
                if ch == quote:
                    quote = ""
                i += 1
            elif ch in "'\"":
                quote = ch
                out.append(ch)
                i += 1
            elif ch == "!":
                out.append(line[i:])
                break
            elif ch.isalpha() or ch == "_":
                m = _IDENT.match(line, i)
                assert m is not None
                word, i = m.group(0), m.end()
                macro = self.macros.get(word)
                if macro is None or word in hidden or (i > 1 and line[m.start() - 1].isdigit()):
                    out.append(word)
                elif macro.params is None:
                    out.append(self._expand(macro.body, loc, hidden | {word}))
                else:
                    args, end = _call_args(line, i)
                    if args is None:
                        out.append(word)  # a function-like macro name without ( is kept
                        continue
                    if len(args) != len(macro.params) and not (args == [""] and not macro.params):
                        raise FortranADError(
                            loc,
                            f"macro '{word}' takes {len(macro.params)} arguments, "
                            f"given {len(args)}",
                        )
                    body = _substitute(macro.body, dict(zip(macro.params, args, strict=False)))
                    out.append(self._expand(body, loc, hidden | {word}))
                    i = end
            else:
                out.append(ch)
                i += 1
        return "".join(out)


_SAFE = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Constant,
    ast.And,
    ast.Or,
    ast.Not,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.FloorDiv,
    ast.Mod,
    ast.USub,
    ast.UAdd,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.LShift,
    ast.RShift,
    ast.BitAnd,
    ast.BitOr,
    ast.BitXor,
    ast.Invert,
)


def _strip_c_comment(line: str, inside: bool) -> tuple[str, bool]:
    """``line`` without its C comments; whether a comment is still open at its end."""
    out, i = [], 0
    while i < len(line):
        if inside:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i, inside = end + 2, False
        elif line.startswith("/*", i):
            inside = True
        else:
            out.append(line[i])
            i += 1
    return "".join(out), inside


def _call_args(line: str, i: int) -> tuple[list[str] | None, int]:
    """Arguments of a function-like macro call starting at ``line[i:]`` (after the name)."""
    j = i
    while j < len(line) and line[j] in " \t":
        j += 1
    if j >= len(line) or line[j] != "(":
        return None, i
    depth, args, cur = 0, [], []
    for k in range(j, len(line)):
        ch = line[k]
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, k + 1
        elif ch == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    return None, i


def _substitute(body: str, values: dict[str, str]) -> str:
    return _IDENT.sub(lambda m: values.get(m.group(0), m.group(0)), body)


def _read(path: Path, loc: SourceLoc) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise FortranADError(loc, f"cannot read include file '{path}': {exc}") from None


def _shown(found: Path, including: str) -> str:
    """How an included file is named in diagnostics: relative to the including file's folder
    when it sits below it, else as found."""
    try:
        return str(Path(including).parent / found.relative_to(Path(including).parent))
    except ValueError:
        return str(found)
