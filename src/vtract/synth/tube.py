"""Acoustic tube model of the vocal tract in the frequency domain.

The tract is a chain of cylindrical sections (glottis to lips). Each section is
a uniform transmission line; its 2x2 chain (ABCD) matrix relates the sound
pressure ``P`` and volume velocity ``U`` at its two ends::

    [P_in, U_in]^T = K(f) [P_out, U_out]^T

With series impedance ``Z`` and shunt admittance ``Y`` per unit length,
``gamma = sqrt(Z Y)``, ``Z0 = sqrt(Z / Y)`` and
``K = [[cosh(gamma l), Z0 sinh(gamma l)], [sinh(gamma l) / Z0, cosh(gamma l)]]``.
Without losses ``Z = j w rho / A``, ``Y = j w A / (rho c^2)``. With losses
(Flanagan 1972, *Speech Analysis, Synthesis and Perception*, ch. 3; wall values
of Ishizaka, French & Flanagan 1975 as used by Story 1995) the series branch
gains a viscous resistance and the shunt branch a thermal conductance and the
admittance of a yielding wall (mass, resistance, stiffness per unit area).

The glottis is an ideal volume-velocity source (closed-glottis condition,
``glottis="closed"``) or a source whose internal impedance matches the first
section, ``rho c / A_1`` (``glottis="matched"``: no reflection at the glottis,
all losses lumped there - Wakita's (1973) model, for which the PARCOR
coefficients of the lossless tube's output equal its junction reflection
coefficients read from the lips). The lips are loaded by the radiation
impedance of a piston in an infinite baffle (Flanagan's parallel R-L
approximation), or by ``Z = 0`` (ideal open end) when ``radiation=False``.
With source impedance ``Z_g`` and lip load ``Z_L`` the transfer function is
``H = U_lips / U_source = 1 / (C Z_L + D + (A Z_L + B) / Z_g)``
(``1 / (C Z_L + D)`` for the closed glottis).

All quantities are CGS: cm, cm^2, g, s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from ..errors import VtractError

__all__ = [
    "AIR",
    "GLOTTIS_MODELS",
    "AirConstants",
    "TubeShapeError",
    "chain_matrix",
    "radiation_impedance",
    "transfer_function",
    "tube_resonances",
]


class TubeShapeError(VtractError, ValueError):
    """An area function or section length that cannot describe a tube."""


@dataclass(frozen=True)
class AirConstants:
    """Physical constants of warm, moist air and of the tract walls (CGS).

    Attributes
    ----------
    c : float
        Speed of sound (cm/s).
    rho : float
        Air density (g/cm^3).
    mu : float
        Viscosity (dyn s / cm^2).
    heat_conduction : float
        Coefficient of heat conduction (cal / (cm s degC)).
    specific_heat : float
        Specific heat at constant pressure (cal / (g degC)).
    adiabatic : float
        Adiabatic constant (ratio of specific heats).
    wall_mass : float
        Wall mass per unit area (g / cm^2).
    wall_resistance : float
        Wall resistance per unit area (dyn s / cm^3).
    wall_stiffness : float
        Wall stiffness per unit area (dyn / cm^3).
    """

    c: float = 35000.0
    rho: float = 1.14e-3
    mu: float = 1.86e-4
    heat_conduction: float = 5.5e-5
    specific_heat: float = 0.24
    adiabatic: float = 1.4
    wall_mass: float = 1.5
    wall_resistance: float = 1600.0
    wall_stiffness: float = 3.0e5


AIR = AirConstants()
"""Default constants (c = 35,000 cm/s, as in the project's tube formulas)."""

GLOTTIS_MODELS = ("closed", "matched")


def _as_tube(
    areas_cm2: ArrayLike, section_length_cm: float | ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    areas = np.asarray(areas_cm2, dtype=np.float64)
    if areas.ndim != 1 or areas.size < 1:
        raise TubeShapeError(
            f"areas_cm2 must be a non-empty 1-D array (glottis to lips), got shape {areas.shape}"
        )
    if not np.all(np.isfinite(areas)) or np.any(areas <= 0):
        raise TubeShapeError(f"areas_cm2 must be finite and > 0 cm^2, got min {np.nanmin(areas)!r}")
    given = np.asarray(section_length_cm, dtype=np.float64)
    if given.ndim > 1 or given.size not in (1, areas.size):
        raise TubeShapeError(
            f"section_length_cm must be a scalar or one value per section ({areas.size}), "
            f"got shape {given.shape}"
        )
    lengths = np.broadcast_to(given.reshape(-1), areas.shape)
    if not np.all(np.isfinite(lengths)) or np.any(lengths <= 0):
        raise TubeShapeError(
            f"section_length_cm must be finite and > 0 cm, got {section_length_cm!r}"
        )
    return areas, np.array(lengths)


def _as_freqs(freqs_hz: ArrayLike) -> np.ndarray:
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=np.float64))
    if f.ndim != 1 or not np.all(np.isfinite(f)) or np.any(f < 0):
        raise TubeShapeError("freqs_hz must be a 1-D array of finite frequencies >= 0 Hz")
    return f


