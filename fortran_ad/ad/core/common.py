"""What the tangent and adjoint transforms of one routine share: activity queries, derivative
names, typed literals, what a statement writes, and the declarations of the new routine."""

from __future__ import annotations

from dataclasses import dataclass, field

from fortran_ad.ad.core.naming import Namer, is_vector
from fortran_ad.ad.core.rules import RuleCtx, linearize
from fortran_ad.ad.core.writes import WriteSets
from fortran_ad.analysis.activity import Activity
from fortran_ad.analysis.components import component_active
from fortran_ad.errors import FortranADError
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.printer import dims_text, type_text
from fortran_ad.ir.program import Program, RoutineInfo, dummy_map
from fortran_ad.ir.symbols import may_carry, type_name
from fortran_ad.ir.types import Typer, real_literal
from fortran_ad.ir.walk import base_name, bodies
from fortran_ad.normalize.actuals import global_writes


@dataclass
class RoutineAD(WriteSets):
    """Per-routine state of a transform (tangent or adjoint); what statements and calls
    write: ad/core/writes.py."""

    program: Program
    info: RoutineInfo
    routine: ir.Routine  # normalized
    activity: Activity
    mode: str
    namer: Namer
    globals: object = None  # fortran_ad.ad.core.globals.Globals
    temps: list[ir.Symbol] = field(default_factory=list)
    # extents of allocatable temporaries as the cost model should count them (block_tape)
    cost_dims: dict[str, tuple[ir.Dim, ...]] = field(default_factory=dict)
    # globals to USE for saving around calls -> their local names in the derivative routine
    extra_keys: dict = field(default_factory=dict)
    periods: dict = field(default_factory=dict)  # loop key -> checkpoint Option (absent: store)
    sizes: object = field(default_factory=dict)  # the cost model's SizeEnv (or plain hints)
    callee_cost: object = None  # flops of one call of a routine (the cost model's)

    @property
    def active(self) -> set[str]:
        return self.activity.active(self.routine.name)

    def lookup(self, name: str) -> ir.Symbol | None:
        sym = self.routine.symbol(name)
        if sym is None:
            sym = self.info.scope.lookup(name)
        if sym is None and self.extra_keys:  # a global the derivative routine USEs (renamed)
            key = next((k for k, n in self.extra_keys.items() if n == name), None)
            if key is not None and key[0] in self.program.modules:
                sym = self.program.modules[key[0]].symbol(key[1])
        return sym

    def is_active(self, e: ir.Expr) -> bool:
        b = base_name(e)
        if b is None or b not in self.active:
            return False
        if isinstance(e, ir.Name | ir.ArrayRef) and "%" in e.name:  # only real components
            # (unknown ones too: ad/constructs/derived.py then names the type)
            sym = self.lookup(e.name)
            if sym is not None and not component_active(
                self.activity.components, e.name, self.lookup
            ):
                return False  # a passive component (analysis/components.py)
            return may_carry(sym) or sym is None
        return True

    def typer(self) -> Typer:
        """The typer of this routine's scope (ir/types.py), with the program's functions."""
        return Typer(self.lookup, self.program.function_result)

    def type_of(self, e: ir.Expr) -> ir.TypeSpec | None:
        """The real type of an expression, None when it is not real (an integer-valued
        subexpression such as ``size(x)`` is a constant of the derivative rules)."""
        t = self.typer().of(e)
        return t.spec if t is not None and t.is_real else None

    def rule_ctx(self) -> RuleCtx:
        return RuleCtx(self.type_of)

    def linearize(self, e: ir.Expr, loc: ir.SourceLoc) -> list[tuple[ir.Expr, ir.Expr | None]]:
        from fortran_ad.ad.constructs.derived import refuse_derived_operators

        refuse_derived_operators(self, e, loc)
        return linearize(e, self.is_active, self.rule_ctx(), loc)

    @property
    def vector(self) -> bool:
        return is_vector(self.mode)

    @property
    def tangent_like(self) -> bool:
        return self.mode in ("forward", "vector")

    def deriv(self, e: ir.Expr, loc: ir.SourceLoc | None = None) -> ir.Expr:
        """The derivative designator of an active designator: x → xb, a(i) → ab(i); in the
        vector modes all directions at once: x → xb(:), a(i) → ab(:, i), whole a → ab.
        The direction is the LEADING dimension (as in Tapenade) so that F77 sequence
        association (passing a(i) or a larger array to an explicit-shape dummy) stays right."""
        if isinstance(e, ir.Name | ir.ArrayRef) and "%" in e.name:
            from fortran_ad.ad.constructs.derived import component_deriv

            return component_deriv(self, e, loc)
        if isinstance(e, ir.Name):
            name = ir.Name(self.namer.derivative(e.name))
            sym = self.lookup(e.name)
            if self.vector and (sym is None or sym.rank == 0):
                return ir.ArrayRef(name.name, (ir.Range(),))
            return name
        if isinstance(e, ir.ArrayRef):
            subs = (ir.Range(), *e.subs) if self.vector else e.subs
            return ir.ArrayRef(self.namer.derivative(e.name), subs)
        from fortran_ad.ir.printer import expr

        raise FortranADError(
            loc or self.routine.loc,
            f"cannot differentiate through '{expr(e)}': derived-type components and other "
            "designators fortran-ad does not model yet carry active data here",
        )

    def refuse_entry(self, s: ir.Opaque) -> None:
        if s.text.strip().lower().startswith("entry"):
            raise FortranADError(
                s.loc, "ENTRY statements are not supported yet in differentiated routines (#8)"
            )

    def check_target(self, s: ir.Assign) -> None:
        if self.is_active(s.target) and not isinstance(s.target, ir.Name | ir.ArrayRef):
            self.deriv(s.target, s.loc)

    def zero(self, e: ir.Expr) -> ir.Expr:
        return real_literal("0.0", self.type_of(e))

    def temp(
        self,
        stem: str,
        t: ir.TypeSpec | None,
        dims: tuple[ir.Dim, ...] = (),
        attrs: frozenset[str] = frozenset(),
    ) -> str:
        name = self.namer.temp(stem)
        self.temps.append(ir.Symbol(name, t, dims, attrs=attrs))
        return name

    # -- calls -------------------------------------------------------------------------------
    def callee(self, name: str, loc: ir.SourceLoc) -> RoutineInfo | None:
        return self.program.get(name)

    def callee_active(self, name: str) -> set[str]:
        return self.activity.active(name) if self.program.get(name) else set()

    def check_external(self, s: ir.CallStmt) -> None:
        for a in s.args:
            v = a.value if isinstance(a, ir.Keyword) else a
            b = base_name(v)
            if b in self.active:
                from fortran_ad.ad.core.naming import routine_name

                raise FortranADError(
                    s.loc,
                    f"no source for '{s.name}', called with active argument '{b}': its "
                    f"derivative '{routine_name(s.name, self.mode)}' is required",
                    "add the file that defines it",
                )

    def side_effects(self, s: ir.Assign) -> ir.Routine | None:
        """The callee of ``s = f(...)`` when ``s``'s target is passive (or ``f``'s result is)
        but ``f`` has a derivative routine callers must call (it writes active arguments or
        module variables): the derivative code calls that routine, not the primal function
        (else the side effects' derivatives are silently lost). The result may be active
        in other references of ``f`` (``effects_result``)."""
        if not isinstance(s.value, ir.Call):
            return None
        info = self.program.get(s.value.name)
        if info is None or info.routine.kind != "function":
            return None
        callee = info.routine
        if callee.result in self.callee_active(callee.name) and self.is_active(s.target):
            return None  # an active result: the function's derivative call anyway
        return callee if self.active_effects(callee) else None

    def effects_result(self, s: ir.Assign, callee: ir.Routine, stem: str) -> tuple:
        """The result arguments of the derivative call of ``s = f(...)`` made for its side
        effects (``side_effects``): the primal result in tangent modes, and a derivative
        temporary when ``f``'s result carries derivatives in other references (its
        derivative routine then has that argument; here it is zero: this target is
        passive)."""
        if callee.result not in self.callee_active(callee.name):
            return (s.target,) if self.tangent_like else ()
        sym = self.lookup(base_name(s.target) or "")
        if sym is not None and sym.rank and isinstance(s.target, ir.Name):
            if any(d.kind != "explicit" for d in sym.dims):
                raise FortranADError(
                    s.loc,
                    f"the array result of '{callee.name}' goes to '{sym.name}' of deferred "
                    "shape where the function is referenced for its side effects",
                    "assign the reference to an explicit-shape array",
                )
            lead = (ir.Dim("explicit", None, ir.Name(self.namer.nbdirs)),) if self.vector else ()
            scratch: ir.Expr = ir.Name(self.temp(stem, sym.type, (*lead, *sym.dims)))
        else:
            scratch = self.deriv_temp(stem, s.target)
        return (s.target, scratch) if self.tangent_like else (scratch,)

    def active_effects(self, callee: ir.Routine) -> bool:
        """Does ``callee`` write an active argument or an active module variable (itself or
        through its calls)? Reading one is no side effect: a function that only reads keeps
        its primal reference when its result is passive."""
        if self.callee_active(callee.name) & {
            a for a in callee.args if getattr(callee.symbol(a), "intent", "") != "in"
        }:
            return True
        return bool(global_writes(self.program, callee.name) & self.activity.active_globals)

    def derivative_args(
        self,
        callee: ir.Routine,
        args: tuple[ir.Expr, ...],
        loc: ir.SourceLoc | None = None,
        result: tuple[ir.Expr, ...] = (),
    ) -> tuple[ir.Expr, ...]:
        """Actual arguments of a call to a derivative routine (derivative after each active;
        ``result``: the function result and/or its derivative, appended). After an absent
        OPTIONAL argument the rest are passed by keyword."""
        active = self.callee_active(callee.name)
        amap = dummy_map(args, callee)
        out: list[ir.Expr] = []
        keywords = False
        callee_names = None

        def put(dummy: str, value: ir.Expr, deriv: bool = False) -> None:
            nonlocal callee_names
            if not keywords:
                out.append(value)
                return
            if callee_names is None:
                from fortran_ad.ir.walk import routine_names

                callee_names = Namer(routine_names(callee), self.mode)
            out.append(ir.Keyword(callee_names.derivative(dummy) if deriv else dummy, value))

        for d in callee.args:
            if d not in amap:
                keywords = True  # optional argument not given
                continue
            a = amap[d]
            put(d, a)
            if d in active:
                dummy = callee.symbol(d)
                element = isinstance(a, ir.ArrayRef) and not any(
                    isinstance(x, ir.Range) for x in a.subs
                )
                if self.vector and dummy is not None and dummy.rank and element:
                    # sequence association: the derivative's storage starts at (1, i, ...)
                    one = ir.Literal("1", "integer")
                    put(d, ir.ArrayRef(self.namer.derivative(a.name), (one, *a.subs)), True)
                    continue
                put(d, self.deriv(a, loc), True)
        if result:
            res = callee.result or callee.name
            if len(result) == 2:
                put(res, result[0])
                put(res, result[1], True)
            else:  # the tangent of a passive result gets the primal result only
                put(res, result[0], res in active)
        if keywords and self.vector:
            out.append(ir.Keyword(self.namer.nbdirs, ir.Name(self.namer.nbdirs)))
        return tuple(out)

    def nbdirs_after(self, args: tuple[ir.Expr, ...]) -> tuple[ir.Expr, ...]:
        """The trailing ``nbdirs`` unless derivative_args already passed it by keyword."""
        if args and isinstance(args[-1], ir.Keyword):
            return ()
        return self.nbdirs_args()

    def allocate_like(self, name: str) -> ir.Stmt:
        """ALLOCATE the derivative of an allocatable like its primal (plus nbdirs)."""
        d = self.namer.derivative(name)
        if not self.vector:
            return ir.Opaque(f"allocate({d}, mold={name})")
        rank = self.lookup(name).rank
        bounds = [f"lbound({name}, {k}):ubound({name}, {k})" for k in range(1, rank + 1)]
        return ir.Opaque(f"allocate({d}({', '.join([self.namer.nbdirs, *bounds])}))")

    def nbdirs_args(self) -> tuple[ir.Expr, ...]:
        """The trailing ``nbdirs`` argument of vector-mode calls (none otherwise)."""
        return (ir.Name(self.namer.nbdirs),) if self.vector else ()

    def deriv_temp(self, stem: str, like: ir.Expr) -> ir.Expr:
        """A scalar derivative temporary (one per direction in the vector modes)."""
        dims = (ir.Dim("explicit", None, ir.Name(self.namer.nbdirs)),) if self.vector else ()
        sym = self.lookup(like.name) if isinstance(like, ir.Name | ir.ArrayRef) else None
        t = sym.type if type_name(sym) is not None else self.type_of(like)  # derived: same type
        name = self.temp(stem, t, dims)
        return ir.ArrayRef(name, (ir.Range(),)) if self.vector else ir.Name(name)

    # -- declarations ------------------------------------------------------------------------
    def signature(self) -> list[str]:
        """Dummy arguments of the derivative routine."""
        r = self.routine
        out: list[str] = []
        for a in r.args:
            out.append(a)
            if a in self.active:
                out.append(self.namer.derivative(a))
        if r.kind == "function":
            if self.tangent_like:
                out.append(r.result)
            if r.result in self.active:
                out.append(self.namer.derivative(r.result))
        if self.vector:
            out.append(self.namer.nbdirs)
        return out

    def declarations(self) -> list[str]:
        """Declarations of derivative variables and helpers (the primal ones are copied)."""
        lines: list[str] = []
        r = self.routine
        for sym in r.symbols:
            if "generated" in sym.attrs:
                lines.append(decl(sym.name, sym))
        if self.vector:
            lines.append(f"integer, intent(in) :: {self.namer.nbdirs}")
        for sym in r.symbols:
            if sym.name in self.active and "parameter" not in sym.attrs:
                intent = "inout" if sym.name in r.args or sym.name == r.result else None
                if self.tangent_like and sym.name in r.args:
                    # intent-less: INTENT(INOUT) at the head (the user seeds and reads it),
                    # none in callees (an actual may be INTENT(IN) where the dummy is unwritten)
                    head = r.name == self.activity.head
                    intent = sym.intent or ("inout" if head else None)
                dsym = self._vector_sym(_unsaved(sym))
                lines.append(decl(self.namer.derivative(sym.name), dsym, intent))
        for sym in self.temps:
            lines.append(decl(sym.name, sym))
            if "save" in sym.attrs:  # work arrays kept between calls: one per thread
                lines.append(f"!$omp threadprivate({sym.name})")
        return lines

    def _vector_sym(self, sym: ir.Symbol) -> ir.Symbol:
        """The symbol a derivative is declared like: one more, leading, dimension nbdirs."""
        if not self.vector:
            return sym
        from dataclasses import replace

        if any(d.kind == "assumed_size" for d in sym.dims):
            raise FortranADError(
                sym.loc, f"vector modes cannot extend the assumed-size array '{sym.name}'"
            )
        kinds = {d.kind for d in sym.dims}
        if "deferred" in kinds:
            extra = ir.Dim("deferred")
        elif "assumed" in kinds:
            extra = ir.Dim("assumed")
        else:
            extra = ir.Dim("explicit", None, ir.Name(self.namer.nbdirs))
        return replace(sym, dims=(extra, *sym.dims))

    def result_decl(self) -> list[str]:
        """A function turned subroutine: its result, if typed in the prefix, needs a line."""
        r = self.routine
        if r.kind != "function":
            return []
        declared = any(
            isinstance(i, ir.TypeDecl) and any(e.name == r.result for e in i.entities)
            for i in r.spec
        )
        if declared:
            return []
        sym = r.symbol(r.result)
        intent = "out" if self.tangent_like else None
        return [decl(r.result, sym, intent)]


