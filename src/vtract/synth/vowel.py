"""Steady vowels synthesised from a known area function."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import fftconvolve

from ..errors import SampleRateError
from .glottal import GLOTTAL_MODELS, GlottalModelError, glottal_source
from .tube import AIR, AirConstants, TubeShapeError, transfer_function

__all__ = ["tube_impulse_response", "tube_vowel"]


def tube_impulse_response(
    areas_cm2: ArrayLike,
    section_length_cm: float | ArrayLike,
    sr: int,
    *,
    losses: bool = True,
    radiation: bool = True,
    glottis: str = "closed",
    duration_s: float | None = None,
    air: AirConstants = AIR,
) -> np.ndarray:
    """Impulse response of the tube from glottal flow to lip flow (volume velocity).

    The transfer function :func:`~vtract.synth.tube.transfer_function` is
    sampled on the FFT grid of ``duration_s`` and inverted, so the response is
    band-limited to ``sr / 2`` without aliasing in frequency. ``duration_s``
    must exceed the decay time of the sharpest resonance: the default is 0.5 s
    with internal losses and 4 s without (radiation alone gives first-formant
    bandwidths of about 2 Hz).

    Parameters
    ----------
    areas_cm2 : array_like
        Areas (cm^2), glottis to lips.
    section_length_cm : float or array_like
        Section length(s) (cm).
    sr : int
        Sampling rate (Hz).
    losses, radiation : bool
        As in :func:`~vtract.synth.tube.transfer_function`. A tube with a
        closed glottis needs ``losses`` or ``radiation`` (otherwise its
        response never decays).
    glottis : {"closed", "matched"}, default "closed"
        Glottal termination (see :func:`~vtract.synth.tube.transfer_function`).
    duration_s : float, optional
        Length of the response (s); default 0.5 s (``losses=True``) or 4 s.
    air : AirConstants, optional
        Physical constants.

    Returns
    -------
    numpy.ndarray
        float64 impulse response, ``2 ** ceil(log2(duration_s * sr))`` samples,
        unit gain at 0 Hz, in circular order: band-limiting to ``sr / 2``
        rings slightly *before* the wave front arrives, and that acausal part
        sits at the end of the array (negative lags).
    """
    if not (isinstance(sr, int | np.integer) and 1000 <= sr <= 192000):
        raise SampleRateError(f"sr must be an integer rate in [1000, 192000] Hz, got {sr!r}")
    if not losses and not radiation and glottis == "closed":
        raise TubeShapeError(
            "a closed-glottis tube with neither internal losses nor radiation never decays; "
            "set losses=True, radiation=True or glottis='matched'"
        )
    if duration_s is None:
        duration_s = 0.5 if losses else 4.0
    nfft = 1 << int(np.ceil(np.log2(max(duration_s, 0.01) * sr)))
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)
    h = transfer_function(
        areas_cm2,
        section_length_cm,
        freqs,
        losses=losses,
        radiation=radiation,
        glottis=glottis,
        air=air,
    )
    h[-1] = h[-1].real  # the Nyquist bin of a real signal is real
    return np.fft.irfft(h, nfft)


def tube_vowel(
    areas_cm2: ArrayLike,
    section_length_cm: float | ArrayLike,
    sr: int = 16000,
    *,
    f0: float = 120.0,
    duration: float = 0.5,
    glottal: str = "lf",
    losses: bool = True,
    radiation: bool = True,
    glottis: str = "closed",
    rd: float = 1.0,
    jitter: float = 0.0,
    shimmer: float = 0.0,
    noise_db: float | None = None,
    seed: int | None = 0,
    air: AirConstants = AIR,
) -> np.ndarray:
    """Synthesise a steady vowel from a known area function.

    The glottal source (flow derivative, or a flow impulse train) is filtered
    by the tube's glottis-to-lips volume-velocity response; lip radiation
    (``p ~ dU/dt``) is applied as a time derivative, so the output is the
    radiated sound pressure up to a constant. With ``radiation=False`` the
    lips are an ideal open end and no derivative is taken: the output is the
    lip volume velocity for ``glottal="impulse"`` and its time derivative for
    the LF and Rosenberg sources (which are flow derivatives).

    Parameters
    ----------
    areas_cm2 : array_like
        Areas (cm^2), glottis to lips.
    section_length_cm : float or array_like
        Section length(s) (cm): one value, or one per section.
    sr : int, default 16000
        Sampling rate (Hz).
    f0 : float, default 120
        Fundamental frequency (Hz).
    duration : float, default 0.5
        Length (s). The output starts with an onset transient lasting about as
        long as the slowest resonance takes to decay (some 30 ms with losses,
        longer without).
    glottal : {"lf", "rosenberg", "impulse"}, default "lf"
        Source model (see :mod:`vtract.synth.glottal`).
    losses : bool, default True
        Viscous, thermal and yielding-wall losses inside the tract. With
        ``False`` the only loss is radiation at the lips (if ``radiation``).
    radiation : bool, default True
        Load the lips with the radiation impedance and output radiated
        pressure; ``False``: ideal open end, no derivative (see above).
    glottis : {"closed", "matched"}, default "closed"
        Glottal termination. ``"matched"`` with ``losses=False``,
        ``radiation=False`` and ``glottal="impulse"`` is Wakita's all-pole
        tube: use sections of ``c / (2 sr)`` for an exact LPC round trip.
    rd : float, default 1.0
        LF voice-quality parameter.
    jitter, shimmer : float, default 0
        Relative per-cycle perturbation of period and amplitude.
    noise_db : float or None, default None
        If given, add white Gaussian noise at this signal-to-noise ratio (dB).
    seed : int or None, default 0
        Seed for jitter, shimmer and noise; identical seeds give identical output.
    air : AirConstants, optional
        Physical constants.

    Returns
    -------
    numpy.ndarray
        float64 samples, ``round(duration * sr)`` long, peak amplitude 0.5.
    """
    if glottal not in GLOTTAL_MODELS:
        raise GlottalModelError(f"glottal must be one of {GLOTTAL_MODELS}, got {glottal!r}")
    if not (np.isfinite(duration) and duration * sr >= 1):
        raise GlottalModelError(f"duration must be at least one sample long (s), got {duration!r}")
    if noise_db is not None and not np.isfinite(noise_db):
        raise GlottalModelError(f"noise_db must be a finite SNR in dB or None, got {noise_db!r}")
    h = tube_impulse_response(
        areas_cm2,
        section_length_cm,
        sr,
        losses=losses,
        radiation=radiation,
        glottis=glottis,
        air=air,
    )
    n = round(duration * sr)
    # negative lags of the band-limited response (see tube_impulse_response): the
    # source runs on for `lead` samples so the end of the output is complete
    lead = h.size // 8
    source = glottal_source(
        sr, (n + lead) / sr, f0=f0, model=glottal, rd=rd, jitter=jitter, shimmer=shimmer, seed=seed
    )
    if radiation and glottal == "impulse":
        # flow impulses -> flow derivative: the radiation's d/dt acts on the source
        source = np.diff(source, prepend=0.0)
    y = fftconvolve(source, np.roll(h, lead))[lead : lead + n]
    if noise_db is not None:
        rng = np.random.default_rng(None if seed is None else seed + 1)
        power = float(np.mean(y**2))
        y = y + rng.standard_normal(y.size) * np.sqrt(power / 10.0 ** (noise_db / 10.0))
    peak = float(np.max(np.abs(y)))
    if peak == 0.0 or not np.isfinite(peak):
        raise TubeShapeError("synthesis produced silence or non-finite samples")
    return y * (0.5 / peak)
