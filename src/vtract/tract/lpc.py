"""Linear prediction kernels: autocorrelation, Levinson-Durbin and Burg.

Convention (shared by every kernel here and by :mod:`vtract.tract.tube`):
the inverse filter is ``A(z) = 1 + a_1 z^-1 + ... + a_p z^-p`` and the
reflection (PARCOR) coefficients ``k_1..k_p`` build it by the step-up
recursion ``A_i(z) = A_{i-1}(z) + k_i z^-i A_{i-1}(1/z)``. This is the same
recursion as the Rabiner-Schafer tube denominator ``D(z)`` with a closed
glottis, so ``k_i`` are tube reflection coefficients indexed from the end of
the recursion's start.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["autocorrelation", "burg", "levinson_durbin", "step_down", "step_up"]


@njit(cache=True)
def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Biased autocorrelation ``r[l] = sum_n x[n] x[n+l]`` for lags ``0..max_lag``."""
    n = x.shape[0]
    r = np.zeros(max_lag + 1)
    for lag in range(min(max_lag, n - 1) + 1):
        s = 0.0
        for i in range(n - lag):
            s += x[i] * x[i + lag]
        r[lag] = s
    return r


@njit(cache=True)
def levinson_durbin(r: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Solve the normal equations for an autocorrelation sequence.

    Returns ``(a, k, err)``: predictor polynomial ``a`` (length ``order + 1``,
    ``a[0] = 1``), reflection coefficients ``k`` (length ``order``) and the
    final prediction-error power. A non-positive error stops the recursion
    and leaves the remaining coefficients at zero.
    """
    a = np.zeros(order + 1)
    a[0] = 1.0
    k = np.zeros(order)
    err = r[0]
    tmp = np.empty(order + 1)
    for i in range(1, order + 1):
        if err <= 0.0:
            break
        acc = r[i]
        for j in range(1, i):
            acc += a[j] * r[i - j]
        ki = -acc / err
        k[i - 1] = ki
        for j in range(i + 1):
            tmp[j] = a[j]
        for j in range(1, i):
            a[j] = tmp[j] + ki * tmp[i - j]
        a[i] = ki
        err *= 1.0 - ki * ki
    return a, k, err


@njit(cache=True)
def burg(x: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Burg's maximum-entropy estimate of ``(a, k, err)`` (same convention as :func:`levinson_durbin`)."""
    n = x.shape[0]
    f = x.copy()
    b = x.copy()
    a = np.zeros(order + 1)
    a[0] = 1.0
    k = np.zeros(order)
    tmp = np.empty(order + 1)
    err = 0.0
    for i in range(n):
        err += x[i] * x[i]
    err /= max(n, 1)
    for m in range(1, order + 1):
        num = 0.0
        den = 0.0
        for i in range(m, n):
            num += f[i] * b[i - 1]
            den += f[i] * f[i] + b[i - 1] * b[i - 1]
        if den <= 0.0:
            break
        km = -2.0 * num / den
        k[m - 1] = km
        for i in range(n - 1, m - 1, -1):
            fi = f[i]
            f[i] = fi + km * b[i - 1]
            b[i] = b[i - 1] + km * fi
        for j in range(m + 1):
            tmp[j] = a[j]
        for j in range(1, m):
            a[j] = tmp[j] + km * tmp[m - j]
        a[m] = km
        err *= 1.0 - km * km
    return a, k, err


@njit(cache=True)
def step_up(k: np.ndarray) -> np.ndarray:
    """Predictor polynomial ``a`` (``a[0] = 1``) from reflection coefficients ``k``."""
    p = k.shape[0]
    a = np.zeros(p + 1)
    a[0] = 1.0
    tmp = np.empty(p + 1)
    for i in range(1, p + 1):
        for j in range(i + 1):
            tmp[j] = a[j]
        for j in range(1, i):
            a[j] = tmp[j] + k[i - 1] * tmp[i - j]
        a[i] = k[i - 1]
    return a


@njit(cache=True)
def step_down(a: np.ndarray) -> np.ndarray:
    """Reflection coefficients from a minimum-phase predictor polynomial (inverse of :func:`step_up`)."""
    p = a.shape[0] - 1
    k = np.zeros(p)
    cur = a.copy()
    nxt = np.empty(p + 1)
    for i in range(p, 0, -1):
        ki = cur[i]
        k[i - 1] = ki
        den = 1.0 - ki * ki
        if den <= 0.0:
            break
        for j in range(1, i):
            nxt[j] = (cur[j] - ki * cur[i - j]) / den
        for j in range(1, i):
            cur[j] = nxt[j]
        cur[i] = 0.0
    return k
