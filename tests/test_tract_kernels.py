"""Numba kernels of vtract.tract against plain NumPy references and analytic results."""

from __future__ import annotations

import numpy as np
import pytest

from _tract_reference import (
    areas_from_reflection_ref,
    autocorrelation_ref,
    burg_ref,
    formants_ref,
    pre_emphasis_ref,
    predictor_ref,
    reflection_from_areas_ref,
    reflection_ref,
    tube_response_ref,
    window_ref,
)
from vtract.errors import EstimationError
from vtract.synth import tube_resonances, tube_vowel
from vtract.tract.formants import lpc_formants, praat_formants_burg, praat_formants_path
from vtract.tract.length import SPEED_OF_SOUND_CM_S, length_from_formants, sections_for_length
from vtract.tract.lpc import autocorrelation, burg, levinson_durbin, step_down, step_up
from vtract.tract.preprocess import (
    WINDOW_KINDS,
    apply_window,
    pre_emphasis,
    remove_linear_trend,
    window,
)
from vtract.tract.tube import (
    areas_from_reflection,
    reflection_from_areas,
    tube_db_gradient,
    tube_response,
)


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="module")
def vowel() -> np.ndarray:
    """A two-tube /a/-like vowel (LF pulses, wall losses, no radiation end correction), 16 kHz."""
    x = tube_vowel([1.0, 7.0], [8.0, 9.0], 16000, f0=110.0, duration=0.25, radiation=False, seed=3)
    return np.ascontiguousarray(x[1600:2165], dtype=np.float64)


def test_pre_emphasis_matches_reference(rng):
    x = rng.standard_normal(300)
    for mu in (0.0, 0.5, 0.97, 1.0):
        np.testing.assert_allclose(pre_emphasis(x, mu), pre_emphasis_ref(x, mu), rtol=0, atol=1e-14)


def test_remove_linear_trend_matches_scipy_detrend(rng):
    from scipy.signal import detrend

    for n in (2, 3, 300, 565):
        x = rng.standard_normal(n) + 3.0 + 0.01 * np.arange(n)
        np.testing.assert_allclose(
            remove_linear_trend(x), detrend(x, type="linear"), rtol=0, atol=1e-12
        )
    assert remove_linear_trend(np.array([2.5])).tolist() == [0.0]


