"""Formant-matching refinement kernels against NumPy/SciPy references and analytic tubes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from vtract.synth import AirConstants, chain_matrix
from vtract.tract.formant_fit import (
    RHO,
    cosine_log_areas,
    fit_formants,
    resonance_function,
    resonances_near,
    tube_resonances_fast,
)

C = 35000.0
AIR = AirConstants(c=C, rho=RHO)


def _g_reference(areas: np.ndarray, length: float, f: float) -> float:
    """g = D + C Z_L from vtract.synth's lossless chain matrix and the lip inertance."""
    k = chain_matrix(areas, length / areas.size, [f], losses=False, air=AIR)[0]
    mass = 8.0 * RHO / (3.0 * np.pi * np.sqrt(np.pi * areas[-1]))
    val = k[1, 1] + k[1, 0] * 1j * 2.0 * np.pi * f * mass
    assert abs(val.imag) < 1e-9 * max(1.0, abs(val.real))
    return float(val.real)


def _shape(n: int = 24) -> np.ndarray:
    rng = np.random.default_rng(4)
    return np.exp(rng.normal(0.0, 0.6, n)) * 2.0


@pytest.mark.parametrize("f", [50.0, 480.0, 1730.0, 3999.0])
def test_resonance_function_matches_chain_matrix(f):
    areas = _shape()
    got = resonance_function(areas, 16.3, f, C)
    assert got == pytest.approx(_g_reference(areas, 16.3, f), rel=1e-9, abs=1e-12)


def test_resonances_match_reference_roots():
    areas = _shape()
    got = tube_resonances_fast(areas, 16.3, C, 5000.0, 10)
    grid = np.arange(20.0, 5000.0, 5.0)
    g = np.array([_g_reference(areas, 16.3, f) for f in grid])
    ref = [
        brentq(lambda f: _g_reference(areas, 16.3, f), grid[i], grid[i + 1], xtol=1e-8)
        for i in np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)
    ]
    assert got.size == len(ref)
    np.testing.assert_allclose(got, ref, rtol=1e-7)


def test_uniform_tube_resonances_solve_the_end_corrected_quarter_wave_equation():
    # uniform tube, closed glottis, lip mass M = rho dL / A with dL = 8 r / (3 pi):
    # cos(kL) - sin(kL) k dL = 0, i.e. k dL tan(kL) = 1 (k = 2 pi f / c)
    area, length = 4.0, 17.0
    got = tube_resonances_fast(np.full(20, area), length, C, 5000.0, 10)
    d_l = 8.0 * np.sqrt(area / np.pi) / (3.0 * np.pi)

    def eq(f: float) -> float:
        k = 2.0 * np.pi * f / C
        return np.cos(k * length) - np.sin(k * length) * k * d_l

    ref = []
    for n in range(1, 5):
        lo = (n - 1) * C / (2.0 * length) + 1.0  # eq > 0 just after each kL = (n-1) pi
        hi = (2 * n - 1) * C / (4.0 * length)  # eq < 0 at kL = (2n-1) pi / 2
        ref.append(brentq(eq, lo, hi, xtol=1e-9))
    np.testing.assert_allclose(got[:4], ref, rtol=1e-7)
    # low-frequency limit: quarter-wave resonance of the end-corrected length
    assert got[0] == pytest.approx(C / (4.0 * (length + d_l)), rel=2e-3)


def test_cosine_log_areas_matches_numpy():
    coef = np.array([0.3, -0.5, 0.2, 0.1])
    x = (np.arange(17) + 0.5) / 17
    ref = sum(c * np.cos(m * np.pi * x) for m, c in enumerate(coef))
    np.testing.assert_allclose(cosine_log_areas(coef, 17), ref, rtol=1e-12, atol=1e-14)


def _formants_of(theta: np.ndarray, n: int = 4) -> np.ndarray:
    coef = np.r_[0.0, theta[:-1]]
    areas = np.exp(cosine_log_areas(coef, 24)) * 3.0
    return tube_resonances_fast(areas, float(np.exp(theta[-1])), C, 6000.0, n)


def test_fit_reproduces_the_formants_of_a_known_shape():
    truth = np.array([-0.6, 0.4, 0.2, -0.1, 0.0, 0.05, np.log(16.0)])
    target = _formants_of(truth)
    start = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.log(17.0)])
    theta = fit_formants(start, start, target, 4, C, 3.0, 1e-3, np.full(6, 1.0), 0.5, 20)
    np.testing.assert_allclose(_formants_of(theta), target, rtol=2e-3)
    # the neutral start's formants were far off
    assert np.max(np.abs(_formants_of(start) / target - 1.0)) > 0.05


def test_fit_with_a_tight_prior_stays_at_the_prior():
    prior = np.array([-0.2, 0.1, 0.0, 0.0, 0.0, 0.0, np.log(16.5)])
    target = np.array([700.0, 1100.0, 2500.0])
    theta = fit_formants(prior, prior, target, 3, C, 3.0, 1.0, np.full(6, 1e-6), 1e-6, 6)
    np.testing.assert_allclose(theta, prior, atol=1e-5)


def test_resonances_near_track_the_scan():
    areas = _shape()
    scan = tube_resonances_fast(areas, 15.2, C, 5000.0, 4)
    near = resonances_near(areas, 15.2, C, scan * 1.03 + 7.0)
    np.testing.assert_allclose(near, scan, rtol=1e-7)  # both stop at a 1e-4 Hz bracket
    # a 2 cm tube resonates near 3 and 8 kHz: nothing within +-960 Hz of 5.5 kHz
    short = tube_resonances_fast(np.full(20, 4.0), 2.0, C, 12000.0, 3)
    assert short[0] < 4540.0 and short[1] > 6460.0
    assert resonances_near(np.full(20, 4.0), 2.0, C, np.array([5500.0])).size == 0
