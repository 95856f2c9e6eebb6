"""Plain NumPy references for the Numba kernels of :mod:`vtract.tract`.

Written for clarity, not speed, and independently of the kernels: matrix
products instead of recursions where possible, SciPy's Toeplitz solver for
the normal equations, ``numpy.roots`` for polynomial roots.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_toeplitz


def pre_emphasis_ref(x: np.ndarray, mu: float) -> np.ndarray:
    return np.concatenate([x[:1], x[1:] - mu * x[:-1]])


def window_ref(kind: str, n: int) -> np.ndarray:
    if kind == "rectangular":
        return np.ones(n)
    if kind == "hann":
        return np.hanning(n)
    if kind == "hamming":
        return np.hamming(n)
    raise ValueError(kind)


def autocorrelation_ref(x: np.ndarray, max_lag: int) -> np.ndarray:
    full = np.correlate(x, x, mode="full")[x.size - 1 :]
    out = np.zeros(max_lag + 1)
    out[: min(max_lag + 1, full.size)] = full[: max_lag + 1]
    return out


def predictor_ref(r: np.ndarray, order: int) -> np.ndarray:
    """``a`` (a[0] = 1) solving the normal equations R a[1:] = -r[1:]."""
    return np.concatenate([[1.0], solve_toeplitz(r[:order], -r[1 : order + 1])])


def reflection_ref(r: np.ndarray, order: int) -> np.ndarray:
    """k_i = last coefficient of the order-i predictor (the definition of PARCOR)."""
    return np.array([predictor_ref(r, i)[i] for i in range(1, order + 1)])


def burg_ref(x: np.ndarray, order: int) -> np.ndarray:
    """Burg's predictor, textbook form with explicit forward/backward error arrays."""
    f = x.astype(np.float64).copy()
    b = x.astype(np.float64).copy()
    a = np.array([1.0])
    for _ in range(order):
        ff, bb = f[1:], b[:-1]
        k = -2.0 * np.dot(ff, bb) / (np.dot(ff, ff) + np.dot(bb, bb))
        a = np.concatenate([a, [0.0]]) + k * np.concatenate([a, [0.0]])[::-1]
        f, b = ff + k * bb, bb + k * ff
    return a


def formants_ref(a: np.ndarray, sr: float, max_bw: float, min_f: float = 90.0):
    roots = np.roots(a)
    roots = roots[roots.imag > 0]
    f = np.angle(roots) * sr / (2 * np.pi)
    bw = -np.log(np.abs(roots)) * sr / np.pi
    keep = (f >= min_f) & (f <= sr / 2 - 50) & (bw <= max_bw) & (bw > 0)
    order = np.argsort(f[keep])
    return f[keep][order], bw[keep][order]


def areas_from_reflection_ref(r: np.ndarray, first: float) -> np.ndarray:
    ratios = (1 + np.asarray(r)) / (1 - np.asarray(r))
    return first * np.concatenate([[1.0], np.cumprod(ratios)])


def reflection_from_areas_ref(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return (a[1:] - a[:-1]) / (a[1:] + a[:-1])


def tube_response_ref(r: np.ndarray, r_glottis: float, omega: np.ndarray) -> np.ndarray:
    """Rabiner-Schafer V(z) by explicit 2x2 matrix products at each frequency."""
    n = len(r)
    out = np.empty(len(omega), dtype=complex)
    for i, w in enumerate(omega):
        zi = np.exp(-1j * w)
        m = np.array([[1.0, -r_glottis]], dtype=complex)
        for rk in r:
            m = m @ np.array([[1.0, -rk], [-rk * zi, zi]])
        d = (m @ np.array([[1.0], [0.0]]))[0, 0]
        out[i] = 0.5 * (1 + r_glottis) * np.prod(1 + np.asarray(r)) * np.exp(-0.5j * n * w) / d
    return out


def paper_model_db_ref(r: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """The published model: 20 log10 |prod(1 + r) / D| with D from the step-up recursion."""
    d = np.array([1.0])
    for k, rk in enumerate(r, start=1):
        ext = np.concatenate([d, [0.0]])
        d = ext + rk * ext[::-1]
        assert d.size == k + 1
    dz = np.polyval(d[::-1], np.exp(-1j * omega))
    return 20 * np.log10(np.prod(1 + np.asarray(r)) / np.abs(dz))


def paper_descent_ref(target: np.ndarray, omega: np.ndarray, n: int, steps: int) -> np.ndarray:
    """The published central-difference descent in plain NumPy."""
    r = np.zeros(n)
    for _ in range(steps):
        g = np.zeros(n)
        for k in range(n):
            e = np.zeros(n)
            e[k] = 0.01
            ep = np.sum(np.abs(target - paper_model_db_ref(r + e, omega)))
            em = np.sum(np.abs(target - paper_model_db_ref(r - e, omega)))
            g[k] = (ep - em) / 0.02
        r = np.clip(r - 1e-6 * g, -0.99, 0.99)
    return r
