"""Imports go only downward: the package's modules form layers, and no import (function-local
ones included) goes up a layer or closes a cycle.

An import under ``if TYPE_CHECKING:`` names a type for annotations only; it creates no
dependency at run time and is not counted (the annotated object is always handed in by the
caller above).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fortran_ad"

# lowest first; a module belongs to the longest prefix listed
LAYERS: list[tuple[str, ...]] = [
    ("version", "errors", "data"),
    ("ir",),
    ("frontend",),
    ("options", "outputs"),
    ("normalize",),
    ("analysis",),
    ("checkpoint", "runtime"),
    ("ad",),
    ("backends",),
    ("driver",),
    ("checks",),
    ("build", "bindings"),
    ("api",),
    ("checks.fuzzgen", "cli", "__main__", ""),  # "": the package itself (fortran_ad.check)
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _type_checking_only(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``name`` imports (``from x import y`` counts x.y when y is one)."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_only(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = [p for p in package[: len(package) - node.level + 1] if p]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            mod = mod.removeprefix("fortran_ad").removeprefix(".")
            targets = [mod, *(f"{mod}.{a.name}".strip(".") for a in node.names)]
        else:
            continue
        for t in targets:
            t = t.removeprefix("fortran_ad").removeprefix(".")
            if t in modules and t != name:
                out.add(t)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(name: str) -> int:
    best, level = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            hit = name == p or name.startswith(p + ".") or p == ""
            if hit and len(p) > best:
                best, level = len(p), i
    return level


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_imports_only_go_down_the_layers() -> None:
    graph = _graph()
    unplaced = [m for m in graph if _layer(m) < 0]
    assert unplaced == [], f"modules in no layer: {unplaced}"
    upward = [
        f"{a} -> {b}"
        for a, deps in sorted(graph.items())
        for b in sorted(deps)
        if _layer(b) > _layer(a)
    ]
    assert upward == []


def test_modules_stay_small() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 500
    }
    assert long == {}


@pytest.mark.parametrize(
    "graph",
    [{"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}, {"x.y": {"x"}, "x": {"x.y"}}],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]]) -> None:
    assert len(_cycles(graph)) == 1


def test_local_and_relative_imports_count(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "from typing import TYPE_CHECKING\n"
        "def f():\n    from fortran_ad.ir import walk\n"
        "from .types import Typer\n"
        "if TYPE_CHECKING:\n    from fortran_ad.ad.core.adjoint import Reverse\n"
    )
    modules = {"ir.walk": src, "ir.types": src, "ir.m": src, "ad.core.adjoint": src, "ir": src}
    assert _imports("ir.m", src, modules) == {"ir", "ir.walk", "ir.types"}
