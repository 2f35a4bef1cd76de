"""GO TO, computed GO TO and arithmetic IF → structured control flow (issue #8).

Runs first in normalization, one body at a time (inner bodies first). Per body:

1. arithmetic IF → ``IF/ELSE IF/ELSE`` of plain GO TOs; computed GO TO → ``SELECT CASE`` of
   plain GO TOs (falling through when the index is out of range, as Fortran does);
2. a GO TO to the end label of an enclosing labelled DO → ``CYCLE`` of that loop;
3. backward GO TO (target at or before the jump) → an endless named ``DO`` from the label to
   the last jump: jumps become ``CYCLE``, falling off the end ``EXIT``s (a final
   ``IF (c) GO TO l`` becomes ``IF (.NOT. c) EXIT``);
4. forward GO TO → the statements jumped over are guarded: a top-level ``IF (c) GO TO l``
   becomes ``IF (.NOT. c) THEN ... END IF``; anything else sets a flag ``fad_gotoN`` and the
   rest up to the label runs under ``IF (.NOT. fad_gotoN)`` (a jump out of a DO also EXITs it).

EXIT/CYCLE are then made explicit by normalize/jumps.py as usual. What cannot be recovered (a
jump into a loop or block, out of two nested loops, an assigned GO TO) stays as it is, with
``GotoStructurer.failure`` set; generate.py raises it, located and naming the label, when the
routine is differentiated (passive routines are never re-emitted, so they may keep any GO TO).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import bodies, walk_stmts

TRUE = ir.Literal(".true.", "logical")
FALSE = ir.Literal(".false.", "logical")
ZERO = ir.Literal("0", "integer")
LOGICAL = ir.TypeSpec("logical")
Loop = tuple[str | None, str | None]  # (construct name, end label of a labelled DO)


class _Unstructured(Exception):
    def __init__(self, loc: ir.SourceLoc, label: str, why: str):
        super().__init__(why)
        self.error = FortranADError(
            loc,
            f"cannot turn GO TO {label} into structured control flow ({why})",
            "rewrite this jump with DO/IF/EXIT/CYCLE, or keep it in a routine without active data",
        )


class GotoStructurer:
    def __init__(self, namer):
        self.namer = namer
        self.new_symbols: list[ir.Symbol] = []
        self.failure: FortranADError | None = None

    def routine_body(self, body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
        if not any(isinstance(s, ir.Goto) for s in walk_stmts(body)):
            return body
        try:
            new = self._body(body, ())
            for s in walk_stmts(new):
                if isinstance(s, ir.Goto):
                    where = "its label is not in an enclosing block"
                    raise _Unstructured(s.loc, s.targets[0], where)
        except _Unstructured as exc:
            self.failure = exc.error
            self.new_symbols = []
            return body
        return _drop_target_labels(new, _targets(body))

    # -- one body ------------------------------------------------------------------------------
    def _body(self, body: tuple[ir.Stmt, ...], loops: tuple[Loop, ...]) -> tuple[ir.Stmt, ...]:
        """``loops``: the enclosing loops as (construct name, end label of a labelled DO)."""
        body = tuple(self._lower_goto(s) for s in body)
        out: list[ir.Stmt] = []
        for s in body:
            if isinstance(s, ir.Do | ir.DoWhile):
                ends_on_label = bool(s.body) and s.body[-1].label == s.end_label
                end = None if ends_on_label else s.end_label  # else GO TO end is CYCLE
                s = self._name_if_cycled(s, end)
                out.append(replace(s, body=self._body(s.body, (*loops, (s.name, end)))))
            elif bodies(s):
                out.append(_map_bodies(s, lambda b: self._body(b, loops)))
            else:
                out.append(s)
        body = self._cycles(tuple(out), loops)
        body = self._backward(body, loops)
        return self._forward(body)

    def _lower_goto(self, s: ir.Stmt) -> ir.Stmt:
        """Arithmetic IF and computed GO TO → IF / SELECT of plain GO TOs."""
        if not isinstance(s, ir.Goto) or s.index is None:
            return s
        goto = lambda t: ir.Goto((t,), loc=s.loc)  # noqa: E731
        if s.arithmetic:
            neg, zero, pos = s.targets
            e = s.index
            lt, eq = ir.BinOp("<", e, ZERO), ir.BinOp("==", e, ZERO)
            le, ne = ir.BinOp("<=", e, ZERO), ir.BinOp("/=", e, ZERO)
            if neg == zero == pos:
                return replace(goto(neg), label=s.label)
            if neg == zero:
                branches = ((le, (goto(neg),)),)
                other = pos
            elif zero == pos:
                branches = ((lt, (goto(neg),)),)
                other = pos
            elif neg == pos:
                branches = ((ne, (goto(neg),)),)
                other = zero
            else:
                branches = ((lt, (goto(neg),)), (eq, (goto(zero),)))
                other = pos
            return ir.If(branches, (goto(other),), None, False, s.loc, s.label)
        cases = tuple(
            ir.Case((ir.Literal(str(i), "integer"),), (goto(t),))
            for i, t in enumerate(s.targets, start=1)
        )
        return ir.Select(s.index, cases, None, s.loc, s.label)

    def _name_if_cycled(self, loop: ir.Stmt, end: str | None) -> ir.Stmt:
        if end and any(
            isinstance(x, ir.Goto) and x.targets == (end,) for x in walk_stmts(loop.body)
        ):
            return replace(loop, name=loop.name or self.namer.temp("do"), end_label=None)
        return loop

    # -- GO TO the end of an enclosing labelled DO → CYCLE ------------------------------------
    def _cycles(self, body, loops) -> tuple[ir.Stmt, ...]:
        ends = {end: i for i, (_, end) in enumerate(loops) if end}
        if not ends:
            return body

        def fn(s: ir.Stmt) -> list[ir.Stmt] | None:
            if isinstance(s, ir.Goto) and s.index is None and s.targets[0] in ends:
                i = ends[s.targets[0]]
                if i != len(loops) - 1:
                    raise _Unstructured(s.loc, s.targets[0], "it leaves an inner loop")
                return [ir.Cycle(loops[i][0], s.loc, s.label)]
            if isinstance(s, ir.Do | ir.DoWhile):
                return [s]  # inner loops were done with their own stack
            return None

        return _map_shallow(body, fn)

    # -- backward jumps → loops ----------------------------------------------------------------
    def _backward(self, body, loops) -> tuple[ir.Stmt, ...]:
        for i, s in enumerate(body):
            if not s.label:
                continue
            last = max(
                (k for k in range(i, len(body)) if _jumps_to(body[k], s.label)), default=None
            )
            if last is None:
                continue
            return self._backward(self._loop(body, i, last, loops), loops)
        return body

    def _loop(self, body, i: int, k: int, loops) -> tuple[ir.Stmt, ...]:
        label = body[i].label
        assert label is not None
        name = self.namer.temp("goto")
        end = body[k]
        inner = list(body[i:k])
        if isinstance(end, ir.Goto) and end.targets == (label,):
            # an unconditional jump back: falls into the next trip (its label stays a target)
            tail: list[ir.Stmt] = [ir.Continue(end.loc, end.label)] if end.label else []
        elif _is_inline_goto(end, label):
            cond = end.branches[0][0]
            leave = (ir.Exit(name, end.loc),)
            tail = [ir.If(((_negate(cond), leave),), None, None, True, end.loc, end.label)]
        else:
            inner.append(end)
            tail = [ir.Exit(name, end.loc)]
        loop = ir.DoWhile(None, (), name, None, body[i].loc)
        new_body = self._to_cycle(tuple(inner), label, name)
        for x in walk_stmts(new_body):
            if isinstance(x, ir.Goto) and x.targets[0] == label:
                raise _Unstructured(x.loc, label, "the jump back leaves an inner loop")
        loop = replace(loop, body=self._body((*new_body, *tail), (*loops, (name, None))))
        return (*body[:i], loop, *body[k + 1 :])

    def _to_cycle(self, body, label: str, name: str) -> tuple[ir.Stmt, ...]:
        def fn(s: ir.Stmt) -> list[ir.Stmt] | None:
            if isinstance(s, ir.Goto) and s.targets == (label,):
                return [ir.Cycle(name, s.loc, s.label)]
            if isinstance(s, ir.Do | ir.DoWhile):
                return [s]
            return None

        return _map_shallow(body, fn)

    # -- forward jumps → guarded blocks --------------------------------------------------------
    def _forward(self, body) -> tuple[ir.Stmt, ...]:
        for i, s in enumerate(body):
            if not s.label:
                continue
            first = next((j for j in range(i) if _jumps_to(body[j], s.label)), None)
            if first is None:
                continue
            return self._forward(self._guard_to(body, first, i, s.label))
        return body

    def _guard_to(self, body, j: int, i: int, label: str) -> tuple[ir.Stmt, ...]:
        span = body[j:i]
        first = span[0]
        if _is_inline_goto(first, label) and not any(_jumps_to(x, label) for x in span[1:]):
            cond = first.branches[0][0]
            rest = span[1:]
            guarded = (
                [ir.If(((_negate(cond), rest),), None, None, False, first.loc)] if rest else []
            )
            if first.label:
                guarded.insert(0, ir.Continue(first.loc, first.label))
            return (*body[:j], *guarded, *body[i:])
        flag = self.namer.temp("goto")
        self.new_symbols.append(ir.Symbol(flag, LOGICAL, attrs=frozenset({"generated"})))
        init = ir.Assign(ir.Name(flag), FALSE, first.loc)
        return (*body[:j], init, *self._guard(span, label, flag), *body[i:])

    def _guard(self, body, label: str, flag: str) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for idx, s in enumerate(body):
            if isinstance(s, ir.Goto) and s.targets == (label,):
                out.append(ir.Assign(ir.Name(flag), TRUE, s.loc, s.label))
                return out  # what follows up to the label is never reached from here
            if not _jumps_to(s, label):
                out.append(s)
                continue
            if isinstance(s, ir.Do | ir.DoWhile):
                out.append(self._leave_loop(s, label, flag))
            else:
                out.append(_map_bodies(s, lambda b: tuple(self._guard(b, label, flag))))
            rest = body[idx + 1 :]
            if rest:
                cond = ir.UnOp(".not.", ir.Name(flag))
                out.append(ir.If(((cond, tuple(rest)),), None, None, False, rest[0].loc))
            return out
        return out

    def _leave_loop(self, loop: ir.Stmt, label: str, flag: str) -> ir.Stmt:
        name = loop.name or self.namer.temp("do")
        loop = replace(loop, name=name, end_label=None)

        def fn(s: ir.Stmt) -> list[ir.Stmt] | None:
            if isinstance(s, ir.Goto) and s.targets == (label,):
                return [ir.Assign(ir.Name(flag), TRUE, s.loc, s.label), ir.Exit(name, s.loc)]
            if isinstance(s, ir.Do | ir.DoWhile):
                if _jumps_to(s, label):
                    raise _Unstructured(s.loc, label, "the jump leaves two nested loops")
                return [s]
            return None

        return replace(loop, body=_map_shallow(loop.body, fn))


# -- helpers -------------------------------------------------------------------------------------
def _jumps_to(s: ir.Stmt, label: str) -> bool:
    return any(isinstance(x, ir.Goto) and label in x.targets for x in walk_stmts((s,)))


def _is_inline_goto(s: ir.Stmt, label: str) -> bool:
    return (
        isinstance(s, ir.If)
        and len(s.branches) == 1
        and s.else_body is None
        and len(s.branches[0][1]) == 1
        and isinstance(s.branches[0][1][0], ir.Goto)
        and s.branches[0][1][0].targets == (label,)
    )


def _negate(cond: ir.Expr) -> ir.Expr:
    if isinstance(cond, ir.UnOp) and cond.op == ".not.":
        return cond.operand
    return ir.UnOp(".not.", ir.Paren(cond))


def _targets(body) -> set[str]:
    return {t for s in walk_stmts(body) if isinstance(s, ir.Goto) for t in s.targets}


def _drop_target_labels(body, labels: set[str]) -> tuple[ir.Stmt, ...]:
    """Labels nothing jumps to any more: a labelled CONTINUE goes, other statements lose the
    label (derivative code copies statements, and a label must be unique)."""
    out: list[ir.Stmt] = []
    for s in body:
        if s.label in labels:
            if isinstance(s, ir.Continue):
                continue
            s = replace(s, label=None)
        if bodies(s):
            s = _map_bodies(s, lambda b: _drop_target_labels(b, labels))
        out.append(s)
    return tuple(out)


def _map_shallow(body, fn) -> tuple[ir.Stmt, ...]:
    """Like walk.map_body, but ``fn`` returning ``[s]`` for a statement stops the descent."""
    out: list[ir.Stmt] = []
    for s in body:
        new = fn(s)
        if new is not None:
            out.extend(new)
        elif bodies(s):
            out.append(_map_bodies(s, lambda b: _map_shallow(b, fn)))
        else:
            out.append(s)
    return tuple(out)


def _map_bodies(s: ir.Stmt, fn) -> ir.Stmt:
    if isinstance(s, ir.Do | ir.DoWhile):
        return replace(s, body=tuple(fn(s.body)))
    if isinstance(s, ir.If):
        branches = tuple((c, tuple(fn(b))) for c, b in s.branches)
        els = tuple(fn(s.else_body)) if s.else_body is not None else None
        return replace(s, branches=branches, else_body=els, inline=False)
    if isinstance(s, ir.Select):
        return replace(s, cases=tuple(ir.Case(c.selectors, tuple(fn(c.body))) for c in s.cases))
    return s