def _unsaved(sym: ir.Symbol) -> ir.Symbol:
    """The derivative of a SAVE local needs no SAVE: a value carried between calls is refused
    (analysis/persistent.py), so each call writes the derivative before reading it (an
    allocatable or pointer keeps SAVE: its allocation may be carried)."""
    from dataclasses import replace

    if "save" in sym.attrs and not sym.attrs & {"allocatable", "pointer"}:
        return replace(sym, attrs=sym.attrs - {"save"})
    return sym


def decl(name: str, sym: ir.Symbol, intent: str | None = None) -> str:
    t = sym.type or ir.TypeSpec("real")
    attrs = [type_text(t)]
    attrs += [a for a in ("allocatable", "pointer", "target", "save") if a in sym.attrs]
    if "optional" in sym.attrs and intent:  # the derivative of an optional dummy is optional
        attrs.append("optional")
    if intent:
        attrs.append(f"intent({intent})")
    dims = dims_text(sym.dims) if sym.dims else ""
    return f"{', '.join(attrs)} :: {name}{dims}"


def copy_spec(r: ir.Routine, mode: str) -> tuple[ir.SpecItem, ...]:
    """The primal specification part, as written, for the derivative routine. A function's
    result keeps its declaration; in forward mode it becomes intent(out)."""
    return r.spec


def loop_vars_outside(body: tuple[ir.Stmt, ...]) -> set[str]:
    """Loop variables read somewhere outside a loop over them (their value must survive)."""
    from fortran_ad.ir.walk import names_in, stmt_exprs

    out: set[str] = set()

    def visit(stmts, enclosing: frozenset[str]) -> None:
        for s in stmts:
            for e in stmt_exprs(s):
                out.update(n for n in names_in(e) if n not in enclosing)
            inner = enclosing | {s.var} if isinstance(s, ir.Do) else enclosing
            for b in bodies(s):
                visit(b, inner)

    visit(body, frozenset())
    return out
