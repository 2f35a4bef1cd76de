"""Harness blocks for the vector modes: K directions (or K weight vectors) in ONE call.

``vector`` (``<head>_dv``): every tangent argument ``xd`` has one more dimension of extent
``nbdirs`` = K (leading, ``xd(nbdirs, n)``, or trailing, see ``HarnessSpec.vector_axis``);
column k of the inputs' tangents is d_k, so column k of the outputs' tangents is J d_k.
``vector-reverse`` (``<head>_bv``): column k of the outputs' adjoints is seeded with w_k, so
column k of the inputs' adjoints is Jᵀ w_k (each column an independent adjoint).

The blocks print raw numbers (see ``harness.py`` for the line formats); ``report.py`` compares
them with the finite differences and scalar modes of the same k, and the two vector modes with
each other for every pair (k, j): <J d_k, w_j> = <d_k, Jᵀ w_j>.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.checks.ftext import FMT, WP, fsum, maxabs, real_wp, total

if TYPE_CHECKING:
    from fortran_ad.checks.harness import _Emitter


class VectorBlocks:
    """The vector-mode part of one harness program (composition: uses the emitter's helpers)."""

    def __init__(self, emitter: _Emitter) -> None:
        self.e = emitter

    def blocks(self) -> None:
        modes = self.e.s.modes
        if "vector" in modes:
            self.tangent()
        if "vector-reverse" in modes:
            self.adjoint()
        if "vector" in modes and "vector-reverse" in modes:
            self.dot_products()

    def _pairs(self, a: str, b: str, ka: str, kb: str, dummies: list) -> tuple[str, str]:
        """(<A(:,ka), B(:,kb)>, sum|A(:,ka)*B(:,kb)|) over ``dummies``: Fortran expressions."""
        e = self.e
        prods = [
            f"{real_wp(e.col(e.v(a, d), d, ka))}*{real_wp(e.col(e.v(b, d), d, kb))}"
            for d in dummies
        ]
        val = total([fsum(p, d) for p, d in zip(prods, dummies, strict=True)])
        mag = total([fsum(f"abs({p})", d) for p, d in zip(prods, dummies, strict=True)])
        return val, mag

    def _weighted_primal(self) -> str:
        """<w_k, F> over the outputs as they are now (after a derivative call)."""
        e = self.e
        terms = [
            fsum(f"{real_wp(e.col(e.v('ws', d), d, 'fad_k'))}*{real_wp(d.name)}", d)
            for d in e.s.of()
        ]
        return total(terms)

    def tangent(self) -> None:
        e, w, s = self.e, self.e.w, self.e.s
        w.comment(f"! vector tangent: all {s.directions} directions d_k in one call")
        e.reset()
        for d in s.dummies:
            if e.has(d, "dv"):
                w.line(f"{e.v('dv', d)} = {e.v('dirs', d) if d.wrt else '0'}")
        e.call("_dv", "dv", s.directions)
        outs = [d for d in s.of() if e.has(d, "dv")]
        val, mag = self._pairs("ws", "dv", "fad_k", "fad_k", outs)
        w.line(f"do fad_k = 1, {s.directions}")
        w.indent()
        w.line(f"fad_val = {val}")
        w.line(f"fad_abs = {mag}")
        w.line(f"fad_fwd = {self._weighted_primal()}")
        e.write("VTAN", ["fad_val", "fad_abs", "fad_fwd"])
        w.dedent()
        w.line("end do")

    def adjoint(self) -> None:
        e, w, s = self.e, self.e.w, self.e.s
        w.comment(f"! vector adjoint: all {s.directions} weight vectors w_k seeded in one call")
        e.reset()
        for d in s.dummies:
            if e.has(d, "bv"):
                w.line(f"{e.v('bv', d)} = {e.v('ws', d) if d.of else '0'}")
        e.call("_bv", "bv", s.directions)
        if s.tape:
            w.line("write(*, '(a, 1x, i0, 1x, i0)') 'VTAPE', 0, fad_tape_bytes()")
            w.line("call fad_tape_reset()")
        ins = [d for d in s.wrt() if e.has(d, "bv")]
        val, mag = self._pairs("bv", "dirs", "fad_k", "fad_k", ins)
        outs = [d for d in s.of() if e.has(d, "bv") and d.intent == "out"]
        seeds = [maxabs(real_wp(e.col(e.v("bv", d), d, "fad_k")), d) for d in outs]
        w.line(f"do fad_k = 1, {s.directions}")
        w.indent()
        w.line(f"fad_val = {val}")
        w.line(f"fad_abs = {mag}")
        w.line(f"fad_fwd = {self._weighted_primal()}")
        w.line("fad_seed = " + (f"max({', '.join(seeds)}, 0.0_{WP})" if seeds else f"0.0_{WP}"))
        e.write("VADJ", ["fad_val", "fad_abs", "fad_fwd", "fad_seed"])
        w.dedent()
        w.line("end do")

    def dot_products(self) -> None:
        """<J d_k, w_j> from the vector tangent against <d_k, Jᵀ w_j> from the vector adjoint."""
        e, w, s = self.e, self.e.w, self.e.s
        w.comment("! dot products between vector tangent and vector adjoint columns, all (k, j)")
        tan_val, tan_mag = self._pairs(
            "ws", "dv", "fad_j", "fad_k", [d for d in s.of() if e.has(d, "dv")]
        )
        adj_val, adj_mag = self._pairs(
            "bv", "dirs", "fad_j", "fad_k", [d for d in s.wrt() if e.has(d, "bv")]
        )
        w.line(f"do fad_k = 1, {s.directions}")
        w.indent()
        w.line(f"do fad_j = 1, {s.directions}")
        w.indent()
        w.line(f"fad_val = {tan_val}")
        w.line(f"fad_abs = {tan_mag}")
        w.line(f"fad_val2 = {adj_val}")
        w.line(f"fad_abs2 = {adj_mag}")
        w.line(
            f"write(*, '(a, 2(1x, i0), *(1x, {FMT}))') 'VDOT', fad_k, fad_j, "
            "fad_val, fad_abs, fad_val2, fad_abs2"
        )
        w.dedent()
        w.line("end do")
        w.dedent()
        w.line("end do")
