"""Which types, kinds and ranks ``fad_push`` / ``fad_pop`` accept (the tape's coverage).

One place for the question "does ``call fad_push(x)`` compile?". The shipped module ``fad_tape``
(``gen_tape.py``) has the stack types of ranks 0..5 (``CORE_MAX_RANK``); the other covered types and
ranks get their specifics on demand, in a module generated with the derivative code
(``gen_tape_ext.py``) for exactly the pushes and pops it contains. The generation-time check of
derivative code (``ad/invariants/tape_check.py``) finds what each push and pop needs and refuses,
with a located internal error, any whose argument no specific could take.

- **Stacks** (``BASE_TYPES``): real32, real64, int32, int64 and default logical each have their
  own growable stack. Ranks 6 and 7 are pushed as rank-5 sections (and popped in the reverse
  order), which leaves the same column-major sequence on the stack.
- **Carried** types (``CARRIED``) ride on a stack of a wider or component type: int8/int16 on the
  int32 stack, logical(int8)/logical(int16) on the default-logical stack, complex(real32) and
  complex(real64) as (real, imaginary) pairs on the real stack of their kind, character scalars
  and rank-1 arrays as character codes on the int32 stack. Each element keeps its own slots in
  column-major order, so a push of an array and pops of its elements one by one (or the other
  way round) agree, as they do for the stack types.

Kinds are identified by storage size in bytes (the kind value of gfortran and most compilers).
"""

from __future__ import annotations

from dataclasses import dataclass

CORE_MAX_RANK = 5  # ranks in the shipped fad_tape module
MAX_RANK = 7  # the largest rank of every numeric and logical type (Fortran 2008 allows 15)
MAX_CHARACTER_RANK = 1


@dataclass(frozen=True)
class BaseType:
    """One tape stack: a Fortran base type with its own growable buffer."""

    tag: str  # suffix of procedure and variable names
    decl: str  # Fortran type-spec
    name: str  # human-readable name used in error messages
    mold: str  # a constant of the type, for storage_size


@dataclass(frozen=True)
class Carried:
    """A type stored on another type's stack: ``to`` converts a value ``{v}`` of it (scalar or
    rank-1 array) to the stack type, ``back`` converts stack values ``{t}`` (complex: ``{re}``
    and ``{im}``) back; ``width`` stack values per element (2 for complex)."""

    tag: str
    decl: str
    stack: str  # tag of the BaseType carrying it
    width: int = 1
    to: str = ""
    back: str = ""
    max_rank: int = MAX_RANK


BASE_TYPES: tuple[BaseType, ...] = (
    BaseType("r4", "real(real32)", "real32", "0.0_real32"),
    BaseType("r8", "real(real64)", "real64", "0.0_real64"),
    BaseType("i4", "integer(int32)", "int32", "0_int32"),
    BaseType("i8", "integer(int64)", "int64", "0_int64"),
    BaseType("l", "logical", "logical", ".false."),
)

CARRIED: tuple[Carried, ...] = (
    Carried("i1", "integer(int8)", "i4", to="int({v}, int32)", back="int({t}, int8)"),
    Carried("i2", "integer(int16)", "i4", to="int({v}, int32)", back="int({t}, int16)"),
    Carried("l1", "logical(int8)", "l", to="logical({v})", back="logical({t}, int8)"),
    Carried("l2", "logical(int16)", "l", to="logical({v})", back="logical({t}, int16)"),
    Carried("c4", "complex(real32)", "r4", 2, back="cmplx({re}, {im}, real32)"),
    Carried("c8", "complex(real64)", "r8", 2, back="cmplx({re}, {im}, real64)"),
    Carried("ch", "character(len=*)", "i4", max_rank=MAX_CHARACTER_RANK),
)

STACK_DECL: dict[str, str] = {t.tag: t.decl for t in BASE_TYPES}

# (base type, kind in bytes) -> the tag of the specifics taking it; kind None: the default kind
COVERED: dict[tuple[str, int | None], str] = {
    ("real", 4): "r4",
    ("real", None): "r4",
    ("real", 8): "r8",
    ("double precision", None): "r8",
    ("integer", 1): "i1",
    ("integer", 2): "i2",
    ("integer", 4): "i4",
    ("integer", None): "i4",
    ("integer", 8): "i8",
    ("logical", 1): "l1",
    ("logical", 2): "l2",
    ("logical", 4): "l",
    ("logical", None): "l",
    ("complex", 4): "c4",
    ("complex", None): "c4",
    ("complex", 8): "c8",
    ("double complex", None): "c8",
    ("character", 1): "ch",
    ("character", None): "ch",
}


def max_rank(tag: str) -> int:
    """The largest rank the specifics of ``tag`` accept."""
    carried = {c.tag: c for c in CARRIED}
    return carried[tag].max_rank if tag in carried else MAX_RANK


def refusal(base: str, kind: int | None, rank: int) -> str | None:
    """Why ``fad_push`` of a ``base``(``kind``) array of ``rank`` does not compile, or None."""
    tag = COVERED.get((base, kind))
    if tag is None:
        what = base if kind is None else f"{base}(kind={kind})"
        return f"the tape has no stack for {what}"
    if rank > max_rank(tag):
        return f"the tape takes {base} arrays up to rank {max_rank(tag)}, not rank {rank}"
    return None


def in_core(tag: str, rank: int) -> bool:
    """Is the specific for ``tag`` and ``rank`` in the shipped ``fad_tape`` module?"""
    return tag in STACK_DECL and rank <= CORE_MAX_RANK
