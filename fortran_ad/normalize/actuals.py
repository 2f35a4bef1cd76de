"""Actual arguments keep the subscripts they had when the call started.

Fortran evaluates the subscripts and section bounds of an actual argument once, when the
procedure reference starts (F2018 15.5.2.3, 15.5.2.4: the dummy is associated with the element
or section those values designate), so ``call hk(a(k), k)`` keeps working on ``a(2)`` when
``hk`` sets ``k = 3``. A derivative routine that re-evaluates ``a(k)`` after the call (the
adjoint ``hk_bwd(a(k), ab(k), k)`` of a split call site, the joint ``hk_b`` when ``k`` is a
module variable the caller does not restore) would designate ``a(3)``: a silently wrong
gradient.

The normalization below makes this class impossible instead of handling it per mode: every
non-constant subscript or section bound of an actual argument that reads a variable the call
may change is assigned to a fresh local temporary right before the call, and the actual uses
that temporary (``fad_sub1 = k; call hk(a(fad_sub1), k)``). This is legal because the
temporary holds exactly the value the reference would have evaluated (same expression, same
point of the program, evaluated once as the reference itself does: function references in
subscripts were already hoisted by normalization), and because no procedure can change the
temporary: it is a local the program never passes and no other scope can see. After the
rewrite the derivative code reads ``fad_sub1`` like any other scalar: the reverse sweep's
invariant (ad/core/adjoint.py) and the to-be-recorded analysis keep it at its value at the call.

``check_frozen`` is the invariant the reverse transforms assert on every call they
differentiate: no subscript of an actual argument reads a variable the call may change.
"""

from __future__ import annotations

from collections.abc import Callable

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import Program, RoutineInfo, dummy_map
from fortran_ad.ir.types import type_of
from fortran_ad.ir.walk import base_name, names_in, walk_stmts

Key = tuple[str, str]  # (owner, variable) as Program.global_key spells it
Temp = Callable[[ir.TypeSpec], str]  # declares a helper variable of this type, returns its name


def global_writes(program: Program, name: str) -> frozenset[Key]:
    """Module, COMMON and host variables routine ``name`` or anything it calls may change
    (conservative: every variable passed to another routine counts as changed)."""
    memo: dict[str, frozenset[Key]] = program.__dict__.setdefault("_global_writes", {})
    if name in memo:
        return memo[name]
    memo[name] = frozenset()  # recursion is refused elsewhere; stop here meanwhile
    info = program.get(name)
    if info is None:
        return frozenset()
    out: set[Key] = set()
    for s in walk_stmts(info.routine.body):
        names: set[str] = set()
        if isinstance(s, ir.Assign):
            names.add(base_name(s.target) or "")
        elif isinstance(s, ir.Do):
            names.add(s.var)
        elif isinstance(s, ir.Opaque):
            names |= set(s.writes)
        elif isinstance(s, ir.CallStmt):
            names |= {base_name(a.value if isinstance(a, ir.Keyword) else a) or "" for a in s.args}
        for n in names - {""}:
            key = program.global_key(info, n)
            if key is not None:
                out.add(key)
    for callee in program.callees(info.routine):
        out |= global_writes(program, callee)
    memo[name] = frozenset(out)
    return memo[name]


def _key(program: Program, info: RoutineInfo, name: str) -> Key:
    """How a routine the caller calls would name the caller's variable ``name``."""
    return program.global_key(info, name) or (f"host:{info.name}", name)


def may_change(
    program: Program, info: RoutineInfo, callee: ir.Routine, args: tuple[ir.Expr, ...]
) -> Callable[[str], bool]:
    """Does the call ``callee(args)`` in ``info``'s routine possibly change variable ``n``?
    Actuals of dummies that are not intent(in), and globals the callee writes."""
    written = set()
    for d, a in dummy_map(args, callee).items():
        sym = callee.symbol(d)
        if sym is None or sym.intent != "in":
            written.add(base_name(a))
    changed = global_writes(program, callee.name)
    return lambda n: n in written or _key(program, info, n) in changed


