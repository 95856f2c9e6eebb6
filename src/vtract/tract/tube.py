"""Concatenated lossless tubes: reflection <-> area, transfer function and its gradient.

Convention (Rabiner & Schafer 1978, ch. 3): sections ``1..N`` from the
glottis to the lips with areas ``A_k``; the reflection coefficient at the
junction after section ``k`` is ``r_k = (A_{k+1} - A_k) / (A_{k+1} + A_k)``,
so ``A_{k+1} = A_k (1 + r_k) / (1 - r_k)``. The last coefficient ``r_N`` is
the lip reflection (``+1`` = ideal open end) and ``r_G`` the glottal one
(``+1`` = closed glottis, ``0`` = matched, lossy glottis). The volume-velocity
transfer function at ``z = exp(j omega)`` is

    V(z) = 0.5 (1 + r_G) prod_k (1 + r_k) z^(-N/2) / D(z),
    D(z) = [1, -r_G] Q_1 ... Q_N [1, 0]^T,
    Q_k = [[1, -r_k], [-r_k z^-1, z^-1]].

With ``r_G = 1`` the recursion ``D_k(z) = D_{k-1}(z) + r_k z^-k D_{k-1}(1/z)``
gives the same ``D`` (the LPC step-up recursion of :mod:`vtract.tract.lpc`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "DB_PER_NEPER",
    "areas_from_reflection",
    "reflection_from_areas",
    "tube_db_gradient",
    "tube_response",
]

#: 20 / ln(10): converts a natural-log magnitude to decibels.
DB_PER_NEPER = 20.0 / np.log(10.0)


@njit(cache=True)
def areas_from_reflection(r: np.ndarray, first_area: float) -> np.ndarray:
    """Areas ``A_0..A_n`` from ``n`` reflection coefficients and the first area."""
    n = r.shape[0]
    a = np.empty(n + 1)
    a[0] = first_area
    for k in range(n):
        a[k + 1] = a[k] * (1.0 + r[k]) / (1.0 - r[k])
    return a


@njit(cache=True)
def reflection_from_areas(areas: np.ndarray) -> np.ndarray:
    """Reflection coefficients at the ``n - 1`` junctions of ``n`` areas."""
    n = areas.shape[0]
    r = np.empty(max(n - 1, 0))
    for k in range(n - 1):
        r[k] = (areas[k + 1] - areas[k]) / (areas[k + 1] + areas[k])
    return r


@njit(cache=True)
def tube_response(r: np.ndarray, r_glottis: float, omega: np.ndarray) -> np.ndarray:
    """Complex volume-velocity transfer function ``V(exp(j omega))``.

    Parameters
    ----------
    r : numpy.ndarray
        ``N`` reflection coefficients, glottis to lips; ``r[N-1]`` is the lip reflection.
    r_glottis : float
        Glottal reflection coefficient ``r_G``.
    omega : numpy.ndarray
        Normalised angular frequencies (rad/sample).
    """
    n = r.shape[0]
    gain = 0.5 * (1.0 + r_glottis)
    for k in range(n):
        gain *= 1.0 + r[k]
    out = np.empty(omega.shape[0], dtype=np.complex128)
    for i in range(omega.shape[0]):
        zi = np.exp(-1j * omega[i])
        p = 1.0 + 0j
        s = -r_glottis + 0j
        for k in range(n):
            p, s = p - r[k] * zi * s, -r[k] * p + zi * s
        out[i] = gain * np.exp(-0.5j * n * omega[i]) / p
    return out


@njit(cache=True)
def tube_db_gradient(
    r: np.ndarray, r_glottis: float, omega: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude ``20 log10 |V|`` and its exact gradient.

    Returns ``(db, d_db_dr, d_db_dr_glottis)`` with shapes ``(M,)``,
    ``(M, N)`` and ``(M,)``. The gradient uses forward/backward partial
    products of the 2x2 section matrices: ``O(N)`` per frequency.
    """
    n = r.shape[0]
    m = omega.shape[0]
    db = np.empty(m)
    grad = np.empty((m, n))
    grad_g = np.empty(m)
    log_gain = np.log(0.5 * (1.0 + r_glottis))
    inv1p = np.empty(n)
    for k in range(n):
        log_gain += np.log(1.0 + r[k])
        inv1p[k] = 1.0 / (1.0 + r[k])
    fp = np.empty(n + 1, dtype=np.complex128)  # forward row vectors before section k
    fs = np.empty(n + 1, dtype=np.complex128)
    for i in range(m):
        zi = np.exp(-1j * omega[i])
        fp[0] = 1.0
        fs[0] = -r_glottis
        for k in range(n):
            fp[k + 1] = fp[k] - r[k] * zi * fs[k]
            fs[k + 1] = -r[k] * fp[k] + zi * fs[k]
        d = fp[n]
        inv_d = 1.0 / d
        db[i] = DB_PER_NEPER * (log_gain - np.log(np.abs(d)))
        # backward column vector R_k = Q_{k+1} ... Q_N [1, 0]^T
        b0 = 1.0 + 0j
        b1 = 0.0 + 0j
        for k in range(n - 1, -1, -1):
            dd = -fp[k] * b1 - fs[k] * zi * b0
            grad[i, k] = DB_PER_NEPER * (inv1p[k] - (dd * inv_d).real)
            b0, b1 = b0 - r[k] * b1, zi * (b1 - r[k] * b0)
        grad_g[i] = DB_PER_NEPER * (1.0 / (1.0 + r_glottis) - ((-b1) * inv_d).real)
    return db, grad, grad_g
