"""Coverage of a fuzz run: which grammar constructs the programs used, which loop rewrites
fired (fortran_ad/ad/rewrites/__init__.py) and what the checks found, per class and per rewrite."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from fortran_ad.checks.fuzzgen.run import FuzzResult

_CALLS = r"(?:size|ubound|lbound|maxloc|minloc|nint|int|count)"
PATTERNS: dict[str, str] = {  # construct -> a regex its text matches
    "input-counter": r"kk = mod\(kk(?: \+ \w+)?, n\) \+ 1\n\s*end do",
    "int-intrinsic": rf"\b{_CALLS}\(",
    "int-divisor": rf"/\(?{_CALLS}\(",
    "loc-intrinsic": r"\b(?:maxloc|minloc)\(",
    "integer-scratch": r"\bkk\b",
    "index-argument": r"call fuzz_h\d\w*\(n(?: - 1)?, kk,",
    # approximate: an intent(in) actual that is a bare element of y/w/z/b matches too
    "element-actual": r"^\s*call (?:fuzz_h\d|st%hb)[^\n]*, (?:y|w\d?|z|b)\([^()]*\)(?:, st)?\)$",
    "rewrite-kernels": r"^\s*q = |do (\w) = (?:2, n|n, 2, -1)\n\s*do \w = 1, \1 - 1$",
    "module-state": r"^\s*real\(dp\) :: gs\w*$",
    "named-loop": r"\w+: do ",
    "counter-subscript": r"\w\((?:m|n \+ 1 - m|m [+-] \d)[,)]",
    "sequence-association": r"call fuzz_h\d\w*\(n - 1, [^)\n]*\b\w+\(2\)",
    "private-helper": r"private ::",
    "do-while": r"do while",
    "select-case": r"select case",
    "exit-cycle": r"\b(?:exit|cycle)\b",
    "call": r"^\s*call fuzz_h",
    "function": r"^\s*function ",
    "nests": r"^\s*g2\(\w+, \w+\) = ",
    "indirect": r"^\s*ix\(\w+\) = ",
    "openmp": r"^\s*(?:!\$omp parallel do|do concurrent)",
    "array-function": r"^\s*real\(dp\) :: (?:res|fuzz_h\w+)\(n\)$",
    "generic": r"^\s*interface fuzz_g",
    "pointer-alias": r"^\s*pw => w\d(?:\(1:n\))?$",
    "stmt-function": r"\bsf[12]\(",
    "associate": r"^\s*associate \(",
    "allocatable": r"^\s*(?:allocate\(|al = )",
    "save-state": r"^\s*logical, save :: svf",
    "side-effect-function": r"^\s*(?:(?:else )?if \(|do while \(|\w+ = \w+ \+ 0\.1_dp\*)"
    r"(?:sum\()?fuzz_[gh]\w*\(",
    "all-intrinsics": r"\b(?:log10|asin|acos|sinh|cosh|asinh|acosh|atanh|erfc?|hypot|modulo"
    r"|merge|dsqrt|dexp|dlog|dsin|dcos|dtan|dtanh|datan2?|dabs|dmax1|dmin1|dsign|ddim|dmod|dble"
    r"|aint|anint|floor)\(",
    "type-actual": r"^\s*call fuzz_\w+\([^\n]*, st\)$",
    "type-bound": r"^\s*call st%hb\(",
    "derived-type": r"^\s*type\(fz_st\w*\) :: st$",
    "strided-loop": r"\bdo \w+ = [^\n]*, -?[2-9]\n",
}


def constructs(source: str) -> set[str]:
    return {k for k, p in PATTERNS.items() if re.search(p, source, re.M)}


def report(results: Iterable[FuzzResult], sources: dict[int, str]) -> str:
    """Lines: constructs used (programs), rewrites fired (count, programs' batches), findings
    per class and per guilty rewrite."""
    results = list(results)
    used: Counter[str] = Counter()
    for src in sources.values():
        used.update(constructs(src))
    fired: Counter[str] = Counter()
    batches: Counter[str] = Counter()
    for r in results:
        for name, k in r.fired:
            fired[name] += k
            batches[name] += 1
    status = Counter(r.status for r in results)
    caught = Counter(g for r in results if r.status == "differs" for g in r.guilty)
    from fortran_ad.ad.rewrites import NAMES

    out = [f"programs {len(results)}: " + ", ".join(f"{k} {v}" for k, v in sorted(status.items()))]
    out.append("constructs (programs using them):")
    out += [f"  {k:<22} {used[k]}" for k in PATTERNS]
    out.append("rewrites (times fired, batches where fired, programs the differential blamed):")
    out += [f"  {k:<16} {fired[k]:>6} {batches[k]:>5} {caught[k]:>4}" for k in NAMES]
    return "\n".join(out)
