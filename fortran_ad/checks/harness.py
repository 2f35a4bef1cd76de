"""Emit the self-contained Fortran program that exercises primal, adjoint and tangent
(scalar and vector modes).

The program prints raw numbers only (function values, dot products, error norms, sums of
absolute values for rounding floors); ``report.py`` decides pass/fail. Keeping the policy in
Python means tolerances are tested and tuned without regenerating Fortran.

Layout: the main program holds the USE statements (the head's and its module's, so kinds like
``dp`` resolve), a Park–Miller generator and one internal subroutine ``fad_run`` that declares
every dummy under its own name. Locals of an internal procedure hide host names, so a dummy
called like a public module variable cannot clash. Harness names start with ``fad_``.

Directions: an input with a positive range gets d = u*|x| (u uniform in [-1, 1]), so x + h*d
keeps its sign for every step used (log, sqrt stay defined); others get d = u*max(|lo|, |hi|).
Every step is therefore relative to the input's size. All K directions d_k and weights w_k
are drawn first and kept as columns of arrays with a direction dimension K (``fad_dirs_x``,
``fad_ws_y``; leading or trailing like the generated vector code, ``HarnessSpec.vector_axis``):
the scalar modes use them one k at a time, the vector modes all in ONE call (``vector.py``).

Output lines (values in ``es26.17e3``)::

    EPS eps                       epsilon of the first output's kind
    BASE k <w,F(x)> sum|w*F(x)>   per direction k
    FD k h f(x+hd) f(x-hd) f(x+hd/2) f(x-hd/2) f(x+hd/4) f(x-hd/4)
    ADJ k <xb,d> sum|xb*d| <w,F> after the adjoint, max|yb| of intent(out) y, tape bytes
    TAN k <w,yd> sum|w*yd| <w,F> after the tangent
    TAYLOR k h ||F(x+hd)-F(x)-h*Jd|| ||F(x)|| ||Jd||
    VTAN k <w_k,Yd(:,k)> sum|..| <w_k,F> after the vector tangent (one call, K directions)
    VADJ k <Xb(:,k),d_k> sum|..| <w_k,F> after the vector adjoint, max|Yb(:,k)| of intent(out)
    NONFINITE name                an output is NaN or Inf at the drawn inputs (then stops)
    PEAK k tape bytes             high-water mark of the tape during the adjoint
    VTAPE 0 tape bytes            left after the vector adjoint
    VDOT k j <w_j,Yd(:,k)> sum|..| <Xb(:,j),d_k> sum|..|   for every k, j
"""

from __future__ import annotations

from fortran_ad.checks.ftext import FMT, WP, aux, column, fsum, lit, maxabs, real_wp, total
from fortran_ad.checks.parts import PartBlocks
from fortran_ad.checks.spec import DERIV_PREFIX, UNIT_SUFFIX, Dummy, HarnessSpec
from fortran_ad.checks.vector import VectorBlocks
from fortran_ad.ir.writer import Writer

FD_STEP = 2.0**-12  # relative to the input scale; then /2 and /4 for Richardson extrapolation
TAYLOR_STEP = 2.0**-8  # then /2, /4, /8
TAYLOR_LEVELS = 4
_MODE_OF_PREFIX = {p: m for m, p in DERIV_PREFIX.items()}

# the helpers under their historical names (scripts/bench_adjoint.py imports them from here)
_aux, _lit, _sum, _maxabs, _r = aux, lit, fsum, maxabs, real_wp


