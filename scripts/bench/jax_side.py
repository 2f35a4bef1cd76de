"""The JAX side of the comparison: inputs, jit-compiled primal and ``jax.grad``, timings.

JAX runs on the CPU with float64 (``jax_enable_x64``) and, by default, one intra-op thread
(``configure(threads=1)`` before the first import of jax), like the single-threaded Fortran.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Sizes = dict[str, int | float]


def configure(threads: int) -> None:
    """Environment for jax; must run before jax is imported."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if threads == 1:
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()


def kernels() -> dict[str, Callable]:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax_linalg
    import jax_stencils

    out = {}
    for mod in (jax_linalg, jax_stencils):
        for name in getattr(mod, "__all__", dir(mod)):
            f = getattr(mod, name)
            if callable(f) and getattr(f, "__module__", None) == mod.__name__ and name[0] != "_":
                out[name] = f
    return out


def inputs(
    head: str, wrt: dict[str, tuple[float, float]], shapes: dict[str, tuple[int, ...]], seed: int
) -> dict[str, np.ndarray]:
    """Uniform inputs in the kernel's ranges; well-conditioned ones where the size needs it."""
    rng = np.random.default_rng(seed)
    out = {n: rng.uniform(lo, hi, shapes[n]) for n, (lo, hi) in wrt.items()}
    if head == "trisolv":  # unit-size diagonal, O(1/n) off-diagonal: no growth with n
        n = shapes["b"][0]
        out["l"] = rng.uniform(-1.0, 1.0, (n, n)) / n + np.diag(rng.uniform(1.0, 2.0, n))
    elif head == "durbin":  # r_k = 0.5**k (1 + 0.1 u): positive definite Toeplitz matrix
        n = shapes["r"][0]
        out["r"] = 0.5 ** np.arange(1, n + 1) * (1.0 + 0.1 * rng.uniform(-1.0, 1.0, n))
    return out


@dataclass
class JaxRun:
    primal_s: float
    grad_s: float | None  # None: jax.grad failed (see error)
    cost: float
    grads: dict[str, np.ndarray]
    error: str = ""


def _time(f: Callable[[], object], repeat: int) -> float:
    """Median process CPU time of ``repeat`` calls; the caller has made the warm-up call
    (compilation and one run), so none is repeated here (at preset M one jax.grad of trisolv
    takes over a minute)."""
    import jax

    times = []
    for _ in range(repeat):  # process CPU time, like the Fortran side (cpu_time)
        t0 = time.process_time()
        jax.block_until_ready(f())
        times.append(time.process_time() - t0)
    return statistics.median(times)


def run(fn: Callable, sizes: Sizes, data: dict[str, np.ndarray], repeat: int) -> JaxRun:
    import jax
    import jax.numpy as jnp

    names = list(data)
    args = [jnp.asarray(data[n]) for n in names]

    def cost(*xs):
        return fn(sizes, **dict(zip(names, xs, strict=True)))

    primal = jax.jit(cost)
    value = float(primal(*args))  # the warm-up: compiles and runs once
    tp = _time(lambda: primal(*args), repeat)
    try:
        grad = jax.jit(jax.grad(cost, argnums=tuple(range(len(args)))))
        g = jax.block_until_ready(grad(*args))  # the warm-up
    except Exception as exc:  # e.g. reverse mode of a while_loop: reported, not dropped
        return JaxRun(tp, None, value, {}, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    tg = _time(lambda: grad(*args), repeat)
    return JaxRun(tp, tg, value, {n: np.asarray(x) for n, x in zip(names, g, strict=True)})
