"""Every ``!$omp atomic`` directive of generated code governs an update.

An atomic directive applies to the one statement after it, which must update a variable with
an operator or intrinsic (``x = x + e``). Derivative code makes atomics in three places: the
tangent of an atomic update (ad/parallel/loops.tangent_stmts), increments of shared
derivatives in parallel adjoint loops (ad/parallel/races.py), and the primal copy in forward
sweeps, where records are inserted before statements (ad/core/adjoint.Reverse.sweep). A
statement slipped between a directive and its update, or an update that became a plain copy
(``xd = xd``), is code gfortran rejects or, worse, an update left unprotected in a parallel
loop. This check walks every generated routine and fails generation with a located internal
error at the first directive not followed by an update of its own target.
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.frontend.omp import is_atomic
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import bodies, subexprs


def _update(s: ir.Stmt | None) -> bool:
    """Is ``s`` an assignment whose value combines its own target with something else?"""
    if not isinstance(s, ir.Assign) or s.value == s.target:
        return False
    return any(x == s.target for x in subexprs(s.value))


def _plain(directive: ir.Stmt) -> bool:
    """``!$omp atomic`` or ``!$omp atomic update`` (read, write and capture forms differ)."""
    words = directive.text.lower().replace("!$omp", "").split()
    return words in (["atomic"], ["atomic", "update"])


def check_generated(body: list[ir.Stmt] | tuple[ir.Stmt, ...], where: ir.SourceLoc) -> None:
    """Raise a located FortranADError at the first plain atomic directive of ``body`` (and
    its nested bodies) not followed by an update."""
    stmts = list(body)
    for k, s in enumerate(stmts):
        for inner in bodies(s):
            check_generated(inner, where)
        if not (is_atomic(s) and _plain(s)):
            continue
        after = stmts[k + 1] if k + 1 < len(stmts) else None
        if not _update(after):
            loc = getattr(after, "loc", None) or where
            raise FortranADError(
                loc if loc.line > 0 else where,
                "internal error: an !$omp atomic directive of the derivative code is not "
                "followed by an update of its target",
                "please report this with the source",
            )
