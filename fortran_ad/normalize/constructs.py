"""WHERE / ELSEWHERE, FORALL and ASSOCIATE → plain statements.

WHERE: each mask is evaluated once, as Fortran requires. A mask whose inputs no assignment of
the construct writes (from its own block to the end) is re-evaluated per element inside the
loops (equivalent, and the adjoint recomputes it); otherwise it is first stored in a logical
temporary. Each assignment in a block becomes its own loop nest under the combined control
mask (outer masks AND this block's, AND NOT the earlier masks of its construct).
FORALL: index triplets → DO loops (first index innermost) with the mask as an IF; an
assignment whose right side reads its target at another element goes through a temporary; a
WHERE inside runs, normalized, inside the loops when what it assigns is only referenced at the
same FORALL indices.
ASSOCIATE: designator selectors are substituted (their subscripts must not change inside the
block); expression selectors are evaluated once into a temporary.
"""

from __future__ import annotations

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import base_name, map_body, map_expr, names_in, subexprs, walk_stmts


class Constructs:
    def __init__(self, sc) -> None:
        self.sc = sc  # the Scalarizer (shapes, temporaries, loops)

    # -- WHERE -------------------------------------------------------------------------------
    def where(self, s: ir.Where, outer: ir.Expr | None = None) -> list[ir.Stmt]:
        return self.sc.allocating(lambda: self._where(s, outer), s.loc)

    def _where(self, s: ir.Where, outer: ir.Expr | None) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        arms = list(s.branches) + ([(None, s.else_body)] if s.else_body is not None else [])
        earlier: list[ir.Expr] = []  # masks of the previous arms (as evaluated)
        for k, (mask, body) in enumerate(arms):
            cond: ir.Expr | None = outer
            for prev in earlier:
                cond = _and(cond, ir.UnOp(".not.", ir.Paren(prev)))
            if mask is not None:
                later = [st for _, b in arms[k:] for st in walk_stmts(b)]
                written = {base_name(st.target) for st in later if isinstance(st, ir.Assign)}
                if names_in(mask) & written or _has_call(mask, self.sc):
                    space = self.sc.shape(mask, s.loc)
                    if space is None:
                        raise FortranADError(s.loc, "WHERE mask is not an array")
                    tmp = self.sc.temp_array("mask", ir.TypeSpec("logical"), space, s.loc, True)
                    stored = ir.Assign(ir.Name(tmp), mask, s.loc)
                    out += self.sc.assign(stored, cond)
                    mask = ir.Name(tmp)
                earlier.append(mask)
                cond = _and(cond, ir.Paren(mask) if isinstance(mask, ir.BinOp) else mask)
            for st in body:
                out += self._where_stmt(st, cond)
        if s.label and out:
            from dataclasses import replace

            out[0] = replace(out[0], label=s.label)
        return out

    def _where_stmt(self, st: ir.Stmt, cond: ir.Expr | None) -> list[ir.Stmt]:
        if isinstance(st, ir.Assign):
            return self.sc.assign(st, cond)
        if isinstance(st, ir.Where):
            return self.where(st, cond)
        if isinstance(st, ir.Comment):
            return [st]
        raise FortranADError(st.loc, "only assignments and WHERE may appear inside WHERE")

    # -- FORALL ------------------------------------------------------------------------------
    def forall(self, s: ir.Forall) -> list[ir.Stmt]:
        written = {base_name(st.target) for st in walk_stmts(s.body) if isinstance(st, ir.Assign)}
        out: list[ir.Stmt] = []
        if s.mask is not None and names_in(s.mask) & written:
            # the mask is evaluated for all index values before any assignment: store it
            from dataclasses import replace

            from fortran_ad.normalize.spans import Span

            if any(step is not None for *_, step in s.specs):
                raise FortranADError(
                    s.loc,
                    "FORALL with a stride and a mask reading what it assigns: not supported yet",
                    "compute the mask into a logical array first",
                )
            space = [Span(lo, hi) for _, lo, hi, _ in s.specs]
            tmp = self.sc.temp_array("mask", ir.TypeSpec("logical"), space, s.loc)
            at = ir.ArrayRef(tmp, tuple(ir.Name(v) for v, *_ in s.specs))
            out.append(self._nest(replace(s, mask=None), ir.Assign(at, s.mask, s.loc)))
            s = replace(s, mask=at)
        for st in s.body:
            if isinstance(st, ir.Comment):
                out.append(st)
                continue
            if isinstance(st, ir.Where):
                out.append(self._forall_where(s, st))
                continue
            if not isinstance(st, ir.Assign):
                raise FortranADError(
                    st.loc, "only assignments and WHERE are supported inside FORALL yet"
                )
            out += self._forall_assign(s, st)
        if s.label and out:
            from dataclasses import replace

            out[0] = replace(out[0], label=s.label)
        return out

    def _forall_where(self, s: ir.Forall, w: ir.Where) -> ir.Stmt:
        """A WHERE inside FORALL: the WHERE, normalized for one index tuple, inside the FORALL's
        loops. Equivalent to FORALL's all-indices-first order when every array the WHERE
        assigns is referenced (targets, values, masks) at the same FORALL indices only."""
        fvars = {v for v, *_ in s.specs}
        arms = [*w.branches, *([(None, w.else_body)] if w.else_body is not None else [])]
        stmts = [st for _, b in arms for st in walk_stmts(b)]
        written = {base_name(st.target) for st in stmts if isinstance(st, ir.Assign)}
        exprs = [m for m, _ in arms if m is not None]
        exprs += [e for st in stmts if isinstance(st, ir.Assign) for e in (st.target, st.value)]
        exprs += [m for st in stmts if isinstance(st, ir.Where) for m, _ in st.branches]
        seen: dict[str, tuple] = {}
        for x in (x for e in exprs for x in subexprs(e)):
            if not isinstance(x, ir.Name | ir.ArrayRef) or x.name not in written:
                continue
            subs = x.subs if isinstance(x, ir.ArrayRef) else ()
            key = tuple((k, sub) for k, sub in enumerate(subs) if names_in(sub) & fvars)
            if not key or seen.setdefault(x.name, key) != key:
                raise FortranADError(
                    w.loc,
                    f"WHERE inside FORALL references '{x.name}', which it assigns, at other "
                    "FORALL indices: not supported yet",
                    "write the FORALL as a DO loop if its iterations are independent",
                )
        if s.mask is not None and names_in(s.mask) & written:
            raise FortranADError(w.loc, "FORALL mask reads what its WHERE assigns")
        return self._nest(s, *self.where(w))

    def _nest(self, s: ir.Forall, *body: ir.Stmt) -> ir.Stmt:
        inner: tuple[ir.Stmt, ...] = body
        if s.mask is not None:
            inner = (ir.If(((s.mask, inner),), inline=len(body) == 1, loc=s.loc),)
        stmts: tuple[ir.Stmt, ...] = inner
        for var, lo, hi, step in s.specs:  # first index innermost
            stmts = (ir.Do(var, lo, hi, step, stmts, loc=s.loc),)
        return stmts[0]

    def _forall_assign(self, s: ir.Forall, st: ir.Assign) -> list[ir.Stmt]:
        name = base_name(st.target)
        reads = [x for x in subexprs(st.value) if isinstance(x, ir.Name | ir.ArrayRef)]
        if all(x.name != name or x == st.target for x in reads):
            return [self._nest(s, st)]
        if not isinstance(st.target, ir.ArrayRef):
            raise FortranADError(st.loc, "FORALL assigns a whole array")
        sym = self.sc.lookup(name)
        if any(d.kind not in ("explicit", "assumed") for d in sym.dims):
            raise FortranADError(
                st.loc, f"FORALL reads its target '{name}' elsewhere; '{name}' needs known bounds"
            )
        space = [self.sc.shape(ir.Name(name), st.loc)[k] for k in range(sym.rank)]
        tmp = self.sc.temp_array("tmp", sym.type, space, st.loc)
        t_elem = ir.ArrayRef(tmp, st.target.subs)
        return [
            self._nest(s, ir.Assign(t_elem, st.value, st.loc)),
            self._nest(s, ir.Assign(st.target, t_elem, st.loc)),
        ]

    # -- ASSOCIATE ---------------------------------------------------------------------------
    def associate(self, s: ir.Associate) -> list[ir.Stmt]:
        pre: list[ir.Stmt] = []
        subst: dict[str, ir.Expr] = {}
        written = {base_name(st.target) for st in walk_stmts(s.body) if isinstance(st, ir.Assign)}
        written |= {st.var for st in walk_stmts(s.body) if isinstance(st, ir.Do)}
        for name, sel in s.assocs:
            sel = _substitute(sel, subst)
            if isinstance(sel, ir.Name | ir.ArrayRef) and self.sc.lookup(sel.name) is not None:
                subs_names = set().union(*(names_in(x) for x in getattr(sel, "subs", ())))
                if not subs_names & written:
                    subst[name] = sel
                    continue
            if name in written or _passed(s.body, name):
                raise FortranADError(
                    s.loc,
                    f"associate name '{name}' is changed in the block, but its selector is an "
                    "expression or has subscripts the block changes: not supported yet",
                )
            space = self.sc.shape(sel, s.loc)
            t = self.sc.type_of(sel)
            if space is None:
                tmp = self.sc.new_var(name, t)
            else:
                tmp = self.sc.temp_array(name, t, space, s.loc)
            pre.append(ir.Assign(ir.Name(tmp), sel, s.loc, s.label if not pre else None))
            subst[name] = ir.Name(tmp)
        body = _substitute_body(s.body, subst, self.sc, s.loc)
        return [*pre, *body]


