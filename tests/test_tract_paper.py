"""The published estimator ("paper"): target, model, published descent and the fast solver."""

from __future__ import annotations

import numpy as np
import pytest

import vtract
from _tract_reference import paper_descent_ref, paper_model_db_ref
from vtract.synth import tube_vowel
from vtract.tract import paper
from vtract.tract.estimate import PAPER_FAST_ITERATIONS
from vtract.tract.paper import (
    _model_db_poly,
    _model_jacobian,
    _phasor_tables,
    fit_fast,
    fit_published,
    paper_objective,
    paper_omega,
    paper_target,
)
from vtract.tract.tube import tube_db_gradient


@pytest.fixture(scope="module")
def vowels() -> list[np.ndarray]:
    shapes = [
        ([1.0, 7.0], [8.0, 9.0]),
        ([8.0, 1.0], [9.0, 6.0]),
        ([5.0, 0.6, 6.0], [8.0, 3.0, 5.0]),
    ]
    out = []
    for i, (a, lens) in enumerate(shapes):
        x = tube_vowel(a, lens, 16000, f0=100.0 + 20 * i, duration=0.2, seed=i)
        out.append(np.ascontiguousarray(x[1600 : 1600 + 565], dtype=np.float64))
    return out


def test_target_shape_scale_invariance_and_frequency_axis():
    t = np.arange(565) / 16000
    x = np.sin(2 * np.pi * 1000.0 * t)
    target = paper_target(x)
    assert target.shape == (paper.PAPER_N_BINS,)
    assert int(np.argmax(target)) == 64  # 1000 Hz / (16000 / 5120 * 5) Hz per bin
    np.testing.assert_allclose(paper_target(7.5 * x), target, atol=1e-9)  # mean removed
    np.testing.assert_allclose(paper_omega()[64], 2 * np.pi * 1000.0 / 16000, rtol=1e-12)


def test_published_model_evaluation_matches_reference():
    rng = np.random.default_rng(5)
    omega = paper_omega()
    cos_t, sin_t = _phasor_tables(omega, 15)
    for _ in range(3):
        r = rng.uniform(-0.9, 0.9, 15)
        ref = paper_model_db_ref(r, omega)
        np.testing.assert_allclose(_model_db_poly(r, cos_t, sin_t), ref, atol=1e-9)
        np.testing.assert_allclose(tube_db_gradient(r, 1.0, omega)[0], ref, atol=1e-9)


def test_published_descent_matches_numpy_reference(vowels):
    target = paper_target(vowels[0])
    omega = paper_omega()
    np.testing.assert_allclose(
        fit_published(target, omega, 15, 4), paper_descent_ref(target, omega, 15, 4), atol=1e-12
    )


def test_fit_jacobian_matches_finite_differences():
    rng = np.random.default_rng(9)
    omega = paper_omega()[::8].copy()
    cos_t, sin_t = _phasor_tables(omega, 15)
    r = rng.uniform(-0.7, 0.7, 15)
    db = np.empty(omega.size)
    jac = np.empty((omega.size, 15))
    _model_jacobian(r, cos_t, sin_t, db, jac)
    np.testing.assert_allclose(db, paper_model_db_ref(r, omega), atol=1e-9)
    h = 1e-6
    for k in range(15):
        e = np.zeros(15)
        e[k] = h
        fd = (paper_model_db_ref(r + e, omega) - paper_model_db_ref(r - e, omega)) / (2 * h)
        np.testing.assert_allclose(jac[:, k], fd, rtol=1e-4, atol=1e-4)


def test_fast_solver_reaches_lower_objective_than_published(vowels):
    omega = paper_omega()
    for x in vowels:
        target = paper_target(x)
        r_pub = fit_published(target, omega, 15, 1500)
        r_fast, e_fast = fit_fast(x, target, omega, 15, PAPER_FAST_ITERATIONS)
        e_pub = paper_objective(r_pub, target, omega)
        assert e_fast == pytest.approx(paper_objective(r_fast, target, omega), rel=1e-12)
        assert e_fast <= e_pub
        assert np.all(np.abs(r_fast) <= 0.99) and np.all(np.abs(r_pub) <= 0.99)


def test_paper_estimate_areas_follow_published_recursion(vowels):
    est = vtract.estimate_tract(vowels[1], 16000, method="paper")
    assert est.method == "paper" and est.n_sections == 15 and est.reflection.size == 15
    assert est.areas[0] == pytest.approx(3.7)
    r = est.reflection
    np.testing.assert_allclose(
        est.areas[1:], est.areas[:-1] * (1 + r[:-1]) / (1 - r[:-1]), rtol=1e-12
    )
    assert est.params["lip_load_area_cm2"] == pytest.approx(
        est.areas[-1] * (1 + r[-1]) / (1 - r[-1])
    )
    assert est.length_cm == pytest.approx(15 * 35000 / 32000)
    omega = paper_omega()
    target = paper_target(vowels[1])
    assert est.fit_error_db == pytest.approx(paper_objective(r, target, omega) / 320)


def test_paper_published_solver_option(vowels):
    est = vtract.estimate_tract(vowels[2], 16000, method="paper", solver="published")
    target = paper_target(vowels[2])
    r = fit_published(target, paper_omega(), 15, 1500)
    np.testing.assert_allclose(est.reflection, r, atol=0)
    assert est.params["solver"] == "published"


def test_paper_batch_equals_single(vowels):
    batch = vtract.estimate_tracts(np.stack(vowels), 16000, method="paper")
    for x, b in zip(vowels, batch):
        s = vtract.estimate_tract(x, 16000, method="paper")
        np.testing.assert_allclose(b.reflection, s.reflection, atol=1e-12)
        np.testing.assert_allclose(b.areas, s.areas, rtol=1e-10)


def test_paper_refuses_narrowband_and_long_windows(vowels):
    with pytest.raises(vtract.VtractError, match="10000 Hz"):
        vtract.estimate_tract(vowels[0][::2], 8000, method="paper")
    with pytest.raises(vtract.VtractError, match="at most 5120"):
        vtract.estimate_tract(np.random.default_rng(0).standard_normal(6000), 16000, method="paper")
    with pytest.raises(vtract.VtractError, match="15 sections"):
        vtract.estimate_tract(vowels[0], 16000, method="paper", n_sections=12)


def test_numba_target_matches_scipy_pipeline(vowels):
    """The Numba decimation/smoothing reproduces scipy.signal.decimate + gaussian_filter1d."""
    from vtract.tract.paper import paper_target_scipy

    rng = np.random.default_rng(3)
    for x in [*vowels, rng.standard_normal(565) * np.linspace(0, 1, 565), vowels[0][:300]]:
        np.testing.assert_allclose(paper_target(x), paper_target_scipy(x), atol=1e-10)
