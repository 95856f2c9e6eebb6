"""The MRI shape prior of the default estimator (vtract.tract.shape_prior)."""

from __future__ import annotations

import numpy as np
import pytest

from vtract.synth import tube_vowel
from vtract.tract.mri_shapes import MRI_SETS, mri_area_function, mri_speaker, mri_vowels
from vtract.tract.shape_prior import (
    codebook_prior_mean,
    formant_key,
    log_area_cosines,
    mri_codebook,
    mri_mean_log_area_cosines,
)


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
    assert est.params["mri_codebook_width"] == d.MRI_CODEBOOK_WIDTH
    assert est.params["mri_codebook_vowels"] == 32
    # NumPy-level reconstruction of steps 5-7 with the mixed centre: half the
    # formant-pole shape, half the codebook shape for the measured formants
    # (of the frame without its straight line, as every estimate but "paper")
    from scipy.signal import detrend

    coef, freqs, _, length, _ = d.formant_shape(detrend(frame), 16000.0, -1.0)
    human = codebook_prior_mean(mri_codebook(6), freqs, d.MRI_CODEBOOK_WIDTH)
    centre = np.append(0.5 * coef[1:] + 0.5 * human, np.log(length))
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


def test_lpc_refined_estimate_ignores_the_mri_codebook() -> None:
    from vtract.tract.default import PRIOR_LPC_POLES, default_core

    areas, dx = mri_area_function("story1998", "i")
    x = tube_vowel(areas, dx, 16000, f0=200.0, duration=0.25, glottal="lf", losses=True, seed=5)
    frame = np.ascontiguousarray(x[2000:2565])
    keys = np.log(np.array([[300.0, 2200.0, 3000.0]]))
    a = default_core(frame, 16000.0, -1.0, -1, PRIOR_LPC_POLES, keys, np.zeros((1, 6)), 0.15, 0.0)
    b = default_core(
        frame, 16000.0, -1.0, -1, PRIOR_LPC_POLES, keys, np.full((1, 6), 3.0), 0.15, 0.0
    )
    np.testing.assert_array_equal(a[0], b[0])


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


def test_codebook_keys_are_the_resonances_of_the_measured_tubes() -> None:
    from vtract.synth import tube_resonances

    book = mri_codebook(6)
    assert len(book.names) == 32 and book.shapes.shape == (32, 6)
    assert not book.log_formants.flags.writeable
    for name, key in zip(book.names, book.log_formants, strict=True):
        dataset, vowel = name.split("/")
        areas, dx = mri_area_function(dataset, vowel)
        # independent reference: the closed-open lossless tube without the lip
        # inertance; the radiation mass lowers every resonance (most with small lips, /er/ F3 by 16 %)
        rigid = tube_resonances(areas, dx, fmax_hz=6000.0)[:3]
        ratio = np.exp(key) / rigid
        assert np.all(ratio < 1.0) and np.all(ratio > 0.8), (name, ratio)
    i = book.names.index("story1996/i")
    a = book.names.index("story1996/A")
    # /i/: low F1, high F2; /a/: high F1, low F2 (length-free pattern)
    key_i, key_a = formant_key(book.log_formants[[i, a]])
    assert key_i[1] - key_i[0] > 1.5 and key_a[1] - key_a[0] < 0.5


def test_codebook_leaves_a_speaker_out() -> None:
    assert len(mri_codebook(6, exclude_speakers=["female-1"]).names) == 22
    assert all(
        n.startswith("story1998") for n in mri_codebook(6, exclude_speakers=["male-1"]).names
    )
    with pytest.raises(ValueError, match="no MRI vowel left"):
        mri_codebook(6, exclude_speakers=["female-1", "male-1"])


def test_codebook_mean_limits_and_length_invariance() -> None:
    book = mri_codebook(6)
    row = book.names.index("story2008/u")
    formants = np.exp(book.log_formants[row])
    # a very narrow kernel returns the nearest vowel, a very wide one the plain mean
    np.testing.assert_allclose(codebook_prior_mean(book, formants, 1e-4), book.shapes[row])
    np.testing.assert_allclose(
        codebook_prior_mean(book, formants, 1e4), mri_mean_log_area_cosines(6), atol=1e-8
    )
    # the key is length-free: a 20 % shorter tract (all formants x 1.25) changes nothing
    np.testing.assert_allclose(
        codebook_prior_mean(book, 1.25 * formants, 0.15), codebook_prior_mean(book, formants, 0.15)
    )
    # one formant has no pattern: the plain mean
    np.testing.assert_allclose(
        codebook_prior_mean(book, formants[:1], 0.15), mri_mean_log_area_cosines(6)
    )


@pytest.mark.parametrize(
    "formants",
    [[300.0, 2200.0, 3000.0], [700.0, 1200.0, 2500.0, 3500.0], [450.0, 1500.0], [500.0], []],
)
def test_codebook_kernel_is_the_numba_twin_of_the_numpy_reference(formants: list[float]) -> None:
    from vtract.tract.default import codebook_mean

    book = mri_codebook(6)
    f = np.asarray(formants, dtype=np.float64)
    got = codebook_mean(book.log_formants, book.shapes, f, 0.15)
    np.testing.assert_allclose(got, codebook_prior_mean(book, f, 0.15), atol=1e-12)
    empty = codebook_mean(np.zeros((0, 3)), np.zeros((0, 6)), f, 0.15)
    np.testing.assert_array_equal(empty, np.zeros(6))


def test_shipped_codebook_width_has_the_least_cross_validated_error() -> None:
    # the width is chosen on the MRI shapes alone (benchmarks/bench_shape_prior.py):
    # leave-one-speaker-out prediction of each vowel's shape from its formants
    from _scripts import load_script
    from vtract.tract.default import MRI_CODEBOOK_WIDTH

    bench = load_script("benchmarks/bench_shape_prior.py")
    errors = {w: bench.leave_speaker_out(w)["mse"] for w in bench.WIDTHS}
    assert min(errors, key=errors.__getitem__) == MRI_CODEBOOK_WIDTH
    # and the codebook predicts unseen shapes far better than the plain mean
    assert errors[MRI_CODEBOOK_WIDTH] < 0.6 * errors[float("inf")]
