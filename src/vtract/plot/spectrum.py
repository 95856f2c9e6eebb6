"""Target spectrum against the tube model's response.

The model response is the tube the estimator fitted:

- for estimates fitted to formants with the lip radiation load
  (``estimate.params["lip_radiation"]``: ``"default"`` and ``"lpc-refined"``),
  the lossless tube of the estimate's areas with a closed glottis and the lips
  loaded by the radiation impedance (:func:`vtract.synth.transfer_function`,
  ``losses=False``), whose peaks are the estimate's formants;
- otherwise the estimator's own lossless-tube transfer function
  (:func:`vtract.tract.tube.tube_response`, Rabiner & Schafer 1978, ch. 3)
  evaluated from the estimate's reflection coefficients (the last one is the
  lips' reflection) and its glottal reflection
  (``estimate.params["glottal_reflection"]``, 1 = closed glottis as in the
  published method when absent). The tube's sampling rate follows from its
  section length, ``fs = c / (2 * section_length)``, so a 15-section tube of
  16.6 cm is sampled at 16 kHz, and the response is drawn up to its Nyquist
  frequency ``fs / 2`` only (above it the sampled tube repeats mirrored).

Until session 31 the refined estimators recorded the matched glottis of
their LPC prior, and the curve drawn for them peaked 50-450 Hz away from
their formants; an 8 kHz estimate's model was drawn past its Nyquist
frequency.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import gaussian_filter1d

from ..tract.tube import tube_response
from ._common import PlotInputError, new_axes

__all__ = ["SPEED_OF_SOUND_CM_S", "spectrum_fit", "target_spectrum_db", "tube_response_db"]

#: Speed of sound in warm moist air (cm/s), as in the tube model.
SPEED_OF_SOUND_CM_S = 35000.0


def tube_response_db(
    reflection: ArrayLike,
    section_length_cm: float,
    freqs_hz: ArrayLike,
    *,
    glottal_reflection: float = 1.0,
) -> np.ndarray:
    """Magnitude response (dB) of the lossless tube described by an estimate.

    Parameters
    ----------
    reflection : array_like
        Reflection coefficients, glottis to lips; the last is the lips'
        reflection (``+1`` = ideal open end).
    section_length_cm : float
        Length of one section (cm); sets the tube's sampling rate.
    freqs_hz : array_like
        Frequencies at which to evaluate (Hz).
    glottal_reflection : float, default 1.0
        Reflection at the glottis (``1`` = closed, ``0`` = matched/lossy).

    Returns
    -------
    numpy.ndarray
        ``20 log10 |V(exp(j 2 pi f / fs))|``.

    Raises
    ------
    PlotInputError
        Non-positive section length or non-finite coefficients.
    """
    r = np.ascontiguousarray(np.asarray(reflection, dtype=np.float64).ravel())
    if not np.all(np.isfinite(r)) or not np.isfinite(glottal_reflection):
        raise PlotInputError("reflection coefficients must be finite")
    if np.any(np.abs(r[:-1]) >= 1.0):
        raise PlotInputError(
            "a junction reflects completely (|reflection| = 1: a section of zero area closes "
            "the tube), so the tube has no transfer function"
        )
    if not (np.isfinite(section_length_cm) and section_length_cm > 0):
        raise PlotInputError(f"section length must be positive (cm), got {section_length_cm!r}")
    fs = SPEED_OF_SOUND_CM_S / (2.0 * float(section_length_cm))
    omega = np.ascontiguousarray(2.0 * np.pi * np.asarray(freqs_hz, dtype=np.float64).ravel() / fs)
    with np.errstate(divide="ignore"):
        return np.asarray(
            20.0 * np.log10(np.abs(tube_response(r, float(glottal_reflection), omega)))
        )


def target_spectrum_db(
    frame: ArrayLike,
    sr: int,
    *,
    n_fft: int = 5120,
    smooth_bins: float = 2.0,
    pre_emphasis: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed log-magnitude spectrum of one window (dB, mean removed).

    The frame is taken as is (rectangular, as in the published method), its
    ``n_fft``-point magnitude spectrum put in dB and smoothed with a Gaussian
    of ``smooth_bins * sr / 1024`` Hz (2 bins of the published 1024-point
    grid), then the mean is removed. ``pre_emphasis`` ``a`` first applies
    ``y[n] = x[n] - a x[n-1]`` (as estimators that pre-emphasise do).

    Returns
    -------
    freqs_hz, level_db : numpy.ndarray
    """
    x = _frame_samples(frame)
    if not (np.isfinite(sr) and sr > 0):
        raise PlotInputError(f"sample rate must be positive, got {sr!r}")
    if not (np.isfinite(smooth_bins) and smooth_bins > 0):
        raise PlotInputError(f"smooth_bins must be a positive width, got {smooth_bins!r}")
    if pre_emphasis:
        x = np.concatenate([x[:1], x[1:] - pre_emphasis * x[:-1]])
    mag = np.abs(np.fft.rfft(x, n=max(n_fft, x.size)))
    level = 20.0 * np.log10(np.maximum(mag, 1e-12 * max(float(mag.max()), 1e-300)))
    level = gaussian_filter1d(level, smooth_bins * max(n_fft, x.size) / 1024)
    freqs = np.fft.rfftfreq(max(n_fft, x.size), 1.0 / sr)
    return freqs, level - level.mean()


