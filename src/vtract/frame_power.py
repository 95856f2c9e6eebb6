"""Short-time band power: the power of every frame of a recording in a few bands.

The noise-floor and reverberation measures of :mod:`vtract.noise_floor` and
:mod:`vtract.reverberation` both follow how the power of a band changes from
frame to frame; :func:`frame_band_powers` is that one computation, block by
block so that memory stays bounded on hour-long recordings.
:func:`frame_band_powers_and_bin_quantiles` also takes quantiles of the same
frames' bin powers within a band, in the same pass: the floor in the spectral
valleys that :func:`vtract.noise_floor.speech_to_valley_floor_db` measures
(session 29).

Both measures leave out the frames :func:`digital_silence` marks: frames that
hold no recorded sound at all (zero padding at a clip's ends, pauses a noise
gate or an editor set to zero). Such a frame has no noise floor and no room
tail to measure, and before session 28 one was enough to defeat both checks:
its power of 0 became the quiet frames' floor (a 120 dB rise), and a fall from
speech into it counted as a fall of up to 120 dB (``docs/LIMITS.md``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = [
    "DIGITAL_SILENCE_DB",
    "WHOLE_SPECTRUM_HZ",
    "ZERO_RUN_SECONDS",
    "digital_silence",
    "frame_band_powers",
    "frame_band_powers_and_bin_quantiles",
]

#: A frame whose power over the whole spectrum (mean removed) lies this far or
#: further below the loudest frame's is digital silence (dB). No recorded noise
#: floor lies that low: 16-bit quantisation noise (an LSB of 2^-15, uniform) has
#: a mean square of -101 dBFS, and the loudest 20 ms frame of speech peaking near
#: full scale about -10 dBFS, so the quiet frames of a 16-bit recording stay
#: within about 91 dB of its loudest (less when it is quieter), and microphone
#: and preamplifier noise keeps 24-bit and float recordings of a voice above
#: about -110 dBFS. What lies lower is what a decoder, resampler or float
#: pipeline leaves of exact zeros (and a frame that is constant: its mean is
#: removed). The rule is relative, so it does not depend on the gain.
DIGITAL_SILENCE_DB = 100.0
#: A run of at least this long (s) of samples that are exactly zero is digital
#: silence, and so is every frame that holds part of one (at 16 kHz 32 samples:
#: real noise, even at the level of one 16-bit step, is never zero that long).
#: A frame cut off by a noise gate keeps part of the sound before the cut but
#: falls into zeros within itself: its level is neither a floor nor a decay.
ZERO_RUN_SECONDS = 0.002
#: The band of :func:`frame_band_powers` that holds the whole spectrum.
WHOLE_SPECTRUM_HZ = (0.0, math.inf)

_BLOCK_FRAMES = 4096  # frames transformed at a time
_BLOCK_SAMPLES = 1 << 20  # samples searched for zero runs at a time


def frame_band_powers(
    samples: np.ndarray,
    sr: int,
    bands_hz: Sequence[tuple[float, float]],
    frame_seconds: float,
    hop_seconds: float,
) -> np.ndarray:
    """Power of every frame in each band.

    Frames are ``round(frame_seconds * sr)`` samples long and start every
    ``round(hop_seconds * sr)`` samples (only whole frames); each has its
    mean removed and a periodic Hann window applied before its real FFT.
    A band's power is the sum of the squared magnitudes of the bins
    ``lo <= f < hi``.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal (any float or integer dtype; converted block by block,
        so no float64 copy of the whole recording is made).
    sr : int
        Its sample rate (Hz).
    bands_hz : sequence of (float, float)
        ``(lo, hi)`` of each band (Hz).
    frame_seconds, hop_seconds : float
        Frame length and hop (s).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(bands_hz), n_frames)``; ``n_frames`` is 0 for a signal
        shorter than one frame.
    """
    n_frames, freqs, blocks = _power_spectra(samples, sr, frame_seconds, hop_seconds)
    in_band = [(freqs >= lo) & (freqs < hi) for lo, hi in bands_hz]
    powers = np.empty((len(in_band), n_frames))
    for first, last, power in blocks:
        for b, sel in enumerate(in_band):
            powers[b, first:last] = power[:, sel].sum(axis=1)
    return powers


def frame_band_powers_and_bin_quantiles(
    samples: np.ndarray,
    sr: int,
    bands_hz: Sequence[tuple[float, float]],
    quantile_band_hz: tuple[float, float],
    quantiles: Sequence[float],
    frame_seconds: float,
    hop_seconds: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`frame_band_powers`, and quantiles of the bin powers in one band, in one pass.

    The frames and their power spectra are those of :func:`frame_band_powers`
    (mean removed, periodic Hann window, real FFT, block by block so memory
    stays bounded), each transformed once. Besides the band sums, the given
    quantiles of each frame's squared magnitudes in the bins ``lo <= f < hi``
    of ``quantile_band_hz`` are taken (linear interpolation,
    :func:`numpy.quantile`). A low quantile follows the spectral valleys of
    the frame (between harmonics and formants), which noise under the sound
    fills.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz).
    bands_hz : sequence of (float, float)
        ``(lo, hi)`` of each band whose power is summed (Hz).
    quantile_band_hz : (float, float)
        ``(lo, hi)`` of the band whose bin-power quantiles are taken (Hz); it
        must hold at least one bin.
    quantiles : sequence of float
        Quantiles in ``[0, 1]``.
    frame_seconds, hop_seconds : float
        Frame length and hop (s).

    Returns
    -------
    powers : numpy.ndarray
        As :func:`frame_band_powers`, shape ``(len(bands_hz), n_frames)``.
    bin_quantiles : numpy.ndarray
        Shape ``(len(quantiles), n_frames)``.

    Raises
    ------
    ValueError
        The quantile band holds no bin of the frames' spectrum.
    """
    n_frames, freqs, blocks = _power_spectra(samples, sr, frame_seconds, hop_seconds)
    lo, hi = quantile_band_hz
    sel = (freqs >= lo) & (freqs < hi)
    if not sel.any():
        raise ValueError(f"the band {lo:g}-{hi:g} Hz holds no bin of {sr} Hz frames")
    in_band = [(freqs >= b_lo) & (freqs < b_hi) for b_lo, b_hi in bands_hz]
    qs = np.asarray(quantiles, dtype=np.float64)
    powers = np.empty((len(in_band), n_frames))
    out = np.empty((qs.size, n_frames))
    for first, last, power in blocks:
        for b, band in enumerate(in_band):
            powers[b, first:last] = power[:, band].sum(axis=1)
        out[:, first:last] = np.quantile(power[:, sel], qs, axis=1)
    return powers, out


