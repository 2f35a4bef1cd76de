"""Random valid, smooth Fortran modules for fuzzing the AD engine (issue 12).

Every program is a module with a head ``fuzz_head(n, x, y, cost)`` (x(n) input, y(n) inout,
cost out) and 0-2 helper routines it calls. Bodies mix nested DO loops with affine bounds
(``do j = i + 1, n - 1, 2``), DO WHILE counters, EXIT/CYCLE, IF/ELSE IF/SELECT CASE on
passive data and on active data far from the switch, in-place updates, scratch reuse, calls,
array sections, SUM and the supported intrinsics with domain-safe arguments.

Soundness comes from bookkeeping, not luck:
* every real variable but ``x`` and the accumulators stays in [-R, R] (intervals are tracked
  for every expression, results are rescaled or damped with TANH before they are stored);
* LOG/SQRT/** get arguments whose interval is positive, divisions denominators away from 0,
  ABS/SIGN/MAX/MIN/DIM/MOD/conditions on active data arguments at least MARGIN from their
  switch point (on both sides when the side depends on the parity of a loop index);
* integer subscripts are affine in ``n`` and checked at both ends of the supported n range.

Where bugs live: input counters (``kk`` read before an inner loop that bumps it and after
it), integer intrinsics in real expressions (as divisors too), module state, index arguments
helpers change and element actuals, loop kernels the adjoint's loop rewrites act on
(kernels.py: stencils, private temporaries, IF/ELSE arms, reductions), 2-D nests and parallel
loops (nests.py: five-point stencils, matrix-vector products, ``!$omp parallel do``, DO
CONCURRENT), statement functions, ASSOCIATE, allocatable and pointer temporaries
(storage.py), functions with array results and generic interfaces, functions with side
effects in IF, ELSE IF and DO WHILE conditions, SAVE state, a derived-type local whose
components are read, written and passed (and the whole object to a helper that changes it,
also called through a type-bound binding with pass(st)), pointers to a whole array or to its
section, indirect addressing through an index array (gathers, also parallel; scatters;
``!$omp atomic`` increments: indirect.py), and every intrinsic of the derivative rule table
(intrinsics.py).

``generate(seed)`` is deterministic; ``programs()`` is the same generator as a hypothesis
strategy (shrinks toward fewer, simpler statements). ``run_fuzz`` checks many programs with
``fortran_ad.api.check`` in parallel (``scripts/fuzz.py`` is its command line), and compares
the adjoint with all loop rewrites against the plain one (differential.py), bisecting a
disagreement to the guilty rewrite; coverage.py reports constructs and rewrites that fired.
"""

from fortran_ad.checks.fuzzgen.base import FEATURES, NMAX, NMIN, OPT_IN, R
from fortran_ad.checks.fuzzgen.program import FuzzProgram, generate, programs
from fortran_ad.checks.fuzzgen.run import FuzzResult, run_fuzz

__all__ = [
    "FEATURES",
    "NMAX",
    "NMIN",
    "OPT_IN",
    "R",
    "FuzzProgram",
    "FuzzResult",
    "generate",
    "programs",
    "run_fuzz",
]
