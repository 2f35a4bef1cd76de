"""Normalization for AD: one routine in, an equivalent simpler routine out.

0. statement functions inlined (normalize/stmtfunc.py); local pointers standing for one whole
   variable replaced by it (normalize/pointers.py); GO TO, computed GO TO and
   arithmetic IF → loops, IFs, SELECT CASE (normalize/goto.py);
1. calls to user functions inside expressions → temporaries (``t = f(x)`` statements; an array
   result gets an array shaped like its declared result at the call), and
   expression actual arguments of user routines → temporaries, so every derivative argument
   has a variable to belong to;
   ASSOCIATE blocks substituted (normalize/constructs.py);
2. WHERE/FORALL, array syntax and array intrinsics → loops (normalize/constructs.py,
   scalarize.py, intrinsics.py, overlap.py);
3. EXIT/CYCLE/RETURN → flags and guarded remainders (normalize/jumps.py).
New helper variables carry the attribute "generated"; the transforms declare them.
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.printer import expr
from fortran_ad.ir.program import Program, RoutineInfo, dummy_map
from fortran_ad.ir.walk import base_name, map_body, map_expr, names_in, subexprs, walk_stmts
from fortran_ad.normalize.actuals import freeze, global_writes
from fortran_ad.normalize.constructs import Constructs
from fortran_ad.normalize.goto import GotoStructurer
from fortran_ad.normalize.jumps import JumpEliminator
from fortran_ad.normalize.pointers import resolve_aliases
from fortran_ad.normalize.scalarize import Scalarizer
from fortran_ad.normalize.spans import fold
from fortran_ad.normalize.stmtfunc import inline_statement_functions


def normalize_routine(
    info: RoutineInfo, program: Program, namer, keep_matmul: bool = False
) -> ir.Routine:
    """``keep_matmul``: assignments of the forms ad/constructs/matmul.py differentiates keep their
    MATMUL (a library call) instead of being lowered to loops."""
    r = info.routine
    extra: list[ir.Symbol] = []
    r = inline_statement_functions(r, info.scope.lookup)
    r = resolve_aliases(r, info.scope.lookup)  # a local pointer to one whole variable: it
    gotos = GotoStructurer(namer)  # unrecoverable jumps stay; generate.py refuses them if active
    r = replace(r, body=gotos.routine_body(r.body))
    extra.extend(gotos.new_symbols)

    def lookup(name: str) -> ir.Symbol | None:
        for s in extra:
            if s.name == name:
                return s
        return info.scope.lookup(name)

    elemental = {n for n, i in program.routines.items() if "elemental" in i.routine.prefix}
    sc = Scalarizer(lookup, namer, elemental)
    sc.array_results = _array_results(program)
    sc.locals = {s.name for s in r.symbols}
    sc.dummies = set(r.args)
    sc.keep_matmul = keep_matmul
    sc.functions = program.function_result
    cons = Constructs(sc)
    body = _lower_associates(r.body, cons)
    # hoist before scalarizing (temporaries holding SUM or array expressions get loops too),
    # and again after (elemental calls applied to array elements inside expressions)
    hoister = _Hoister(program, lookup, namer, extra, sc, info)
    body = map_body(body, hoister.stmt)

    def scalarize(s: ir.Stmt) -> list[ir.Stmt] | None:
        if isinstance(s, ir.Assign):
            return sc.assign(s)
        if isinstance(s, ir.Where):
            return cons.where(s)
        if isinstance(s, ir.Forall):
            return list(map_body(tuple(cons.forall(s)), scalarize))
        return None

    if keep_matmul:  # not inside parallel loops: their adjoints reason element by element
        loops = [d for d in walk_stmts(body) if isinstance(d, ir.Do) and d.parallel is not None]
        sc.in_parallel = {id(x) for d in loops for x in walk_stmts(d.body)}
    body = map_body(body, scalarize)
    extra.extend(sc.new_symbols)
    hoister.scalarizer = None
    body = map_body(body, hoister.stmt)
    je = JumpEliminator(namer)
    body = je.routine_body(body)
    extra.extend(je.new_symbols)
    body = _private_temporaries(body, {x.name for x in extra})
    return replace(r, body=body, symbols=r.symbols + tuple(extra))


def _array_results(program: Program) -> frozenset[str]:
    """User functions whose result is an array (their assignments are not elementwise)."""
    out = set()
    for name, info in program.routines.items():
        r = info.routine
        res = r.symbol(r.result) if r.kind == "function" and r.result else None
        if res is not None and res.rank and "elemental" not in r.prefix:
            out.add(name)
    return frozenset(out)


def _private_temporaries(body: tuple[ir.Stmt, ...], temps: set[str]) -> tuple[ir.Stmt, ...]:
    """Helper variables the lowering writes inside an OpenMP loop or DO CONCURRENT (a
    MATMUL's column, an intrinsic's accumulator) belong to one iteration: PRIVATE (LOCAL)."""

    def fn(s: ir.Stmt) -> list[ir.Stmt] | None:
        if not isinstance(s, ir.Do) or s.parallel is None:
            return None
        p = s.parallel
        listed = {*p.private, *p.firstprivate, *p.lastprivate, *p.shared}
        listed |= {n for _, names in p.reduction for n in names}
        written = [
            n
            for x in walk_stmts(s.body)
            for n in (
                [base_name(x.target)]
                if isinstance(x, ir.Assign)
                else [x.var]
                if isinstance(x, ir.Do)
                else []
            )
            if n in temps and n not in listed
        ]
        new = tuple(dict.fromkeys(written))
        if not new:
            return None
        return [replace(s, parallel=replace(p, private=p.private + new))]

    return map_body(body, fn)


def _lower_associates(body: tuple[ir.Stmt, ...], cons: Constructs) -> tuple[ir.Stmt, ...]:
    def fn(s: ir.Stmt) -> list[ir.Stmt] | None:
        if isinstance(s, ir.Associate):
            return list(map_body(tuple(cons.associate(s)), fn))
        return None

    return map_body(body, fn)


class _Hoister:
    def __init__(self, program: Program, lookup, namer, extra: list[ir.Symbol], sc, info):
        self.program = program
        self.lookup = lookup
        self.namer = namer
        self.extra = extra
        self.scalarizer: Scalarizer | None = sc  # set: array-valued expressions stay in place
        self.info = info
        self.post: list[ir.Stmt] = []  # after the statement being hoisted (_result_temp)

    def _array_valued(self, e: ir.Expr) -> bool:
        return self.scalarizer is not None and self.scalarizer.is_array_valued(e)

    def _array_temp(self, value: ir.Expr, dummy: ir.Symbol, pre: list[ir.Stmt], loc) -> ir.Expr:
        """An array expression passed to an array dummy: an automatic array temporary shaped
        like the expression (its bounds must be specification expressions: dummies and
        constants only)."""
        sc = self.scalarizer
        assert sc is not None
        spans = sc.shape(value, loc) or []
        routine = self.info.routine
        for sp in spans:
            for bound in (sp.lo, sp.hi):
                for name in names_in(bound):
                    sym = self.lookup(name)
                    local = routine.symbol(name)
                    if sp.step is not None or (
                        local is not None
                        and name not in routine.args
                        and "parameter" not in (sym.attrs if sym else ())
                    ):
                        raise FortranADError(
                            loc,
                            "an array expression passed as an argument needs a variable here",
                            "assign it to an array first and pass that",
                        )
        dims = tuple(ir.Dim("explicit", sp.lo, sp.hi) for sp in spans)
        tmp = self.namer.temp("tmp")
        self.extra.append(ir.Symbol(tmp, dummy.type, dims, attrs=frozenset({"generated"})))
        pre.append(ir.Assign(ir.Name(tmp), value, loc))
        return ir.Name(tmp)

    def _is_function(self, name: str) -> bool:
        info = self.program.get(name)
        return info is not None and info.routine.kind == "function"

    def _temp(self, t: ir.TypeSpec | None, loc: ir.SourceLoc) -> str:
        name = self.namer.temp("tmp")
        self.extra.append(ir.Symbol(name, t, attrs=frozenset({"generated"}), loc=loc))
        return name

    def _hoist_args(self, args, callee: ir.Routine, pre: list[ir.Stmt], loc) -> tuple:
        out = []
        for i, a in enumerate(args):
            value = a.value if isinstance(a, ir.Keyword) else a
            new = self._expr(value, pre, loc)
            dummy = callee.symbol(callee.args[i]) if i < len(callee.args) else None
            real = dummy is not None and dummy.type is not None and dummy.type.is_real
            if not real or isinstance(new, ir.Name | ir.ArrayRef):
                pass
            elif self._array_valued(new):
                if dummy.rank:
                    new = self._array_temp(new, dummy, pre, loc)
            elif dummy.rank == 0:
                tmp = self._temp(dummy.type, loc)
                pre.append(ir.Assign(ir.Name(tmp), new, loc))
                new = ir.Name(tmp)
            out.append(ir.Keyword(a.name, new) if isinstance(a, ir.Keyword) else new)
        return tuple(out)

    def _frozen(self, args, callee: ir.Routine, pre: list[ir.Stmt], loc) -> tuple:
        """Subscripts of actuals the call may change, evaluated before it (normalize/actuals.py)."""

        def temp(t: ir.TypeSpec) -> str:
            name = self.namer.temp("sub")
            self.extra.append(ir.Symbol(name, t, attrs=frozenset({"generated"}), loc=loc))
            return name

        args, more = freeze(self.program, self.info, callee, args, temp, self.lookup, loc)
        pre.extend(more)
        return args

    def _result_temp(self, call: ir.Call, callee: ir.Routine, res: ir.Symbol, pre, loc):
        """The array result of ``call`` inside an expression, assigned to a temporary before
        the statement. Its shape is the result's declared one with the dummies replaced by
        the actuals: an automatic array when those bounds read only INTENT(IN) dummies and
        constants of this routine, else an allocatable one allocated before the call and
        deallocated after the statement. Deferred-shape (allocatable, pointer) results
        are refused."""
        if any(d.kind != "explicit" for d in res.dims):
            raise FortranADError(
                loc,
                f"function '{call.name}' with an allocatable or pointer array result inside an "
                "expression is not supported yet",
                "assign its result to an array first",
            )
        actual = dummy_map(call.args, callee)

        def at_call(b: ir.Expr | None) -> ir.Expr | None:
            if b is None:
                return None
            sub = {
                d: a if isinstance(a, ir.Name | ir.Literal) else ir.Paren(a)
                for d, a in actual.items()
                if not isinstance(a, ir.Keyword)
            }
            return fold(map_expr(b, lambda x: sub.get(x.name) if isinstance(x, ir.Name) else None))

        dims = tuple(ir.Dim("explicit", at_call(d.lo), at_call(d.hi)) for d in res.dims)
        used = set().union(*(names_in(b) for d in dims for b in (d.lo, d.hi) if b is not None))
        routine = self.info.routine

        def fixed(name: str) -> bool:
            sym = self.lookup(name)
            if sym is not None and "parameter" in sym.attrs:
                return True
            return name in routine.args and sym is not None and sym.intent == "in"

        tmp = self.namer.temp("res")
        if all(fixed(n) for n in used):
            self.extra.append(ir.Symbol(tmp, res.type, dims, attrs=frozenset({"generated"})))
        else:
            deferred = (ir.Dim("deferred"),) * len(dims)
            attrs = frozenset({"generated", "allocatable"})
            self.extra.append(ir.Symbol(tmp, res.type, deferred, attrs=attrs))
            text = ", ".join(f"{expr(d.lo) if d.lo else '1'}:{expr(d.hi)}" for d in dims)
            pre.append(ir.Opaque(f"allocate({tmp}({text}))", tuple(sorted(used)), (tmp,), loc))
            self.post.append(ir.Opaque(f"deallocate({tmp})", (), (tmp,), loc))
        pre.append(ir.Assign(ir.Name(tmp), call, loc))
        return ir.Name(tmp)

    def _expr(
        self, e: ir.Expr, pre: list[ir.Stmt], loc, top: bool = False, whole: bool = True
    ) -> ir.Expr:
        """``top``: ``e`` is an assignment's value; ``whole``: an array result there may stay
        in place (not when the target is an ALLOCATABLE the assignment may allocate: from a
        temporary, normalize/scalarize.allocate_on_assignment allocates it)."""

        def fn(x: ir.Expr) -> ir.Expr | None:
            if not (isinstance(x, ir.Call) and self._is_function(x.name)):
                return None
            callee = self.program.get(x.name).routine
            res = callee.symbol(callee.result) if callee.result else None
            array_result = res is not None and res.rank > 0
            if array_result and not (top and whole and x is e):  # never elementwise: a temporary
                args = self._frozen(self._hoist_args(x.args, callee, pre, loc), callee, pre, loc)
                return self._result_temp(replace(x, args=args), callee, res, pre, loc)
            if self._array_valued(x) and not array_result:
                return x  # an elemental call on arrays: hoisted after scalarization
            call = replace(
                x, args=self._frozen(self._hoist_args(x.args, callee, pre, loc), callee, pre, loc)
            )
            if top and x is e:
                return call
            if res is None:
                raise FortranADError(
                    loc, f"function '{x.name}' with an array result is not supported yet"
                )
            tmp = self._temp(res.type, loc)
            pre.append(ir.Assign(ir.Name(tmp), call, loc))
            return ir.Name(tmp)

        return map_expr(e, fn)

    def _effects(self, e: ir.Expr) -> bool:
        """Does ``e`` call a user function that changes an argument or a global?"""
        for x in subexprs(e):
            info = self.program.get(x.name) if isinstance(x, ir.Call) else None
            if info is None or info.routine.kind != "function":
                continue
            r = info.routine
            if global_writes(self.program, x.name) or any(
                getattr(r.symbol(d), "intent", "in") != "in" for d in r.args
            ):
                return True
        return False

    def stmt(self, s: ir.Stmt) -> list[ir.Stmt] | None:
        pre: list[ir.Stmt] = []
        self.post = []
        if isinstance(s, ir.Assign):
            target = self.lookup(s.target.name) if isinstance(s.target, ir.Name) else None
            allocatable = target is not None and "allocatable" in target.attrs
            value = self._expr(s.value, pre, s.loc, top=True, whole=not allocatable)
            new: ir.Stmt = replace(s, value=value)
        elif isinstance(s, ir.CallStmt) and self.program.get(s.name) is not None:
            callee = self.program.get(s.name).routine
            args = self._hoist_args(s.args, callee, pre, s.loc)
            new = replace(s, args=self._frozen(args, callee, pre, s.loc))
        elif isinstance(s, ir.If) and any(self._effects(c) for c, _ in s.branches[1:]):
            # ELSE IF (f(...)) with side effects: f is called only when the conditions before
            # are false, so the construct nests (ELSE; IF (f(...)) ...) and the rule below
            # hoists the reference in front of the inner IF, inside the ELSE
            k = next(k for k, (c, _) in enumerate(s.branches) if k and self._effects(c))
            rest = ir.If(s.branches[k:], s.else_body, loc=s.loc)
            return list(
                map_body((replace(s, branches=s.branches[:k], else_body=(rest,)),), self.stmt)
            )
        elif isinstance(s, ir.DoWhile) and s.cond is not None and self._effects(s.cond):
            # DO WHILE (f(...)) with side effects: the condition is evaluated before every
            # iteration, so the loop becomes DO; IF (.NOT. (f(...))) EXIT; body; END DO and the
            # rule below hoists the reference in front of that IF (a CYCLE still reaches it)
            test = ir.UnOp(".not.", ir.Paren(s.cond))
            exit_ = ir.If(((test, (ir.Exit(s.name, s.loc),)),), inline=True, loc=s.loc)
            loop = replace(s, cond=None, body=(exit_, *s.body))
            return list(map_body((loop,), self.stmt))
        elif isinstance(s, ir.Select) and self._effects(s.expr):
            # SELECT CASE (f(...)) with side effects: the selector is evaluated once, first
            sel = self._expr(s.expr, pre, s.loc)
            post = self.post
            cases = tuple(ir.Case(c.selectors, map_body(c.body, self.stmt)) for c in s.cases)
            new = replace(s, expr=sel, cases=cases)
            self.post = post
        elif isinstance(s, ir.If) and self._effects(s.branches[0][0]):
            # a function with side effects in the (first) condition: called once, before
            cond = self._expr(s.branches[0][0], pre, s.loc)
            post = self.post

            def inner(b: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
                return map_body(b, self.stmt)

            arms = ((cond, inner(s.branches[0][1])), *((c, inner(b)) for c, b in s.branches[1:]))
            els = inner(s.else_body) if s.else_body is not None else None
            new = replace(s, branches=arms, else_body=els)
            self.post = post
        else:
            return None
        if pre and s.label:
            pre[0] = replace(pre[0], label=s.label)
            new = replace(new, label=None)
        return [*pre, new, *self.post]
