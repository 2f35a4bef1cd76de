"""Scalars whose every read is fed by a plain definition in the same block, and the
increments of their adjoints that can become definitions.

In vadv's

    do i = 1, ni
      gav = -0.25_dp*(wcon(i + 1, j, k) + wcon(i, j, k))
      acol = gav*bet_p
      ...                    ! reads of acol
    end do

every read of ``acol`` anywhere in the routine follows, in its own statement list, a plain
definition ``acol = e`` with nothing else writing ``acol`` in between. The adjoint ``acolb``
then only carries values from such a read back to its definition, whose adjoint consumes
them and zeroes ``acolb``: outside those stretches, in particular whenever a backward loop
over a body that defines ``acol`` starts an iteration, ``acolb`` is zero. The first
``acolb = acolb - e`` of that backward iteration is then ``acolb = -e``, and ``acolb`` is
private to the iteration instead of carried from the previous one, which keeps the loop
vectorisable (ad/rewrites/simd.py).

A read is fed when, in the innermost statement list holding it, the nearest earlier statement that
writes the scalar is a plain definition whose value does not read it. When no earlier statement
there writes it, an IF or SELECT branch (or a loop that does not write the scalar) passes the
question to the list around it; a loop body that writes it and the routine body do not (the value
comes from the previous iteration, or from outside). Candidates are the private locals of
ad/rewrites/recompute.py (intrinsic type, nothing aliases them); routines with GO TO, pointer
assignments, EQUIVALENCE or internal procedures have none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.ad.rewrites.recompute import _private_local
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import bodies, stmt_exprs, walk_stmts
from fortran_ad.ir.walk import value_names as names_in

if TYPE_CHECKING:
    from fortran_ad.ad.core.adjoint import Reverse

Chain = tuple[tuple[tuple[ir.Stmt, ...], int, ir.Stmt | None], ...]  # (list, index, owner)


def names(t: Reverse) -> frozenset[str]:
    """The block-local scalars of ``t.routine`` (computed once per routine)."""
    cached = t.__dict__.get("_block_local")
    if cached is not None:
        return cached
    r = t.routine
    out: frozenset[str] = frozenset()
    jumps = (ir.PointerAssign, ir.Goto)  # a GO TO can reach a read from any definition
    plain = not r.contains and not any(isinstance(x, jumps) for x in walk_stmts(r.body))
    if plain and not any(
        isinstance(x, ir.OpaqueSpec) and "equivalence" in x.text.lower() for x in r.spec
    ):
        cands = {s.name for s in r.symbols if _private_local(t, s.name)}
        bad: set[str] = set()
        _scan(t, r.body, (), None, cands, bad)
        out = frozenset(cands - bad)
    t.__dict__["_block_local"] = out
    return out


def _scan(
    t: Reverse,
    body: tuple[ir.Stmt, ...],
    chain: Chain,
    owner: ir.Stmt | None,
    cands: set[str],
    bad: set[str],
) -> None:
    for k, s in enumerate(body):
        here = (*chain, (body, k, owner))
        if isinstance(s, ir.Opaque):
            bad |= cands & (set(s.reads) | set(s.writes))
        for e in stmt_exprs(s):
            if isinstance(s, ir.Assign) and e is s.target and isinstance(e, ir.Name):
                continue  # the defined scalar itself
            for n in names_in(e) & cands:
                if not _fed(t, here, n):
                    bad.add(n)
        for b in bodies(s):
            _scan(t, b, here, s, cands, bad)


def _fed(t: Reverse, chain: Chain, n: str) -> bool:
    for body, k, owner in reversed(chain):
        for prev in reversed(body[:k]):
            if n in t.writes((prev,)):
                return (
                    isinstance(prev, ir.Assign)
                    and isinstance(prev.target, ir.Name)
                    and prev.target.name == n
                    and n not in names_in(prev.value)
                )
        if owner is None:
            return False  # the routine's entry value
        if isinstance(owner, ir.Do | ir.DoWhile | ir.Forall) and n in t.writes((owner,)):
            return False  # the previous iteration's value
    return False


def first_increments(t: Reverse, loop: ir.Do, body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
    """``body`` of the backward ``loop`` (plain assignments) with the first mention of each
    adjoint of a block-local scalar that the primal loop (``t.loops[-1]``) defines turned
    from ``vb = vb + e`` into ``vb = e`` (``vb = vb - e`` into ``vb = -(e)``): the adjoint is
    zero when each backward iteration starts."""
    if not t.loops or t.loops[-1].var != loop.var:
        return body
    local = names(t) & t.writes(t.loops[-1].body)
    if not local:
        return body
    primal = {dv: pv for pv, dv in t.namer.derivs.items()}
    out = list(body)
    seen: set[str] = set()
    for k, s in enumerate(body):
        if not isinstance(s, ir.Assign):
            continue
        mentioned = names_in(s.value) | names_in(s.target)
        target = s.target.name if isinstance(s.target, ir.Name) else None
        if target and target not in seen and primal.get(target) in local:
            val = s.value
            if (
                isinstance(val, ir.BinOp)
                and val.op in "+-"
                and val.left == s.target
                and target not in names_in(val.right)
            ):
                right = val.right if val.op == "+" else ir.UnOp("-", ir.Paren(val.right))
                out[k] = ir.Assign(s.target, right, s.loc)
        seen |= mentioned
    return tuple(out)