def _passed(body: tuple[ir.Stmt, ...], name: str) -> bool:
    """Is ``name`` an actual argument of a CALL in ``body`` (which may change it)?"""
    return any(
        isinstance(st, ir.CallStmt) and any(base_name(a) == name for a in st.args)
        for st in walk_stmts(body)
    )


def _and(a: ir.Expr | None, b: ir.Expr) -> ir.Expr:
    return b if a is None else ir.BinOp(".and.", a, b)


def _has_call(e: ir.Expr, sc) -> bool:
    """User (possibly impure) function references: evaluate such a mask once, stored."""
    return any(
        isinstance(x, ir.Call)
        and x.name not in sc.elemental
        and sc.lookup(x.name) is None
        and x.name not in ("size", "lbound", "ubound", "present", "allocated", "huge", "tiny")
        for x in subexprs(e)
    )


def _substitute(e: ir.Expr, subst: dict[str, ir.Expr], sc=None, loc=None) -> ir.Expr:
    if not subst:
        return e

    def fn(x: ir.Expr) -> ir.Expr | None:
        if isinstance(x, ir.Name) and x.name in subst:
            return subst[x.name]
        if isinstance(x, ir.ArrayRef | ir.Call) and x.name in subst:
            subs = tuple(_substitute(a, subst, sc, loc) for a in _subs(x))
            return _compose(subst[x.name], subs, sc, loc)
        return None

    return map_expr(e, fn)


