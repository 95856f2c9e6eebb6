"""The MRI shape prior of the default estimator (vtract.tract.shape_prior)."""

from __future__ import annotations

import numpy as np
import pytest

from vtract.synth import tube_vowel
from vtract.tract.mri_shapes import MRI_SETS, mri_area_function, mri_speaker, mri_vowels
from vtract.tract.shape_prior import log_area_cosines, mri_mean_log_area_cosines


def test_log_area_cosines_recover_a_cosine_series() -> None:
    # a log-area function that *is* a cosine series, finely sectioned
    coef = np.array([0.4, -0.3, 0.2, 0.1, -0.05, 0.02])
    n = 3001  # no section edge falls on a sampling point
    x = (np.arange(n) + 0.5) / n
    ln_a = 1.0 + sum(c * np.cos((m + 1) * np.pi * x) for m, c in enumerate(coef))
    got = log_area_cosines(np.exp(ln_a), 17.0 / n, coef.size)
    np.testing.assert_allclose(got, coef, atol=2e-3)  # 40-point sampling of the cells
    # scale and length do not matter, unequal sections are placed by their lengths
    np.testing.assert_allclose(log_area_cosines(5.0 * np.exp(ln_a), 0.01, 6), got, atol=1e-12)
    two = log_area_cosines(np.array([1.0, 4.0]), np.array([4.0, 12.0]), 2)
    half = log_area_cosines(np.array([1.0, 4.0]), np.array([8.0, 8.0]), 2)
    assert not np.allclose(two, half)


def test_log_area_cosines_reject_bad_areas() -> None:
    with pytest.raises(ValueError, match="positive"):
        log_area_cosines(np.array([1.0, 0.0, 2.0]), 1.0, 6)


def test_mri_mean_is_the_mean_of_the_vowels_and_leaves_speakers_out() -> None:
    every = [log_area_cosines(*mri_area_function(d, v), 6) for d in MRI_SETS for v in mri_vowels(d)]
    assert len(every) == 32
    np.testing.assert_allclose(mri_mean_log_area_cosines(6), np.mean(every, axis=0))
    male = [
        log_area_cosines(*mri_area_function(d, v), 6)
        for d in MRI_SETS
        if mri_speaker(d) == "male-1"
        for v in mri_vowels(d)
    ]
    np.testing.assert_allclose(
        mri_mean_log_area_cosines(6, exclude_speakers=["female-1"]), np.mean(male, axis=0)
    )
    with pytest.raises(ValueError, match="no MRI vowel"):
        mri_mean_log_area_cosines(6, exclude_speakers=["female-1", "male-1"])


def test_mean_human_vowel_has_a_narrow_larynx_tube() -> None:
    # human tracts are narrow just above the glottis (the larynx tube) and wide
    # in the pharynx and the mouth (Story et al. 1996: epilarynx ~0.3-0.6 cm^2)
    coef = mri_mean_log_area_cosines(6)
    x = np.linspace(0.0, 1.0, 101)
    ln_a = sum(c * np.cos((m + 1) * np.pi * x) for m, c in enumerate(coef))
    assert np.argmin(ln_a) < 15  # narrowest in the first 15 % (glottis end)
    assert ln_a[:10].mean() < ln_a[30:90].mean() - 0.8


def test_default_estimate_is_the_fit_from_the_mixed_prior_centre() -> None:
    from vtract.tract import default as d
    from vtract.tract.formant_fit import cosine_log_areas, fit_formants
    from vtract.tract.length import SPEED_OF_SOUND_CM_S
    from vtract.tract.wakita import LPC_MEAN_AREA_CM2

    areas, dx = mri_area_function("story2008", "A")
    x = tube_vowel(areas, dx, 16000, f0=110.0, duration=0.25, glottal="lf", losses=True, seed=5)
    frame = np.ascontiguousarray(x[2000:2565])
    from vtract import estimate_tract

    est = estimate_tract(frame, 16000, method="default")
    assert est.params["mri_prior_weight"] == 0.5
    # NumPy-level reconstruction of steps 5-7 with the mixed centre
    coef, freqs, _, length, _ = d.formant_shape(frame, 16000.0, -1.0)
    centre = np.append(0.5 * coef[1:] + 0.5 * d.MRI_PRIOR_MEAN, np.log(length))
    theta = fit_formants(
        centre, centre, freqs, d.N_FIT_FORMANTS, SPEED_OF_SOUND_CM_S, LPC_MEAN_AREA_CM2,
        d.SIGMA_FORMANT, np.full(d.N_COSINES, d.SIGMA_SHAPE), d.SIGMA_LOG_LENGTH,
        d.FIT_ITERATIONS,
    )  # fmt: skip
    fitted_length = min(d.LENGTH_MAX_CM, max(d.LENGTH_MIN_CM, np.exp(theta[-1])))
    assert est.length_cm == pytest.approx(fitted_length)
    ln_a = cosine_log_areas(np.append(0.0, theta[:-1]), est.n_sections)
    expected = np.exp(ln_a - ln_a.mean()) * LPC_MEAN_AREA_CM2
    np.testing.assert_allclose(est.areas, expected, rtol=1e-10)


def test_lpc_refined_estimate_ignores_the_mri_mean() -> None:
    from vtract.tract.default import PRIOR_LPC_POLES, default_core

    areas, dx = mri_area_function("story1998", "i")
    x = tube_vowel(areas, dx, 16000, f0=200.0, duration=0.25, glottal="lf", losses=True, seed=5)
    frame = np.ascontiguousarray(x[2000:2565])
    a = default_core(frame, 16000.0, -1.0, -1, PRIOR_LPC_POLES, np.zeros(6), 0.0)[0]
    b = default_core(frame, 16000.0, -1.0, -1, PRIOR_LPC_POLES, np.full(6, 3.0), 0.0)[0]
    np.testing.assert_array_equal(a, b)


def test_unknown_mri_set_is_a_clear_error() -> None:
    for fn in (mri_vowels, mri_speaker):
        with pytest.raises(KeyError, match="unknown MRI set"):
            fn("story2099")
    with pytest.raises(KeyError, match="unknown MRI set"):
        mri_area_function("story2099", "i")


def test_log_area_cosines_is_the_numpy_twin_of_the_estimator_kernel() -> None:
    # the estimator projects its own log-area function with the Numba kernel
    # vtract.tract.default._cosine_coefficients; both are least squares on cell midpoints
    from vtract.tract.default import _cosine_coefficients
    from vtract.tract.shape_prior import N_SAMPLES

    areas, _ = mri_area_function("story2008", "u")
    idx = (np.arange(N_SAMPLES) + 0.5) / N_SAMPLES * areas.size
    ln_a = np.ascontiguousarray(np.log(areas[idx.astype(int)]))
    np.testing.assert_allclose(
        _cosine_coefficients(ln_a, 6)[1:], log_area_cosines(areas, 0.445, 6), atol=1e-10
    )
