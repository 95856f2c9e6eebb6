"""Anatomical plausibility: Fant's vowels pass, constructed violations are caught."""

from __future__ import annotations

import numpy as np
import pytest

from vtract import anatomy
from vtract.plausibility import (
    CHECKS,
    PlausibilityError,
    check_plausibility,
    vowel_space_distance,
)
from vtract.tract.result import TractEstimate


def estimate(areas, length_cm=17.0, formants=(500.0, 1500.0, 2500.0)) -> TractEstimate:
    a = np.asarray(areas, dtype=np.float64)
    f = np.asarray(formants, dtype=np.float64)
    return TractEstimate(
        areas=a,
        section_length_cm=length_cm / a.size,
        length_cm=length_cm,
        reflection=np.zeros(max(a.size - 1, 0)),
        formants_hz=f,
        bandwidths_hz=np.full(f.size, 80.0),
        fit_error_db=1.0,
        method="test",
    )


def fant(phone: str) -> TractEstimate:
    """Fant's (1960) vowel from Praat with its lossless-tube resonances."""
    from parselmouth.praat import call

    from vtract.synth import tube_resonances

    m = call(call("Create Vocal Tract from phone", phone), "To Matrix")
    areas = np.array(m.values[0], dtype=np.float64) * 1e4
    dx = float(m.dx) * 100.0
    return estimate(areas, length_cm=dx * areas.size, formants=tube_resonances(areas, dx)[:4])


def codes(flags) -> list[str]:
    return [f.code for f in flags]


@pytest.mark.parametrize("phone", ["a", "e", "i", "o", "u"])
def test_fant_vowels_raise_no_flag(phone):
    est = fant(phone)
    flags = check_plausibility([est] * 4, bigram="AA-IY", phones=["AA"] * 4)
    assert flags == []


def test_area_out_of_range_measured_is_the_median_shape():
    base = np.full(10, 3.0)
    narrow = base.copy()
    narrow[4] = 0.01  # below any human constriction
    ests = [estimate(narrow), estimate(narrow), estimate(base)]
    (flag,) = check_plausibility(ests, bigram="AH-N", times=[1.0, 1.1, 1.2])
    assert flag.code == "area_out_of_range"
    assert flag.measured == pytest.approx(0.01)
    assert (flag.expected_min, flag.expected_max) == anatomy.AREA_RANGE_CM2
    assert flag.unit == "cm^2" and "Fant" in flag.source and flag.bigram == "AH-N"
    assert "2 of 3 windows" in flag.message
    # one outlier window among three does not move the median shape: no flag
    slow = [0.0, 1.0, 2.0]  # far apart in time: no speed flag either
    assert check_plausibility([estimate(narrow), estimate(base), estimate(base)], times=slow) == []


def test_huge_areas_break_range_and_ratio():
    areas = np.array([0.1, 2.0, 4.0, 40.0])  # 40 cm^2: 400 x the narrowest
    flags = check_plausibility([estimate(areas)])
    assert codes(flags) == ["area_out_of_range", "area_ratio_out_of_range"]
    assert flags[0].measured == 40.0
    assert flags[1].measured == pytest.approx(400.0)
    assert flags[1].expected_max == pytest.approx(300.0)


@pytest.mark.parametrize(
    ("length", "code", "severity"),
    [(25.0, "tract_length_out_of_range", "critical"), (4.0, "tract_length_out_of_range", "critical"),
     (10.0, "tract_length_child_range", "info"), (17.0, None, None)],
)  # fmt: skip
def test_tract_length(length, code, severity):
    flags = check_plausibility([estimate(np.linspace(1, 5, 12), length_cm=length)])
    if code is None:
        assert flags == []
    else:
        (flag,) = flags
        assert (flag.code, flag.severity, flag.measured) == (code, severity, length)
        assert flag.unit == "cm" and "Fitch" in flag.source


def test_straw_is_narrow_and_uniform():
    rng = np.random.default_rng(1)
    straw = 0.5 * np.exp(0.05 * rng.standard_normal(15))
    (flag,) = check_plausibility([estimate(straw)])
    assert flag.code == "straw_tract"
    assert flag.measured == pytest.approx(np.std(np.log(straw)))
    # a uniform but wide (neutral-vowel) tube is human
    assert check_plausibility([estimate(np.full(15, 3.5))]) == []
    # narrow but shaped (a long constriction with cavities) is not a straw
    assert (
        check_plausibility([estimate(np.r_[np.full(5, 0.5), np.full(5, 3.0), np.full(5, 0.6)])])
        == []
    )


