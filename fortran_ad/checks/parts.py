"""Harness blocks comparing derivatives component by component (derived-type dummies).

The scalar checks compare <w, F> and <xb, d> summed over every output and input, so a wrong
component of an object shows up, but not where. For each real leaf of a derived-type dummy
(``state%h``, checks/objects.py) the harness also prints, per direction k:

    COMP i path                    the name of part i (once)
    FDC k i h f_i(x+hd) f_i(x-hd) ...   <w_i, F_i> at the six FD steps (output part i)
    TANC k i <w_i, Jd_i> sum|..|        the tangent's output part i
    ADJC k i <xb_i, d_i> sum|..|        the adjoint's input part i
    TANR k i <w, J d|i> sum|..|         a tangent whose direction is d on part i only

``report.py`` makes the rows ``fd_tangent_part`` (each output part against its finite
differences) and ``dot_part`` (each input part of the adjoint against the tangent restricted to
that part: equal to rounding), each naming its component.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.checks.ftext import FMT, WP, fsum, real_wp, total

if TYPE_CHECKING:
    from fortran_ad.checks.harness import _Emitter
    from fortran_ad.checks.spec import Dummy


class PartBlocks:
    """The per-component part of one harness program (composition, like vector.py)."""

    def __init__(self, emitter: _Emitter) -> None:
        self.e = emitter
        leaves = emitter.s.leaves
        self.index = {d.name: i for i, d in enumerate(leaves, start=1)}
        self.outs = [d for d in leaves if d.of]
        self.ins = [d for d in leaves if d.wrt]

    def _line(self, tag: str, i: int, values: list[str]) -> None:
        fmt = f"'(a, 1x, i0, 1x, i0, *(1x, {FMT}))'"
        self.e.w.line(f"write(*, {fmt}) '{tag}', fad_k, {i}, {', '.join(values)}")

    def declarations(self) -> None:
        if self.outs:
            self.e.w.line(f"real({WP}) :: fad_fc(6, {len(self.outs)})")

    def names(self) -> None:
        for d in self.e.s.leaves:
            self.e.w.line(
                f"write(*, '(a, 1x, i0, 1x, a)') 'COMP', {self.index[d.name]}, '{d.name}'"
            )

    def fd_step(self) -> None:
        """Inside the FD loop: each output part's <w_i, F_i> at step fad_j."""
        for n, d in enumerate(self.outs, start=1):
            term = fsum(f"{real_wp(self.e.v('w', d))}*{real_wp(d.name)}", d)
            self.e.w.line(f"fad_fc(fad_j, {n}) = {term}")

    def fd_done(self) -> None:
        for n, d in enumerate(self.outs, start=1):
            self._line("FDC", self.index[d.name], ["fad_hs(1)", f"fad_fc(:, {n})"])

    def _pair(self, a: str, b: str, d: Dummy) -> list[str]:
        prod = f"{real_wp(a)}*{real_wp(b)}"
        return [fsum(prod, d), fsum(f"abs({prod})", d)]

    def tangent(self) -> None:
        """After the full tangent call: each output part."""
        e = self.e
        for d in self.outs:
            if e.has(d, "d"):
                self._line("TANC", self.index[d.name], self._pair(e.v("w", d), e.v("d", d), d))

    def adjoint(self) -> None:
        """After the adjoint call: each input part of <xb, d>."""
        e = self.e
        for d in self.ins:
            if e.has(d, "b"):
                self._line("ADJC", self.index[d.name], self._pair(e.v("b", d), e.v("dir", d), d))

    def restricted_tangents(self) -> None:
        """One tangent call per input part, the direction on that part only."""
        e, w, s = self.e, self.e.w, self.e.s
        for part in self.ins:
            if not e.has(part, "d"):
                continue
            e.reset()
            for d in s.dummies:
                if e.has(d, "d") and d.category != "derived":
                    w.line(f"{e.v('d', d)} = 0")
            e.derivative_objects("d", lambda d, p=part: e.v("dir", d) if d is p else "0")
            e.call("_d", "d")
            outs = [d for d in s.of() if e.has(d, "d")]
            vals = [self._pair(e.v("w", d), e.v("d", d), d) for d in outs]
            self._line(
                "TANR",
                self.index[part.name],
                [total([v[0] for v in vals]), total([v[1] for v in vals])],
            )