def _subs(x: ir.Expr) -> tuple[ir.Expr, ...]:
    return x.subs if isinstance(x, ir.ArrayRef) else x.args  # type: ignore[union-attr]


def _compose(sel: ir.Expr, subs: tuple[ir.Expr, ...], sc, loc) -> ir.Expr:
    """``z(subs)`` where ``z`` is associated with ``sel`` (a variable or section)."""
    from fortran_ad.normalize.scalarize import Span, _index

    if isinstance(sel, ir.Name):  # (cs%h of an array of derived type: cs(i)%h)
        return ir.ArrayRef(sel.name, subs, sc.base_rank(sel.name) if sc is not None else 0)
    if not isinstance(sel, ir.ArrayRef):
        raise FortranADError(loc, "cannot subscript this associate name")
    if sc is not None:
        sel = sc.whole_component(sel)  # cs(i)%q as cs(i)%q(:)
    shape = sc.shape(sel, loc) or []
    out: list[ir.Expr] = []
    k = 0
    for s in sel.subs:
        if isinstance(s, ir.Range):
            if k >= len(subs):
                raise FortranADError(loc, "associate name subscripted with too few subscripts")
            sub = subs[k]
            if isinstance(sub, ir.Range):
                if sub != ir.Range():
                    raise FortranADError(loc, "sections of sections of an associate name")
                out.append(s)
            else:
                out.append(_index(shape[k], Span(ir.Literal("1", "integer"), shape[k].hi), sub))
            k += 1
        else:
            out.append(s)
    return ir.ArrayRef(sel.name, tuple(out), sel.head)


def _substitute_body(body, subst, sc, loc) -> tuple[ir.Stmt, ...]:
    for st in walk_stmts(body):
        if isinstance(st, ir.Opaque) and set(st.reads) & set(subst):
            raise FortranADError(st.loc, "associate names in this statement are not supported")
    return map_body_exprs(body, lambda e: _substitute(e, subst, sc, loc))


def map_body_exprs(body: tuple[ir.Stmt, ...], f) -> tuple[ir.Stmt, ...]:
    """Apply ``f`` to every expression of every statement (nested bodies included)."""
    from dataclasses import replace

    def stmt(st: ir.Stmt) -> list[ir.Stmt] | None:
        if isinstance(st, ir.Assign):
            return [replace(st, target=f(st.target), value=f(st.value))]
        if isinstance(st, ir.CallStmt):
            return [replace(st, args=tuple(f(a) for a in st.args))]
        if isinstance(st, ir.If | ir.Where):
            els = map_body(st.else_body, stmt) if st.else_body is not None else None
            arms = tuple((f(c), map_body(b, stmt)) for c, b in st.branches)
            return [replace(st, branches=arms, else_body=els)]
        if isinstance(st, ir.Do):
            step = f(st.step) if st.step is not None else None
            body = map_body(st.body, stmt)
            return [replace(st, start=f(st.start), stop=f(st.stop), step=step, body=body)]
        if isinstance(st, ir.DoWhile):
            cond = f(st.cond) if st.cond is not None else None
            return [replace(st, cond=cond, body=map_body(st.body, stmt))]
        if isinstance(st, ir.Select):
            cases = tuple(ir.Case(c.selectors, map_body(c.body, stmt)) for c in st.cases)
            return [replace(st, expr=f(st.expr), cases=cases)]
        if isinstance(st, ir.Forall):
            specs = tuple(
                (v, f(lo), f(hi), f(sp) if sp is not None else None) for v, lo, hi, sp in st.specs
            )
            mask = f(st.mask) if st.mask is not None else None
            return [replace(st, specs=specs, mask=mask, body=map_body(st.body, stmt))]
        if isinstance(st, ir.Associate):
            assocs = tuple((n, f(e)) for n, e in st.assocs)
            return [replace(st, assocs=assocs, body=map_body(st.body, stmt))]
        return None

    return map_body(body, stmt)
