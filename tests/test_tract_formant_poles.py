"""Formant-pole prior of the default estimator against NumPy references and analytic values."""

from __future__ import annotations

import numpy as np
import pytest

from vtract.synth import tube_vowel
from vtract.tract.default import (
    FORMANT_POLE_BANDWIDTH_HZ,
    N_COSINES,
    SECTION_SPREAD,
    formant_shape,
)
from vtract.tract.formant_poles import FORMANT_BAND_HZ, pole_frequencies, pole_predictor
from vtract.tract.length import SPEED_OF_SOUND_CM_S as C
from vtract.tract.wakita import wakita_core

FS = 16000.0


def pole_predictor_ref(freqs: np.ndarray, order: int, fs: float, bw: float) -> np.ndarray:
    """np.poly of the conjugate pole pairs, padded with poles at z = 0."""
    rho = np.exp(-np.pi * bw / fs)
    theta = 2 * np.pi * np.asarray(freqs[: order // 2]) / fs
    roots = np.concatenate([rho * np.exp(1j * theta), rho * np.exp(-1j * theta)])
    a = np.real(np.poly(roots)) if roots.size else np.array([1.0])
    return np.concatenate([a, np.zeros(order + 1 - a.size)])


def step_down_ref(a: np.ndarray) -> np.ndarray:
    """Textbook backward Levinson recursion: k_i = a_i^(i), a^(i-1) = (a^(i) - k_i J a^(i)) / (1 - k_i^2)."""
    a = np.asarray(a, dtype=np.float64)
    p = a.size - 1
    k = np.zeros(p)
    for i in range(p, 0, -1):
        k[i - 1] = a[i]
        a = (a[:i] - a[i] * a[i::-1][:i]) / (1.0 - a[i] ** 2)
    return k


def formant_shape_ref(freqs: np.ndarray, fs: float, length: float) -> np.ndarray:
    """Steps 3-5 of vtract.tract.default in plain NumPy (neutral fill, poles, PARCOR, cosines)."""
    n0 = max(4, int(np.floor(2 * length * fs / C + 0.5)))
    grid = (np.arange(n0) + 0.5) / n0
    acc = np.zeros(n0)
    counts = range(max(3, n0 - SECTION_SPREAD), n0 + SECTION_SPREAD + 1)
    for nn in counts:
        p = nn - 1
        f = [v for v in freqs if v < FORMANT_BAND_HZ][: p // 2]
        while len(f) < p // 2:
            nxt = max((f[-1] if f else 0.0) + C / (4 * length), (2 * len(f) + 1) * C / (4 * length))
            if nxt >= fs / 2:
                break
            f.append(nxt)
        k = step_down_ref(pole_predictor_ref(np.array(f), p, fs, FORMANT_POLE_BANDWIDTH_HZ))
        r = np.clip(k[::-1], -0.99, 0.99)
        ln_a = np.log(np.concatenate([[1.0], np.cumprod((1 + r) / (1 - r))]))
        v = np.interp(grid, (np.arange(nn) + 0.5) / nn, ln_a)
        acc += v - v.mean()
    basis = np.cos(np.outer(grid, np.arange(N_COSINES + 1)) * np.pi)
    coef = np.linalg.lstsq(basis, acc / len(counts), rcond=None)[0]
    coef[0] = 0.0
    return coef


@pytest.mark.parametrize("order", [14, 15])
def test_pole_predictor_matches_numpy_poly(order):
    freqs = np.array([310.0, 1250.0, 2400.0, 3300.0, 4400.0, 5600.0, 6500.0, 7600.0])
    got = pole_predictor(freqs, order, FS, 200.0)
    np.testing.assert_allclose(got, pole_predictor_ref(freqs, order, FS, 200.0), atol=1e-12)
    roots = np.roots(got[: 2 * (order // 2) + 1])
    # analytic: the roots sit at the given frequencies on the circle of radius exp(-pi B / fs)
    np.testing.assert_allclose(np.abs(roots), np.exp(-np.pi * 200.0 / FS), atol=1e-7)
    f = np.sort(np.angle(roots[roots.imag > 0])) * FS / (2 * np.pi)
    np.testing.assert_allclose(f, freqs[: order // 2], atol=1e-4)


def test_pole_frequencies_neutral_series_and_measured_band():
    length = 17.5
    q = C / (4 * length)  # 504.3 Hz: neutral resonances (2k - 1) q
    got = pole_frequencies(np.empty(0), 7, length, C, 5000.0, 8000.0)
    np.testing.assert_allclose(got, q * np.array([1, 3, 5, 7, 9, 11, 13]), rtol=1e-12)
    # formants below the band are kept, the one above replaced by the neutral series
    meas = np.array([300.0, 2200.0, 2350.0, 5200.0])
    got = pole_frequencies(meas, 5, length, C, 5000.0, 8000.0)
    np.testing.assert_allclose(got, [300.0, 2200.0, 2350.0, 7 * q, 9 * q], rtol=1e-12)
    # a fill that would fall below the last measured formant keeps a spacing of c / (4 L)
    got = pole_frequencies(np.array([400.0, 1900.0, 3400.0]), 4, length, C, 5000.0, 8000.0)
    np.testing.assert_allclose(got[3], 3400.0 + q, rtol=1e-12)
    # nothing at or above Nyquist
    got = pole_frequencies(np.empty(0), 9, length, C, 5000.0, 8000.0)
    assert got.size == 8 and got[-1] < 8000.0


def test_formant_shape_matches_numpy_reference():
    x = tube_vowel([2.0, 6.0, 0.8], [6.0, 8.0, 2.5], 16000, duration=0.25, f0=115.0, seed=3)
    frame = np.ascontiguousarray(x[2000:2565])
    coef, freqs, _, length, _ = formant_shape(frame, FS, -1.0)
    _, _, f2, _, l2, _ = wakita_core(frame, FS, -1.0, -1)
    np.testing.assert_allclose(freqs, f2)
    assert length == l2
    np.testing.assert_allclose(coef, formant_shape_ref(freqs, FS, length), atol=1e-8)
