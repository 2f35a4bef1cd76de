"""Two-colour blocks instead of gather buffers for a parallel adjoint loop (rewrite
``omp_colour``; used by ad/parallel/loops.py).

The adjoint of a stencil loop over ``j`` increments its neighbours' adjoints (``ub(i, j+1)``).
ad/parallel/races.py makes that race-free with a buffer per offset, zeroed in every iteration,
and gather loops after the adjoint loop that add the buffers: per buffer three passes over an
array the size of the derivative, at every call of the loop (every time step). This rewrite
keeps the increments where they are and orders the iterations instead: the outermost parallel
index's range is cut into blocks of ``bs`` consecutive iterations, ``2*threads`` of them, and the
even blocks run in parallel, then the odd ones (one ``!$omp parallel do`` over the blocks of a
colour, each block's iterations serial on its thread; inner indices of a COLLAPSE run serially
inside the iteration of the outer one).

Why it is legal. The loop's iterations are independent except for the increments the races
analysis buffered; those are ``+=`` updates (they commute), so any order of the iterations
gives the same sums up to rounding, and only concurrently running iterations can race. An
iteration ``j`` touches, of a buffered array, only elements whose outer parallel subscript lies
in ``[j + o0 + lo, j + o0 + hi]`` (its own element at the base offset ``o0`` and the buffered
offsets ``d``, ``lo = min(0, d)``, ``hi = max(0, d)``); two iterations are in conflict only when
``|j - j'| <= W = hi - lo``. Iterations running at the same time are in distinct blocks of one
colour, which are separated by at least one whole block, so ``|j - j'| >= bs + 1 > W`` with
``bs >= W``. The other shared derivatives are touched at the iteration's own elements only
(the races analysis left them alone), shared scalars keep their ``reduction(+:...)`` on both
colour loops. Offsets only in inner indices (``W = 0``) give ``bs >= 1``: still correct.

It applies when the races analysis buffered something and made nothing atomic (an atomic
update to some array needs no buffers; mixing is left to the buffers) and the loop is
rectangular (steps 1, bounds not depending on the parallel indices, as the buffers need).
"""

from __future__ import annotations

from dataclasses import replace

from fortran_ad.ad.core.tape_ops import INT, lit
from fortran_ad.ir import nodes as ir
from fortran_ad.ir.build import wrap


def width(buffers) -> int:
    """The span W of outer parallel subscripts one iteration touches in a buffered array
    (``buffers``: ``{(name, offsets): (buffer, base signature)}`` of parallel_races)."""
    span: dict[str, tuple[int, int]] = {}
    for name, d in buffers:
        lo, hi = span.get(name, (0, 0))
        span[name] = (min(lo, d[0]), max(hi, d[0]))
    return max((hi - lo for lo, hi in span.values()), default=0)


def own_reads_only(t, body, pvars: list[str], buffers) -> bool:
    """Does the adjoint body read (or assign other than by increment) each buffered array at
    the iteration's own element only (its base signature)? With buffers, a read of a
    neighbour's element sees the value from before the loop; in place it would see other
    iterations' increments, so colouring requires this."""
    from fortran_ad.ad.parallel import races

    base = {name: b for (name, _d), (_buf, b) in buffers.items()}
    table = races._access_table(t, body, set(base))
    for name, refs in table.items():
        for _s, ref, inc in refs:
            if not inc and races._sig(ref, pvars) != base[name]:
                return False
    return True


def drop_buffers(t, buffers) -> None:
    """Forget the buffer temporaries the races analysis declared (they are not used)."""
    names = {buf for buf, _base in buffers.values()}
    t.temps[:] = [x for x in t.temps if x.name not in names]


def coloured(
    t, loops: list[ir.Do], body: list[ir.Stmt], spec: ir.Parallel, w: int
) -> list[ir.Stmt]:
    """The adjoint loop nest over ``loops`` with ``body``, as two parallel loops over the
    blocks of each colour (``spec``: the adjoint loop's clauses, made for a COLLAPSE of all of
    ``loops``)."""
    outer = loops[0]
    nthr, trip, bs, nblk, colour, blk = (
        t.temp(stem, INT) for stem in ("nthr", "trip", "bs", "nblk", "colour", "blk")
    )
    n_ = ir.Name
    start, stop = outer.start, outer.stop
    setup = [
        ir.Assign(n_(nthr), ir.Call("fad_omp_threads", ())),
        ir.Assign(n_(trip), ir.BinOp("+", ir.BinOp("-", stop, wrap(start)), lit(1))),
        ir.Assign(  # bs = max(w, ceil(trip / (2*nthr)))
            n_(bs),
            ir.Call(
                "max",
                (
                    lit(max(w, 1)),
                    ir.BinOp(
                        "/",
                        ir.Paren(
                            ir.BinOp(
                                "+",
                                n_(trip),
                                ir.BinOp("-", ir.BinOp("*", lit(2), n_(nthr)), lit(1)),
                            )
                        ),
                        ir.Paren(ir.BinOp("*", lit(2), n_(nthr))),
                    ),
                ),
            ),
        ),
        ir.Assign(  # nblk = ceil(trip / bs) (<= 0 when the loop has no iterations)
            n_(nblk),
            ir.BinOp("/", ir.Paren(ir.BinOp("-", ir.BinOp("+", n_(trip), n_(bs)), lit(1))), n_(bs)),
        ),
    ]
    inner: tuple[ir.Stmt, ...] = tuple(body)
    for lp in reversed(loops[1:]):
        inner = (ir.Do(lp.var, lp.start, lp.stop, lp.step, inner, loc=lp.loc),)
    first = ir.BinOp("+", wrap(start), ir.BinOp("*", n_(blk), n_(bs)))
    last = ir.Call("min", (stop, ir.BinOp("-", ir.BinOp("+", first, n_(bs)), lit(1))))
    block = ir.Do(outer.var, first, last, None, inner, loc=outer.loc)
    private = {*spec.private, *(lp.var for lp in loops)}
    par = replace(spec, private=tuple(sorted(private)), collapse=1, schedule="static")
    over_blocks = ir.Do(
        blk, n_(colour), ir.BinOp("-", n_(nblk), lit(1)), lit(2), (block,), parallel=par
    )
    note = ir.Comment(
        f"! even blocks of {outer.var}, then odd ones, of at least {max(w, 1)} iterations: "
        f"concurrent iterations are more than {w} apart (ad/parallel/colour.py)"
    )
    return [*setup, note, ir.Do(colour, lit(0), lit(1), None, (over_blocks,), loc=outer.loc)]
