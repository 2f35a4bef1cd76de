"""Small Fortran text helpers shared by the check harness emitters (harness.py, vector.py)."""

from __future__ import annotations

import re

from fortran_ad.checks.spec import Dummy

WP = "fad_wp"  # the harness's working precision (double), a kind parameter of the program
FMT = "es26.17e3"


def aux(prefix: str, d: Dummy, index: int) -> str:
    """Name of a harness variable tied to dummy ``d`` (kept within Fortran's 63 characters)."""
    # a component leaf: fad_dir_state__h, of an element: fad_dir_cs_2___q
    name = re.sub(r"[^a-z0-9_]", "_", f"fad_{prefix}_{d.name.replace('%', '__')}".lower())
    return name if len(name) <= 63 else f"fad_{prefix}_{index}"


def lit(value: float) -> str:
    """A double-precision literal of ``value`` (round-trips exactly)."""
    text = repr(float(value)).lower()
    if "e" in text:
        mant, _, exp = text.partition("e")
        if "." not in mant:
            mant += ".0"
        return f"{mant}e{exp}_{WP}"
    return f"{text}_{WP}"


def fsum(text: str, d: Dummy) -> str:
    """``sum(text)`` for an array expression shaped like ``d``, ``text`` for a scalar."""
    return f"sum({text})" if d.rank else text


def maxabs(text: str, d: Dummy) -> str:
    return f"maxval(abs({text}))" if d.rank else f"abs({text})"


def real_wp(text: str) -> str:
    return f"real({text}, {WP})"


def column(name: str, d: Dummy, index: str, axis: str) -> str:
    """Direction ``index`` of a harness array shaped like ``d`` plus a direction dimension,
    ``axis`` "leading" (``name(index, :, :)`` for a rank-2 dummy) or "trailing"
    (``name(:, :, index)``); ``name(index)`` for a scalar dummy."""
    colons = [":"] * d.rank
    return f"{name}({', '.join([index, *colons] if axis == 'leading' else [*colons, index])})"


def total(terms: list[str]) -> str:
    """``a + b + …``, or a zero of the working precision when there is no term."""
    return " + ".join(terms) or f"0.0_{WP}"
