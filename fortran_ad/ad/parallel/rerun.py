"""Re-running one iteration of a parallel loop inside its adjoint (used by ad/parallel/loops.py):
which reads are exposed, which re-run statements are dead, which recordings cancel."""

from __future__ import annotations

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, names_in, stmt_exprs, walk_stmts


def reads(body, defined: frozenset[str] = frozenset()) -> set[str]:
    """Upward-exposed reads: names read before the body (in order) assigns them as a whole
    (scalars assigned, popped, or loop variables inside their loop)."""
    from fortran_ad.ir.walk import value_names

    out: set[str] = set()
    known = set(defined)
    for s in body:
        if isinstance(s, ir.CallStmt) and s.name == "fad_pop":
            if isinstance(s.args[0], ir.Name):
                known.add(s.args[0].name)
            continue
        exprs = stmt_exprs(s)
        if isinstance(s, ir.Assign):
            exprs = (s.value, *(s.target.subs if isinstance(s.target, ir.ArrayRef) else ()))
        for e in exprs:
            out |= value_names(e) - known
        if isinstance(s, ir.Do):
            out |= reads(s.body, frozenset(known | {s.var}))
        elif isinstance(s, ir.DoWhile | ir.If | ir.Select):
            from fortran_ad.ir.walk import bodies

            for b in bodies(s):
                out |= reads(b, frozenset(known))
        elif isinstance(s, ir.Assign) and isinstance(s.target, ir.Name):
            known.add(s.target.name)
    return out


def prune(rerun: list[ir.Stmt], b_body: list[ir.Stmt], keep: set[str]) -> list[ir.Stmt]:
    """Drop assignments of the re-run whose values nobody reads afterwards (not the adjoint,
    not later re-run statements, not a needed variable): e.g. the iteration's own output."""
    live = reads(b_body) | keep
    out: list[ir.Stmt] = []
    for s in reversed(rerun):
        if isinstance(s, ir.Assign) and base_name(s.target) not in live:
            continue
        if isinstance(s, ir.Comment):
            continue
        out.append(s)
        for x in walk_stmts((s,)):
            for e in stmt_exprs(x):
                live |= names_in(e)
    return out[::-1]


def peephole(t, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
    """Within one re-run iteration: a PURE call whose every written actual is popped right
    after it (a joint adjoint call re-runs it anyway) is dropped, then adjacent push/pop pairs
    of the same designator cancel."""
    code = [n for n, x in enumerate(stmts) if not isinstance(x, ir.Comment)]  # positions
    dropped: set[int] = set()
    for k, n in enumerate(code):
        s = stmts[n]
        info = t.program.get(s.name) if isinstance(s, ir.CallStmt) else None
        if info is not None and {"pure", "elemental"} & set(info.routine.prefix):
            popped = []
            for m in code[k + 1 :]:
                x = stmts[m]
                if not (isinstance(x, ir.CallStmt) and x.name == "fad_pop"):
                    break
                popped.append(x.args[0])
            if all(w in popped for w in t.written_by_call(s)):
                dropped.add(n)
    changed = True
    while changed:
        changed = False
        live = [n for n in code if n not in dropped]
        for a, b in zip(live, live[1:], strict=False):
            x, y = stmts[a], stmts[b]
            if (
                isinstance(x, ir.CallStmt)
                and isinstance(y, ir.CallStmt)
                and (x.name, y.name) == ("fad_push", "fad_pop")
                and x.args == y.args
            ):
                dropped |= {a, b}
                changed = True
                break
    return [x for n, x in enumerate(stmts) if n not in dropped]


def iteration_first_defs(body, private: set[str]) -> set[int]:
    """Top-level assignments of private scalars before anything in the iteration mentions
    them: their old value is dead, so re-running the iteration need not record it."""
    out: set[int] = set()
    mentioned: set[str] = set()
    for s in body:
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.Name):
            name = s.target.name
            if name in private and name not in mentioned and name not in names_in(s.value):
                out.add(id(s))
        for x in walk_stmts((s,)):
            for e in stmt_exprs(x):
                mentioned |= names_in(e)
            if isinstance(x, ir.Do):
                mentioned.add(x.var)
    return out


def shared_record(body, private: set[str], pvars: list[str]) -> str | None:
    """Why the re-run iteration ``body`` cannot run in parallel: it records (pushes or pops)
    a shared variable beyond the iteration's own elements, e.g. a whole array ``c`` while
    other threads update their columns of it, so a pop would overwrite their values. A record
    whose subscripts name a parallel loop variable (``c(i, j)``, ``c(:, j)``) is the
    iteration's own; private variables are the thread's."""
    for x in walk_stmts(tuple(body)):
        if not (isinstance(x, ir.CallStmt) and x.name in ("fad_push", "fad_pop") and x.args):
            continue
        name = base_name(x.args[0])
        if name is None or name in private:
            continue
        subs = x.args[0].subs if isinstance(x.args[0], ir.ArrayRef) else ()
        if not any(set(pvars) & names_in(e) for e in subs):
            return f"the re-run iteration records the shared '{name}' beyond its own elements"
    return None


def may_rerun(t, s: ir.Do) -> bool:
    """Can ``parallel.reverse_loop`` take its second pass (re-run the iteration's primal) for
    the loop ``s``? Only when the adjoint of the body reads a value the body writes, or the
    first pass records. A body of assignments and loops (bounds the body does not write, index
    not read after the loop) records nothing in the first pass, which saves none of the body's
    writes; so it re-runs only when an active assignment's adjoint reads a name the body
    writes (``fe`` in ``unew = uc + dt*fe*...``). Anything else (branches, calls, a loop
    index kept for later) counts as a re-run: conservative, the needed set only grows.

    Why it matters: what a re-run reads is needed (``parallel.rerun_reads``), so its
    overwrites are saved; a copy loop ``u = unew`` that never re-runs would otherwise save the
    whole of ``unew`` before every other loop that writes it."""
    written = {n for n in t.writes(tuple(s.body)) if n}
    reads: set[str] = set()
    for x in walk_stmts(tuple(s.body)):
        if isinstance(x, ir.Comment):
            continue
        if isinstance(x, ir.Do):
            bounds = [e for e in (x.start, x.stop, x.step) if e is not None]
            if x.var in t.free_loop_vars or any(names_in(e) & written for e in bounds):
                return True
            continue
        if not isinstance(x, ir.Assign):
            return True
        if t.is_active(x.target):
            reads |= t._assign_reads(x)
    loop_vars = {x.var for x in walk_stmts((s,)) if isinstance(x, ir.Do)}
    return bool(reads & (written - loop_vars))
