"""Whole-object records of derived-type values whose components derivative code cannot name.

The tape saves a derived-type object component by component (ad/constructs/derived.py), which needs
every component to be visible where the record is written. A type with PRIVATE components (at any
depth) defined in another module than the one a derivative routine is written into (ad/
module_copies.py decides which modules are copies and see their own types' components) cannot be
saved that way: ``state%clock`` is not a name outside ``shallow_water_state``. Such objects are
saved whole instead, by intrinsic assignment, which copies every component (allocatable ones deeply)
without naming any: the derivative module gets a stack of that type, ``fad_ostack_<type>``, and two
private procedures, ``fad_opush_<type>`` / ``fad_opop_<type>``, used in place of ``fad_push`` /
``fad_pop``. Records are pushed and popped within one derivative module (a routine's sweeps, its
split ``_fwd``/``_bwd`` units, its loop checkpoints), so a stack per module suffices. Like component
records of a polymorphic dummy, only the declared type's part is saved. These stacks are not counted
by ``fad_tape_bytes`` nor limited by ``--memory-limit``.
"""

from __future__ import annotations

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.symbols import type_name


def hidden(types: dict[str, ir.TypeDef], tname: str, owners: dict[str, str], visible) -> bool:
    """Does type ``tname`` have a PRIVATE component (at any depth) that code written into the
    module ``visible`` (None: no module's private entities) cannot name?"""
    seen: set[str] = set()

    def walk(name: str) -> bool:
        if name in seen or name not in types:
            return False
        seen.add(name)
        td = types[name]
        if td.parent and walk(td.parent):
            return True
        for c in td.components:
            if "private" in c.attrs and owners.get(name) != visible:
                return True
            inner = type_name(c)
            if inner is not None and walk(inner):
                return True
        return False

    return walk(tname)


def procedure(op: str, tname: str) -> str:
    """``fad_opush_<type>`` / ``fad_opop_<type>`` for ``fad_push`` / ``fad_pop``."""
    return f"fad_o{op[4:]}_{tname}"


def declarations(tnames: set[str]) -> list[str]:
    out = []
    for t in sorted(tnames):
        out.append(f"type({t}), allocatable :: fad_ostack_{t}(:)")
        out.append(f"integer :: fad_odepth_{t} = 0")
        out.append(f"private :: fad_ostack_{t}, fad_odepth_{t}, fad_opush_{t}, fad_opop_{t}")
    return out


def procedures(w, tnames: set[str]) -> None:
    for t in sorted(tnames):
        stack, depth = f"fad_ostack_{t}", f"fad_odepth_{t}"
        w.blank()
        w.comment(f"! whole-object records of type {t} (its components are not visible here)")
        w.line(f"subroutine fad_opush_{t}(x)")
        w.indent()
        w.line(f"type({t}), intent(in) :: x")
        w.line(f"type({t}), allocatable :: grown(:)")
        w.line(f"if (.not. allocated({stack})) allocate({stack}(16))")
        w.line(f"if ({depth} == size({stack})) then")
        w.indent()
        w.line(f"allocate(grown(2*size({stack})))")
        w.line(f"grown(1:{depth}) = {stack}(1:{depth})")
        w.line(f"call move_alloc(grown, {stack})")
        w.dedent()
        w.line("end if")
        w.line(f"{depth} = {depth} + 1")
        w.line(f"{stack}({depth}) = x")
        w.dedent()
        w.line(f"end subroutine fad_opush_{t}")
        w.blank()
        w.line(f"subroutine fad_opop_{t}(x)")
        w.indent()
        w.line(f"type({t}), intent(inout) :: x")
        w.line(f"if ({depth} < 1) error stop 'fad_opop_{t}: no record left'")
        w.line(f"x = {stack}({depth})")
        w.line(f"{depth} = {depth} - 1")
        w.dedent()
        w.line(f"end subroutine fad_opop_{t}")


def used(plan, module: str) -> set[str]:
    """Types whose object stacks the derivative routines written into ``module`` used."""
    return plan.__dict__.setdefault("object_stacks", {}).get(module, set())


def note(plan, t) -> None:
    """Record the object stacks routine transform ``t`` used (read by ``used``)."""
    m = t.info.module
    if m is not None and getattr(t, "object_stacks", None):
        plan.__dict__.setdefault("object_stacks", {}).setdefault(m.name, set()).update(
            t.object_stacks
        )


def close_module(w, body, plan, module: str, name: str) -> None:
    """End derivative module ``name`` (of primal ``module``): the object-stack declarations
    and procedures it uses, then ``contains``, the procedures written to ``body``, END."""
    stacks = used(plan, module)
    for line in declarations(stacks):
        w.line(line)
    procedures(body, stacks)
    w.dedent()
    w.line("contains")
    w.lines.extend(body.lines)
    w.line(f"end module {name}")
