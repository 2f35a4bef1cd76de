"""The documentation stays true to the tree: the README within its length, and every file path
the README and docs/ name exists (a moved module leaves no stale pointer behind)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# a path in backticks or a link: dir/name.ext with a source-like extension
PATH = re.compile(
    r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]+\.(?:py|f90|F90|c|h|toml|sh|md|cmake|mk|json))\b"
)


def test_readme_within_400_lines() -> None:
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines <= 400, f"README.md has {lines} lines"


def test_the_design_documents_exist() -> None:
    for name in ("architecture.md", "performance.md", "coverage.md"):
        assert (ROOT / "docs" / name).is_file(), name


def _exists(path: str) -> bool:
    bases = (ROOT, ROOT / "fortran_ad", ROOT / "docs", ROOT / "tests")
    return any((base / path).exists() for base in bases)


def test_every_named_file_exists() -> None:
    missing = []
    for doc in DOCS:
        for k, line in enumerate(doc.read_text().splitlines(), 1):
            for m in PATH.finditer(line):
                path = m.group(1)
                generated = path.startswith(("out/", "py/", "build/"))  # example outputs
                if generated or path.startswith(("http", "www.")) or "<" in path or "*" in path:
                    continue
                if not _exists(path):
                    missing.append(f"{doc.relative_to(ROOT)}:{k}: {path}")
    assert not missing, "\n".join(missing)
