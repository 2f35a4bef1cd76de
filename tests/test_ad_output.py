"""Properties of the generated code that users (and their build systems) rely on.

Checked on the text fortran-ad writes for the bundled samples (one case per sample folder, both
modes) and on a small source with known literals. The text is parsed loosely with regexes; the
primal side (head arguments, module names, module parameters) comes from the frontend's IR.

* file ``<stem>_b.f90`` / ``<stem>_d.f90``, module ``<module>_b`` / ``_d`` that ``use``s the
  primal module and does not re-declare its parameters (kinds included);
* routine ``<head>_b`` / ``_d`` with ``<arg>b`` / ``<arg>d`` right after each active argument;
* literals keep their kinds as written (``1.0_dp`` stays ``_dp``, ``0.1d0`` stays ``0.1d0``);
* every adjoint statement belongs to a group headed ``! adjoint of <file>:<line>`` naming a real
  source statement;
* no line longer than 132 columns; no multiplications by a literal zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES, sample_sources

from fortran_ad import cli
from fortran_ad.checks.inputs import find_head
from fortran_ad.driver import load
from fortran_ad.ir import nodes as ir

SUFFIX = {"reverse": "b", "forward": "d"}
TAPE = "fad_tape.f90"
# first case of every sample folder
CASES = [(s, s["case"][0]) for s in SAMPLES]
IDS = [s["name"] for s, _ in CASES]
MODE_PARAMS = [
    pytest.param(s, c, m, id=f"{s['name']}-{m}") for s, c in CASES for m in ("reverse", "forward")
]

REAL_LITERAL = re.compile(
    r"(?<![\w.])(?:\d+\.\d*|\.\d+|\d+(?=[ed][-+]?\d))(?:[ed][-+]?\d+)?(?:_\w+)?(?![\w.])", re.I
)
ZERO = r"0(?:\.0*)?(?:[ed][-+]?0+|_\w+)?"
# "+ 0*", "- 0.0_dp*", "* 0.0d0" (not "**0"), "0.0*" at the start of an expression
ZERO_PRODUCT = re.compile(
    rf"(?:[-+=(,]\s*{ZERO}\s*\*(?!\*))|(?:(?<!\*)\*\s*{ZERO}(?![\w.(]))", re.I
)


@dataclass
class Output:
    """What one generation wrote, plus the primal facts to compare it with."""

    mode: str
    files: dict[str, str]
    sources: list[Path]
    head: ir.Routine
    module: ir.Module | None
    program: list[ir.SourceFile]
    wrt: list[str]
    of: list[str]

    @property
    def derivative_files(self) -> dict[str, str]:
        return {n: t for n, t in self.files.items() if n != TAPE}


_CACHE: dict[tuple[str, str], Output] = {}


def generate(
    cfg: dict[str, Any], case: dict[str, Any], mode: str, root: Path, sources: list[Path] | None
) -> Output:
    key = (f"{cfg['name']}-{case['head']}", mode)
    if key in _CACHE:
        return _CACHE[key]
    srcs = sources or sample_sources(cfg)
    out = root / f"{key[0]}-{mode}"
    args = [*map(str, srcs), "--head", case["head"], "--wrt", ",".join(case["wrt"])]
    args += ["--of", ",".join(case["of"]), "--mode", mode, "-o", str(out)]
    assert cli.main(args) == 0
    program = load([str(s) for s in srcs])
    module, head = find_head(program, case["head"], tuple(case["wrt"]))
    files = {p.name: p.read_text() for p in sorted(out.iterdir())}
    result = Output(mode, files, srcs, head, module, program, list(case["wrt"]), list(case["of"]))
    _CACHE[key] = result
    return result


@pytest.fixture(scope="module")
def gen_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("output")


def code_lines(text: str) -> list[str]:
    """Lines without comments (no strings with '!' are generated in statements we check)."""
    return [line.split("!", 1)[0].rstrip() for line in text.splitlines()]


def statements(text: str) -> list[str]:
    """Logical statements: continuation lines joined, comments dropped."""
    out: list[str] = []
    pending = ""
    for line in code_lines(text):
        part = line.strip()
        if not part:
            continue
        part = part.removeprefix("&").lstrip()
        if part.endswith("&"):
            pending += part[:-1]
            continue
        out.append(pending + part)
        pending = ""
    return out


def arg_list(text: str, name: str) -> list[str]:
    """Dummy arguments of ``subroutine|function name(...)`` in generated free-form text."""
    for stmt in statements(text):
        m = re.match(rf"(?:[\w ]*\s)?(?:subroutine|function)\s+{name}\s*\((.*?)\)", stmt, re.I)
        if m:
            return [a.strip().lower() for a in m.group(1).split(",") if a.strip()]
    raise AssertionError(f"no routine {name} in the generated text")


# ------------------------------------------------------------------------------------------
# files, modules, routines, arguments


@pytest.mark.parametrize(("cfg", "case", "mode"), MODE_PARAMS)
def test_file_module_and_routine_names(
    cfg: dict[str, Any], case: dict[str, Any], mode: str, gen_root: Path
) -> None:
    out = generate(cfg, case, mode, gen_root, None)
    sfx = SUFFIX[mode]
    head_file = next(s for s in out.sources if _defines(s, out.head.name))
    expected = f"{head_file.stem}_{sfx}.f90"
    assert expected in out.files, sorted(out.files)
    assert (TAPE in out.files) == (mode == "reverse"), sorted(out.files)
    text = out.files[expected]
    routine = f"{out.head.name}_{sfx}"
    assert re.search(rf"^\s*subroutine {routine}\(", text, re.M | re.I), text[:2000]
    if out.module is not None:
        primal, deriv = out.module.name, f"{out.module.name}_{sfx}"
        m = re.search(rf"^module {deriv}\n((?:\s*use [^\n]*\n)+)", text, re.M | re.I)
        assert m, f"no 'module {deriv}' followed by USE lines in {expected}"
        assert re.search(rf"^\s*use {primal}\s*$", m.group(1), re.M | re.I), m.group(0)
        assert re.search(rf"^end module {deriv}\s*$", text, re.M | re.I)


def _defines(path: Path, routine: str) -> bool:
    return re.search(rf"\bsubroutine\s+{routine}\b", path.read_text(), re.I) is not None


@pytest.mark.parametrize(("cfg", "case", "mode"), MODE_PARAMS)
def test_derivative_argument_follows_each_active_argument(
    cfg: dict[str, Any], case: dict[str, Any], mode: str, gen_root: Path
) -> None:
    out = generate(cfg, case, mode, gen_root, None)
    sfx = SUFFIX[mode]
    text = "\n".join(out.derivative_files.values())
    deriv = arg_list(text, f"{out.head.name}_{sfx}")
    primal = list(out.head.args)
    active, j = [], 0
    for a in primal:
        assert j < len(deriv) and deriv[j] == a, f"primal {primal} vs derivative {deriv}"
        j += 1
        if j < len(deriv) and deriv[j] == a + sfx:
            active.append(a)
            j += 1
    assert j == len(deriv), f"unexpected arguments {deriv[j:]} in {deriv}"
    assert set(out.wrt) <= set(active), f"wrt {out.wrt} without {sfx}-argument: {deriv}"
    assert set(out.of) <= set(active), f"of {out.of} without {sfx}-argument: {deriv}"


@pytest.mark.parametrize(("cfg", "case", "mode"), MODE_PARAMS)
def test_primal_parameters_are_not_redeclared(
    cfg: dict[str, Any], case: dict[str, Any], mode: str, gen_root: Path
) -> None:
    out = generate(cfg, case, mode, gen_root, None)
    params = {
        s.name
        for f in out.program
        for u in f.units
        if isinstance(u, ir.Module)
        for s in u.symbols
        if "parameter" in s.attrs
    }
    if not params:
        pytest.skip("no module parameters in this sample")
    for name, text in out.derivative_files.items():
        for stmt in statements(text):
            m = re.match(r"[^:=]*\bparameter\b[^:]*::(.*)", stmt, re.I)
            if not m:
                continue
            declared = set(re.findall(r"(\w+)\s*(?:\([^)]*\))?\s*=(?!=)", _flat(m.group(1))))
            again = {d.lower() for d in declared} & params
            assert not again, f"{name} re-declares primal parameters {again}: {stmt}"


def _flat(text: str) -> str:
    """Drop parenthesized parts (initializer calls) so only ``name = ...`` pairs remain."""
    prev = None
    while prev != text:
        prev, text = text, re.sub(r"\([^()]*\)", "", text)
    return text


# ------------------------------------------------------------------------------------------
# literals and kinds


def _literals(text: str) -> set[str]:
    return {m.group(0).lower() for line in code_lines(text) for m in REAL_LITERAL.finditer(line)}


def _kind_suffix(lit: str) -> str | None:
    """``_dp`` for ``1.0_dp``, ``d`` for ``0.1d0``; None for a default-real literal."""
    m = re.search(r"(_\w+)$", lit)
    if m:
        return m.group(1).lower()
    return "d" if re.search(r"d[-+]?\d+$", lit, re.I) else None


@pytest.mark.parametrize(("cfg", "case", "mode"), MODE_PARAMS)
def test_literals_keep_their_kinds(
    cfg: dict[str, Any], case: dict[str, Any], mode: str, gen_root: Path
) -> None:
    """Every real literal written is one of the primal's, or 0/1/10 in a kind it spells."""
    out = generate(cfg, case, mode, gen_root, None)
    # the sources and the headers they #include / INCLUDE (macros may spell literals)
    texts = [p for s in out.sources for p in (s, *s.parent.glob("*.h"), *s.parent.glob("*.inc"))]
    primal = set().union(*(_literals(p.read_text()) for p in texts))
    kinds = {k for k in map(_kind_suffix, primal) if k}
    made = {f"{v}{k}" for v in ("0.0", "1.0", "10.0") for k in kinds if k.startswith("_")}
    made |= {f"{v}d0" for v in ("0.0", "1.0", "10.0") if "d" in kinds}
    for name, text in out.derivative_files.items():
        found = _literals(text)
        bare = {lit for lit in found if _kind_suffix(lit) is None}
        assert not bare - primal, f"{name}: default-real literals: {sorted(bare - primal)}"
        foreign = found - primal - made
        assert not foreign, f"{name}: literals not spelled as in the sources: {sorted(foreign)}"


