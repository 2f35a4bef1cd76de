"""Random call statements and actual arguments (a base of fuzzgen/stmts.Gen): no aliasing
between written actuals and the others, sections or sequence association for dummies of size
n - 1, elements for scalar dummies, references through generic interfaces."""

from __future__ import annotations

import re

from fortran_ad.checks.fuzzgen.base import Ex, Loop, Routine, Var, fit, lit
from fortran_ad.checks.fuzzgen.exprs import ExprGen

#: Below every value a side-effect function's result takes (tanh of something, or the SUM of at
#: most NMAX values in [-0.6, 0.6]): conditions on it never switch, so the output has no jump a
#: finite difference could straddle (the reference is still evaluated for its side effects).
BELOW = "-10.0_dp"


class CallGen(ExprGen):
    # -- calls -------------------------------------------------------------------------------
    def call_args(
        self,
        r: Routine,
        loops: list[Loop],
        callee: Routine,
        written: set[str] | None,
        full: bool = False,
    ) -> list[str] | None:
        """Actual arguments for ``callee``; ``written`` collects bases the call may write;
        ``full``: size n (not n - 1)."""
        short = not full and self.ch.chance(0.3) and r.nrange[0] - 1 >= callee.nrange[0]
        short = short and not callee.type_arg  # st%v has the caller's size n
        self.sequence_associated = False  # an element for an array dummy: no generic reference
        args = ["n - 1" if short else "n"] + (["kk"] if callee.int_arg else [])
        taken = {v.name for v in r.reals if v.glob or v.alias}  # never actuals: no aliasing
        if callee.type_arg:  # st itself is the last actual: its components are taken
            taken |= {v.name for v in r.reals if "%" in v.name}
        outs = {d for d, intent, _ in callee.sig if intent != "in"}
        # writable actuals first, so inputs can avoid them (no aliasing)
        chosen: dict[str, str] = {}
        for d, _intent, rank in callee.sig:
            if d not in outs:
                continue
            cands = [v for v in r.reals if v.writable and v.rank == rank and v.name != r.acc]
            cands = [v for v in cands if v.name not in taken]
            if not cands:
                return None
            elems = [v for v in r.reals if v.writable and v.rank == 1 and v.name not in taken]
            if rank == 0 and elems and "element-actual" not in self.exclude and self.ch.chance(0.4):
                v = self.ch.choice(elems)  # an element (kk's too: fixed when the call starts)
                taken.add(v.name)
                chosen[d] = v.elem(self.subscript(r, loops).text)
                continue
            v = self.ch.choice(cands)
            taken.add(v.name)
            chosen[d] = v.name if rank == 0 else self.actual_array(v, short)
        for d, _intent, rank in callee.sig:
            if d in outs:
                continue
            if rank == 1:
                cands = [v for v in r.reals if v.rank == 1 and v.name not in taken]
                if not cands:
                    return None
                chosen[d] = self.actual_array(self.ch.choice(cands), short)
            else:
                chosen[d] = fit(self.scalar_actual(r, loops, taken)).text
        if written is not None:
            written |= taken
        return args + [chosen[d] for d, _, _ in callee.sig] + (["st"] if callee.type_arg else [])

    def scalar_actual(self, r: Routine, loops: list[Loop], taken: set[str]) -> Ex:
        """An expression for an intent(in) scalar dummy that reads no variable the call writes
        (no aliasing)."""
        e = self.expr(r, loops, 1)
        for _ in range(5):
            words = set(re.findall(r"[a-z][\w%]*", e.text))
            if not (taken & words or ("sum-in-actual" in self.exclude and "sum" in words)):
                return e
            e = self.leaf(r, loops)
        return lit(0.5)

    def actual_array(self, v: Var, short: bool) -> str:
        """A whole array, or for a dummy of size n - 1 a section or (sequence association) the
        element the sequence starts at."""
        if not short:
            return v.sec()
        forms = [v.sec("2:n"), v.sec("1:n - 1")]
        if "sequence-association" not in self.exclude:
            forms.append(v.elem("2"))
        out = self.ch.choice(forms)
        self.sequence_associated |= out == v.elem("2")
        return out

    def call(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        subs = [c for c in r.callees if c.kind == "sub"]
        if not subs:
            return self.assign(r, loops, ind)
        typed = [c for c in subs if c.type_arg]  # the one taking st: called more often
        c = typed[0] if typed and self.ch.chance(0.5) else self.ch.choice(subs)
        args = self.call_args(r, loops, c, set())
        if args is None:
            return self.assign(r, loops, ind)
        if c.bound and self.ch.chance(0.7):  # through the binding: st is the passed object
            return ["  " * ind + f"call st%{c.bound}({', '.join(args[:-1])})"]
        return ["  " * ind + f"call {self.called(c)}({', '.join(args)})"]

    def effect_call(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        """A reference to a function that changes its INOUT array, alone in its statement
        (nothing else there may see the change): added to the accumulator, or compared in an
        IF or ELSE IF condition (evaluated only when the conditions before are false) or a DO
        WHILE condition (before every iteration), where its result is passive while other
        references make it active. Conditions compare it with ``BELOW``: no branch switches
        near the inputs (a jump in the output would defeat the finite differences)."""
        c = self.ch.choice([c for c in r.callees if c.effects])
        args = self.call_args(r, loops, c, set())
        if args is None:
            return self.assign(r, loops, ind)
        ref = f"{self.called(c)}({', '.join(args)})"
        ref = f"sum({ref})" if c.result_rank else ref
        pad = "  " * ind
        form = self.ch.choice(["add", "add", "if", "else-if", "while"])
        if form == "while" and not any(lp.var == "m" for lp in loops):  # m: no DO index here
            return [
                f"{pad}m = 0",
                # the reference first: a compiler may skip the right operand of .and.
                f"{pad}do while ({ref} > {BELOW} .and. m < 2)",
                f"{pad}  m = m + 1",
                f"{pad}  {r.acc} = {r.acc} + 0.25_dp",
                f"{pad}end do",
            ]
        if form == "add":
            return [f"{pad}{r.acc} = {r.acc} + 0.1_dp*{ref}"]
        if form == "if":
            return [f"{pad}if ({ref} > {BELOW}) {r.acc} = {r.acc} + 0.25_dp"]
        return [
            f"{pad}if ({self.ch.choice(['n > 7', 'n < 7'])}) then",  # passive: fixed per program
            f"{pad}  {r.acc} = 0.5_dp*{r.acc}",
            f"{pad}else if ({ref} > {BELOW}) then",
            f"{pad}  {r.acc} = {r.acc} + 0.25_dp",
            f"{pad}end if",
        ]

    def called(self, c: Routine) -> str:
        """The name a reference to ``c`` with the arguments call_args just chose uses: its own
        or its generic's (not with sequence association: a generic is resolved by type, kind
        and rank)."""
        # (not for array results: a generic function's result rank inside SUM is unknown
        # to the scalarizer, a located error)
        generic = c.generic and not self.sequence_associated
        return c.generic if generic and self.ch.chance(0.7) else c.name
