"""Text of ``ir.Parallel``: the ``!$omp`` lines around a loop, DO CONCURRENT locality specs."""

from __future__ import annotations

from fortran_ad.ir import nodes as ir


def directive_lines(p: ir.Parallel) -> tuple[list[str], str | None]:
    """The ``!$omp`` lines before an OpenMP loop and the closing line (None for concurrent)."""
    parts = [p.kind]
    if p.default:
        parts.append(f"default({p.default})")
    for name in ("private", "firstprivate", "lastprivate", "shared"):
        for chunk in _chunks(getattr(p, name)):  # a clause may repeat: keeps lines short
            parts.append(f"{name}({', '.join(chunk)})")
    for op, names in p.reduction:
        for chunk in _chunks(names):
            parts.append(f"reduction({op}:{', '.join(chunk)})")
    if p.schedule:
        parts.append(f"schedule({p.schedule})")
    if p.collapse > 1:
        parts.append(f"collapse({p.collapse})")
    parts += p.other
    lines, cur = [], "!$omp " + parts[0]
    for part in parts[1:]:
        if len(cur) + len(part) > 90:
            lines.append(cur + " &")
            cur = "!$omp& " + part
        else:
            cur += " " + part
    lines.append(cur)
    return lines, f"!$omp end {p.kind}" if p.kind == "parallel do" else None


def locality_text(p: ir.Parallel) -> str:
    """DO CONCURRENT locality specs (F2018) as written after the header."""
    parts = []
    for name, word in (("private", "local"), ("firstprivate", "local_init"), ("shared", "shared")):
        names = getattr(p, name)
        if names:
            parts.append(f"{word}({', '.join(names)})")
    if p.default:
        parts.append(f"default({p.default})")
    return (" " + " ".join(parts)) if parts else ""


def _chunks(names: tuple[str, ...], width: int = 60) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    cur: list[str] = []
    for n in names:
        if cur and len(", ".join([*cur, n])) > width:
            out.append(tuple(cur))
            cur = []
        cur.append(n)
    if cur:
        out.append(tuple(cur))
    return out
