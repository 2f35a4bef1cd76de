"""MPI calls in differentiated code (issue #13): how each recognised call's adjoint and
tangent are built on the run-time module ``fad_mpi`` (``runtime/fad_mpi.f90``, AMPI style).
The table of routines and their argument roles is ``analysis/mpi_calls.py``.

Rules (x a buffer, xb its adjoint, xd its tangent; the details live in fad_mpi.f90):

* send ↔ receive that increments; recv ↔ send of xb, then xb = 0; sendrecv: both at once.
* isend/irecv + wait: the adjoint of the wait posts the reverse communication, the adjoint of
  the isend/irecv completes it (the run time keeps the requests' bookkeeping).
* bcast ↔ reduce-sum to the root; reduce-sum ↔ bcast from the root; allreduce-sum ↔
  allreduce-sum of the adjoints. MAX/MIN: the adjoint goes to the rank holding the extremum
  of each element (ties: the lowest rank, as MPI_MAXLOC/MINLOC decide).
* tangent: the same communication of the tangents.

MPI routines without an entry here (MPI_Gather, MPI_Alltoall, ...) are fine on passive data;
on active data they are a located error naming the call. Buffers must be double precision.
"""

from __future__ import annotations

from fortran_ad.analysis.mpi_calls import (
    NONBLOCKING,
    OPS,
    REAL8,
    SIGNATURES,
    WAITS,
    arg,
    buffers,
    display,
    is_mpi,
    reads,
    written,
)
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, walk_stmts

__all__ = ["is_mpi", "reads", "written"]


def _nonblocking_active(program, activity) -> bool:
    for name, info in program.routines.items():
        active = activity.active(name)
        for s in walk_stmts(info.routine.body):
            nonblocking = isinstance(s, ir.CallStmt) and s.name in NONBLOCKING
            if nonblocking and any(base_name(a) in active for _, a in buffers(s)):
                return True
    return False


def is_active_call(t, s: ir.CallStmt) -> bool:
    """Does the call get derivative code? Buffers active; waits when any isend/irecv of the
    program is active (the request bookkeeping must see every completion)."""
    if s.name in WAITS:
        return _nonblocking_active(t.program, t.activity)
    if s.name in SIGNATURES:
        return any(base_name(a) in t.active for _, a in buffers(s))
    return False


# -- the transforms ---------------------------------------------------------------------------
def _check(t, s: ir.CallStmt) -> None:
    """An active call fortran-ad can differentiate, or a located error naming it."""
    if s.name not in SIGNATURES:
        touched = sorted({base_name(a) for a in s.args} & t.active - {None})
        if touched:
            raise FortranADError(
                s.loc,
                f"{display(s.name)} is not supported on active data ('{touched[0]}')",
                f"supported: {', '.join(display(n) for n in SIGNATURES)} (issue #13)",
            )
        return
    if not is_active_call(t, s):
        return
    if t.vector:
        raise FortranADError(
            s.loc, f"{display(s.name)}: MPI calls are not supported in the vector modes yet"
        )
    if any(isinstance(a, ir.Keyword) for a in s.args):
        raise FortranADError(s.loc, f"{display(s.name)}: keyword arguments are not supported")
    roles = SIGNATURES[s.name]
    for _, a in buffers(s):
        if base_name(a) == "mpi_in_place":
            raise FortranADError(s.loc, f"{display(s.name)}: MPI_IN_PLACE is not supported")
        if base_name(a) is None or isinstance(a, ir.OpaqueExpr):
            from fortran_ad.ir.printer import expr

            raise FortranADError(
                s.loc,
                f"{display(s.name)}: the buffer '{expr(a)}' is not a variable",
                "assign it to an array first (its adjoint needs a place)",
            )
        if base_name(a) not in t.active:
            raise FortranADError(s.loc, f"{display(s.name)}: buffer '{base_name(a)}' is passive")
        sym = t.lookup(a.name) if isinstance(a, ir.Name) else None
        if s.name in NONBLOCKING and sym is not None and not sym.rank:
            raise FortranADError(
                s.loc,
                f"{display(s.name)} of the scalar '{a.name}': use an array (the adjoint keeps "
                "the buffer's address until the wait)",
            )
    for role in ("type", "rtype"):
        if role in roles and base_name(arg(s, role)) not in REAL8:
            raise FortranADError(
                s.loc,
                f"{display(s.name)}: active buffers must be MPI_DOUBLE_PRECISION or MPI_REAL8",
            )
    if "op" in roles and base_name(arg(s, "op")) not in OPS:
        raise FortranADError(
            s.loc, f"{display(s.name)}: active reductions support MPI_SUM, MPI_MAX and MPI_MIN"
        )


def _call(name: str, *args: ir.Expr) -> ir.CallStmt:
    return ir.CallStmt(name, tuple(args))