def test_articulator_speed():
    a, i = fant("a"), fant("i")
    # the equivalent diameter at the most-changing section, by hand
    da = 2 * np.sqrt(a.areas[:34] / np.pi)
    di = 2 * np.sqrt(i.areas[:34] / np.pi)
    # Fant's /a/ has 34 sections and /i/ 35: resample both to 34 for the jump
    a34 = estimate(a.areas[:34], formants=a.formants_hz)
    i34 = estimate(i.areas[:34], formants=i.formants_hz)
    expected = np.max(np.abs(di - da)) / anatomy.PUBLISHED_HOP_S
    flags = check_plausibility([a34, i34, a34])  # /a/ -> /i/ -> /a/ in 28 ms steps
    (flag,) = [f for f in flags if f.code == "articulator_speed"]
    assert flag.measured == pytest.approx(expected)
    assert expected > anatomy.WALL_SPEED_FACTOR * anatomy.ARTICULATOR_SPEED_CM_S
    # the same change over 0.2 s is a normal diphthong-like movement
    assert check_plausibility([a34, i34, a34], times=[0.0, 0.2, 0.4]) == []


def test_vowel_space():
    odd = estimate(np.linspace(1, 5, 12), formants=(1800.0, 2000.0, 2800.0))
    flags = check_plausibility([odd, odd], phones=["IY", "IY"])
    (flag,) = flags
    assert flag.code == "formants_outside_vowel_space"
    assert flag.measured == pytest.approx(100 * np.expm1(vowel_space_distance(1800.0, 2000.0)))
    assert flag.measured > 100 * anatomy.FORMANT_MARGIN and "Peterson" in flag.source
    # consonant windows are not held to the vowel space
    assert check_plausibility([odd, odd], phones=["S", "S"]) == []
    assert check_plausibility([odd, odd], bigram="S-IY") == []
    assert codes(check_plausibility([odd, odd], bigram="AA-IY")) == ["formants_outside_vowel_space"]


def test_peterson_barney_table_and_hull():
    pb = anatomy.peterson_barney()
    assert pb.shape == (1520, 3)
    np.testing.assert_array_equal(pb.min(axis=0), [190.0, 560.0, 1400.0])
    np.testing.assert_array_equal(pb.max(axis=0), [1300.0, 3610.0, 4380.0])
    # every token lies inside (or on) the hull built from them
    d = [vowel_space_distance(f1, f2) for f1, f2 in pb[::37, :2]]
    assert max(d) <= 1e-12


def test_bad_inputs():
    e = estimate(np.full(5, 3.0))
    assert check_plausibility([]) == []
    with pytest.raises(PlausibilityError, match="strictly increasing"):
        check_plausibility([e, e], times=[1.0, 1.0])
    with pytest.raises(PlausibilityError, match="one value per estimate"):
        check_plausibility([e, e], times=[1.0])
    with pytest.raises(PlausibilityError, match="TractEstimate"):
        check_plausibility([np.ones(5)])  # type: ignore[list-item]
    assert set(anatomy.SOURCES) == set(CHECKS)


def lpc_like(areas, formants=(500.0, 1500.0, 2500.0), length_cm=16.0, method="lpc-refined"):
    """An estimate as the LPC-family estimators make it (geometric mean 3 cm^2)."""
    a = np.asarray(areas, dtype=np.float64)
    return TractEstimate.from_length(
        a.copy(),
        length_cm,
        (a[1:] - a[:-1]) / (a[1:] + a[:-1]),
        np.asarray(formants, dtype=np.float64),
        np.empty(0),
        method,
        fit_error_db=0.0,
    )


def test_a_flags_measured_value_breaks_the_range_it_states():
    """A speed flag reported the median 37.3 cm/s against 0-60 cm/s (half the pairs fast,
    the median between them), and an F3 flag reported 0 % of the F1/F2 distance (F11)."""
    base = 3.0 * np.exp(np.linspace(-0.5, 0.5, 15))
    wide = base.copy()
    wide[5] = 12.0
    pair = [lpc_like(base), lpc_like(wide), lpc_like(wide)]
    (flag,) = check_plausibility(pair, bigram="AA-N", times=[0.0, 0.028, 0.056])
    assert flag.code == "articulator_speed"
    jump = 2 * (np.sqrt(12.0 / np.pi) - np.sqrt(base[5] / np.pi)) / 0.028
    assert flag.measured == pytest.approx(jump) and flag.measured > flag.expected_max
    assert "1 of 2 window-to-window changes exceed 60 cm/s" in flag.message
    assert f"at least half reach {jump:.3g} cm/s" in flag.message
    # an F3 far outside Peterson & Barney's F3 range, F1/F2 inside the hull
    f3 = [lpc_like(base, formants=(500.0, 1500.0, 6000.0))] * 2
    (flag,) = check_plausibility(f3, bigram="AA-IY")
    assert flag.code == "formants_outside_vowel_space"
    assert flag.measured == pytest.approx(100 * (6000.0 / 4380.0 - 1))
    assert flag.measured > flag.expected_max
    assert "furthest: F3 6000 Hz, 37 % above the F3 range 1400-4380 Hz" in flag.message
    # with F1/F2 outside, the hull distance is named as before
    odd = [lpc_like(base, formants=(1800.0, 2000.0, 2800.0))] * 2
    (flag,) = check_plausibility(odd, bigram="AA-IY")
    assert "beyond the nearest edge of the (F1, F2) vowel space" in flag.message