def _subscripts(a: ir.Expr) -> list[ir.Expr]:
    """The subscript expressions and section bounds of a designator actual argument."""
    if not isinstance(a, ir.ArrayRef):
        return []
    out: list[ir.Expr] = []
    for x in a.subs:
        parts = (x.lo, x.hi, x.step) if isinstance(x, ir.Range) else (x,)
        out += [p for p in parts if p is not None]
    return out


def freeze(
    program: Program,
    info: RoutineInfo,
    callee: ir.Routine,
    args: tuple[ir.Expr, ...],
    temp: Temp,
    lookup,
    loc: ir.SourceLoc,
) -> tuple[tuple[ir.Expr, ...], list[ir.Stmt]]:
    """``args`` with every subscript the call may change replaced by a temporary, and the
    assignments of those temporaries (to run right before the call)."""
    changes = may_change(program, info, callee, args)
    pre: list[ir.Stmt] = []

    def fix(e: ir.Expr | None) -> ir.Expr | None:
        if e is None or not any(changes(n) for n in names_in(e)):
            return e
        if _array_valued(e, lookup):
            from fortran_ad.ir.printer import expr

            raise FortranADError(
                loc,
                f"the vector subscript '{expr(e)}' of an argument of '{callee.name}' reads a "
                "variable the call changes: not supported",
                "copy the subscript vector to a variable the call does not change",
            )
        name = temp(_index_type(e, lookup))
        pre.append(ir.Assign(ir.Name(name), e, loc))
        return ir.Name(name)

    out = []
    for a in args:
        value = a.value if isinstance(a, ir.Keyword) else a
        if _subscripts(value):
            assert isinstance(value, ir.ArrayRef)
            subs = tuple(
                ir.Range(fix(x.lo), fix(x.hi), fix(x.step)) if isinstance(x, ir.Range) else fix(x)
                for x in value.subs
            )
            value = ir.ArrayRef(value.name, subs, value.head)
        out.append(ir.Keyword(a.name, value) if isinstance(a, ir.Keyword) else value)
    return tuple(out), pre


def check_frozen(
    program: Program, info: RoutineInfo, callee: ir.Routine, args: tuple[ir.Expr, ...], loc
) -> None:
    """The invariant ``freeze`` establishes, asserted where a reverse transform differentiates
    a call: a subscript the derivative code re-evaluates after the call must not read a
    variable the call changes."""
    changes = may_change(program, info, callee, args)
    for a in args:
        value = a.value if isinstance(a, ir.Keyword) else a
        for e in _subscripts(value):
            bad = sorted(n for n in names_in(e) if changes(n))
            if bad:
                from fortran_ad.ir.printer import expr

                raise FortranADError(
                    loc,
                    f"internal error: the subscript '{expr(e)}' of argument '{expr(value)}' "
                    f"reads '{bad[0]}', which the call of '{callee.name}' changes; its "
                    "derivative would designate another element",
                )


def _array_valued(e: ir.Expr, lookup) -> bool:
    if isinstance(e, ir.Name):
        sym = lookup(e.name)
        return sym is not None and sym.rank > 0
    if isinstance(e, ir.ArrayRef):
        return any(isinstance(x, ir.Range) or _array_valued(x, lookup) for x in e.subs)
    if isinstance(e, ir.BinOp):
        return _array_valued(e.left, lookup) or _array_valued(e.right, lookup)
    if isinstance(e, ir.UnOp):
        return _array_valued(e.operand, lookup)
    if isinstance(e, ir.Paren):
        return _array_valued(e.expr, lookup)
    return isinstance(e, ir.ArrayCtor)


def _index_type(e: ir.Expr, lookup) -> ir.TypeSpec:
    t = type_of(e, lookup)
    return t.spec if t is not None and t.spec.base == "integer" else ir.TypeSpec("integer")