def chain_matrix(
    areas_cm2: ArrayLike,
    section_length_cm: float | ArrayLike,
    freqs_hz: ArrayLike,
    *,
    losses: bool = True,
    air: AirConstants = AIR,
) -> np.ndarray:
    """Chain (ABCD) matrix of the whole tube, glottis end to lip end.

    Parameters
    ----------
    areas_cm2 : array_like
        Cross-sectional areas (cm^2), glottis to lips.
    section_length_cm : float or array_like
        Length of every section (cm), or one length per section.
    freqs_hz : array_like
        Frequencies (Hz) at which to evaluate.
    losses : bool, default True
        Include viscous, thermal and yielding-wall losses.
    air : AirConstants, optional
        Physical constants.

    Returns
    -------
    numpy.ndarray
        Complex array of shape ``(len(freqs_hz), 2, 2)``: ``[[A, B], [C, D]]``
        with ``[P_glottis, U_glottis] = K [P_lips, U_lips]``.
        A reciprocal network has ``A D - B C = 1``.
    """
    areas, lengths = _as_tube(areas_cm2, section_length_cm)
    f = _as_freqs(freqs_hz)
    # avoid the 0/0 of the wall stiffness term at exactly 0 Hz
    w = 2.0 * np.pi * np.maximum(f, 1e-6)[:, None]
    jw = 1j * w
    a = areas[None, :]
    z = jw * air.rho / a
    y = jw * a / (air.rho * air.c**2)
    if losses:
        perimeter = 2.0 * np.sqrt(np.pi * a)
        z = z + perimeter / a**2 * np.sqrt(w * air.rho * air.mu / 2.0)
        y = y + perimeter * (air.adiabatic - 1.0) / (air.rho * air.c**2) * np.sqrt(
            air.heat_conduction * w / (2.0 * air.specific_heat * air.rho)
        )
        wall_impedance = air.wall_resistance + jw * air.wall_mass + air.wall_stiffness / jw
        y = y + perimeter / wall_impedance
    gamma = np.sqrt(z * y)
    z0 = np.sqrt(z / y)
    gl = gamma * lengths[None, :]
    ch, sh = np.cosh(gl), np.sinh(gl)
    total = np.zeros((f.size, 2, 2), dtype=np.complex128)
    total[:, 0, 0] = 1.0
    total[:, 1, 1] = 1.0
    for k in range(areas.size):  # glottis first: K = K_1 K_2 ... K_N
        sec = np.empty((f.size, 2, 2), dtype=np.complex128)
        sec[:, 0, 0] = ch[:, k]
        sec[:, 0, 1] = z0[:, k] * sh[:, k]
        sec[:, 1, 0] = sh[:, k] / z0[:, k]
        sec[:, 1, 1] = ch[:, k]
        total = total @ sec
    return total


def radiation_impedance(
    area_cm2: float, freqs_hz: ArrayLike, *, air: AirConstants = AIR
) -> np.ndarray:
    """Radiation impedance of the lip opening (piston in an infinite baffle).

    Flanagan's (1972) parallel R-L approximation:
    ``R = 128 rho c / (9 pi^2 A)``, ``L = 8 rho / (3 pi sqrt(pi A))``,
    ``Z = j w L R / (R + j w L)``.

    Parameters
    ----------
    area_cm2 : float
        Lip-opening area (cm^2).
    freqs_hz : array_like
        Frequencies (Hz).
    air : AirConstants, optional
        Physical constants.

    Returns
    -------
    numpy.ndarray
        Complex acoustic impedance (dyn s / cm^5), one per frequency.
    """
    if not np.isfinite(area_cm2) or area_cm2 <= 0:
        raise TubeShapeError(f"lip area must be finite and > 0 cm^2, got {area_cm2!r}")
    f = _as_freqs(freqs_hz)
    jw = 2j * np.pi * f
    r = 128.0 * air.rho * air.c / (9.0 * np.pi**2 * area_cm2)
    inductance = 8.0 * air.rho / (3.0 * np.pi * np.sqrt(np.pi * area_cm2))
    return jw * inductance * r / (r + jw * inductance)