def _fitted_model_db(estimate: Any, fmax_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and level (dB) of the tube ``estimate`` was fitted with (module notes)."""
    params = getattr(estimate, "params", None) or {}
    length = float(estimate.section_length_cm)
    if params.get("lip_radiation"):
        from ..errors import VtractError
        from ..synth.tube import transfer_function

        rate = params.get("analysis_rate")
        top = min(fmax_hz, float(rate) / 2.0) if rate else fmax_hz
        freqs = np.linspace(0.0, top, 2048)
        try:
            h = transfer_function(
                np.asarray(estimate.areas, dtype=np.float64),
                length,
                freqs,
                losses=False,
                radiation=True,
                glottis="closed",
            )
        except VtractError as exc:
            raise PlotInputError(f"cannot draw the fitted tube: {exc}") from exc
        with np.errstate(divide="ignore"):
            return freqs, np.asarray(20.0 * np.log10(np.abs(h)))
    if not (np.isfinite(length) and length > 0):
        raise PlotInputError(f"section length must be positive (cm), got {length!r}")
    nyquist = SPEED_OF_SOUND_CM_S / (4.0 * length)
    freqs = np.linspace(0.0, min(fmax_hz, nyquist), 2048)
    r_glottis = float(params.get("glottal_reflection", 1.0))
    return freqs, tube_response_db(estimate.reflection, length, freqs, glottal_reflection=r_glottis)


def spectrum_fit(
    estimate: Any,
    frame: ArrayLike | None = None,
    sr: int | None = None,
    *,
    target: tuple[ArrayLike, ArrayLike] | None = None,
    fmax_hz: float = 5000.0,
    ax: Any = None,
) -> Any:
    """Plot the target spectrum of a window against the fitted tube's response.

    Both curves are shown relative to their own mean over ``0..fmax_hz``
    (the shapes are compared, not the absolute gain).

    Parameters
    ----------
    estimate : TractEstimate
        Estimate with ``reflection`` and ``section_length_cm``.
    frame : array_like, optional
        The analysed samples; their spectrum is the target, prepared as the
        estimator prepared it: the published target
        (:func:`vtract.tract.paper.paper_target`) for ``method="paper"`` at
        16 kHz, otherwise :func:`target_spectrum_db` with the estimate's
        ``params["pre_emphasis"]`` (0 when absent).
    sr : int, optional
        Rate of ``frame`` (Hz); required with ``frame``.
    target : (freqs_hz, level_db), optional
        A target spectrum computed elsewhere (for example by the estimator);
        used instead of ``frame``.
    fmax_hz : float, default 5000
        Upper frequency shown (the published fit uses 0-5 kHz).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.

    Returns
    -------
    matplotlib.axes.Axes
        Lines labelled ``"target"`` (when given) and ``"tube model"``.
    """
    if not (np.isfinite(fmax_hz) and fmax_hz > 0):
        raise PlotInputError(f"fmax_hz must be a positive frequency, got {fmax_hz!r}")
    if not hasattr(estimate, "reflection") or not hasattr(estimate, "section_length_cm"):
        raise PlotInputError(
            f"expected a TractEstimate (reflection, section_length_cm), got {type(estimate).__name__}"
        )
    tgt: tuple[np.ndarray, np.ndarray] | None = None
    if target is not None:
        tgt = (np.asarray(target[0], dtype=float), np.asarray(target[1], dtype=float))
        if tgt[0].shape != tgt[1].shape:
            raise PlotInputError(
                f"target freqs {tgt[0].shape} and levels {tgt[1].shape} differ in shape"
            )
    elif frame is not None:
        if sr is None:
            raise PlotInputError("sr is required when a frame is given")
        tgt = _estimator_target(estimate, frame, int(sr))
    ax = new_axes(ax)
    if tgt is not None:
        keep = tgt[0] <= fmax_hz
        level = tgt[1][keep] - np.nanmean(tgt[1][keep])
        ax.plot(tgt[0][keep], level, color="0.3", linewidth=1.2, label="target")
    freqs, model = _fitted_model_db(estimate, fmax_hz)
    finite = np.isfinite(model)
    if np.any(finite):
        model = model - np.mean(model[finite])
    ax.plot(freqs, model, color="C3", linewidth=1.6, label="tube model")
    for f in np.asarray(getattr(estimate, "formants_hz", []), dtype=float):
        if np.isfinite(f) and f <= fmax_hz:
            ax.axvline(f, color="C3", linewidth=0.6, linestyle=":")
    err = float(getattr(estimate, "fit_error_db", np.nan))
    suffix = f" (fit error {err:.2f} dB)" if np.isfinite(err) else ""
    ax.set_xlim(0.0, fmax_hz)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("level re mean (dB)")
    ax.set_title(f"Spectrum fit{suffix}")
    ax.legend(fontsize=7)
    return ax


def _estimator_target(estimate: Any, frame: ArrayLike, sr: int) -> tuple[np.ndarray, np.ndarray]:
    from ..tract import paper

    if getattr(estimate, "method", "") == "paper" and sr == paper.PAPER_RATE:
        x = _frame_samples(frame)
        if x.size > paper.PAPER_N_FFT:
            raise PlotInputError(
                f"the published target takes at most {paper.PAPER_N_FFT} samples, got {x.size}"
            )
        freqs = paper.paper_omega() * sr / (2.0 * np.pi)
        return freqs, paper.paper_target(x)
    params = getattr(estimate, "params", None) or {}
    return target_spectrum_db(frame, sr, pre_emphasis=float(params.get("pre_emphasis", 0.0)))


def _frame_samples(frame: ArrayLike) -> np.ndarray:
    """A window as 1-D contiguous float64, or :class:`PlotInputError`."""
    try:
        x = np.ascontiguousarray(frame, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PlotInputError(f"frame must be numeric samples: {exc}") from None
    if x.ndim != 1:
        raise PlotInputError(f"frame must be 1-D samples, got an array of shape {x.shape}")
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise PlotInputError(f"frame must hold at least 2 samples, all finite, got {x.size}")
    return x
