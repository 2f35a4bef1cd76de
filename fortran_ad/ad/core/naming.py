"""All names fortran-ad invents, in one place, collision-free within a routine.

Derivative names follow Tapenade: ``<name>b`` (adjoint), ``<name>d`` (tangent); routines
``<name>_b`` / ``<name>_d``; modules ``<module>_b`` / ``<module>_d``; files ``<stem>_b.f90``.
Helper variables start with ``fad_``.
"""

from __future__ import annotations

MODES = ("reverse", "forward", "vector", "vector-reverse")
SUFFIX = {"reverse": "b", "forward": "d", "vector": "d", "vector-reverse": "b"}  # variables
UNIT_SUFFIX = {"reverse": "b", "forward": "d", "vector": "dv", "vector-reverse": "bv"}


def is_reverse(mode: str) -> bool:
    return mode in ("reverse", "vector-reverse")


def is_vector(mode: str) -> bool:
    return mode in ("vector", "vector-reverse")


def routine_name(name: str, mode: str) -> str:
    return f"{name}_{UNIT_SUFFIX[mode]}"


def module_name(name: str, mode: str) -> str:
    return f"{name}_{UNIT_SUFFIX[mode]}"


def file_name(stem: str, mode: str) -> str:
    return f"{stem}_{UNIT_SUFFIX[mode]}.f90"


def tape_ext_module(head: str, mode: str) -> str:
    """The module of on-demand tape specifics (runtime/gen_tape_ext.py) of one generation:
    named after its head and mode, so two derivative libraries in one program do not clash."""
    return f"fad_tape_{head}"[: 63 - len(UNIT_SUFFIX[mode]) - 1] + f"_{UNIT_SUFFIX[mode]}"


class Namer:
    """Hands out names that clash with nothing already used in one routine."""

    def __init__(self, taken: set[str], mode: str):
        self.taken = set(taken)
        self.suffix = SUFFIX[mode]
        self.derivs: dict[str, str] = {}
        self.nbdirs = self._fresh("nbdirs", always_number=False) if is_vector(mode) else ""

    def derivative(self, var: str) -> str:
        """``xb`` for ``x`` (``xb0``, ``xb1``… if ``xb`` is taken); stable per variable."""
        if var not in self.derivs:
            self.derivs[var] = self._fresh(f"{var}{self.suffix}", always_number=False)
        return self.derivs[var]

    def temp(self, stem: str) -> str:
        """A new helper variable ``fad_<stem>1``, ``fad_<stem>2``, …"""
        return self._fresh(f"fad_{stem}", always_number=True)

    def _fresh(self, base: str, always_number: bool) -> str:
        if not always_number and base not in self.taken:
            self.taken.add(base)
            return base
        i = 0 if not always_number else 1
        while f"{base}{i}" in self.taken:
            i += 1
        name = f"{base}{i}"
        self.taken.add(name)
        return name


def common_block_name(block: str, mode: str) -> str:
    """The derivative COMMON block of ``/block/``: ``/block_b/`` (``/block_d/``); blank
    COMMON's is ``/fad_blank_b/``."""
    return f"{block or 'fad_blank'}_{SUFFIX[mode]}"