class _Emitter:
    """Writes the program; one method per block so each block reads like the brief."""

    def __init__(self, spec: HarnessSpec) -> None:
        self.s = spec
        self.w = Writer()
        self.idx = {d.name: i for i, d in enumerate((*spec.dummies, *spec.leaves))}
        self.by_name = {d.name: d for d in spec.dummies}
        self.vector = VectorBlocks(self)
        self.parts = PartBlocks(self)

    def v(self, prefix: str, d: Dummy) -> str:
        """The harness variable ``prefix`` of ``d``; of a component leaf, its derivative is
        the component of the object's derivative (``fad_b_state%h``), its initial value that
        of the object's copy (``fad_x0_state%h``)."""
        if d.obj is not None and prefix in ("b", "d", "x0"):
            return self.v(prefix, self.by_name[d.obj]) + d.name[len(d.obj) :]
        return aux(prefix, d, self.idx[d.name])

    def col(self, name: str, d: Dummy, index: str) -> str:
        """Direction ``index`` of the harness array ``name`` (shaped like ``d``, plus K)."""
        return column(name, d, index, self.s.vector_axis)

    def has(self, d: Dummy, prefix: str) -> bool:
        """``d`` has a derivative argument in the mode whose harness prefix is ``prefix``."""
        mode = _MODE_OF_PREFIX[prefix]
        return mode in self.s.modes and d.has(mode)

    # ---------------------------------------------------------------- program frame
    def program(self) -> str:
        s, w = self.s, self.w
        w.comment(f"! fortran-ad derivative check of {s.head} (generated, deterministic)")
        w.line("program fad_check")
        w.indent()
        w.line("use, intrinsic :: iso_fortran_env, only: fad_int64 => int64")
        w.line("use, intrinsic :: ieee_arithmetic, only: fad_finite => ieee_is_finite")
        for u in s.uses:
            w.line(u)
        if s.module is not None:
            w.line(f"use {s.module}")
            for mode, suffix in UNIT_SUFFIX.items():
                if mode in s.modes:
                    w.line(f"use {s.module}_{suffix}, only: {s.head}_{suffix}")
        if s.tape:
            w.line(
                "use fad_tape, only: fad_tape_set_limit, fad_tape_bytes, fad_tape_reset, "
                "fad_tape_peak_bytes, fad_omp_min_work"
            )
        w.line("implicit none")
        w.line(f"integer, parameter :: {WP} = selected_real_kind(15, 307)")
        w.line(f"integer(fad_int64) :: fad_state = {1 + (s.seed * 7919 + 12345) % 2147483646}")
        if s.tape:
            w.line(f"call fad_tape_set_limit({s.memory_limit}_fad_int64)")
            w.line("fad_omp_min_work = 0  ! every adjoint loop put on threads runs on them")
        w.line("call fad_run()")
        w.dedent()
        w.line("contains")
        w.indent()
        self.helpers()
        self.run()
        w.dedent()
        w.line("end program fad_check")
        return w.text()

    def helpers(self) -> None:
        w = self.w
        for line in (
            "!> Park-Miller minimal standard generator: identical numbers on every platform.",
            "function fad_rand() result(r)",
            f"  real({WP}) :: r",
            "  fad_state = modulo(48271_fad_int64*fad_state, 2147483647_fad_int64)",
            f"  r = real(fad_state, {WP})/2147483647.0_{WP}",
            "end function fad_rand",
            "",
            "!> n numbers uniform in [lo, hi].",
            "subroutine fad_draw(v, n, lo, hi)",
            f"  real({WP}), allocatable, intent(inout) :: v(:)",
            "  integer, intent(in) :: n",
            f"  real({WP}), intent(in) :: lo, hi",
            "  integer :: i",
            "  if (allocated(v)) deallocate(v)",
            "  allocate(v(n))",
            "  do i = 1, n",
            "    v(i) = lo + (hi - lo)*fad_rand()",
            "  end do",
            "end subroutine fad_draw",
            "",
        ):
            w.line(line) if line else w.blank()

    # ---------------------------------------------------------------- declarations
    def declare(self, name: str, d: Dummy, extra: int = 0) -> None:
        """Declare ``name`` like dummy ``d`` (allocatable), with ``extra`` more dimensions."""
        rank = d.rank + extra
        if rank:
            self.w.line(f"{d.type}, allocatable :: {name}({', '.join([':'] * rank)})")
        else:
            self.w.line(f"{d.type} :: {name}")

    def columns(self, d: Dummy) -> list[str]:
        """Harness arrays shaped like ``d`` plus a direction dimension of extent K: all
        directions (``dirs``), all weights (``ws``), the vector modes' derivatives."""
        out = [self.v("dirs", d)] if d.wrt else []
        out += [self.v("ws", d)] if d.of else []
        out += [self.v(p, d) for p in ("dv", "bv") if self.has(d, p)]
        return out

    def declarations(self) -> None:
        s, w = self.s, self.w
        for p in s.params:
            w.line(p)
        for d in s.dummies:
            self.declare(d.name, d)
            self.declare(self.v("x0", d), d)
        for d in (*s.dummies, *s.leaves):
            if d.wrt:
                self.declare(self.v("dir", d), d)
            if d.of:
                self.declare(self.v("w", d), d)
                self.declare(self.v("f0", d), d)
                self.declare(self.v("jd", d), d)
            if self.has(d, "b") and d.obj is None:
                self.declare(self.v("b", d), d)
            if self.has(d, "d") and d.obj is None:
                self.declare(self.v("d", d), d)
            for name in self.columns(d):
                self.declare(name, d, extra=1)
        w.line("integer :: fad_k, fad_j")
        w.line(f"real({WP}) :: fad_h, fad_val, fad_abs, fad_fwd, fad_seed, fad_nf0, fad_njd")
        w.line(f"real({WP}) :: fad_f({2 * 3}), fad_hs({2 * 3}), fad_base, fad_s0, fad_err")
        w.line(f"real({WP}) :: fad_val2, fad_abs2")
        w.line(f"real({WP}), allocatable :: fad_tmp(:)")
        w.line("logical :: fad_bad")
        self.parts.declarations()

    # ---------------------------------------------------------------- setting values
    def fill(self, target: str, d: Dummy, lo: float, hi: float) -> None:
        """target = uniform numbers in [lo, hi] (any rank)."""
        if d.rank:
            self.w.line(f"call fad_draw(fad_tmp, size({target}), {lit(lo)}, {lit(hi)})")
            self.w.line(f"{target} = reshape(real(fad_tmp, kind({target})), shape({target}))")
        else:
            self.w.line(f"{target} = real({lit(lo)} + {lit(hi - lo)}*fad_rand(), kind({target}))")

    def initial_values(self) -> None:
        w = self.w
        scalars = [d for d in self.s.dummies if not d.rank]
        for d in scalars + [d for d in self.s.dummies if d.rank]:
            if d.category == "derived":
                self.object_values(d)
                continue
            if d.rank:
                w.line(f"allocate({d.name}{d.dims})")
            if d.fixed is None:
                self.fill(d.name, d, d.lo, d.hi)
            elif d.category == "logical":
                w.line(f"{d.name} = {'.true.' if d.fixed else '.false.'}")
            elif d.category == "integer":
                w.line(f"{d.name} = {int(d.fixed)}")
            else:
                w.line(f"{d.name} = real({lit(float(d.fixed))}, kind({d.name}))")
        for d in (*self.s.dummies, *self.s.leaves):
            if d.obj is None:
                w.line(f"{self.v('x0', d)} = {d.name}")
            others = [self.v(p, d) for p in ("dir",) if d.wrt]
            others += [self.v(p, d) for p in ("w", "f0", "jd") if d.of]
            others += [self.v(p, d) for p in ("b", "d") if self.has(d, p) and d.obj is None]
            for o in others:
                copy = not d.rank or d.category == "derived"  # (an array of objects: a copy)
                w.line(f"{o} = {d.name}" if copy else f"allocate({o}, mold={d.name})")
            bounds = [f"lbound({d.name}, {i}):ubound({d.name}, {i})" for i in range(1, d.rank + 1)]
            k = str(self.s.directions)
            dims = [k, *bounds] if self.s.vector_axis == "leading" else [*bounds, k]
            for o in self.columns(d):
                w.line(f"allocate({o}({', '.join(dims)}))")

    def object_values(self, obj: Dummy) -> None:
        """Allocate and draw the real leaves of a derived-type dummy, set its fixed passive
        components (checks/objects.py)."""
        if obj.rank:
            self.w.line(f"allocate({obj.name}{obj.dims})")
        for d in self.s.leaves:
            if d.obj == obj.name:
                if d.alloc is not None:
                    self.w.line(f"allocate({d.name}{d.alloc})")
                self.fill(d.name, d, d.lo, d.hi)
        for path, value in self.s.passive:
            if path.split("%", 1)[0] == obj.name:
                text = (".true." if value else ".false.") if isinstance(value, bool) else value
                self.w.line(f"{path} = {text}")

    def derivative_objects(self, prefix: str, value) -> None:
        """Derivative objects shaped like their primal (a copy), then every real leaf set:
        ``value(leaf)`` (the seed of an output, the direction of an input, or zero)."""
        for d in self.s.dummies:
            if d.category == "derived" and self.has(d, prefix):
                self.w.line(f"{self.v(prefix, d)} = {self.v('x0', d)}")
        for d in self.s.leaves:
            if self.has(d, prefix):
                self.w.line(f"{self.v(prefix, d)} = {value(d)}")

    def reset(self, h: str | None = None) -> None:
        """Restore every dummy; with ``h``, move the wrt inputs to x + h*d."""
        for d in self.s.dummies:
            self.w.line(f"{d.name} = {self.v('x0', d)}")
        if h is not None:
            for d in self.s.wrt():
                moved = f"{real_wp(d.name)} + {h}*{real_wp(self.v('dir', d))}"
                self.w.line(f"{d.name} = real({moved}, kind({d.name}))")

    def weighted(self, target: str, prefix: str | None = None) -> None:
        """target = <w, F> over the outputs (or over their ``prefix`` companions)."""
        terms = []
        for d in self.s.of():
            y = d.name if prefix is None else self.v(prefix, d)
            terms.append(fsum(f"{real_wp(self.v('w', d))}*{real_wp(y)}", d))
        self.w.line(f"{target} = " + " + ".join(terms))

    def call(self, suffix: str = "", deriv: str | None = None, nbdirs: int | None = None) -> None:
        """Call the head (``suffix`` "" for the primal, "_b" …) passing, after each dummy with
        a derivative in that mode, its ``deriv``-prefixed companion; ``nbdirs`` comes last."""
        args = []
        for d in self.s.dummies:
            args.append(d.name)
            if deriv is not None and self.has(d, deriv):
                args.append(self.v(deriv, d))
        if nbdirs is not None:
            args.append(str(nbdirs))
        if self.s.setup is not None:
            self.w.line(f"call {self.s.setup}()")
        self.w.line(f"call {self.s.head}{suffix}({', '.join(args)})")

    def write(self, tag: str, values: list[str], count: str | None = None) -> None:
        fmt = (
            f"'(a, 1x, i0, *(1x, {FMT}))'"
            if count is None
            else f"'(a, 1x, i0, {len(values)}(1x, {FMT}), 1x, i0)'"
        )
        tail = f", {count}" if count is not None else ""
        self.w.line(f"write(*, {fmt}) '{tag}', fad_k, {', '.join(values)}{tail}")

    # ---------------------------------------------------------------- the checks
    def run(self) -> None:
        s, w = self.s, self.w
        w.blank()
        w.line("subroutine fad_run()")
        w.indent()
        self.declarations()
        self.initial_values()
        w.line(
            f"fad_hs = {lit(FD_STEP)}*[1.0_{WP}, -1.0_{WP}, 0.5_{WP}, -0.5_{WP}, "
            f"0.25_{WP}, -0.25_{WP}]"
        )
        first = s.of()[0]
        w.line(f"write(*, '(a, 1x, {FMT})') 'EPS', real(epsilon({first.name}), {WP})")
        self.parts.names()
        w.comment("! outputs at the unperturbed inputs")
        self.reset()
        self.call()
        for d in s.of():
            w.line(f"{self.v('f0', d)} = {d.name}")
        self.finite_outputs()
        w.line("do fad_k = 1, " + str(s.directions))
        w.indent()
        self.directions()
        w.dedent()
        w.line("end do")
        w.line("do fad_k = 1, " + str(s.directions))
        w.indent()
        self.select_direction()
        self.finite_differences()
        if "reverse" in s.modes:
            self.adjoint()
        if "forward" in s.modes:
            self.tangent()
            self.taylor()
        if "reverse" in s.modes and "forward" in s.modes:
            self.parts.restricted_tangents()
        w.dedent()
        w.line("end do")
        self.vector.blocks()
        w.dedent()
        w.line("end subroutine fad_run")

    def finite_outputs(self) -> None:
        """Stop with ``NONFINITE name`` lines when the primal's outputs at the drawn inputs
        are not finite: every later number would be NaN (report.py says so in one sentence)."""
        w = self.w
        w.line("fad_bad = .false.")
        for d in self.s.of():
            w.line(f"if (.not. all(fad_finite([{d.name}]))) then")
            w.line(f"  write(*, '(a)') 'NONFINITE {d.name}'")
            w.line("  fad_bad = .true.")
            w.line("end if")
        w.line("if (fad_bad) return")

    def directions(self) -> None:
        w = self.w
        w.comment("! random direction d_k (relative to each input's size) and weights w_k, kept")
        for d in self.s.wrt():
            if d.relative:
                self.fill(self.v("dir", d), d, -1.0, 1.0)
                w.line(f"{self.v('dir', d)} = {self.v('dir', d)}*abs({self.v('x0', d)})")
            else:
                self.fill(self.v("dir", d), d, -d.scale, d.scale)
            w.line(f"{self.col(self.v('dirs', d), d, 'fad_k')} = {self.v('dir', d)}")
        for d in self.s.of():
            self.fill(self.v("w", d), d, -1.0, 1.0)
            w.line(f"{self.col(self.v('ws', d), d, 'fad_k')} = {self.v('w', d)}")
        self.weighted("fad_base", "f0")
        terms = [
            fsum(f"abs({real_wp(self.v('w', d))}*{real_wp(self.v('f0', d))})", d)
            for d in self.s.of()
        ]
        w.line("fad_s0 = " + " + ".join(terms))
        self.write("BASE", ["fad_base", "fad_s0"])

    def select_direction(self, index: str = "fad_k") -> None:
        """d = d_index and w = w_index from the kept columns."""
        for d in self.s.wrt():
            self.w.line(f"{self.v('dir', d)} = {self.col(self.v('dirs', d), d, index)}")
        for d in self.s.of():
            self.w.line(f"{self.v('w', d)} = {self.col(self.v('ws', d), d, index)}")

    def finite_differences(self) -> None:
        w = self.w
        w.comment("! central differences of <w, F> along d at h, h/2, h/4")
        w.line("do fad_j = 1, 6")
        w.indent()
        self.reset("fad_hs(fad_j)")
        self.call()
        self.weighted("fad_f(fad_j)")
        self.parts.fd_step()
        w.dedent()
        w.line("end do")
        self.write("FD", ["fad_hs(1)", "fad_f"])
        self.parts.fd_done()

    def adjoint(self) -> None:
        w, s = self.w, self.s
        w.comment("! adjoint: seed w on the outputs, <xb, d> over the inputs")
        self.reset()
        for d in s.dummies:
            if self.has(d, "b") and d.category != "derived":
                b = self.v("b", d)
                w.line(f"{b} = {self.v('w', d)}" if d.of else f"{b} = 0")
        self.derivative_objects("b", lambda d: self.v("w", d) if d.of else "0")
        self.call("_b", "b")
        self.parts.adjoint()
        terms = [(self.v("b", d), self.v("dir", d), d) for d in s.wrt() if self.has(d, "b")]
        w.line("fad_val = " + total([fsum(f"{real_wp(b)}*{real_wp(x)}", d) for b, x, d in terms]))
        w.line(
            "fad_abs = " + total([fsum(f"abs({real_wp(b)}*{real_wp(x)})", d) for b, x, d in terms])
        )
        self.weighted("fad_fwd")
        outs = [d for d in s.of() if self.has(d, "b") and d.intent == "out"]
        seeds = [maxabs(real_wp(self.v("b", d)), d) for d in outs]
        w.line("fad_seed = " + (f"max({', '.join(seeds)}, 0.0_{WP})" if seeds else f"0.0_{WP}"))
        tape = "fad_tape_bytes()" if s.tape else "0"
        self.write("ADJ", ["fad_val", "fad_abs", "fad_fwd", "fad_seed"], tape)
        if s.tape:
            w.line("write(*, '(a, 1x, i0, 1x, i0)') 'PEAK', fad_k, fad_tape_peak_bytes()")
            w.line("call fad_tape_reset()")

    def tangent(self) -> None:
        w, s = self.w, self.s
        w.comment("! tangent: direction d on the inputs, <w, yd> over the outputs")
        self.reset()
        for d in s.dummies:
            if self.has(d, "d") and d.category != "derived":
                w.line(f"{self.v('d', d)} = {self.v('dir', d) if d.wrt else '0'}")
        self.derivative_objects("d", lambda d: self.v("dir", d) if d.wrt else "0")
        self.call("_d", "d")
        self.parts.tangent()
        for d in s.of():
            w.line(f"{self.v('jd', d)} = {self.v('d', d) if self.has(d, 'd') else '0'}")
        self.weighted("fad_val", "jd")
        terms = [
            fsum(f"abs({real_wp(self.v('w', d))}*{real_wp(self.v('jd', d))})", d) for d in s.of()
        ]
        w.line("fad_abs = " + " + ".join(terms))
        self.weighted("fad_fwd")
        self.write("TAN", ["fad_val", "fad_abs", "fad_fwd"])

    def taylor(self) -> None:
        w, s = self.w, self.s
        w.comment("! Taylor test: ||F(x+hd) - F(x) - h*Jd|| must decay like h**2")
        w.line(
            "fad_nf0 = sqrt("
            + " + ".join(fsum(f"{real_wp(self.v('f0', d))}**2", d) for d in s.of())
            + ")"
        )
        w.line(
            "fad_njd = sqrt("
            + " + ".join(fsum(f"{real_wp(self.v('jd', d))}**2", d) for d in s.of())
            + ")"
        )
        w.line(f"do fad_j = 1, {TAYLOR_LEVELS}")
        w.indent()
        w.line(f"fad_h = {lit(TAYLOR_STEP)}*0.5_{WP}**(fad_j - 1)")
        self.reset("fad_h")
        self.call()
        parts = []
        for d in s.of():
            diff = (
                f"{real_wp(d.name)} - {real_wp(self.v('f0', d))} - fad_h*{real_wp(self.v('jd', d))}"
            )
            parts.append(fsum(f"({diff})**2", d))
        w.line("fad_err = sqrt(" + " + ".join(parts) + ")")
        self.write("TAYLOR", ["fad_h", "fad_err", "fad_nf0", "fad_njd"])
        w.dedent()
        w.line("end do")


def harness_source(spec: HarnessSpec) -> str:
    """Fortran text of the check program for ``spec`` (deterministic for a given spec)."""
    return _Emitter(spec).program()