def test_remove_linear_trend_takes_away_exactly_an_offset_and_a_slope(rng, vowel):
    ramp = 0.4 - 2e-3 * np.arange(vowel.size)
    np.testing.assert_allclose(
        remove_linear_trend(vowel + ramp), remove_linear_trend(vowel), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("kind", ["rectangular", "hann", "hamming"])
def test_windows_match_numpy(kind):
    for n in (2, 7, 565):
        np.testing.assert_allclose(window(WINDOW_KINDS[kind], n), window_ref(kind, n), atol=1e-14)


def test_gaussian_window_is_symmetric_and_peaks_at_one():
    w = window(WINDOW_KINDS["gaussian"], 101)
    np.testing.assert_allclose(w, w[::-1], atol=1e-15)
    assert w[50] == pytest.approx(1.0) and w[0] == pytest.approx(0.0, abs=1e-12)


def test_apply_window(rng):
    x, w = rng.standard_normal(50), rng.random(50)
    np.testing.assert_allclose(apply_window(x, w), x * w, atol=0)


def test_autocorrelation_matches_reference(rng):
    x = rng.standard_normal(400)
    np.testing.assert_allclose(autocorrelation(x, 20), autocorrelation_ref(x, 20), rtol=1e-12)
    short = rng.standard_normal(5)  # lags beyond the signal are zero
    np.testing.assert_allclose(autocorrelation(short, 8), autocorrelation_ref(short, 8), rtol=1e-12)


def test_levinson_matches_toeplitz_solution(rng, vowel):
    for x in (rng.standard_normal(500), vowel):
        r = autocorrelation_ref(x * np.hamming(x.size), 18)
        a, k, err = levinson_durbin(r, 18)
        np.testing.assert_allclose(a, predictor_ref(r, 18), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(k, reflection_ref(r, 18), rtol=1e-8, atol=1e-10)
        # prediction error power = r0 + sum a_i r_i
        assert err == pytest.approx(r[0] + np.dot(a[1:], r[1:19]), rel=1e-9)
        assert np.all(np.abs(k) < 1)


def test_levinson_recovers_ar_process(rng):
    """Known AR(2): x[n] = 1.3 x[n-1] - 0.6 x[n-2] + e[n]."""
    from scipy.signal import lfilter

    x = lfilter([1.0], [1.0, -1.3, 0.6], rng.standard_normal(200_000))
    a, _, _ = levinson_durbin(autocorrelation(x, 2), 2)
    np.testing.assert_allclose(a, [1.0, -1.3, 0.6], atol=0.01)


def test_step_up_and_down_are_inverse(rng):
    k = rng.uniform(-0.95, 0.95, 16)
    a = step_up(k)
    np.testing.assert_allclose(step_down(a), k, atol=1e-10)
    r = autocorrelation_ref(rng.standard_normal(400), 12)
    a_l, k_l, _ = levinson_durbin(r, 12)
    np.testing.assert_allclose(step_up(k_l), a_l, atol=1e-12)


def test_burg_matches_reference(rng, vowel):
    for x in (rng.standard_normal(300), vowel):
        a, k, _ = burg(x, 14)
        np.testing.assert_allclose(a, burg_ref(x, 14), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(step_up(k), a, atol=1e-10)


def test_lpc_formants_match_numpy_roots(vowel):
    y = pre_emphasis(vowel, 0.97) * np.hamming(vowel.size)
    a, _, _ = levinson_durbin(autocorrelation(y, 18), 18)
    f, b = lpc_formants(a, 16000.0, 700.0)
    f_ref, b_ref = formants_ref(a, 16000.0, 700.0)
    np.testing.assert_allclose(f, f_ref, rtol=1e-8)
    np.testing.assert_allclose(b, b_ref, rtol=1e-6)


def test_lpc_formants_of_known_poles():
    poles = {500.0: 60.0, 1500.0: 90.0, 2500.0: 120.0}
    sr = 10000.0
    a = np.array([1.0])
    for f, bw in poles.items():
        z = np.exp(-np.pi * bw / sr) * np.exp(2j * np.pi * f / sr)
        a = np.convolve(a, np.real(np.convolve([1, -z], [1, -np.conj(z)])))
    f, b = lpc_formants(a, sr, 1000.0)
    np.testing.assert_allclose(f, list(poles), rtol=1e-9)
    np.testing.assert_allclose(b, list(poles.values()), rtol=1e-9)


def test_formant_functions_refuse_what_has_no_formants(vowel):
    # a_0 = 0 or a non-finite coefficient: no polynomial to root, so no formants (was NaN)
    for a in (np.array([0.0, 1.0, 0.5]), np.array([1.0, np.nan, 0.5]), np.empty(0)):
        f, b = lpc_formants(a, 16000.0, 700.0)
        assert f.size == 0 and b.size == 0
    # Praat's wrappers refuse the frames the estimators refuse, with EstimationError
    for frame, sr, match in [
        (vowel[:10], 16000, "at least 160"),
        (np.zeros(0), 16000, "at least 160"),
        (np.r_[vowel[:-1], np.nan], 16000, "NaN or infinite"),
        (np.stack([vowel, vowel]), 16000, "1-D"),
        (vowel, 0, "8000 to 48000"),
    ]:
        for func in (praat_formants_burg, praat_formants_path):
            with pytest.raises(EstimationError, match=match):
                func(frame, sr)


def test_formants_near_true_resonances(vowel):
    """LPC-root, Praat Burg and Praat FormantPath formants vs the tube's resonances."""
    truth = tube_resonances([1.0, 7.0], [8.0, 9.0], fmax_hz=3500.0)[:3]
    y = pre_emphasis(vowel, 0.97) * np.hamming(vowel.size)
    a, _, _ = levinson_durbin(autocorrelation(y, 18), 18)
    f_lpc, _ = lpc_formants(a, 16000.0, 700.0)
    f_burg, b_burg = praat_formants_burg(vowel, 16000)
    f_path, b_path = praat_formants_path(vowel, 16000)
    for f in (f_lpc, f_burg, f_path):
        np.testing.assert_allclose(f[:3], truth, rtol=0.08)
    assert np.all(b_burg > 0) and np.all(b_path > 0)
    assert np.all(np.diff(f_burg) > 0) and np.all(np.diff(f_path) > 0)


def test_area_reflection_round_trip(rng):
    areas = rng.uniform(0.3, 12.0, 20)
    r = reflection_from_areas(areas)
    np.testing.assert_allclose(r, reflection_from_areas_ref(areas), rtol=1e-13)
    np.testing.assert_allclose(areas_from_reflection(r, areas[0]), areas, rtol=1e-12)
    np.testing.assert_allclose(
        areas_from_reflection(r, 3.7), areas_from_reflection_ref(r, 3.7), rtol=1e-12
    )


@pytest.mark.parametrize("r_glottis", [1.0, 0.7, 0.0])
def test_tube_response_matches_matrix_reference(rng, r_glottis):
    r = rng.uniform(-0.8, 0.8, 12)
    omega = np.linspace(0.01, np.pi - 0.01, 97)
    np.testing.assert_allclose(
        tube_response(r, r_glottis, omega), tube_response_ref(r, r_glottis, omega), rtol=1e-10
    )


def test_closed_glottis_denominator_is_step_up_polynomial(rng):
    r = rng.uniform(-0.9, 0.9, 15)
    omega = np.linspace(0.0, np.pi, 64)
    d = np.polyval(step_up(r)[::-1], np.exp(-1j * omega))
    np.testing.assert_allclose(
        np.abs(tube_response(r, 1.0, omega)), np.prod(1 + r) / np.abs(d), rtol=1e-11
    )


def test_uniform_tube_resonances_are_odd_quarter_waves():
    """Uniform tube, closed glottis, nearly ideal open lips: peaks at (2k-1) c / 4L."""
    n, sr = 16, 16000.0
    length = n * SPEED_OF_SOUND_CM_S / (2 * sr)
    r = np.zeros(n)
    r[-1] = 0.999
    f = np.arange(1.0, 7900.0, 1.0)
    mag = np.abs(tube_response(r, 1.0, 2 * np.pi * f / sr))
    peaks = f[1:-1][(mag[1:-1] > mag[:-2]) & (mag[1:-1] > mag[2:])]
    expected = (2 * np.arange(1, peaks.size + 1) - 1) * SPEED_OF_SOUND_CM_S / (4 * length)
    np.testing.assert_allclose(peaks, expected, atol=1.0)
    assert peaks.size == 8


def test_tube_response_matches_chain_matrix_synthesiser():
    """Same lossless two-tube as vtract.synth (independent chain-matrix code): same resonances."""
    areas, lens = np.array([1.0, 7.0]), np.array([8.0, 9.0])
    n = 34
    sr = n * SPEED_OF_SOUND_CM_S / (2 * lens.sum())
    edges = np.concatenate([[0.0], np.cumsum(lens)])
    centres = (np.arange(n) + 0.5) * lens.sum() / n
    a = areas[np.searchsorted(edges, centres) - 1]
    r = np.append(reflection_from_areas(a), 0.9999)
    f = np.arange(50.0, 4000.0, 0.5)
    mag = np.abs(tube_response(r, 1.0, 2 * np.pi * f / sr))
    peaks = f[1:-1][(mag[1:-1] > mag[:-2]) & (mag[1:-1] > mag[2:])]
    np.testing.assert_allclose(peaks, tube_resonances(areas, lens, fmax_hz=4000.0), atol=1.0)


@pytest.mark.parametrize("r_glottis", [1.0, 0.6])
def test_tube_gradient_matches_finite_differences(rng, r_glottis):
    r = rng.uniform(-0.8, 0.8, 15)
    omega = np.linspace(0.02, 3.0, 41)
    db, grad, grad_g = tube_db_gradient(r, r_glottis, omega)
    np.testing.assert_allclose(db, 20 * np.log10(np.abs(tube_response_ref(r, r_glottis, omega))))
    h = 1e-6
    for k in range(r.size):
        e = np.zeros(r.size)
        e[k] = h
        fd = (
            tube_db_gradient(r + e, r_glottis, omega)[0]
            - tube_db_gradient(r - e, r_glottis, omega)[0]
        ) / (2 * h)
        np.testing.assert_allclose(grad[:, k], fd, rtol=1e-4, atol=1e-4)
    fd_g = (
        tube_db_gradient(r, r_glottis + h, omega)[0] - tube_db_gradient(r, r_glottis - h, omega)[0]
    ) / (2 * h)
    np.testing.assert_allclose(grad_g, fd_g, rtol=1e-4, atol=1e-4)


def test_length_from_uniform_tube_formants_is_exact():
    for length in (13.0, 17.5, 21.0):
        f = (2 * np.arange(1, 6) - 1) * SPEED_OF_SOUND_CM_S / (4 * length)
        assert length_from_formants(f, 4, SPEED_OF_SOUND_CM_S) == pytest.approx(length, rel=1e-12)
    assert np.isnan(length_from_formants(np.zeros(0), 4, SPEED_OF_SOUND_CM_S))


def test_sections_for_length():
    assert sections_for_length(16.40625, 16000) == 15  # c / (2 fs) = 1.09375 cm per section
    assert sections_for_length(17.5, 8000) == 8
    assert sections_for_length(1.0, 8000) == 2


def test_equalise_bandwidths_keeps_frequencies_and_sets_radius():
    from vtract.tract.default import equalise_bandwidths

    sr, bw = 16000.0, 100.0
    poles = [0.9 * np.exp(0.3j), 0.8 * np.exp(1.2j), 0.95 * np.exp(2.5j)]
    roots = [*poles, *np.conj(poles), 0.5]
    a = np.real(np.poly(roots))
    out = equalise_bandwidths(a, sr, bw)
    got = np.roots(out)
    cplx = got[got.imag > 1e-9]
    np.testing.assert_allclose(np.sort(np.angle(cplx)), [0.3, 1.2, 2.5], atol=1e-9)
    np.testing.assert_allclose(np.abs(cplx), np.exp(-np.pi * bw / sr), atol=1e-9)
    assert np.min(np.abs(got[np.abs(got.imag) <= 1e-9] - 0.5)) < 1e-9


def test_levinson_reflection_prefix_property(rng):
    """Lower-order reflection coefficients are a prefix of higher-order ones (used by wakita_core)."""
    r = autocorrelation_ref(rng.standard_normal(500) * np.hamming(500), 20)
    _, k20, _ = levinson_durbin(r, 20)
    _, k11, _ = levinson_durbin(r, 11)
    np.testing.assert_allclose(k20[:11], k11, atol=1e-13)


def test_kernels_do_not_depend_on_memory_layout():
    """Same values in a strided view and a contiguous copy give bit-identical results.

    (With ``fastmath`` the compiled sum is reassociated differently per array
    layout, so results changed in the last digits with the layout: not
    reproducible. The kernels are compiled without it.)
    """
    from vtract.tract.formants import roots_of_predictor
    from vtract.tract.lpc import autocorrelation, levinson_durbin

    rng = np.random.default_rng(11)
    x = rng.normal(size=2 * 565)
    strided, contiguous = x[::2], np.ascontiguousarray(x[::2])
    r1, r2 = autocorrelation(strided, 18), autocorrelation(contiguous, 18)
    assert np.array_equal(r1, r2)
    a, _, _ = levinson_durbin(r2, 18)
    a_strided = np.repeat(a, 2)[::2]
    assert np.array_equal(
        roots_of_predictor(a_strided), roots_of_predictor(np.ascontiguousarray(a))
    )
