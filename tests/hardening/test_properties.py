"""Property-based invariants (hypothesis) of the tube models, estimators and readers.

Not repeated here: the TextGrid/TIMIT writer-reader round trips and the fixed
uniform-tube and reciprocity checks, which live in ``tests/test_alignment_readers.py``
and ``tests/test_synth.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.signal import find_peaks

import vtract
from vtract.synth import (
    AIR,
    chain_matrix,
    radiation_impedance,
    transfer_function,
    tube_resonances,
    tube_vowel,
)
from vtract.tract.tube import areas_from_reflection, reflection_from_areas, tube_response

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
SLOW_PROPERTY = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

areas_st = st.lists(st.floats(0.01, 100.0), min_size=2, max_size=40).map(np.array)
reflections_st = st.lists(st.floats(-0.99, 0.99), min_size=1, max_size=40).map(np.array)


# ---------------------------------------------------------------- area <-> reflection


@PROPERTY
@given(areas=areas_st)
def test_areas_to_reflection_and_back(areas):
    r = reflection_from_areas(areas)
    assert r.shape == (areas.size - 1,)
    assert np.all(np.abs(r) < 1.0)
    np.testing.assert_allclose(areas_from_reflection(r, areas[0]), areas, rtol=1e-9)


@PROPERTY
@given(r=reflections_st, first=st.floats(0.1, 10.0))
def test_reflection_to_areas_and_back(r, first):
    areas = areas_from_reflection(r, first)
    assert np.all(np.isfinite(areas)) and np.all(areas > 0)
    np.testing.assert_allclose(reflection_from_areas(areas), r, atol=1e-9)


@PROPERTY
@given(areas=areas_st, scale=st.floats(1e-3, 1e3))
def test_reflection_ignores_the_area_scale(areas, scale):
    np.testing.assert_allclose(
        reflection_from_areas(areas * scale), reflection_from_areas(areas), atol=1e-12
    )


# ---------------------------------------------------------------- discrete tube


@PROPERTY
@given(n=st.integers(3, 30), r_lips=st.floats(0.6, 0.95), r_glottis=st.floats(0.6, 1.0))
def test_uniform_discrete_tube_resonates_at_odd_quarter_waves(n, r_lips, r_glottis):
    """N equal sections at fs: L = N c / (2 fs), so F_k = (2k-1) c / 4L = (2k-1) fs / 2N."""
    r = np.zeros(n)
    r[-1] = r_lips
    omega = np.linspace(0.0, np.pi, 40 * n + 1)
    mag = np.abs(tube_response(r, r_glottis, omega))
    peaks, _ = find_peaks(mag)
    expected = (2 * np.arange(1, n // 2 + 1) - 1) * np.pi / n
    expected = expected[expected < np.pi - np.pi / (4 * n)]
    np.testing.assert_allclose(omega[peaks], expected, atol=np.pi / (40 * n) + 1e-12)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(r=st.lists(st.floats(-0.95, 0.95), min_size=1, max_size=30).map(np.array),
       r_glottis=st.floats(0.0, 0.95))  # fmt: skip
def test_discrete_tube_is_minimum_phase(r, r_glottis):
    """|r| < 1 everywhere: D(z) is minimum phase, so the mean log magnitude over the
    unit circle is the log of the gain (Jensen), and the response is finite."""
    omega = np.linspace(0.0, 2 * np.pi, 8192, endpoint=False)
    v = tube_response(r, r_glottis, omega)
    assert np.all(np.isfinite(v))
    gain = 0.5 * (1 + r_glottis) * np.prod(1 + r)
    assert np.mean(np.log(np.abs(v))) == pytest.approx(np.log(gain), abs=1e-4)


# ---------------------------------------------------------------- physical tube

tube_st = st.tuples(
    st.lists(st.floats(0.2, 15.0), min_size=4, max_size=40).map(np.array),
    st.floats(10.0, 22.0),
)
FREQS = np.linspace(50.0, 5000.0, 400)


def _powers(areas, length, losses):
    """(power out through the lips, power in at the glottis) per unit |U_glottis|^2."""
    k = chain_matrix(areas, length / areas.size, FREQS, losses=losses)
    z_lips = radiation_impedance(float(areas[-1]), FREQS)
    h = transfer_function(areas, length / areas.size, FREQS, losses=losses, radiation=True)
    z_in = (k[:, 0, 0] * z_lips + k[:, 0, 1]) / (k[:, 1, 0] * z_lips + k[:, 1, 1])
    return np.abs(h) ** 2 * z_lips.real, z_in.real


@PROPERTY
@given(tube=tube_st)
def test_lossless_tube_conserves_energy(tube):
    """Without losses all power entering at the glottis is radiated at the lips."""
    areas, length = tube
    out, inp = _powers(areas, length, losses=False)
    np.testing.assert_allclose(out, inp, rtol=1e-6, atol=1e-12 * np.max(inp))


@PROPERTY
@given(tube=tube_st)
def test_lossy_tube_is_passive(tube):
    """With wall, viscous and thermal losses the tube radiates less than it receives."""
    areas, length = tube
    out, inp = _powers(areas, length, losses=True)
    assert np.all(inp >= 0)
    assert np.all(out <= inp * (1 + 1e-9))
    assert np.mean(out / inp) < 1.0


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 40), area=st.floats(0.3, 12.0), length=st.floats(9.0, 25.0))
def test_uniform_tube_resonances_any_sectioning(n, area, length):
    f = tube_resonances(np.full(n, area), length / n, fmax_hz=5000.0)
    k = np.arange(1, f.size + 1)
    np.testing.assert_allclose(f, (2 * k - 1) * AIR.c / (4 * length), rtol=1e-6)
    assert f.size == int(np.floor((5000.0 * 4 * length / AIR.c + 1) / 2))


# ---------------------------------------------------------------- estimators

vowel_st = st.tuples(
    st.lists(st.floats(0.5, 8.0), min_size=8, max_size=20).map(np.array),
    st.floats(85.0, 240.0),  # f0
    st.integers(0, 800),  # window offset (samples)
)


@pytest.mark.parametrize("method", ["default", "lpc", "paper"])
@SLOW_PROPERTY
@given(vowel=vowel_st, gain=st.floats(-2.0, 2.0).map(lambda e: 10.0**e))
def test_estimators_ignore_gain(method, vowel, gain):
    """Scaling a window by 0.01..100 changes nothing: areas, reflection, formants, length."""
    areas, f0, offset = vowel
    x = tube_vowel(areas, 17.0 / areas.size, 16000, f0=f0, duration=0.12)
    frame = x[offset : offset + 565]
    a = vtract.estimate_tract(frame, 16000, method=method)
    b = vtract.estimate_tract(frame * gain, 16000, method=method)
    np.testing.assert_allclose(b.areas, a.areas, rtol=1e-6)
    np.testing.assert_allclose(b.reflection, a.reflection, atol=1e-8)
    np.testing.assert_allclose(b.formants_hz, a.formants_hz, rtol=1e-6)
    assert b.length_cm == pytest.approx(a.length_cm, rel=1e-9)


@pytest.mark.parametrize("method", ["default", "lpc", "paper"])
@SLOW_PROPERTY
@given(vowel=vowel_st)
def test_estimates_follow_the_documented_reflection_convention(method, vowel):
    areas, f0, offset = vowel
    x = tube_vowel(areas, 17.0 / areas.size, 16000, f0=f0, duration=0.12)
    est = vtract.estimate_tract(x[offset : offset + 565], 16000, method=method)
    assert np.all(np.isfinite(est.areas)) and np.all(est.areas > 0)
    assert est.length_cm == pytest.approx(est.n_sections * est.section_length_cm)
    r = reflection_from_areas(est.areas)
    np.testing.assert_allclose(est.reflection[: r.size], r, atol=1e-9)


# ---------------------------------------------------------------- HTS reader

hts_st = st.lists(
    st.tuples(st.integers(1, 3_000_000), st.sampled_from(["aa", "iy", "n", "s", "dh", "pau"])),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(rows=hts_st, full_context=st.booleans())
def test_hts_labels_read_back_to_the_100ns_tick(tmp_path, rows, full_context):
    lines, t, expect = [], 0, []
    for dur, phone in rows:
        label = f"x^x-{phone}+x=x@x_x/A:0_0_0" if full_context else phone
        lines.append(f"{t} {t + dur} {label}")
        expect.append((t / 1e7, (t + dur) / 1e7))
        t += dur
    path = tmp_path / "prop.lab"
    path.write_text("\n".join(lines) + "\n")
    al = vtract.read_alignment(path)
    got = list(zip(al.phones["start"], al.phones["end"]))
    assert len(got) == len(expect)
    np.testing.assert_allclose(np.array(got), np.array(expect), atol=1e-12)