KIND_SOURCE = """\
module lit_kinds
  implicit none
  integer, parameter :: dp = selected_real_kind(12, 200)
  real(dp), parameter :: c0 = 1.5_dp
end module lit_kinds

module lit_model
  use lit_kinds
  implicit none
contains
  subroutine lit(x, y)
    real(dp), intent(in) :: x
    real(dp), intent(out) :: y
    y = 2.5_dp*x**2 + 0.1d0*sin(x) + c0*x
  end subroutine lit
end module lit_model
"""


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_kinds_as_written_in_derivative_statements(tmp_path: Path, mode: str) -> None:
    src = tmp_path / "lit.f90"
    src.write_text(KIND_SOURCE)
    out = tmp_path / "out"
    args = [str(src), "--wrt", "x", "--of", "y", "--mode", mode, "-o", str(out)]
    assert cli.main(args) == 0
    sfx = SUFFIX[mode]
    text = (out / f"lit_{sfx}.f90").read_text()
    assert re.search(r"^module lit_model_" + sfx, text, re.M)
    assert not re.search(r"parameter\s*::\s*(dp|c0)\b", text), "primal constants re-declared"
    target = "xb" if mode == "reverse" else "yd"
    deriv = [s for s in statements(text) if re.match(rf"{target}\s*=", s)]
    assert deriv, f"no statement assigning {target}:\n{text}"
    joined = " ".join(deriv)
    assert "0.1d0" in joined, joined  # d-exponent literal kept exactly
    assert "2.5_dp" in joined, joined  # _dp literal kept exactly
    assert not re.search(r"0\.1(?!d0)", joined), joined
    assert not re.search(r"(?<![\w.])2\.5(?!_dp)", joined), joined
    # constants the tool makes up are typed like the variables: 0.0_dp, not 0.0
    for lit in _literals(text):
        assert _kind_suffix(lit) is not None, f"literal {lit} has no kind:\n{text}"


