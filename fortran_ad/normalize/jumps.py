"""EXIT, CYCLE and RETURN → structured control flow with flags.

The adjoint reverses statement lists; a jump would skip statements whose adjoints must then
be skipped too. Rewriting jumps into guarded remainders (``if (.not. fad_jump1) then ...``)
makes every path explicit, and the usual branch recording does the rest:
- CYCLE: set the loop's jump flag; the rest of the iteration is guarded.
- EXIT: also set the loop's exit flag; a counted DO becomes a DO WHILE over its index.
- RETURN (outside loops): set the routine's flag; the rest of the routine is guarded.
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.walk import bodies, walk_stmts

TRUE = ir.Literal(".true.", "logical")
FALSE = ir.Literal(".false.", "logical")
LOGICAL = ir.TypeSpec("logical")


class JumpEliminator:
    def __init__(self, namer):
        self.namer = namer
        self.new_symbols: list[ir.Symbol] = []

    def _flag(self, stem: str) -> str:
        name = self.namer.temp(stem)
        self.new_symbols.append(ir.Symbol(name, LOGICAL, attrs=frozenset({"generated"})))
        return name

    def routine_body(self, body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
        while body and isinstance(body[-1], ir.Return | ir.Comment | ir.Continue):
            if isinstance(body[-1], ir.Return) and body[-1].label is None:
                body = body[:-1]  # a final RETURN jumps nowhere
            elif isinstance(body[-1], ir.Return):
                body = (*body[:-1], ir.Continue(body[-1].loc, body[-1].label))
            else:
                break
        body = self._loops(body)
        if not any(isinstance(s, ir.Return) for s in walk_stmts(body)):
            return body
        flag = self._flag("return")
        guarded, _ = self._guard(body, lambda s: isinstance(s, ir.Return), flag, None)
        first = next(s for s in walk_stmts(body) if isinstance(s, ir.Return))
        return (ir.Assign(ir.Name(flag), FALSE, first.loc), *guarded)

    # -- loops (innermost first) ---------------------------------------------------------------
    def _loops(self, body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for s in body:
            if isinstance(s, ir.Do | ir.DoWhile):
                inner = replace(s, body=self._loops(s.body))
                out.extend(self._loop(inner))
            elif bodies(s):
                out.append(_map_bodies(s, self._loops))
            else:
                out.append(s)
        return tuple(out)

    def _targets(self, loop: ir.Do | ir.DoWhile):
        def is_jump(s: ir.Stmt) -> bool:
            return isinstance(s, ir.Exit | ir.Cycle) and (s.name is None or s.name == loop.name)

        return is_jump

    def _loop(self, loop: ir.Do | ir.DoWhile) -> list[ir.Stmt]:
        is_jump = self._targets(loop)
        jumps = [s for s in _shallow(loop.body) if is_jump(s)]
        for s in walk_stmts(loop.body):
            if isinstance(s, ir.Return):
                raise FortranADError(
                    s.loc,
                    "RETURN inside a loop is not supported yet in active routines",
                    "set a flag and EXIT the loop instead",
                )
            if (
                isinstance(s, ir.Exit | ir.Cycle)
                and s.name
                and s not in jumps
                and s.name == loop.name
            ):
                raise FortranADError(
                    s.loc, f"{type(s).__name__.upper()} out of an inner loop is not supported yet"
                )
        if not jumps:
            return [loop]
        jump = self._flag("jump")
        has_exit = any(isinstance(s, ir.Exit) for s in jumps)
        done = self._flag("exit") if has_exit else None
        guarded, _ = self._guard(loop.body, is_jump, jump, done)
        body = (ir.Assign(ir.Name(jump), FALSE, loop.loc), *guarded)
        if not has_exit:
            return [replace(loop, body=body)]
        assert done is not None
        not_done: ir.Expr = ir.UnOp(".not.", ir.Name(done))
        init = [ir.Assign(ir.Name(done), FALSE, loop.loc)]
        if isinstance(loop, ir.DoWhile):
            cond = (
                not_done if loop.cond is None else ir.BinOp(".and.", not_done, ir.Paren(loop.cond))
            )
            return [*init, replace(loop, cond=cond, body=body)]
        step = loop.step or ir.Literal("1", "integer")
        if not (isinstance(step, (ir.Literal, ir.UnOp))):
            raise FortranADError(
                loop.loc, "EXIT from a DO loop with a variable step is not supported yet"
            )
        down = isinstance(step, ir.UnOp) or step.text.startswith("-")
        hi = self.namer.temp("last")
        self.new_symbols.append(
            ir.Symbol(hi, ir.TypeSpec("integer"), attrs=frozenset({"generated"}))
        )
        var = ir.Name(loop.var)
        bound = ir.BinOp(">=" if down else "<=", var, ir.Name(hi))
        advance = ir.If(
            ((not_done, (ir.Assign(var, ir.BinOp("+", var, step), loop.loc),)),),
            inline=True,
            loc=loop.loc,
        )
        return [
            *init,
            ir.Assign(ir.Name(hi), loop.stop, loop.loc),
            ir.Assign(var, loop.start, loop.loc, loop.label),
            ir.DoWhile(
                ir.BinOp(".and.", not_done, bound), (*body, advance), loop.name, None, loop.loc
            ),
        ]

    # -- guarded remainders --------------------------------------------------------------------
    def _guard(
        self, body, is_jump, flag: str, done: str | None
    ) -> tuple[tuple[ir.Stmt, ...], bool]:
        """Replace jumps by flag assignments; guard what follows a possible jump."""
        out: list[ir.Stmt] = []
        for i, s in enumerate(body):
            if is_jump(s):
                out.append(ir.Assign(ir.Name(flag), TRUE, s.loc))
                if done is not None and isinstance(s, ir.Exit):
                    out.append(ir.Assign(ir.Name(done), TRUE, s.loc))
                return tuple(out), True
            if bodies(s) and not isinstance(s, ir.Do | ir.DoWhile) and _contains(s, is_jump):
                out.append(_map_bodies(s, lambda b: self._guard(b, is_jump, flag, done)[0]))
                rest, _ = self._guard(body[i + 1 :], is_jump, flag, done)
                if rest:
                    cond = ir.UnOp(".not.", ir.Name(flag))
                    out.append(ir.If(((cond, rest),), loc=rest[0].loc))
                return tuple(out), True
            out.append(s)
        return tuple(out), False


def _shallow(body: tuple[ir.Stmt, ...]):
    """Statements of a body and its IF/SELECT branches, not of inner loops."""
    for s in body:
        yield s
        if not isinstance(s, ir.Do | ir.DoWhile):
            for b in bodies(s):
                yield from _shallow(b)


def _contains(s: ir.Stmt, is_jump) -> bool:
    return any(is_jump(x) for b in bodies(s) for x in _shallow(b))


def _map_bodies(s: ir.Stmt, fn) -> ir.Stmt:
    if isinstance(s, ir.If):
        branches = tuple((c, fn(b)) for c, b in s.branches)
        els = fn(s.else_body) if s.else_body is not None else None
        return replace(s, branches=branches, else_body=els, inline=False)
    if isinstance(s, ir.Select):
        return replace(s, cases=tuple(ir.Case(c.selectors, fn(c.body)) for c in s.cases))
    return s