def transfer_function(
    areas_cm2: ArrayLike,
    section_length_cm: float | ArrayLike,
    freqs_hz: ArrayLike,
    *,
    losses: bool = True,
    radiation: bool = True,
    glottis: str = "closed",
    air: AirConstants = AIR,
) -> np.ndarray:
    """Volume-velocity transfer function ``U_lips / U_glottis`` of the tube.

    Parameters
    ----------
    areas_cm2 : array_like
        Cross-sectional areas (cm^2), glottis to lips.
    section_length_cm : float or array_like
        Section length(s) (cm).
    freqs_hz : array_like
        Frequencies (Hz).
    losses : bool, default True
        Viscous, thermal and wall losses inside the tube.
    radiation : bool, default True
        Load the lips with the radiation impedance; ``False`` uses an ideal
        open end (``P_lips = 0``), which makes a lossless tube's resonances
        infinitely sharp.
    glottis : {"closed", "matched"}, default "closed"
        Ideal flow source, or a source matched to the first section
        (reflection-free glottis; see the module notes).
    air : AirConstants, optional
        Physical constants.

    Returns
    -------
    numpy.ndarray
        Complex transfer function, one value per frequency; 1 at 0 Hz for the
        closed glottis.
    """
    areas, _ = _as_tube(areas_cm2, section_length_cm)
    if glottis not in GLOTTIS_MODELS:
        raise TubeShapeError(f"glottis must be one of {GLOTTIS_MODELS}, got {glottis!r}")
    k = chain_matrix(areas_cm2, section_length_cm, freqs_hz, losses=losses, air=air)
    if radiation:
        z_lips = radiation_impedance(float(areas[-1]), freqs_hz, air=air)
        denom = k[:, 1, 0] * z_lips + k[:, 1, 1]
        p_ratio = k[:, 0, 0] * z_lips + k[:, 0, 1]
    else:
        denom = k[:, 1, 1]
        p_ratio = k[:, 0, 1]
    if glottis == "matched":
        denom = denom + p_ratio * areas[0] / (air.rho * air.c)
    with np.errstate(divide="ignore"):
        return 1.0 / denom


def tube_resonances(
    areas_cm2: ArrayLike,
    section_length_cm: float | ArrayLike,
    *,
    fmax_hz: float = 5000.0,
    air: AirConstants = AIR,
) -> np.ndarray:
    """Resonance frequencies of the lossless tube, closed at the glottis, open at the lips.

    The resonances are the zeros of ``D(f)``, the lower-right entry of the
    lossless chain matrix (``H = 1 / D`` for an ideal open end). They are
    bracketed on a 1 Hz grid and refined with Brent's method.

    Parameters
    ----------
    areas_cm2 : array_like
        Cross-sectional areas (cm^2), glottis to lips.
    section_length_cm : float or array_like
        Section length(s) (cm).
    fmax_hz : float, default 5000
        Highest frequency searched (Hz).
    air : AirConstants, optional
        Physical constants.

    Returns
    -------
    numpy.ndarray
        Resonance frequencies (Hz), ascending. For a uniform tube of length
        ``L`` they are ``(2k - 1) c / (4 L)``.
    """
    if not np.isfinite(fmax_hz) or fmax_hz <= 0:
        raise TubeShapeError(f"fmax_hz must be > 0 Hz, got {fmax_hz!r}")

    def d_of(f: float) -> float:
        k = chain_matrix(areas_cm2, section_length_cm, [f], losses=False, air=air)
        return float(k[0, 1, 1].real)

    grid = np.arange(1.0, fmax_hz + 1.0, 1.0)
    d = chain_matrix(areas_cm2, section_length_cm, grid, losses=False, air=air)[:, 1, 1].real
    roots = []
    for i in np.flatnonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0):
        roots.append(brentq(d_of, grid[i], grid[i + 1], xtol=1e-9))
    return np.asarray(roots, dtype=np.float64)