# ------------------------------------------------------------------------------------------
# layout: source-line comments, line length, no zero terms


ADJOINT_OF = re.compile(r"^(\s*)! adjoint of (\S+):(\d+)\s*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


COMMENT_CASES = [pytest.param(s, c, id=s["name"], marks=[]) for s, c in CASES]


@pytest.mark.parametrize(("cfg", "case"), COMMENT_CASES)
def test_adjoint_comments_point_at_source_statements(
    cfg: dict[str, Any], case: dict[str, Any], gen_root: Path
) -> None:
    out = generate(cfg, case, "reverse", gen_root, None)
    by_name = {p.name: p.read_text().splitlines() for p in out.sources}
    fixed = {p.name for p in out.sources if p.suffix.lower() in (".f", ".for", ".f77", ".ftn")}
    seen = 0
    for name, text in out.derivative_files.items():
        for line in text.splitlines():
            m = ADJOINT_OF.match(line)
            if not m:
                continue
            seen += 1
            file, n = m.group(2), int(m.group(3))
            assert file in by_name, f"{name}: comment names unknown file: {line.strip()}"
            lines = by_name[file]
            assert 1 <= n <= len(lines), f"{name}: line out of range: {line.strip()}"
            src = lines[n - 1]
            is_comment = src.lstrip().startswith("!") or (file in fixed and src[:1] in "cC*")
            assert src.strip() and not is_comment, f"{line.strip()} points at '{src}'"
    assert seen, "no '! adjoint of <file>:<line>' comments at all"


EARLY_RETURN = """\
subroutine s(x, y)
  implicit none
  real(8), intent(in) :: x
  real(8), intent(out) :: y
  y = x*x
  if (x > 2.0d0) return
  y = y*x
end subroutine s
"""


def test_early_return_comments_name_source_lines(tmp_path: Path) -> None:
    (tmp_path / "ret.f90").write_text(EARLY_RETURN)
    assert (
        cli.main([str(tmp_path / "ret.f90"), "--wrt", "x", "--of", "y", "-o", str(tmp_path)]) == 0
    )
    text = (tmp_path / "ret_b.f90").read_text()
    refs = [m.group(2, 3) for m in map(ADJOINT_OF.match, text.splitlines()) if m]
    assert refs, text
    bad = [r for r in refs if r[0] != "ret.f90" or not 1 <= int(r[1]) <= 8]
    assert not bad, f"comments not naming ret.f90 lines: {bad}\n{text}"


def _group_header(lines: list[str], i: int, stop: int) -> str | None:
    """The ``! adjoint of`` comment heading line ``i``'s group: the nearest comment above it at
    its own or an enclosing block's indentation (None if that comment is something else)."""
    level = _indent(lines[i])
    for k in range(i - 1, stop, -1):
        text, ind = lines[k].strip(), _indent(lines[k])
        if not text or ind > level or text.lower().startswith("!$omp"):
            continue  # OpenMP directives are not comments
        if text.startswith("!"):
            return lines[k] if ADJOINT_OF.match(lines[k]) else None
        level = min(level, ind)
    return None


def _is_adjoint_statement(code: str) -> bool:
    """``vb = vb + ...``, ``vb(i) = vb(i) - ...`` or a call of an adjoint routine."""
    code = code.strip()
    m = re.match(r"(\w+b\d*)(\([^=]*\))?\s*=\s*(.*)", code)
    if m:
        lhs = re.escape(m.group(1) + (m.group(2) or ""))
        return re.match(rf"{lhs}\s*[-+]", m.group(3)) is not None
    return re.match(r"call \w+_b\(", code) is not None


@pytest.mark.parametrize(("cfg", "case"), CASES, ids=IDS)
def test_every_adjoint_statement_is_in_a_commented_group(
    cfg: dict[str, Any], case: dict[str, Any], gen_root: Path
) -> None:
    """An increment's nearest enclosing-or-preceding comment group is ``! adjoint of``."""
    out = generate(cfg, case, "reverse", gen_root, None)
    checked = 0
    for name, text in out.derivative_files.items():
        lines = text.splitlines()
        sweep_start = None
        for i, line in enumerate(lines):
            if "---- backward sweep" in line:
                sweep_start = i
            elif re.match(r"\s*end (subroutine|function)\b", line):
                sweep_start = None
            elif sweep_start is not None and _is_adjoint_statement(line.split("!", 1)[0]):
                checked += 1
                ok = _group_header(lines, i, sweep_start) is not None
                assert ok, f"{name}:{i + 1}: no '! adjoint of' comment before: {line.strip()}"
    assert checked, "no adjoint statements found"


@pytest.mark.parametrize(("cfg", "case", "mode"), MODE_PARAMS)
def test_lines_fit_in_132_columns(
    cfg: dict[str, Any], case: dict[str, Any], mode: str, gen_root: Path
) -> None:
    out = generate(cfg, case, mode, gen_root, None)
    for name, text in out.files.items():
        long = [(i, len(line)) for i, line in enumerate(text.splitlines(), 1) if len(line) > 132]
        assert not long, f"{name}: lines longer than 132 columns (line, length): {long[:10]}"


@pytest.mark.parametrize(("cfg", "case", "mode"), MODE_PARAMS)
def test_no_multiplication_by_literal_zero(
    cfg: dict[str, Any], case: dict[str, Any], mode: str, gen_root: Path
) -> None:
    out = generate(cfg, case, mode, gen_root, None)
    for name, text in out.derivative_files.items():
        for stmt in statements(text):
            m = ZERO_PRODUCT.search(stmt)
            assert not m, f"{name}: zero term '{m.group(0)}' in: {stmt}"


POWERS = """\
subroutine powers(x, w, y)
  implicit none
  real(8), intent(in) :: x, w
  real(8), intent(out) :: y
  y = x**0*w + (x*w)**1 + x/2
end subroutine powers
"""


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_constant_powers_leave_no_zero_terms(tmp_path: Path, mode: str) -> None:
    """``x**0`` contributes nothing (not ``0*x**(-1)``), ``x**1`` no ``1*x**0`` factor."""
    (tmp_path / "powers.f90").write_text(POWERS)
    args = [str(tmp_path / "powers.f90"), "--wrt", "x,w", "--of", "y", "--mode", mode]
    assert cli.main([*args, "-o", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / f"powers_{SUFFIX[mode]}.f90").read_text()
    for stmt in statements(text):
        assert not ZERO_PRODUCT.search(stmt), stmt
        assert "**(-1)" not in stmt and "(x*w)**0" not in stmt, stmt
        assert not re.search(r"(?<![\w.])1\*", stmt), stmt


def test_zero_product_pattern() -> None:
    """The pattern above finds what it must and leaves the rest alone."""
    bad = ["xb = xb + 0*y", "xb = xb + 0.0*y", "xd = 0.0_dp*yd + 1", "xb = xb + y*0.0d0"]
    good = ["x = y**0", "xb = xb + 0.5_dp*y", "a(0) = b*10.0_dp", "xb = 0.0_dp", "y = x*0.01d0"]
    assert all(ZERO_PRODUCT.search(s) for s in bad), [s for s in bad if not ZERO_PRODUCT.search(s)]
    assert not any(ZERO_PRODUCT.search(s) for s in good), [
        s for s in good if ZERO_PRODUCT.search(s)
    ]
