"""Formant-matching refinement of a smooth area function (analysis by synthesis).

Model: a lossless tube of :data:`FIT_SECTIONS` equal sections, closed at
the glottis, loaded at the lips by the low-frequency radiation inertance
``M = 8 rho / (3 pi sqrt(pi A_lips))`` (Flanagan's piston, mass only). With
the bottom row ``[C, D]`` of the chain matrix ``K_1 ... K_N`` (glottis to
lips) the resonances are the zeros of

    g(f) = D(f) + C(f) Z_L(f),    Z_L = j w M.

For lossless sections ``C`` is imaginary and ``D`` real, so ``g`` is real
and its zeros are found by a grid scan plus secant refinement.

Shape: ``ln A(x) = sum_{m=0}^{K} c_m cos(m pi x)`` on the normalised
glottis-to-lips axis ``x`` (areas then scaled to a fixed geometric mean, so
``c_0`` drops out); parameters ``theta = (c_1 .. c_K, ln L)``.

Fit: Levenberg-Marquardt (steps accepted only if the cost falls) on the
stacked residuals

    (ln F_n^model - ln F_n^measured) / sigma_F,     n = 1..4,
    (theta - theta_0) / sigma_prior,

where ``theta_0`` is the starting estimate (the estimator's prior shape,
:mod:`vtract.tract.default`, and the formant-spacing length). The Jacobian of the resonances follows from the
implicit-function theorem, ``dF/dtheta = -(dg/dtheta) / (dg/df)`` at each
resonance, with ``dg/dtheta`` by central differences of ``g`` at that one
frequency (no re-solving for perturbed shapes).

All quantities CGS.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "FIT_SECTIONS",
    "RHO",
    "cosine_log_areas",
    "fit_formants",
    "resonance_function",
    "resonances_near",
    "tube_resonances_fast",
]

#: Sections of the model tube used for the fit (independent of the sampling rate).
FIT_SECTIONS = 24
#: Air density (g/cm^3), as :data:`vtract.synth.AIR`.
RHO = 1.14e-3


@njit(cache=True)
def cosine_log_areas(coef: np.ndarray, n: int) -> np.ndarray:
    """``ln A`` at the midpoints of ``n`` equal cells: ``sum_m coef[m] cos(m pi x)``."""
    out = np.zeros(n)
    for i in range(n):
        x = (i + 0.5) / n
        for m in range(coef.shape[0]):
            out[i] += coef[m] * np.cos(m * np.pi * x)
    return out


@njit(cache=True)
def resonance_function(areas: np.ndarray, length_cm: float, f_hz: float, c: float) -> float:
    """``g(f) = D + C j w M`` of the lossless tube with a radiation inertance at the lips.

    ``areas`` (cm^2) glottis to lips, equal sections of ``length_cm / N``.
    The zeros of ``g`` in ``f`` are the resonances (closed glottis).
    """
    n = areas.shape[0]
    w = 2.0 * np.pi * f_hz
    phi = w * (length_cm / n) / c
    cs = np.cos(phi)
    sn = np.sin(phi)
    ci = 0.0  # C = j ci
    d = 1.0
    for k in range(n):
        z = RHO * c / areas[k]
        ci, d = ci * cs + d * sn / z, d * cs - ci * z * sn
    mass = 8.0 * RHO / (3.0 * np.pi * np.sqrt(np.pi * areas[n - 1]))
    # C Z_L = (j ci)(j w M) = -ci w M
    return d - ci * w * mass


@njit(cache=True)
def _refine(
    areas: np.ndarray, length_cm: float, c: float, a: float, b: float, ga: float, gb: float
) -> float:
    # Illinois (modified regula falsi) on a sign-changing bracket, to 1e-4 Hz
    side = 0
    x = a
    for _ in range(30):
        x = (a * gb - b * ga) / (gb - ga)
        gx = resonance_function(areas, length_cm, x, c)
        if gx * gb > 0.0:
            b, gb = x, gx
            if side == -1:
                ga *= 0.5
            side = -1
        else:
            a, ga = x, gx
            if side == 1:
                gb *= 0.5
            side = 1
        if abs(b - a) < 1e-4:
            break
    return x


@njit(cache=True)
def tube_resonances_fast(
    areas: np.ndarray, length_cm: float, c: float, fmax_hz: float, n_max: int
) -> np.ndarray:
    """Up to ``n_max`` lowest zeros of :func:`resonance_function` below ``fmax_hz``.

    Scan on a 40 Hz grid from 20 Hz (zeros closer than that can be missed),
    then Illinois (regula falsi) steps per bracket to 1e-4 Hz.
    """
    out = np.empty(n_max)
    n = 0
    step = 40.0
    f0 = 20.0
    g0 = resonance_function(areas, length_cm, f0, c)
    while f0 < fmax_hz and n < n_max:
        f1 = f0 + step
        g1 = resonance_function(areas, length_cm, f1, c)
        if g0 == 0.0:
            out[n] = f0
            n += 1
        elif g0 * g1 < 0.0:
            x = _refine(areas, length_cm, c, f0, f1, g0, g1)
            out[n] = x
            n += 1
        f0, g0 = f1, g1
    return out[:n]


@njit(cache=True)
def _basis(n: int, k: int) -> np.ndarray:
    # cos(m pi x), m = 1..k, at cell midpoints; each column sums to zero
    b = np.empty((n, k))
    for i in range(n):
        x = (i + 0.5) / n
        for j in range(k):
            b[i, j] = np.cos((j + 1) * np.pi * x)
    return b


@njit(cache=True)
def resonances_near(
    areas: np.ndarray, length_cm: float, c: float, guesses_hz: np.ndarray
) -> np.ndarray:
    """Zeros of :func:`resonance_function` next to ``guesses_hz`` (ascending).

    Each guess is bracketed by a window of +-15 Hz, doubled up to 6 times,
    then refined as in :func:`tube_resonances_fast`. Returns an empty array if
    a zero is not bracketed or the zeros are not distinct and ascending (the
    caller then scans).
    """
    n = guesses_hz.shape[0]
    out = np.empty(n)
    for i in range(n):
        half = 15.0
        found = False
        a = 0.0
        b = 0.0
        ga = 0.0
        gb = 0.0
        for _ in range(7):
            a = max(1.0, guesses_hz[i] - half)
            b = guesses_hz[i] + half
            ga = resonance_function(areas, length_cm, a, c)
            gb = resonance_function(areas, length_cm, b, c)
            if ga * gb < 0.0:
                found = True
                break
            half *= 2.0
        if not found:
            return np.empty(0)
        out[i] = _refine(areas, length_cm, c, a, b, ga, gb)
        if i > 0 and out[i] <= out[i - 1] + 1.0:
            return np.empty(0)
    return out


@njit(cache=True)
def _resonances(
    theta: np.ndarray,
    basis: np.ndarray,
    mean_area: float,
    c: float,
    nf: int,
    fmax: float,
    guesses: np.ndarray,
) -> np.ndarray:
    k = theta.shape[0] - 1
    areas = np.exp(basis @ theta[:k]) * mean_area
    length = np.exp(theta[k])
    if guesses.shape[0] == nf:
        res = resonances_near(areas, length, c, guesses)
        if res.shape[0] == nf:
            return res
    return tube_resonances_fast(areas, length, c, fmax, nf)


@njit(cache=True)
def _cost(
    res: np.ndarray,
    theta: np.ndarray,
    prior: np.ndarray,
    target: np.ndarray,
    sigma_formant: float,
    sigma_shape: np.ndarray,
    sigma_log_length: float,
) -> float:
    k = theta.shape[0] - 1
    nf = target.shape[0]
    if res.shape[0] < nf:
        return np.inf
    total = 0.0
    for i in range(nf):
        e = (np.log(res[i]) - target[i]) / sigma_formant
        total += e * e
    for j in range(k):
        e = (theta[j] - prior[j]) / sigma_shape[j]
        total += e * e
    e = (theta[k] - prior[k]) / sigma_log_length
    return total + e * e


@njit(cache=True)
def fit_formants(
    theta0: np.ndarray,
    prior: np.ndarray,
    formants_hz: np.ndarray,
    n_formants: int,
    c: float,
    mean_area: float,
    sigma_formant: float,
    sigma_shape: np.ndarray,
    sigma_log_length: float,
    iterations: int,
) -> np.ndarray:
    """Levenberg-Marquardt fit of ``theta = (c_1..c_K, ln L)`` to measured formants (see module doc).

    Starts from ``theta0``; ``prior`` is the centre of the Gaussian prior and
    ``sigma_shape`` holds one prior width per cosine coefficient. Returns the
    fitted ``theta``; ``theta0`` if there is nothing to fit.
    """
    p = theta0.shape[0]
    k = p - 1
    nf = min(n_formants, formants_hz.shape[0])
    theta = theta0.copy()
    if nf == 0:
        return theta
    nsec = FIT_SECTIONS
    basis = _basis(nsec, k)
    h = 1e-4
    up = np.exp(h * basis)
    down = np.exp(-h * basis)
    target = np.log(formants_hz[:nf])
    m = nf + p
    areas = np.empty(nsec)
    pert = np.empty(nsec)
    lam = 1e-3
    improvement = 0.0
    fmax = formants_hz[nf - 1] * 1.6 + 500.0
    res = _resonances(theta, basis, mean_area, c, nf, fmax, np.empty(0))
    cost = _cost(res, theta, prior, target, sigma_formant, sigma_shape, sigma_log_length)
    for _ in range(iterations):
        if res.shape[0] < nf:
            break
        ln_a = basis @ theta[:k]
        for i in range(nsec):
            areas[i] = np.exp(ln_a[i]) * mean_area
        length = np.exp(theta[k])
        jac = np.zeros((m, p))
        r = np.zeros(m)
        for i in range(nf):
            fi = res[i]
            df = max(0.5, 1e-4 * fi)
            dgdf = (
                resonance_function(areas, length, fi + df, c)
                - resonance_function(areas, length, fi - df, c)
            ) / (2.0 * df)
            if dgdf == 0.0:
                continue
            r[i] = (np.log(fi) - target[i]) / sigma_formant
            scale = -1.0 / (dgdf * fi * sigma_formant)
            for j in range(k):
                for q in range(nsec):
                    pert[q] = areas[q] * up[q, j]
                gp = resonance_function(pert, length, fi, c)
                for q in range(nsec):
                    pert[q] = areas[q] * down[q, j]
                gm = resonance_function(pert, length, fi, c)
                jac[i, j] = scale * (gp - gm) / (2.0 * h)
            gp = resonance_function(areas, length * np.exp(h), fi, c)
            gm = resonance_function(areas, length * np.exp(-h), fi, c)
            jac[i, k] = scale * (gp - gm) / (2.0 * h)
        for j in range(k):
            r[nf + j] = (theta[j] - prior[j]) / sigma_shape[j]
            jac[nf + j, j] = 1.0 / sigma_shape[j]
        r[nf + k] = (theta[k] - prior[k]) / sigma_log_length
        jac[nf + k, k] = 1.0 / sigma_log_length
        jtj = jac.T @ jac
        g = jac.T @ r
        accepted = False
        for _try in range(6):
            a_mat = jtj.copy()
            for j in range(p):
                a_mat[j, j] *= 1.0 + lam
            step = np.linalg.solve(a_mat, -g)
            big = 0.0
            for j in range(p):
                big = max(big, abs(step[j]))
            if big > 0.5:  # keep steps modest so that resonances keep their order
                step *= 0.5 / big
            trial = theta + step
            res_t = _resonances(trial, basis, mean_area, c, nf, fmax, res)
            new_cost = _cost(
                res_t, trial, prior, target, sigma_formant, sigma_shape, sigma_log_length
            )
            if new_cost < cost:
                improvement = cost - new_cost
                theta, res, cost = trial, res_t, new_cost
                lam = max(1e-6, lam * 0.3)
                accepted = True
                break
            lam *= 10.0
        if not accepted or improvement < 1e-8 * (1.0 + cost):
            break
    return theta