def reverse(t, s: ir.CallStmt):
    """(forward, backward) statements of an MPI call in the adjoint."""
    from fortran_ad.ad.core.tape_ops import pop, push

    _check(t, s)
    snap = [a for a in t.written_by_call(s) if base_name(a) in t.needed]
    restore = [pop(a) for a in reversed(snap)]
    if not is_active_call(t, s):
        return [*map(push, snap), s], ([t._note(s), *restore] if restore else [])
    a = {r: s.args[i] for i, r in enumerate(SIGNATURES[s.name]) if i < len(s.args)}
    pre: list[ir.Stmt] = []
    post: list[ir.Stmt] = []

    def d(e: ir.Expr) -> ir.Expr:
        return _arr(t, e, pre, post, t.deriv(e))

    n = s.name
    fwd: ir.Stmt = s
    if n == "mpi_send":
        adj = [_call("fad_mpi_send_b", d(a["buf"]), *_g(a, "count type peer tag comm"))]
    elif n == "mpi_recv":
        adj = [_call("fad_mpi_recv_b", d(a["rbuf"]), *_g(a, "count type peer tag comm"))]
    elif n == "mpi_sendrecv":
        sent, got = _g(a, "count type peer tag"), _g(a, "rcount rtype rpeer rtag comm")
        adj = [_call("fad_mpi_sendrecv_b", d(a["buf"]), *sent, d(a["rbuf"]), *got)]
    elif n == "mpi_isend":
        fwd = _call("fad_mpi_isend", *s.args)
        adj = [_call("fad_mpi_isend_b", d(a["buf"]), a["count"])]
    elif n == "mpi_irecv":
        fwd = _call("fad_mpi_irecv", a["rbuf"], d(a["rbuf"]), *s.args[1:])
        adj = [_call("fad_mpi_irecv_b", d(a["rbuf"]), a["count"])]
    elif n in WAITS:
        fwd = _call(n.replace("mpi_", "fad_mpi_"), *s.args)
        adj = [_call("fad_mpi_wait_b")]
    elif n == "mpi_bcast":
        adj = [_call("fad_mpi_bcast_b", d(a["rbuf"]), *_g(a, "count type root comm"))]
    else:  # reduce, allreduce
        rest = _g(a, "count type op root comm" if n == "mpi_reduce" else "count type op comm")
        if base_name(a["op"]) != "mpi_sum":
            fpre: list[ir.Stmt] = []
            fpost: list[ir.Stmt] = []
            bufs = [_arr(t, x, fpre, fpost) for x in s.args[:2]]
            fwd = [*fpre, _call(n.replace("mpi_", "fad_mpi_"), *bufs, *s.args[2:]), *fpost]
        adj = [_call(f"fad_{n}_b", d(a["buf"]), d(a["rbuf"]), *rest)]
    fwds = fwd if isinstance(fwd, list) else [fwd]
    return [*map(push, snap), *fwds], [t._note(s), *pre, *adj, *post, *restore]


def _arr(t, e: ir.Expr, pre: list[ir.Stmt], post: list[ir.Stmt], value=None) -> ir.Expr:
    """A scalar variable cannot be an assumed-size actual: pass a copy of ``value`` (default:
    ``e``; its derivative when given) in a 1-element array (blocking calls only; the copy goes
    back after the call)."""
    sym = t.lookup(e.name) if isinstance(e, ir.Name) else None
    if sym is None or sym.rank or t.vector:
        return e if value is None else value
    one = ir.Literal("1", "integer")
    tmp = t.temp("mpibuf", sym.type, (ir.Dim("explicit", None, one),))
    e = e if value is None else value
    pre.append(ir.Assign(ir.ArrayRef(tmp, (one,)), e))
    post.append(ir.Assign(e, ir.ArrayRef(tmp, (one,))))
    return ir.Name(tmp)


def tangent(t, s: ir.CallStmt) -> list[ir.Stmt]:
    """Statements of an MPI call in the tangent: the call, then the same call on tangents."""
    from dataclasses import replace

    _check(t, s)
    if not is_active_call(t, s):
        return [s]
    roles = SIGNATURES[s.name]
    d = t.deriv
    n = s.name
    both = [x for r, a in zip(roles, s.args, strict=False) for x in _with_d(t, r, a)]
    if n in NONBLOCKING:
        return [_call(f"fad_{n}_d", *both)]
    if n in WAITS:
        return [_call(f"fad_{n}_d", *s.args)]
    if n in ("mpi_reduce", "mpi_allreduce") and base_name(arg(s, "op")) != "mpi_sum":
        pre: list[ir.Stmt] = []
        post: list[ir.Stmt] = []
        bufs = [_arr(t, s.args[i // 2], pre, post, x) for i, x in enumerate(both[:4])]
        return [*pre, _call(f"fad_{n}_d", *bufs, *both[4:]), *post]
    dargs = tuple(d(a) if r in ("buf", "rbuf") else a for r, a in zip(roles, s.args, strict=False))
    return [s, replace(s, args=dargs, label=None)]


def _with_d(t, role: str, a: ir.Expr) -> list[ir.Expr]:
    return [a, t.deriv(a)] if role in ("buf", "rbuf") else [a]


def _g(a: dict[str, ir.Expr], roles: str) -> list[ir.Expr]:
    return [a[r] for r in roles.split()]


# -- what the emitted files need --------------------------------------------------------------
def uses_runtime(body) -> bool:
    return any(
        isinstance(s, ir.CallStmt) and s.name.startswith("fad_mpi_")
        for s in walk_stmts(tuple(body))
    )


def program_uses_mpi(program, names) -> bool:
    """Does a routine among ``names`` call MPI (then fad_mpi.f90 ships with the output)?"""
    for name in names:
        for s in walk_stmts(program.routines[name].routine.body):
            if isinstance(s, ir.CallStmt) and s.name in SIGNATURES:
                return True
    return False
