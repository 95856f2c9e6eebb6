"""A simulated room for tests: the direct sound and an exponentially decaying echo tail."""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve


def in_room(x: np.ndarray, sr: int, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` convolved with a unit direct path and a Gaussian tail that falls 60 dB in
    ``rt60_s`` and has the direct sound's energy (direct-to-reverberant ratio 0 dB);
    the same length as ``x``."""
    t = np.arange(int(rt60_s * sr)) / sr
    tail = rng.standard_normal(t.size) * 10 ** (-3 * t / rt60_s)
    h = np.concatenate(([1.0], tail[1:] / np.sqrt(np.sum(tail[1:] ** 2))))
    return fftconvolve(x, h)[: x.size]
