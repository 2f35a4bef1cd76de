"""Random statements and routine bodies: the second half of Gen."""

from __future__ import annotations

from fortran_ad.checks.fuzzgen.base import (
    MARGIN,
    NMAX,
    NMIN,
    Aff,
    Ex,
    IntEx,
    Loop,
    R,
    Routine,
    Var,
    add,
    const,
    fit,
    fn,
    lit,
    mul,
    scale,
    shifted,
)
from fortran_ad.checks.fuzzgen.calls import CallGen


class Gen(CallGen):
    """Builds one program from a Chooser; see the package docstring for the invariants."""

    # -- statements --------------------------------------------------------------------------
    def block(self, r: Routine, loops: list[Loop], depth: int, ind: int, lo: int, hi: int):
        out: list[str] = []
        for _ in range(self.ch.integer(lo, hi)):
            if self.stmts_left <= 0:
                break
            self.stmts_left -= 1
            out += self.stmt(r, loops, depth, ind)
        if not out:
            out += self.assign(r, loops, ind)
        return out

    def stmt(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        kinds = ["assign", "assign", "update", "acc"]
        if depth > 0:
            kinds += ["do", "do", "if", "select", "while"]
        kinds += ["array", "sum"]
        if r.callees:
            kinds += ["call", "call"]
            kinds += ["effect"] * 3 if any(c.effects for c in r.callees) else []
        if loops and loops[-1].is_do:
            kinds += ["jump"]
        if "integer-scratch" not in self.exclude:
            kinds += ["int"]
            if depth > 0 and len(loops) < 3 and "input-counter" not in self.exclude:
                kinds += ["counter"]
        if depth > 0 and "kernels" not in self.exclude:
            kinds += ["kernel"] * (1 if "rewrite-kernels" in self.exclude else 2)
        if depth > 0 and len(loops) < 2 and "nests" not in self.exclude:
            kinds += ["nest"]
        if depth > 0 and len(loops) < 2 and "indirect" not in self.exclude:
            kinds += ["indirect"]
        if not {"associate", "allocatable"} <= self.exclude:
            kinds += ["storage"]
        k = self.ch.choice(kinds)
        if k == "kernel":
            from fortran_ad.checks.fuzzgen.kernels import kernel, rewrite_kernel

            if "rewrite-kernels" not in self.exclude and self.ch.chance(0.5):
                return rewrite_kernel(self, r, loops, ind)
            return kernel(self, r, loops, ind)
        if k == "nest":
            from fortran_ad.checks.fuzzgen.nests import nest_kernel

            return nest_kernel(self, r, loops, ind)
        if k == "indirect":
            from fortran_ad.checks.fuzzgen.indirect import indirect_kernel

            return indirect_kernel(self, r, loops, ind)
        if k == "storage":
            from fortran_ad.checks.fuzzgen.storage import storage

            return storage(self, r, loops, ind)
        if k == "effect":
            return self.effect_call(r, loops, ind)
        if k == "counter":
            return self.counter(r, loops, ind)
        if k == "int":
            return ["  " * ind + self.integer_scratch(loops)]
        if k == "assign":
            return self.assign(r, loops, ind)
        if k == "update":
            return self.update(r, loops, ind)
        if k == "acc":
            e = self.expr(r, loops, 2)
            return [f"{'  ' * ind}{r.acc} = {r.acc} + {fit(e, 1.0).wrap(3)}"]
        if k == "do":
            return self.do(r, loops, depth, ind)
        if k == "while":
            return self.while_(r, loops, depth, ind)
        if k == "if":
            return self.if_(r, loops, depth, ind)
        if k == "select":
            return self.select(r, loops, depth, ind)
        if k == "array":
            return self.array_assign(r, loops, ind)
        if k == "sum":
            sec = self.section(r)
            body = self.array_expr(r, sec, 2)
            ts = [v for v in r.reals if v.rank == 0 and v.writable and v.name != r.acc]
            t = self.ch.choice(ts) if ts else None
            count = NMAX
            s = fn("sum", [body], min(0.0, count * body.lo), max(0.0, count * body.hi))
            if t is None or self.ch.chance(0.3):
                return [f"{'  ' * ind}{r.acc} = {r.acc} + {fit(s, 1.0).wrap(3)}"]
            return [f"{'  ' * ind}{t.name} = {fit(s).text}"]
        if k == "call":
            return self.call(r, loops, ind)
        return self.jump(r, loops, ind)

    def target(self, r: Routine, loops: list[Loop]) -> str | None:
        ws = [v for v in r.reals if v.writable and v.name != r.acc]
        if not ws:
            return None
        v = self.ch.choice(ws)
        return v.name if v.rank == 0 else v.elem(self.subscript(r, loops).text)

    def assign(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        t = self.target(r, loops)
        e = self.expr(r, loops, 3)
        if t is None:
            return [f"{'  ' * ind}{r.acc} = {r.acc} + {fit(e, 1.0).wrap(3)}"]
        return [f"{'  ' * ind}{t} = {fit(e).text}"]

    def update(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        t = self.target(r, loops)
        if t is None:
            return self.assign(r, loops, ind)
        old = Ex(t, -R, R)
        e = self.expr(r, loops, 2)
        form = self.ch.integer(0, 2)
        if form == 0:
            new = add(scale(old, self.ch.choice([0.5, 0.9, 0.25])), fit(e, 1.0))
        elif form == 1:
            new = mul(old, fn("tanh", [e], -1, 1))
        else:
            new = add(old, mul(lit(0.5), fn("sin", [mul(old, e)], -1, 1)))
        return [f"{'  ' * ind}{t} = {fit(new).text}"]

    def array_assign(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        ws = [v for v in r.reals if v.writable and v.rank == 1]
        if not ws:
            return self.assign(r, loops, ind)
        v = self.ch.choice(ws)
        sec = self.section(r)
        if self.ch.chance(0.4):  # in place: the target's own section on the right
            own = Ex(self.sec_text(v, *sec), v.lo, v.hi)
            rhs = add(scale(own, 0.5), fit(self.array_expr(r, sec, 2, v.name), 1.0))
        else:
            rhs = self.array_expr(r, sec, 2, v.name)
        return [f"{'  ' * ind}{self.sec_text(v, *sec)} = {fit(rhs).text}"]

    def bounds(self, r: Routine, loops: list[Loop]) -> tuple[str, IntEx, int] | None:
        """(bounds text, index range, step) of a new loop, or None if none fits."""
        outer = loops[-1].idx if loops and self.ch.chance(0.5) else None
        starts = [const(Aff(1)), const(Aff(2)), const(Aff(3))]
        stops = [const(Aff(0, 1)), const(Aff(-1, 1)), const(Aff(-2, 1))]
        if outer is not None:
            starts += [outer, shifted(outer, 1)]
            stops += [outer, shifted(outer, -1)]
        for _ in range(8):
            a, b = self.ch.choice(starts), self.ch.choice(stops)
            step = self.ch.choice([1, 1, 1, 2, 3, -1, -2])
            if step < 0:
                a, b = b, a
            idx = IntEx("", a.lo, b.hi) if step > 0 else IntEx("", b.lo, a.hi)
            never_empty = all(
                (a.hi.at(n) <= b.lo.at(n)) if step > 0 else (a.lo.at(n) >= b.hi.at(n))
                for n in r.nrange
            )
            if abs(step) > 1 and "empty-strided-loop" in self.exclude and not never_empty:
                continue
            if self.valid(idx, r, 0, Aff(1, 1)):
                text = f"{a.text}, {b.text}" + (f", {step}" if step != 1 else "")
                return text, idx, step
        return None

    def loop_var(self, loops: list[Loop]) -> str:
        if "loop-index-reuse" in self.exclude:
            self.loop_count += 1
            return f"i{self.loop_count}"
        used = {lp.var for lp in loops}
        return next(v for v in ("i", "j", "k", "l") if v not in used)

    def do(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        b = self.bounds(r, loops)
        if b is None or len(loops) >= 3:
            return self.assign(r, loops, ind)
        text, rng, _ = b
        var = self.loop_var(loops)
        label = None
        if "named-loop" not in self.exclude and self.ch.chance(0.15):
            self.labels += 1
            label = f"loop{self.labels}"
        inner = [*loops, Loop(var, IntEx(var, rng.lo, rng.hi), True, label)]
        body = self.block(r, inner, depth - 1, ind + 1, 1, 4)
        name = f"{label}: " if label else ""
        out = ["  " * ind + f"{name}do {var} = {text}", *body, "  " * ind + f"end do {label or ''}"]
        out[-1] = out[-1].rstrip()
        ts = [v for v in r.reals if v.rank == 0 and v.writable and v.name != r.acc]
        if ts and self.ch.chance(0.15):  # the index after the loop: last value + step, or EXIT's
            t = self.ch.choice(ts).name
            out.append("  " * ind + f"{t} = 0.5_dp*{t} + 0.01_dp*real({var}, dp)")
        return out

    def while_(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        if len(loops) >= 3:
            return self.assign(r, loops, ind)
        c = self.ch.integer(2, 4)
        inner = [*loops, Loop("m", IntEx("m", Aff(1), Aff(c)), False)]
        if any(lp.var == "m" for lp in loops):
            return self.assign(r, loops, ind)
        cond = f"m < {c}"
        if self.ch.chance(0.3):  # and an active condition (m < c still bounds the trips)
            cond += f" .and. {self.active_cond(r, loops)}"
        body = self.block(r, inner, depth - 1, ind + 1, 1, 3)
        return [
            "  " * ind + "m = 0",
            "  " * ind + f"do while ({cond})",
            "  " * (ind + 1) + "m = m + 1",
            *body,
            "  " * ind + "end do",
        ]

    def counter(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        """MITgcm's input counter: ``kk`` read before an inner loop, bumped in it (reads of
        the element it selects there), read after it; 1 <= kk <= n throughout."""
        arrays = [v for v in r.reals if v.rank == 1]
        if not arrays:
            return self.assign(r, loops, ind)
        var = self.loop_var(loops)
        inner = [*loops, Loop(var, IntEx(var, Aff(1), Aff(3)), True)]
        pad = "  " * ind

        def use(at: list[Loop]) -> str:
            v = self.ch.choice(arrays)
            e = add(mul(lit(0.5), Ex(v.elem("kk"), v.lo, v.hi)), self.expr(r, at, 1))
            t = self.target(r, at)
            return f"{t} = {fit(e).text}" if t else f"{r.acc} = {r.acc} + {fit(e, 1.0).wrap(3)}"

        def own() -> str:  # its own element from the counted one: the iterations independent
            ws = [w for w in arrays if w.writable]
            if not ws:
                return use(inner)
            w = self.ch.choice(ws)
            v = self.ch.choice([a for a in arrays if not a.shares(w)] or arrays)
            e = mul(Ex(v.elem("kk"), v.lo, v.hi), Ex(v.elem("kk"), v.lo, v.hi))
            return f"{w.elem(var)} = {fit(scale(e, self.ch.choice([0.5, 0.25]))).text}"

        out = []
        if self.ch.chance(0.5):
            out.append(pad + self.integer_scratch(loops))
        bump = self.ch.choice(["kk = mod(kk, n) + 1", f"kk = mod(kk + {var}, n) + 1"])
        body = own() if self.ch.chance(0.6) else use(inner)
        out += [pad + use(loops), f"{pad}do {var} = 1, {self.ch.integer(2, 3)}"]
        out += [pad + "  " + body, pad + "  " + bump, pad + "end do"]
        if self.ch.chance(0.6):
            out.append(pad + use(loops))
        return out

    def integer_scratch(self, loops: list[Loop]) -> str:
        """An update of kk that keeps 1 <= kk <= n (loop indices are >= 0)."""
        forms = ["kk = n + 1 - kk", "kk = mod(kk, n) + 1", "kk = mod(2*kk + 1, n) + 1"]
        if loops:
            v = self.ch.choice(loops).var
            forms += [f"kk = mod(3*{v} + 1, n) + 1", f"kk = mod({v} + kk, n) + 1"]
        return self.ch.choice(forms)

    def passive_cond(self, loops: list[Loop]) -> str:
        if not loops:
            return self.ch.choice(["n > 6", "n <= 8", "mod(n, 2) == 0"])
        v = self.ch.choice(loops).var
        return self.ch.choice(
            [
                f"mod({v}, 2) == 0",
                f"{v} > n/2",
                f"{v} <= 3",
                f"{v} == 2",
                f"mod({v} + 1, 3) /= 0",
                f"{v} > 1 .and. {v} < n - 1",
            ]
        )

    def active_cond(self, r: Routine, loops: list[Loop]) -> str:
        a = self.expr(r, loops, 1)
        sw = self.switching(a, loops)
        if sw is not None and self.ch.chance(0.7):
            e, c = sw
            return f"{e.text} > {c.text}" if self.ch.chance(0.5) else f"{c.text} < {e.text}"
        c = round(a.lo - MARGIN - 1.0, 1) if self.ch.chance(0.5) else round(a.hi + MARGIN + 1, 1)
        op = ">" if c < a.lo else "<"
        return f"{a.text} {op} {lit(c).wrap(3)}"

    def cond(self, r: Routine, loops: list[Loop]) -> str:
        return self.active_cond(r, loops) if self.ch.chance(0.4) else self.passive_cond(loops)

    def if_(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        out = ["  " * ind + f"if ({self.cond(r, loops)}) then"]
        out += self.block(r, loops, depth - 1, ind + 1, 1, 3)
        for _ in range(self.ch.integer(0, 1)):
            out.append("  " * ind + f"else if ({self.cond(r, loops)}) then")
            out += self.block(r, loops, depth - 1, ind + 1, 1, 2)
        if self.ch.chance(0.5):
            out.append("  " * ind + "else")
            out += self.block(r, loops, depth - 1, ind + 1, 1, 2)
        return [*out, "  " * ind + "end if"]

    def select(self, r: Routine, loops: list[Loop], depth: int, ind: int) -> list[str]:
        sel = f"mod({self.ch.choice(loops).var}, 3)" if loops else "mod(n, 3)"
        cases = self.ch.choice([["0", "1"], ["1:2"], ["0", "2"], ["2"]])
        if loops and self.ch.chance(0.3):  # the index itself, with open ranges
            sel = self.ch.choice(loops).var
            cases = self.ch.choice([[":2", "3:4"], ["5:"], ["1", "2:3", "6:"]])
        out = ["  " * ind + f"select case ({sel})"]
        for case in cases:
            out.append("  " * (ind + 1) + f"case ({case})")
            out += self.block(r, loops, depth - 1, ind + 2, 1, 2)
        if self.ch.chance(0.6):
            out.append("  " * (ind + 1) + "case default")
            out += self.block(r, loops, depth - 1, ind + 2, 1, 2)
        return [*out, "  " * ind + "end select"]

    def jump(self, r: Routine, loops: list[Loop], ind: int) -> list[str]:
        word = self.ch.choice(["cycle", "exit"])
        v, label = loops[-1].var, loops[-1].label
        if label and self.ch.chance(0.7):
            word += f" {label}"
        cond = self.ch.choice([f"{v} == 3", f"mod({v}, 4) == 0", f"{v} > n - 2"])
        return ["  " * ind + f"if ({cond}) {word}"]

    # -- routines ----------------------------------------------------------------------------
    def helper(self, name: str, callees: list[Routine], dtype: str = "") -> Routine:
        """A helper routine; with ``dtype`` a subroutine whose last dummy is ``st`` of that
        type (feature type-actual)."""
        func = not dtype and self.ch.chance(0.4)
        sig: list[tuple[str, str, int]] = [("a", "in", 1)]
        effects = func and "side-effect-function" not in self.exclude and self.ch.chance(0.6)
        if effects:  # referenced alone in a statement (calls.effect_call)
            sig.append(("b", "inout", 1))
        if not func:
            sig.append(("b", self.ch.choice(["inout", "inout", "out"]), 1))
        if self.ch.chance(0.6):
            sig.append(("c", "in", 0))
        if not func and self.ch.chance(0.6):
            sig.append(("s", self.ch.choice(["out", "out", "inout"]), 0))
        reals = [Var(d, rank, writable=intent != "in") for d, intent, rank in sig]
        reals += [Var("t", 0), Var("acc", 0)]
        if dtype:
            reals += [Var("st%v", 1), Var("st%s", 0)]
        if self.ch.chance(0.5):
            reals.append(Var("w", 1))
        if self.state:  # functions only read the module variable: no side effects
            reals.append(Var(self.state, 0, writable=not func, glob=True))
        int_arg = (
            not func
            and "index-argument" not in self.exclude
            and "integer-scratch" not in self.exclude
            and self.ch.chance(0.7)
        )
        r = Routine(
            name,
            "func" if func else "sub",
            [
                "n",
                *(["kk"] if int_arg else []),
                *(d for d, _, _ in sig),
                *(["st"] if dtype else []),
            ],
            reals,
            (NMIN - 1, NMAX),
            "acc",
            callees=callees,
            sig=sig,
            private=self.ch.chance(0.2) and "private-helper" not in self.exclude,
            int_arg=int_arg,
            effects=effects,
            dtype=dtype,
            type_arg=bool(dtype),
        )
        if func:
            r.result = self.ch.choice([name, "res"])
            if "array-function" not in self.exclude and self.ch.chance(0.4):
                r.result_rank = 1
        return r

    def body(self, r: Routine, budget: int) -> None:
        intents = {d: intent for d, intent, _ in r.sig}
        defined = [
            v.name for v in r.reals if v.rank == 1 and intents.get(v.name) in ("in", "inout")
        ]
        init = []
        for v in r.reals:
            if intents.get(v.name) in ("in", "inout") or (v.glob and r.kind != "head"):
                continue  # defined on entry
            if r.type_arg and "%" in v.name:
                continue  # components of the INTENT(INOUT) dummy st
            if v.alias:  # after its target's definition (r.reals lists the target first)
                # or with the section of all of it: then the pointer stays a second name
                section = "(1:n)" if self.ch.chance(0.5) else ""
                init.append(f"{v.name} => {v.alias}{section}")
            elif v.name == r.acc:
                init.append(f"{v.name} = 0.0_dp")
            elif v.rank == 1:
                if "%" in v.name:  # an allocatable component (feature derived-type)
                    init.append(f"allocate({v.name}(n))")
                src = Ex(self.ch.choice(defined), -R, R)
                e = fn("tanh", [src], -1, 1) if self.ch.chance(0.5) else src
                init.append(f"{v.sec()} = {scale(e, 0.5).text}")
            else:
                init.append(f"{v.name} = {lit(self.ch.choice([0.5, 0.25, 1.0])).text}")
        if r.int_arg:  # the caller's kk is in [1, its n]: keep 1 <= kk <= n here too
            init.append("kk = min(kk, n)")
        elif "integer-scratch" not in self.exclude:
            init.append("kk = 1")
        self.stmts_left = budget
        self.loop_count = 0
        fill, use = [], []
        if "save-state" not in self.exclude and self.ch.chance(0.25):
            from fortran_ad.checks.fuzzgen.storage import save_state

            fill, use = save_state(self, r)
        lines = [*fill, *init, *self.block(r, [], 3, 0, 2, 6), *use]
        # every output depends on the body: fold the accumulator in at the end
        res = r.result or next((d for d, i, k in r.sig if i == "out" and k == 0), None)
        if r.kind == "head":
            rest = [v.name if v.rank == 0 else f"sum({v.sec()})" for v in r.reals[3:]]
            rest.append(self.ch.choice(["0.1_dp*sum(y**2)", "0.1_dp*sum(y)", "y(1)"]))
            if "independent-output" in self.exclude:  # every output depends on every input
                rest.append("0.01_dp*sum(x)")
                lines.append("y(1) = y(1) + 0.01_dp*x(n)")
            lines.append(" + ".join([f"{r.acc} = {r.acc}", *rest]))
        elif r.result_rank:  # elementwise from the input array, in [-0.6, 0.6]
            lines.append(f"{res} = 0.5_dp*tanh(a) + 0.1_dp*tanh({r.acc})")
        elif res is not None:
            lines.append(f"{res} = tanh({r.acc})")
        else:
            outs = [d for d, i, k in r.sig if i != "in" and k == 1]
            lines.append(f"{outs[0]}(1) = {outs[0]}(1) + 0.1_dp*tanh({r.acc})")
        if r.effects:  # the side effect, whatever the body did
            lines.append(f"b(1) = 0.5_dp*b(1) + 0.25_dp*tanh({r.acc})")
        if r.int_arg:  # the index argument changes: the caller reads it afterwards
            lines.append(self.ch.choice(["kk = mod(kk, n) + 1", "kk = n + 1 - kk"]))
        r.lines = lines
