"""What MPI calls do to data (issue #13): the table of recognised MPI routines, the role of
each argument (buffers, counts, datatypes, ops, peers), the value flow between buffers (for
activity), and what a call writes and reads (for the needed analysis and the snapshots).
Their derivatives are built in ``ad/constructs/mpi.py``.

MPI routines without an entry here (MPI_Gather, MPI_Alltoall, ...) move everything to
everything, as any external.
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, names_in, walk_stmts

# argument positions of each recognised routine (Fortran bindings of ``use mpi`` / mpif.h)
SIGNATURES: dict[str, tuple[str, ...]] = {
    "mpi_send": ("buf", "count", "type", "peer", "tag", "comm", "ierr"),
    "mpi_recv": ("rbuf", "count", "type", "peer", "tag", "comm", "status", "ierr"),
    "mpi_sendrecv": (
        *("buf", "count", "type", "peer", "tag"),
        *("rbuf", "rcount", "rtype", "rpeer", "rtag", "comm", "status", "ierr"),
    ),
    "mpi_isend": ("buf", "count", "type", "peer", "tag", "comm", "req", "ierr"),
    "mpi_irecv": ("rbuf", "count", "type", "peer", "tag", "comm", "req", "ierr"),
    "mpi_wait": ("req", "status", "ierr"),
    "mpi_waitall": ("n", "req", "status", "ierr"),
    "mpi_bcast": ("rbuf", "count", "type", "root", "comm", "ierr"),
    "mpi_reduce": ("buf", "rbuf", "count", "type", "op", "root", "comm", "ierr"),
    "mpi_allreduce": ("buf", "rbuf", "count", "type", "op", "comm", "ierr"),
}
#: no derivative content: they never carry real data
PASSIVE = frozenset(
    {
        "mpi_init",
        "mpi_init_thread",
        "mpi_finalize",
        "mpi_comm_rank",
        "mpi_comm_size",
        "mpi_barrier",
        "mpi_abort",
    }
)
SENDS = ("mpi_send", "mpi_isend", "mpi_sendrecv")  # buffers that leave this rank ...
RECVS = ("mpi_recv", "mpi_irecv", "mpi_sendrecv")  # ... and buffers that arrive
NONBLOCKING = ("mpi_isend", "mpi_irecv")
WAITS = ("mpi_wait", "mpi_waitall")
REAL8 = ("mpi_double_precision", "mpi_real8")
OPS = ("mpi_sum", "mpi_max", "mpi_min")


def is_mpi(name: str) -> bool:
    return name.lower().startswith("mpi_")


def display(name: str) -> str:
    """``mpi_allreduce`` → ``MPI_Allreduce`` (as the standard spells it)."""
    return "MPI_" + name[4:].capitalize()


def arg(s: ir.CallStmt, role: str) -> ir.Expr:
    roles = SIGNATURES[s.name]
    if len(s.args) < len(roles) - 1:  # ierr may be absent only in the mpi_f08 style
        raise FortranADError(s.loc, f"{display(s.name)} needs {len(roles)} arguments")
    return s.args[roles.index(role)]


def buffers(s: ir.CallStmt) -> list[tuple[str, ir.Expr]]:
    """(role, actual) of the data buffers of a recognised call ("buf" is read, "rbuf" written)."""
    roles = SIGNATURES.get(s.name, ())
    return [(r, s.args[i]) for i, r in enumerate(roles) if r in ("buf", "rbuf") and i < len(s.args)]


# -- activity ---------------------------------------------------------------------------------
def call_edges(s_name: str, args: tuple[ir.Expr, ...], refs, loc) -> list[tuple[str, str, object]]:
    """Value flow of one MPI call on this rank: send buffer → receive buffer. Unknown MPI
    routines: everything to everything (as any external)."""
    if s_name in PASSIVE:
        return []
    if s_name not in SIGNATURES:
        bases = [b for a in args for b in refs(a)]
        return [(x, y, loc) for x in bases for y in bases if x != y]
    s = ir.CallStmt(s_name, args, loc)
    sent = {b for r, a in buffers(s) if r == "buf" for b in refs(a)}
    got = {b for r, a in buffers(s) if r == "rbuf" for b in refs(a)}
    return [(x, y, loc) for x in sorted(sent) for y in sorted(got) if x != y]


def cross_edges(body: tuple[ir.Stmt, ...], refs) -> list[tuple[str, str, object]]:
    """Point-to-point messages: what one rank sends another receives, so within a routine
    every sent buffer flows into every received one (matching calls in one routine)."""
    sent: set[str] = set()
    got: list[tuple[str, ir.SourceLoc]] = []
    for s in walk_stmts(body):
        if isinstance(s, ir.CallStmt) and s.name in SIGNATURES:
            for role, a in buffers(s):
                if role == "buf" and s.name in SENDS:
                    sent |= refs(a)
                if role == "rbuf" and s.name in RECVS:
                    got += [(b, s.loc) for b in sorted(refs(a))]
    return [(x, y, loc) for x in sorted(sent) for y, loc in got if x != y]


def force(program, act, order: list[str], may_carry) -> bool:
    """Every rank runs the same communication: if one buffer of a routine's MPI calls is
    active, all real ones are (a reverse message needs a sender and a receiver)."""
    changed = False
    for name in order:
        info = program.routines[name]
        bases = set()
        for s in walk_stmts(info.routine.body):
            if isinstance(s, ir.CallStmt) and s.name in SIGNATURES:
                bases |= {base_name(a) for _, a in buffers(s)} - {None}
        bases = {b for b in bases if may_carry(info.scope.lookup(b))}
        active = act.active(name)
        if bases & active and not bases <= active:
            for b in sorted(bases - active):
                act.forced[name].add(b)
                act.why[(name, b)] = "active: exchanged by MPI with an active buffer"
            changed = True
    return changed


# -- what a call reads and writes (for the needed analysis and the snapshots) ----------------
def written(t, s: ir.CallStmt) -> list[ir.Expr] | None:
    """Designators an MPI call writes: received buffers (the elements ``count`` covers when
    the buffer is an element of a rank-1 array), requests, statuses, ierr. None: not MPI."""
    if s.name in PASSIVE:  # ierr, and the rank/size asked for
        outs = s.args[1:] if s.name in ("mpi_comm_rank", "mpi_comm_size") else s.args[-1:]
        return [a for a in outs if base_name(a) is not None]
    if s.name not in SIGNATURES:
        return None
    out: list[ir.Expr] = []
    roles = SIGNATURES[s.name]
    for i, a in enumerate(s.args):
        role = roles[i] if i < len(roles) else "ierr"
        if base_name(a) is None or role in ("buf", "count", "rcount", "type", "rtype", "op"):
            continue
        if role in ("peer", "rpeer", "tag", "rtag", "comm", "root", "n"):
            continue
        if role == "status" and base_name(a) in ("mpi_status_ignore", "mpi_statuses_ignore"):
            continue
        if role == "rbuf":
            count_role = "rcount" if "rcount" in roles else "count"
            out.append(_extent(t, a, s.args[roles.index(count_role)]))
        else:
            out.append(a)
    return out


def _extent(t, a: ir.Expr, count: ir.Expr) -> ir.Expr:
    """What ``count`` elements from the buffer ``a`` cover, as a designator."""
    if isinstance(a, ir.ArrayRef) and len(a.subs) == 1 and not isinstance(a.subs[0], ir.Range):
        sym = t.lookup(a.name)
        if sym is not None and sym.rank == 1:
            one = ir.Literal("1", "integer")
            hi = ir.BinOp("-", ir.BinOp("+", a.subs[0], count), one)
            return ir.ArrayRef(a.name, (ir.Range(a.subs[0], hi),))
    if isinstance(a, ir.ArrayRef) and not any(isinstance(x, ir.Range) for x in a.subs):
        return ir.Name(a.name)  # sequence association: the rest of the array
    return a


def reads(s: ir.CallStmt) -> set[str]:
    """What the adjoint call reads: counts, datatypes, peers, tags, communicators, roots, ops,
    and the subscripts of the buffers (not requests, statuses, ierr: the run time keeps those)."""
    out: set[str] = set()
    roles = SIGNATURES.get(s.name, ())
    for role, a in zip(roles, s.args, strict=False):
        if role in ("buf", "rbuf"):
            if isinstance(a, ir.ArrayRef):
                for x in a.subs:
                    out |= names_in(x)
        elif role not in ("req", "status", "ierr", "n"):
            out |= names_in(a)
    return out
