"""COMMON variables that carry derivatives: derivative COMMON blocks (issue #8).

Activity treats an active COMMON member like a module variable (``Program.global_key`` gives
it the owner ``common:<block>``; ``ad/core/globals.py`` names its derivative, seeds the namers and
saves it around calls). What differs is where the derivative lives: every derivative routine
whose primal declares ``COMMON /blk/ a, n, b(10)`` declares, in the same order, the derivatives
of the block's real members in ``COMMON /blk_b/ ab, bb(10)`` (``/blk_d/`` in forward mode), so
the derivatives are shared exactly as the primal values are. Blank COMMON gets
``/fad_blank_b/``. The head zeroes them before its backward sweep (forward: on entry).

Requirements, checked with located errors: every routine declares an active block with the
same member names (as an INCLUDE file guarantees), the head declares it, and the vector modes
(whose derivatives have a run-time leading dimension) are not used.
"""

from __future__ import annotations

from fortran_ad.ad.core import naming
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import Program
from fortran_ad.ir.symbols import OWNER, block_of, is_real

Key = tuple[str, str]


def is_common_key(key: Key) -> bool:
    return key[0].startswith(OWNER)


class CommonBlocks:
    """The derivative COMMON blocks of one run."""

    def __init__(
        self, program: Program, names: dict[Key, str], mode: str, order: list[str], activity=None
    ):
        self.program = program
        self.names = names
        self.mode = mode
        self.order = order
        self.active = sorted({k[0][len(OWNER) :] for k in names if is_common_key(k)})
        self.decls: dict[str, list[tuple[str, ir.Common]]] = {}  # block -> (routine, item)
        for name, info in sorted(program.routines.items()):
            for item in info.routine.spec:
                if isinstance(item, ir.Common):
                    self.decls.setdefault(item.block, []).append((name, item))
        # blocks whose members are varied or useful anywhere: their names must agree, or the
        # activity (which follows names) could miss a derivative passing through the block
        touched = set(self.active)
        for name in order if activity is not None else ():
            r = program.routines[name].routine
            for v in activity.varied[name] | activity.useful[name]:
                block = block_of(r.symbol(v))
                if block is not None:
                    touched.add(block)
        self._check_names(sorted(touched))
        self._check()

    def _check_names(self, blocks: list[str]) -> None:
        for block in blocks:
            decls = self.decls.get(block, [])
            first_routine, first = decls[0]
            names = [e.name for e in first.members]
            for routine, item in decls[1:]:
                if [e.name for e in item.members] != names:
                    raise FortranADError(
                        item.loc,
                        f"COMMON /{block}/ carries derivatives but '{routine}' names its "
                        f"members differently from '{first_routine}' ({', '.join(names)})",
                        "declare the block identically everywhere (an INCLUDE file does)",
                    )

    def _check(self) -> None:
        head = self.order[-1] if self.order else None
        for block in self.active:
            decls = self.decls.get(block, [])
            first = decls[0][1]
            if naming.is_vector(self.mode):
                raise FortranADError(
                    first.loc,
                    f"COMMON /{block}/ carries derivatives: not supported in the vector modes "
                    "yet (a derivative COMMON block cannot have the run-time nbdirs dimension)",
                    "use --mode reverse or --mode forward",
                )
            if head is not None and all(r != head for r, _ in decls):
                raise FortranADError(
                    self.program.routines[head].routine.loc,
                    f"COMMON /{block}/ carries derivatives, so the head '{head}' must declare "
                    "it (its derivative block is zeroed there)",
                )

    def owner_names(self, owner: str) -> set[str]:
        block = owner[len(OWNER) :]
        out: set[str] = set()
        for routine, _ in self.decls.get(block, []):
            out |= {s.name for s in self.program.routines[routine].routine.symbols}
        return out

    def declarations(self, routine: ir.Routine, namer, active: set[str]) -> list[str]:
        """Lines declaring the derivative COMMON blocks in ``routine``'s derivative (after
        its other declarations: active members are declared there already)."""
        from fortran_ad.ad.core.common import decl

        lines: list[str] = []
        for item in routine.spec:
            if not isinstance(item, ir.Common) or item.block not in self.active:
                continue
            members = []
            for e in item.members:
                sym = routine.symbol(e.name)
                if not is_real(sym):
                    continue
                key = (f"{OWNER}{item.block}", e.name)
                if key in self.names:  # the name activity and the other routines use
                    dname = namer.derivs.setdefault(e.name, self.names[key])
                    namer.taken.add(dname)
                else:
                    dname = namer.derivative(e.name)
                if e.name not in active:
                    lines.append(decl(dname, sym))
                members.append(dname)
            block = naming.common_block_name(item.block, self.mode)
            lines.append(f"common /{block}/ {', '.join(members)}")
        return lines

    def zero_statements(self, zero) -> list[ir.Stmt]:
        """At the head: the derivatives of every real member of the active blocks start at
        zero (under the head's local names)."""
        if not self.order:
            return []
        head = self.program.routines[self.order[-1]].routine
        out: list[ir.Stmt] = []
        for item in head.spec:
            if isinstance(item, ir.Common) and item.block in self.active:
                for e in item.members:
                    sym = head.symbol(e.name)
                    key = (f"{OWNER}{item.block}", e.name)
                    if is_real(sym) and key in self.names:
                        out.append(ir.Assign(ir.Name(self.names[key]), zero(sym)))
        return out