def test_flags_say_what_the_estimator_scale_lets_them_see():
    """Area and length flags compared normalised areas and clipped lengths with anatomical
    ranges in cm^2 and cm without saying so (F12)."""
    from vtract.plausibility import scale_note
    from vtract.tract.wakita import LENGTH_MAX_CM

    narrow = 3.0 * np.exp(np.r_[np.full(7, 2.0), -6.0, np.full(7, 0.0)])
    narrow *= 3.0 / np.exp(np.mean(np.log(narrow)))  # geometric mean 3 cm^2, as the estimator
    flags = {f.code: f for f in check_plausibility([lpc_like(narrow)] * 3)}
    assert "scales every window's areas to a geometric mean of 3 cm^2" in (
        flags["area_out_of_range"].message
    )
    at_ceiling = lpc_like(np.full(15, 3.0), length_cm=LENGTH_MAX_CM)
    (flag,) = check_plausibility([at_ceiling] * 3)
    assert flag.code == "tract_length_out_of_range" and flag.measured == 22.0
    assert "clips lengths to 10-22 cm, and 22 cm is its ceiling: the formant fit ran" in (
        flag.message
    )
    at_floor = lpc_like(np.full(15, 3.0), length_cm=10.0)
    (flag,) = check_plausibility([at_floor] * 3)
    assert flag.code == "tract_length_child_range" and "10 cm is its floor" in flag.message
    # a hand-made estimate of an unknown estimator gets no such note
    assert scale_note("test", "area") == "" and "paper estimator fixes the glottal" in (
        scale_note("paper", "area")
    )


def _ratio_breaking() -> TractEstimate:
    """An estimate whose widest section is 1000 times its narrowest: two flags."""
    return estimate(np.geomspace(0.01, 10.0, 15))


def test_a_flag_spans_its_windows_and_attaches_to_its_own_occurrence_only():
    """The probe's F5 (session 28): two M-AA occurrences with boundary windows at 0.400 and
    0.440 s, which do not overlap. A flag raised on the first was padded by the published
    hop (28.1 ms) and matched by overlap, so it was listed on both, each with flag_share 0.5.
    Now its span is the window's (half the published window each side of the centre) and it
    belongs only to the occurrence whose windows it covers."""
    import pandas as pd

    from vtract.detect.default import _flag_shares
    from vtract.detect.deviation import WINDOW_SECONDS

    flags = check_plausibility([_ratio_breaking()], bigram="M-AA", times=[0.400], phones=["AA"])
    assert codes(flags) == ["area_out_of_range", "area_ratio_out_of_range"]
    half = anatomy.PUBLISHED_WINDOW_S / 2
    assert all(f.start == 0.400 - half and f.end == 0.400 + half for f in flags)
    both = pd.DataFrame(
        {
            "bigram": ["M-AA", "M-AA"],
            "start_s": [0.400 - WINDOW_SECONDS / 2, 0.440 - WINDOW_SECONDS / 2],
            "end_s": [0.400 + WINDOW_SECONDS / 2, 0.440 + WINDOW_SECONDS / 2],
        }
    )
    share, flag_codes, _ = _flag_shares(both, flags)
    assert share.tolist() == [0.5, 0.0]
    assert flag_codes == [["area_out_of_range", "area_ratio_out_of_range"], []]
    # windows that overlap (boundaries 20 ms apart) do not share a flag either
    overlapping = both.assign(
        start_s=both["start_s"] - [0.0, 0.02], end_s=both["end_s"] - [0.0, 0.02]
    )
    assert _flag_shares(overlapping, flags)[0].tolist() == [0.5, 0.0]


def test_a_given_window_span_is_the_flags_span():
    (flag, _) = check_plausibility(
        [_ratio_breaking()] * 2, bigram="M-AA", times=[0.4, 0.41875], window_span=(0.3875, 0.43125)
    )
    assert (flag.start, flag.end) == (0.3875, 0.43125)
    assert check_plausibility([_ratio_breaking()])[0].start is None  # no times, no span
    with pytest.raises(PlausibilityError, match="window_span"):
        check_plausibility([_ratio_breaking()], window_span=(0.5, 0.4))
