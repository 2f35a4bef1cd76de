"""The on-demand tape module: specifics of ``fad_push`` / ``fad_pop`` beyond ``fad_tape``.

Derivative code whose pushes need a type, kind or rank the shipped module lacks
(``tape_types.py``: ranks 6 and 7, int8/int16, logical(int8/int16), complex, character) gets
one more module next to it, holding exactly the specifics it uses. The module extends the
generic interfaces of ``fad_tape`` (a routine that uses both sees one generic) and calls only
its public procedures, so the shipped runtime and its stacks are unchanged:

- ranks 6 and 7 of a stack type loop over their trailing dimensions pushing rank-5 sections
  (pops run the loops backwards), which leaves the column-major sequence of the whole array;
- a carried value is converted to its stack's type and pushed as a scalar or one rank-1 block;
  a pop fills a stack-typed buffer and converts back. Complex elements are (real, imaginary)
  pairs, element by element, so an array push and element pops agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from fortran_ad.runtime.tape_types import CARRIED, CORE_MAX_RANK, STACK_DECL, Carried

_CARRIED = {c.tag: c for c in CARRIED}
_STACK_TYPE = {tag: decl for tag, decl in STACK_DECL.items()}


def _proc(kind: str, tag: str, rank: int) -> str:
    return f"fad_{kind}_{tag}_{rank}"


def _shape(rank: int) -> str:
    return "" if rank == 0 else "(" + ",".join([":"] * rank) + ")"


def _flat(rank: int) -> str:
    return "x" if rank <= 1 else "reshape(x, [size(x)])"


def _sections(tag: str, rank: int, kind: str) -> list[str]:
    """A rank-6/7 stack type: rank-5 sections over the trailing dimensions."""
    decl = _STACK_TYPE[tag]
    name = _proc(kind, tag, rank)
    intent = "in" if kind == "push" else "inout"
    dims = range(CORE_MAX_RANK + 1, rank + 1)
    out = [f"  subroutine {name}(x)", f"    {decl}, intent({intent}) :: x{_shape(rank)}"]
    out.append("    integer :: " + ", ".join(f"i{d}" for d in dims))
    indent = "    "
    for d in reversed(dims):  # outermost: the last dimension
        bounds = f"1, size(x, {d})" if kind == "push" else f"size(x, {d}), 1, -1"
        out.append(f"{indent}do i{d} = {bounds}")
        indent += "  "
    section = ", ".join([":"] * CORE_MAX_RANK + [f"i{d}" for d in dims])
    out.append(f"{indent}call fad_{kind}(x({section}))")
    for _ in dims:
        indent = indent[:-2]
        out.append(f"{indent}end do")
    out += [f"  end subroutine {name}", ""]
    return out


def _push(c: Carried, rank: int) -> list[str]:
    stack = _STACK_TYPE[c.stack]
    name = _proc("push", c.tag, rank)
    out = [f"  subroutine {name}(x)", f"    {c.decl}, intent(in) :: x{_shape(rank)}"]
    if c.tag == "ch":
        if rank == 0:
            codes = "(ichar(x(k:k), int32), k = 1, len(x))"
            out += ["    integer :: k", f"    call fad_push([{codes}])"]
        else:
            codes = "((ichar(x(j)(k:k), int32), k = 1, len(x)), j = 1, size(x))"
            out += ["    integer :: k, j", f"    call fad_push([{codes}])"]
    elif c.width == 2:
        if rank == 0:
            out.append("    call fad_push([real(x), aimag(x)])")
        else:
            out += [
                f"    {stack} :: t(2 * size(x))",
                f"    t(1::2) = real({_flat(rank)})",
                f"    t(2::2) = aimag({_flat(rank)})",
                "    call fad_push(t)",
            ]
    else:
        out.append(f"    call fad_push({c.to.format(v=_flat(rank))})")
    out += [f"  end subroutine {name}", ""]
    return out


def _pop(c: Carried, rank: int) -> list[str]:
    stack = _STACK_TYPE[c.stack]
    name = _proc("pop", c.tag, rank)
    intent = "out" if rank == 0 else "inout"
    out = [f"  subroutine {name}(x)", f"    {c.decl}, intent({intent}) :: x{_shape(rank)}"]
    if c.tag == "ch":
        if rank == 0:
            out += [f"    {stack} :: t(len(x))", "    integer :: k", "    call fad_pop(t)"]
            out += ["    do k = 1, len(x)", "      x(k:k) = char(t(k))", "    end do"]
        else:
            out += [f"    {stack} :: t(len(x) * size(x))", "    integer :: k, j"]
            out += ["    call fad_pop(t)", "    do j = 1, size(x)", "      do k = 1, len(x)"]
            out += ["        x(j)(k:k) = char(t((j - 1) * len(x) + k))"]
            out += ["      end do", "    end do"]
    elif c.width == 2:
        n = "2" if rank == 0 else "2 * size(x)"
        out += [f"    {stack} :: t({n})", "    call fad_pop(t)"]
        if rank == 0:
            out.append("    x = " + c.back.format(re="t(1)", im="t(2)"))
        else:
            value = c.back.format(re="t(1::2)", im="t(2::2)")
            out.append(f"    x = {value if rank == 1 else f'reshape({value}, shape(x))'}")
    else:
        out += [f"    {stack} :: t{'' if rank == 0 else '(size(x))'}", "    call fad_pop(t)"]
        value = c.back.format(t="t")
        out.append(f"    x = {value if rank <= 1 else f'reshape({value}, shape(x))'}")
    out += [f"  end subroutine {name}", ""]
    return out


def generate(module: str, needed: Iterable[tuple[str, int]]) -> str:
    """The text of ``module`` with the specifics ``needed`` ((tag, rank) pairs not in
    ``fad_tape``; ``tape_types.in_core`` tells which are)."""
    wanted = sorted(set(needed))
    names = [_proc("push", t, r) for t, r in wanted] + [_proc("pop", t, r) for t, r in wanted]
    out = [
        f"! {module}: fad_push / fad_pop specifics beyond fad_tape for the code generated with",
        "! it (GENERATED by fortran-ad -- do not edit).",
        f"module {module}",
        "  use, intrinsic :: iso_fortran_env, only: real32, real64, int8, int16, int32, int64",
        "  use fad_tape, only: fad_push, fad_pop",
        "  implicit none",
        "  private",
        "  public :: fad_push, fad_pop",
    ]
    for kind in ("push", "pop"):
        out.append(f"  interface fad_{kind}")
        out += [f"    module procedure {n}" for n in names if n.startswith(f"fad_{kind}_")]
        out.append(f"  end interface fad_{kind}")
    out += ["contains", ""]
    for tag, rank in wanted:
        if tag in _CARRIED:
            out += _push(_CARRIED[tag], rank) + _pop(_CARRIED[tag], rank)
        else:
            out += _sections(tag, rank, "push") + _sections(tag, rank, "pop")
    out.append(f"end module {module}")
    return "\n".join(out) + "\n"
