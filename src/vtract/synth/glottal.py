"""Glottal excitation: Rosenberg and Liljencrants-Fant pulses, pulse trains.

Every model here produces the *glottal flow derivative* ``dU_g/dt`` sampled at
the output rate, which is what excites the radiated pressure of a tube whose
lip radiation is a time derivative (``p ~ d U_lips / dt``).

- Rosenberg (1971) "type C" flow pulse: ``U(t) = (1 - cos(pi t / Tp)) / 2``
  while opening (``0 <= t <= Tp``), ``cos(pi (t - Tp) / (2 Tn))`` while closing
  (``Tp < t <= Tp + Tn``), zero while closed.
- Liljencrants-Fant (Fant, Liljencrants & Lin 1985) flow derivative,
  parameterised by ``Rd`` (Fant 1995): ``E(t) = E0 exp(alpha t) sin(pi t / tp)``
  up to ``te``, then the exponential return phase
  ``-(Ee / (eps ta)) (exp(-eps (t - te)) - exp(-eps (T0 - te)))``; ``alpha``
  is chosen so that the flow returns to zero at the end of the cycle.
- ``"impulse"``: one unit volume-velocity impulse per period (its derivative
  is taken by the tract's radiation, or not at all when radiation is off).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..errors import VtractError

__all__ = [
    "GLOTTAL_MODELS",
    "GlottalModelError",
    "LFParameters",
    "glottal_source",
    "lf_flow_derivative",
    "lf_parameters",
    "rosenberg_flow",
]

GLOTTAL_MODELS = ("lf", "rosenberg", "impulse")


class GlottalModelError(VtractError, ValueError):
    """Glottal source parameters outside their valid range."""


def rosenberg_flow(
    t: np.ndarray, period_s: float, *, open_quotient: float = 0.6, speed_quotient: float = 2.0
) -> np.ndarray:
    """Rosenberg (1971) glottal flow pulse (peak 1) at times ``t`` within one period.

    Parameters
    ----------
    t : numpy.ndarray
        Times (s) from the start of the cycle; values outside ``[0, period_s)``
        are treated as closed phase.
    period_s : float
        Fundamental period ``T0`` (s).
    open_quotient : float, default 0.6
        Open phase ``(Tp + Tn) / T0``, in (0, 1].
    speed_quotient : float, default 2.0
        Opening over closing duration ``Tp / Tn``, > 0.

    Returns
    -------
    numpy.ndarray
        Flow (arbitrary units, maximum 1 at ``t = Tp``).
    """
    if not (period_s > 0 and np.isfinite(period_s)):
        raise GlottalModelError(f"period_s must be > 0 s, got {period_s!r}")
    if not 0 < open_quotient <= 1:
        raise GlottalModelError(f"open_quotient must be in (0, 1], got {open_quotient!r}")
    if not speed_quotient > 0:
        raise GlottalModelError(f"speed_quotient must be > 0, got {speed_quotient!r}")
    t = np.asarray(t, dtype=np.float64)
    t_open = open_quotient * period_s
    tp = t_open * speed_quotient / (1.0 + speed_quotient)
    tn = t_open - tp
    flow = np.zeros_like(t)
    rising = (t >= 0) & (t <= tp)
    falling = (t > tp) & (t <= t_open)
    flow[rising] = 0.5 * (1.0 - np.cos(np.pi * t[rising] / tp))
    flow[falling] = np.cos(np.pi * (t[falling] - tp) / (2.0 * tn))
    return flow


@dataclass(frozen=True)
class LFParameters:
    """Timing and shape constants of one LF cycle (seconds, 1/s).

    ``tp`` peak flow, ``te`` main excitation, ``ta`` return-phase constant,
    ``t0`` period, ``alpha`` growth rate, ``epsilon`` return-phase decay,
    ``e0`` amplitude giving ``E(te) = -1``.
    """

    tp: float
    te: float
    ta: float
    t0: float
    alpha: float
    epsilon: float
    e0: float


def lf_parameters(period_s: float, rd: float = 1.0) -> LFParameters:
    """LF model constants from the period and Fant's (1995) shape parameter ``Rd``.

    ``Rap = (-1 + 4.8 Rd) / 100``, ``Rkp = (22.4 + 11.8 Rd) / 100``,
    ``Rgp = Rkp / (4 (0.11 Rd / (0.5 + 1.2 Rkp) - Rap))``; then
    ``tp = T0 / (2 Rgp)``, ``te = tp (1 + Rkp)``, ``ta = Rap T0``.

    Parameters
    ----------
    period_s : float
        Fundamental period (s).
    rd : float, default 1.0
        Voice quality: about 0.3 (pressed) to 2.7 (breathy); 1.0 is modal.

    Returns
    -------
    LFParameters
    """
    if not (period_s > 0 and np.isfinite(period_s)):
        raise GlottalModelError(f"period_s must be > 0 s, got {period_s!r}")
    if not 0.3 <= rd <= 2.7:
        raise GlottalModelError(f"rd must be in [0.3, 2.7] (Fant 1995), got {rd!r}")
    rap = (-1.0 + 4.8 * rd) / 100.0
    rkp = (22.4 + 11.8 * rd) / 100.0
    rgp = rkp / (4.0 * (0.11 * rd / (0.5 + 1.2 * rkp) - rap))
    tp = period_s / (2.0 * rgp)
    te = tp * (1.0 + rkp)
    ta = rap * period_s
    tb = period_s - te
    if not (0 < tp < te < period_s and ta > 0):
        raise GlottalModelError(f"rd={rd!r} gives an impossible LF cycle")
    # return phase: eps ta = 1 - exp(-eps (T0 - te))
    epsilon = brentq(lambda e: e * ta - 1.0 + np.exp(-e * tb), 1e-3 / ta, 1e3 / ta)
    wg = np.pi / tp

    def open_phase_area(alpha: float) -> float:
        # integral of E0 exp(alpha t) sin(wg t) over [0, te] with E(te) = -1,
        # plus the integral of the return phase; zero net flow over the cycle
        e0 = -1.0 / (np.exp(alpha * te) * np.sin(wg * te))
        integral = (
            e0
            * (np.exp(alpha * te) * (alpha * np.sin(wg * te) - wg * np.cos(wg * te)) + wg)
            / (alpha**2 + wg**2)
        )
        ret = -(1.0 / (epsilon * ta)) * (
            (1.0 - np.exp(-epsilon * tb)) / epsilon - tb * np.exp(-epsilon * tb)
        )
        return float(integral + ret)

    hi = 1.0 / tp
    while open_phase_area(hi) > 0 and hi < 1e7:
        hi *= 2.0
    lo = -1.0 / tp
    while open_phase_area(lo) < 0 and lo > -1e7:
        lo *= 2.0
    alpha = brentq(open_phase_area, lo, hi, xtol=1e-12)
    e0 = -1.0 / (np.exp(alpha * te) * np.sin(wg * te))
    return LFParameters(tp, te, ta, period_s, alpha, epsilon, e0)


def lf_flow_derivative(t: np.ndarray, params: LFParameters) -> np.ndarray:
    """LF glottal flow derivative at times ``t`` (s) within one cycle.

    Parameters
    ----------
    t : numpy.ndarray
        Times (s) from glottal opening; outside ``[0, T0)`` the value is 0.
    params : LFParameters
        From :func:`lf_parameters`.

    Returns
    -------
    numpy.ndarray
        Flow derivative, scaled so the negative peak at ``te`` is -1.
    """
    p = params
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros_like(t)
    opening = (t >= 0) & (t <= p.te)
    closing = (t > p.te) & (t < p.t0)
    to = t[opening]
    out[opening] = p.e0 * np.exp(p.alpha * to) * np.sin(np.pi * to / p.tp)
    tc = t[closing] - p.te
    out[closing] = -(1.0 / (p.epsilon * p.ta)) * (
        np.exp(-p.epsilon * tc) - np.exp(-p.epsilon * (p.t0 - p.te))
    )
    return out


def glottal_source(
    sr: int,
    duration_s: float,
    *,
    f0: float = 120.0,
    model: str = "lf",
    rd: float = 1.0,
    open_quotient: float = 0.6,
    speed_quotient: float = 2.0,
    jitter: float = 0.0,
    shimmer: float = 0.0,
    seed: int | None = 0,
) -> np.ndarray:
    """Train of glottal pulses, as the glottal *flow derivative* at rate ``sr``.

    Each cycle is evaluated analytically on the sample grid (so periods need
    not be whole numbers of samples). Jitter and shimmer are independent
    Gaussian perturbations per cycle of the period and the amplitude.

    Parameters
    ----------
    sr : int
        Sampling rate (Hz).
    duration_s : float
        Length of the output (s).
    f0 : float, default 120
        Mean fundamental frequency (Hz).
    model : {"lf", "rosenberg", "impulse"}
        Pulse shape. ``"impulse"`` returns one unit *flow* impulse per cycle
        (not a derivative: see :func:`vtract.synth.tube_vowel`).
    rd : float, default 1.0
        LF shape parameter (``model="lf"``).
    open_quotient, speed_quotient : float
        Rosenberg shape (``model="rosenberg"``).
    jitter : float, default 0
        Relative standard deviation of the cycle period (0.01 = 1 %).
    shimmer : float, default 0
        Relative standard deviation of the cycle amplitude.
    seed : int or None, default 0
        Seed of the perturbations (same seed, same signal).

    Returns
    -------
    numpy.ndarray
        float64 samples, ``round(duration_s * sr)`` long.
    """
    if model not in GLOTTAL_MODELS:
        raise GlottalModelError(f"model must be one of {GLOTTAL_MODELS}, got {model!r}")
    if not (isinstance(sr, int | np.integer) and sr > 0):
        raise GlottalModelError(f"sr must be a positive integer (Hz), got {sr!r}")
    if not (duration_s > 0 and np.isfinite(duration_s)):
        raise GlottalModelError(f"duration_s must be > 0 s, got {duration_s!r}")
    if not (20.0 <= f0 < sr / 4):
        raise GlottalModelError(f"f0 must be in [20, sr/4) Hz, got {f0!r}")
    if not (0 <= jitter < 0.2 and 0 <= shimmer < 0.5):
        raise GlottalModelError(
            f"jitter must be in [0, 0.2) and shimmer in [0, 0.5), got {jitter!r}, {shimmer!r}"
        )
    n = round(duration_s * sr)
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=np.float64)
    start = 0.0
    lf_cache: dict[float, LFParameters] = {}
    while start < n / sr:
        period = (1.0 / f0) * (1.0 + jitter * rng.standard_normal()) if jitter else 1.0 / f0
        amp = 1.0 + shimmer * rng.standard_normal() if shimmer else 1.0
        # first sample at or after the cycle start (tolerant to rounding of sums of periods)
        i0 = int(np.ceil(start * sr - 1e-6))
        i1 = min(n, int(np.ceil((start + period) * sr - 1e-6)))
        t = np.maximum(np.arange(i0, i1) / sr - start, 0.0)
        if model == "impulse":
            if i0 < n:
                out[i0] += amp
        elif model == "rosenberg":
            dt = 1.0 / sr
            flow = rosenberg_flow(
                np.concatenate([t, [t[-1] + dt]]) if t.size else t,
                period,
                open_quotient=open_quotient,
                speed_quotient=speed_quotient,
            )
            out[i0:i1] += amp * np.diff(flow) * sr if t.size else 0.0
        else:
            key = round(period, 9)
            if key not in lf_cache:
                lf_cache[key] = lf_parameters(period, rd)
            out[i0:i1] += amp * lf_flow_derivative(t, lf_cache[key])
        start += period
    return out