def _power_spectra(
    samples: np.ndarray, sr: int, frame_seconds: float, hop_seconds: float
) -> tuple[int, np.ndarray, Iterator[tuple[int, int, np.ndarray]]]:
    """The frames' power spectra, :data:`_BLOCK_FRAMES` frames at a time.

    Returns the number of whole frames, the bin frequencies (Hz) and an
    iterator of ``(first, last, power)``: frames ``first:last``, their
    squared magnitudes of shape ``(last - first, n_bins)``.
    """
    x = np.asarray(samples).ravel()
    n = round(frame_seconds * sr)
    hop = round(hop_seconds * sr)
    n_frames = 0 if x.size < n else 1 + (x.size - n) // hop
    freqs = np.fft.rfftfreq(n, 1.0 / sr)

    def blocks() -> Iterator[tuple[int, int, np.ndarray]]:
        window = np.hanning(n + 1)[:-1]
        for first in range(0, n_frames, _BLOCK_FRAMES):
            last = min(n_frames, first + _BLOCK_FRAMES)
            chunk = np.asarray(x[first * hop : (last - 1) * hop + n], dtype=np.float64)
            frames = np.lib.stride_tricks.sliding_window_view(chunk, n)[::hop]
            frames = frames - frames.mean(axis=1, keepdims=True)
            spectra = np.fft.rfft(frames * window, axis=1)
            yield first, last, spectra.real**2 + spectra.imag**2

    return n_frames, freqs, blocks()


def digital_silence(
    samples: np.ndarray,
    sr: int,
    frame_seconds: float,
    hop_seconds: float,
    whole_spectrum_power: np.ndarray,
) -> np.ndarray:
    """Which frames are digital silence: no recorded sound, only zeros or their residue.

    A frame is digital silence when its power over the whole spectrum lies
    :data:`DIGITAL_SILENCE_DB` or more below the loudest frame's (all frames
    when none has power), or when it holds any sample of a run of at least
    :data:`ZERO_RUN_SECONDS` of exact zeros.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz).
    frame_seconds, hop_seconds : float
        Frame length and hop (s), as given to :func:`frame_band_powers`.
    whole_spectrum_power : numpy.ndarray
        The frames' power in :data:`WHOLE_SPECTRUM_HZ`
        (:func:`frame_band_powers` with the same framing), shape ``(n_frames,)``.

    Returns
    -------
    numpy.ndarray
        bool, shape ``(n_frames,)``: True for a frame of digital silence.
    """
    power = np.asarray(whole_spectrum_power, dtype=np.float64)
    n_frames = power.size
    if n_frames == 0:
        return np.zeros(0, dtype=bool)
    loudest = float(power.max())
    if not loudest > 0.0:
        return np.ones(n_frames, dtype=bool)
    silent = power <= loudest * 10.0 ** (-DIGITAL_SILENCE_DB / 10.0)
    n = round(frame_seconds * sr)
    hop = round(hop_seconds * sr)
    for first, stop in _zero_runs(
        np.asarray(samples).ravel(), max(2, round(ZERO_RUN_SECONDS * sr))
    ):
        # frames k with k hop < stop and k hop + n > first
        k_lo = max(0, -((n - first - 1) // hop))  # ceil((first - n + 1) / hop)
        k_hi = min(n_frames - 1, (stop - 1) // hop)
        if k_lo <= k_hi:
            silent[k_lo : k_hi + 1] = True
    return silent


def _zero_runs(x: np.ndarray, min_length: int) -> list[tuple[int, int]]:
    """``(first, stop)`` of every run of at least ``min_length`` exact zeros, in order.

    Block by block (a run may span blocks), so no boolean copy of a long
    recording is made at once.
    """
    runs: list[tuple[int, int]] = []
    open_at: int | None = None  # start of a run still going at the end of the last block
    for first in range(0, x.size, _BLOCK_SAMPLES):
        zero = x[first : first + _BLOCK_SAMPLES] == 0
        edges = np.flatnonzero(np.diff(zero.astype(np.int8), prepend=0, append=0))
        starts, stops = edges[0::2] + first, edges[1::2] + first
        if open_at is not None:
            if starts.size and starts[0] == first:
                starts[0] = open_at
            else:  # the open run ended at the block edge
                if first - open_at >= min_length:
                    runs.append((open_at, first))
            open_at = None
        if stops.size and stops[-1] == first + zero.size and first + zero.size < x.size:
            open_at = int(starts[-1])
            starts, stops = starts[:-1], stops[:-1]
        long = stops - starts >= min_length
        runs.extend(zip(starts[long].tolist(), stops[long].tolist(), strict=True))
    return runs
