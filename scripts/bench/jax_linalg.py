"""JAX versions of the NPBench linear-algebra kernels, written the NPBench way (jnp array
expressions, ``lax.fori_loop`` with static bounds and masks for the triangular recurrences).

Every function takes the size table ``sz`` and the inputs by the Fortran dummy names, with the
Fortran shapes (``a[i, k]`` is the Fortran ``a(i+1, k+1)``), and returns the same scalar
objective as the Fortran kernel: the sum of its outputs.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

Sz = dict[str, int | float]


def gemm(sz: Sz, alpha, beta, c, a, b):
    return jnp.sum(alpha * a @ b + beta * c)


def atax(sz: Sz, a, x):
    return jnp.sum((a @ x) @ a)


def bicg(sz: Sz, a, p, r):
    return jnp.sum(r @ a) + jnp.sum(a @ p)


def mvt(sz: Sz, x1, x2, y1, y2, a):
    return jnp.sum(x1 + a @ y1) + jnp.sum(x2 + y2 @ a)


def gesummv(sz: Sz, alpha, beta, a, b, x):
    return jnp.sum(alpha * a @ x + beta * b @ x)


def gemver(sz: Sz, alpha, beta, a, u1, v1, u2, v2, w, x, y, z):
    a = a + jnp.outer(u1, v1) + jnp.outer(u2, v2)
    x = x + beta * y @ a + z
    w = w + alpha * a @ x
    return jnp.sum(a) + jnp.sum(w) + jnp.sum(x)


def k2mm(sz: Sz, alpha, beta, a, b, c, d):
    return jnp.sum(alpha * a @ b @ c + beta * d)


def k3mm(sz: Sz, a, b, c, d):
    return jnp.sum((a @ b) @ (c @ d))


def doitgen(sz: Sz, a, c4):
    return jnp.sum(a @ c4)


def syrk(sz: Sz, alpha, beta, c, a):
    lower = jnp.tril(jnp.ones_like(c, dtype=bool))
    return jnp.sum(jnp.where(lower, beta * c + alpha * a @ a.T, c))


def syr2k(sz: Sz, alpha, beta, c, a, b):
    lower = jnp.tril(jnp.ones_like(c, dtype=bool))
    return jnp.sum(jnp.where(lower, beta * c + alpha * (a @ b.T + b @ a.T), c))


def symm(sz: Sz, alpha, beta, c, a, b):
    sym = jnp.tril(a) + jnp.tril(a, -1).T
    return jnp.sum(beta * c + alpha * sym @ b)


def trmm(sz: Sz, alpha, a, b):
    return jnp.sum(alpha * (b + jnp.triu(a.T, 1) @ b))


# ------------------------------------------------------------------------------ solvers
def trisolv(sz: Sz, l, b):  # noqa: E741 - the Fortran dummy is l
    n = b.shape[0]

    def row(i, x):  # x[j >= i] are still 0: the full dot is the triangular one
        return x.at[i].set((b[i] - l[i, :] @ x) / l[i, i])

    x = lax.fori_loop(0, n, row, jnp.zeros_like(b))
    return jnp.sum(x)


def durbin(sz: Sz, r):
    n = r.shape[0]
    idx = jnp.arange(n)

    def step(k, carry):
        y, alpha, beta = carry
        beta = (1.0 - alpha * alpha) * beta
        below = idx < k
        rev = jnp.where(below, jnp.take(r, jnp.maximum(k - 1 - idx, 0)), 0.0)
        s = rev @ y
        alpha = -(r[k] + s) / beta
        yrev = jnp.where(below, jnp.take(y, jnp.maximum(k - 1 - idx, 0)), 0.0)
        y = jnp.where(below, y + alpha * yrev, y).at[k].set(alpha)
        return y, alpha, beta

    y0 = jnp.zeros_like(r).at[0].set(-r[0])
    y, _, _ = lax.fori_loop(1, n, step, (y0, -r[0], jnp.ones_like(r[0])))
    return jnp.sum(y)


def spd(b):
    n = b.shape[0]
    return b @ b.T + n * jnp.eye(n, dtype=b.dtype)


def cholesky(sz: Sz, b):
    a = spd(b)
    n = a.shape[0]
    idx = jnp.arange(n)

    def row(i, a):
        def col(j, a):
            val = (a[i, j] - (a[i, :] * (idx < j)) @ a[j, :]) / a[j, j]
            return a.at[i, j].set(jnp.where(j < i, val, a[i, j]))

        a = lax.fori_loop(0, n, col, a)
        d = a[i, i] - (a[i, :] * (idx < i)) @ a[i, :]
        return a.at[i, i].set(jnp.sqrt(d))

    return jnp.sum(lax.fori_loop(0, n, row, a))


def _lu(a):
    n = a.shape[0]
    idx = jnp.arange(n)

    def row(i, a):
        def col(j, a):
            val = (a[i, j] - (a[i, :] * (idx < j)) @ a[:, j]) / a[j, j]
            return a.at[i, j].set(jnp.where(j < i, val, a[i, j]))

        a = lax.fori_loop(0, n, col, a)
        upd = a[i, :] - (a[i, :] * (idx < i)) @ a
        return a.at[i, :].set(jnp.where(idx >= i, upd, a[i, :]))

    return lax.fori_loop(0, n, row, a)


def lu(sz: Sz, b):
    return jnp.sum(_lu(spd(b)))


def ludcmp(sz: Sz, b, rhs):
    a = _lu(spd(b))
    n = a.shape[0]
    y = lax.fori_loop(0, n, lambda i, y: y.at[i].set(rhs[i] - a[i, :] @ y), jnp.zeros_like(rhs))

    def back(k, x):
        i = n - 1 - k
        return x.at[i].set((y[i] - a[i, :] @ x) / a[i, i])

    x = lax.fori_loop(0, n, back, jnp.zeros_like(rhs))
    return jnp.sum(x) + jnp.sum(y)


def gramschmidt(sz: Sz, a):
    n = a.shape[1]
    idx = jnp.arange(n)

    def step(k, carry):
        a, q, r = carry
        rkk = jnp.sqrt(a[:, k] @ a[:, k])
        qk = a[:, k] / rkk
        rk = jnp.where(idx > k, qk @ a, 0.0)
        a = a - jnp.outer(qk, rk)
        return a, q.at[:, k].set(qk), r.at[k, :].set(rk).at[k, k].set(rkk)

    _, q, r = lax.fori_loop(0, n, step, (a, jnp.zeros_like(a), jnp.zeros((n, n), a.dtype)))
    return jnp.sum(q) + jnp.sum(r)
