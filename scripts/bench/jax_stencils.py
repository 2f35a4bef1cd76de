"""JAX versions of the NPBench stencil and weather kernels, written the NPBench way
(``lax.fori_loop`` over time steps and sequential sweeps, slice updates with ``.at[]``).

Same conventions as :mod:`jax_linalg`: Fortran shapes, 0-based indices, the Fortran objective.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

Sz = dict[str, int | float]


def jacobi_1d(sz: Sz, a, b):
    def step(t, ab):
        a, b = ab
        b = b.at[1:-1].set(0.33333 * (a[:-2] + a[1:-1] + a[2:]))
        a = a.at[1:-1].set(0.33333 * (b[:-2] + b[1:-1] + b[2:]))
        return a, b

    a, b = lax.fori_loop(0, int(sz["tsteps"]), step, (a, b))
    return jnp.sum(a) + jnp.sum(b)


def _five(x):
    return 0.2 * (x[1:-1, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:] + x[2:, 1:-1] + x[:-2, 1:-1])


def jacobi_2d(sz: Sz, a, b):
    def step(t, ab):
        a, b = ab
        b = b.at[1:-1, 1:-1].set(_five(a))
        a = a.at[1:-1, 1:-1].set(_five(b))
        return a, b

    a, b = lax.fori_loop(0, int(sz["tsteps"]), step, (a, b))
    return jnp.sum(a) + jnp.sum(b)


def _heat(x):
    c = x[1:-1, 1:-1, 1:-1]
    return (
        0.125 * (x[2:, 1:-1, 1:-1] - 2.0 * c + x[:-2, 1:-1, 1:-1])
        + 0.125 * (x[1:-1, 2:, 1:-1] - 2.0 * c + x[1:-1, :-2, 1:-1])
        + 0.125 * (x[1:-1, 1:-1, 2:] - 2.0 * c + x[1:-1, 1:-1, :-2])
        + c
    )


def heat_3d(sz: Sz, a, b):
    def step(t, ab):
        a, b = ab
        b = b.at[1:-1, 1:-1, 1:-1].set(_heat(a))
        a = a.at[1:-1, 1:-1, 1:-1].set(_heat(b))
        return a, b

    a, b = lax.fori_loop(0, int(sz["tsteps"]), step, (a, b))
    return jnp.sum(a) + jnp.sum(b)


def seidel_2d(sz: Sz, a):
    n = a.shape[0]

    def row(i, a):
        up, mid, down = a[i - 1], a[i], a[i + 1]
        part = up[:-2] + up[1:-1] + up[2:] + mid[1:-1] + mid[2:] + down[:-2] + down[1:-1]
        part = part + down[2:]
        r = mid.at[1:-1].set(part)
        r = lax.fori_loop(1, n - 1, lambda j, r: r.at[j].set((r[j] + r[j - 1]) / 9.0), r)
        return a.at[i].set(r)

    a = lax.fori_loop(0, int(sz["tsteps"]), lambda t, a: lax.fori_loop(1, n - 1, row, a), a)
    return jnp.sum(a)


def fdtd_2d(sz: Sz, ex, ey, hz, fict):
    def step(t, f):
        ex, ey, hz = f
        ey = ey.at[0, :].set(fict[t])
        ey = ey.at[1:, :].add(-0.5 * (hz[1:, :] - hz[:-1, :]))
        ex = ex.at[:, 1:].add(-0.5 * (hz[:, 1:] - hz[:, :-1]))
        hz = hz.at[:-1, :-1].add(-0.7 * (ex[:-1, 1:] - ex[:-1, :-1] + ey[1:, :-1] - ey[:-1, :-1]))
        return ex, ey, hz

    ex, ey, hz = lax.fori_loop(0, int(sz["tmax"]), step, (ex, ey, hz))
    return jnp.sum(ex) + jnp.sum(ey) + jnp.sum(hz)


def adi(sz: Sz, u):
    n, tsteps = u.shape[0], int(sz["tsteps"])
    dx = dy = 1.0 / n
    dt = 1.0 / tsteps
    mul1, mul2 = 2.0 * dt / (dx * dx), 1.0 * dt / (dy * dy)
    a, b, d, e = -mul1 / 2.0, 1.0 + mul1, -mul2 / 2.0, 1.0 + mul2
    c, f = a, d
    inner = slice(1, n - 1)

    def sweep(src, pm, ps, cp, cq, cm):
        """Forward elimination: p[i, j], q[i, j] for j = 1..n-2, vectorized over i = 1..n-2;
        src(j) gives the lower, middle and upper neighbour vectors of line j."""
        p = jnp.zeros((n, n), u.dtype)
        q = jnp.zeros((n, n), u.dtype).at[inner, 0].set(1.0)

        def fwd(j, pq):
            p, q = pq
            lo, mid, hi = src(j)
            den = pm * p[inner, j - 1] + ps
            p = p.at[inner, j].set(-cp / den)
            num = -cq * lo + (1.0 + 2.0 * cq) * mid - cm * hi - pm * q[inner, j - 1]
            q = q.at[inner, j].set(num / den)
            return p, q

        return lax.fori_loop(1, n - 1, fwd, (p, q))

    def step(t, uv):
        u, v = uv
        # column sweep: neighbours u[j, i-1], u[j, i], u[j, i+1] for i = 1..n-2
        p, q = sweep(lambda j: (u[j, :-2], u[j, 1:-1], u[j, 2:]), a, b, c, d, f)
        v = v.at[0, inner].set(1.0).at[n - 1, inner].set(1.0)
        v = lax.fori_loop(
            1,
            n - 1,
            lambda k, v: v.at[n - 1 - k, inner].set(
                p[inner, n - 1 - k] * v[n - k, inner] + q[inner, n - 1 - k]
            ),
            v,
        )
        # row sweep: neighbours v[i-1, j], v[i, j], v[i+1, j]
        p, q = sweep(lambda j: (v[:-2, j], v[1:-1, j], v[2:, j]), d, e, f, a, c)
        u = u.at[inner, 0].set(1.0).at[inner, n - 1].set(1.0)
        u = lax.fori_loop(
            1,
            n - 1,
            lambda k, u: u.at[inner, n - 1 - k].set(
                p[inner, n - 1 - k] * u[inner, n - k] + q[inner, n - 1 - k]
            ),
            u,
        )
        return u, v

    u, _ = lax.fori_loop(0, tsteps, step, (u, jnp.zeros_like(u)))
    return jnp.sum(u)


def hdiff(sz: Sz, in_field, coeff):
    ni, nj = coeff.shape[0], coeff.shape[1]
    f = in_field
    lap = 4.0 * f[1 : ni + 3, 1 : nj + 3] - (
        f[2 : ni + 4, 1 : nj + 3]
        + f[0 : ni + 2, 1 : nj + 3]
        + f[1 : ni + 3, 2 : nj + 4]
        + f[1 : ni + 3, 0 : nj + 2]
    )
    res = lap[1:, 1 : nj + 1] - lap[:-1, 1 : nj + 1]
    flx = jnp.where(res * (f[2 : ni + 3, 2 : nj + 2] - f[1 : ni + 2, 2 : nj + 2]) > 0, 0.0, res)
    res = lap[1 : ni + 1, 1:] - lap[1 : ni + 1, :-1]
    fly = jnp.where(res * (f[2 : ni + 2, 2 : nj + 3] - f[2 : ni + 2, 1 : nj + 2]) > 0, 0.0, res)
    out = f[2 : ni + 2, 2 : nj + 2] - coeff * (flx[1:] - flx[:-1] + fly[:, 1:] - fly[:, :-1])
    return jnp.sum(out)


def vadv(sz: Sz, utens_stage, u_stage, wcon, u_pos, utens):
    dtr = float(sz["dtr_stage"])
    nk = u_stage.shape[2]
    bet_m = bet_p = 0.5

    def rhs(k, corr):
        return dtr * u_pos[:, :, k] + utens[:, :, k] + utens_stage[:, :, k] + corr

    k = 0
    gcv = 0.25 * (wcon[1:, :, k + 1] + wcon[:-1, :, k + 1])
    cs = gcv * bet_m
    cc = gcv * bet_p
    divided = 1.0 / (dtr - cc)
    ccol = jnp.zeros_like(u_stage).at[:, :, 0].set(cc * divided)
    dcol = (
        jnp.zeros_like(u_stage)
        .at[:, :, 0]
        .set(rhs(0, -cs * (u_stage[:, :, 1] - u_stage[:, :, 0])) * divided)
    )

    def fwd(k, cd):
        ccol, dcol = cd
        gav = -0.25 * (wcon[1:, :, k] + wcon[:-1, :, k])
        gcv = 0.25 * (wcon[1:, :, k + 1] + wcon[:-1, :, k + 1])
        as_, cs, acol, cc = gav * bet_m, gcv * bet_m, gav * bet_p, gcv * bet_p
        corr = -as_ * (u_stage[:, :, k - 1] - u_stage[:, :, k]) - cs * (
            u_stage[:, :, k + 1] - u_stage[:, :, k]
        )
        divided = 1.0 / (dtr - acol - cc - ccol[:, :, k - 1] * acol)
        ccol = ccol.at[:, :, k].set(cc * divided)
        dcol = dcol.at[:, :, k].set((rhs(k, corr) - dcol[:, :, k - 1] * acol) * divided)
        return ccol, dcol

    ccol, dcol = lax.fori_loop(1, nk - 1, fwd, (ccol, dcol))
    k = nk - 1
    gav = -0.25 * (wcon[1:, :, k] + wcon[:-1, :, k])
    as_, acol = gav * bet_m, gav * bet_p
    corr = -as_ * (u_stage[:, :, k - 1] - u_stage[:, :, k])
    divided = 1.0 / (dtr - acol - ccol[:, :, k - 1] * acol)
    dcol = dcol.at[:, :, k].set((rhs(k, corr) - dcol[:, :, k - 1] * acol) * divided)

    def back(m, carry):
        out, data = carry
        k = nk - 2 - m
        data = dcol[:, :, k] - ccol[:, :, k] * data
        return out.at[:, :, k].set(dtr * (data - u_pos[:, :, k])), data

    data = dcol[:, :, nk - 1]
    out = jnp.zeros_like(u_stage).at[:, :, nk - 1].set(dtr * (data - u_pos[:, :, nk - 1]))
    out, _ = lax.fori_loop(0, nk - 1, back, (out, data))
    return jnp.sum(out)
