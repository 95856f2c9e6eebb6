"""Default detector: deviations, monotonic score, inconclusive rules, flags."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from _detect import BIGRAMS, TableReference, critical_flags, make_features
from vtract.detect.calibration import Calibration, calibrate
from vtract.detect.default import (
    FLAG_WEIGHT,
    PRIOR_CALIBRATION,
    DefaultDetector,
    file_statistics,
)
from vtract.detect.deviation import Z_CAP, row_deviations
from vtract.report import Flag


@pytest.fixture(scope="module")
def organic() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.concat(
        [make_features(f"org{i}", BIGRAMS, rng=rng, label="organic") for i in range(40)],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def reference(organic) -> TableReference:
    return TableReference(organic)


def test_robust_z_matches_hand_computation(reference):
    rng = np.random.default_rng(2)
    feats = make_features("x", ["AH-N"], rng=rng, n_windows=1)
    stats, level = reference.lookup("AH-N", 4)
    assert level == "bigram"
    # put section 0 exactly two upper robust sigmas above the median
    med, q75 = stats.loc[0, "median"], stats.loc[0, "q75"]
    s_hi = max((np.log(q75) - np.log(med)) / 0.6744897501960817, 0.05)
    feats.loc[feats["section"] == 0, "area_cm2"] = med * np.exp(2 * s_hi)
    feats.loc[feats["section"] == 1, "area_cm2"] = stats.loc[1, "median"]
    feats.loc[feats["section"] == 2, "area_cm2"] = 1e6  # far above: capped
    rows = row_deviations(feats, reference).set_index("section")
    assert rows.loc[0, "z"] == pytest.approx(2.0)
    assert rows.loc[1, "z"] == pytest.approx(0.0)
    assert rows.loc[2, "z"] == Z_CAP and bool(rows.loc[2, "exceed"])
    assert not bool(rows.loc[1, "exceed"])


def test_score_monotonic_in_deviation(reference):
    det = DefaultDetector(reference, calibration=PRIOR_CALIBRATION)
    scores, stats = [], []
    for scale in (1.0, 1.05, 1.1, 1.2, 1.35, 1.5, 3.0):
        rng = np.random.default_rng(7)  # same noise each time: only the scale changes
        d = det.decide(make_features("x", BIGRAMS, rng=rng, scale=scale))
        assert d.verdict != "inconclusive"
        scores.append(d.score)
        stats.append(d.statistic)
    assert np.all(np.diff(stats) > 0)
    assert np.all(np.diff(scores) > 0)
    # far beyond the organic band every z is capped: the statistic saturates at Z_CAP
    rng = np.random.default_rng(7)
    far = det.decide(make_features("x", BIGRAMS, rng=rng, scale=1e3))
    assert far.statistic == pytest.approx(Z_CAP) and far.score >= scores[-1]
    assert scores[0] < 0.5 < scores[-1]


def test_organic_like_is_organic_and_scaled_is_synthetic(organic, reference):
    rng = np.random.default_rng(11)
    test_org = [make_features(f"t{i}", BIGRAMS, rng=rng) for i in range(10)]
    test_syn = [make_features(f"s{i}", BIGRAMS, rng=rng, scale=2.0, spread=0.02) for i in range(10)]
    # calibrate on held-out organic files: files inside the reference deviate less
    held_out = pd.concat([make_features(f"h{i}", BIGRAMS, rng=rng) for i in range(40)])
    stats = file_statistics(held_out, reference)
    assert file_statistics(organic, reference)["statistic"].median() < stats["statistic"].median()
    cal = calibrate(stats["statistic"], target_fpr=0.05)
    det = DefaultDetector(reference, calibration=cal)
    org_v = [det.decide(f).verdict for f in test_org]
    syn_v = [det.decide(f).verdict for f in test_syn]
    assert org_v.count("synthetic") <= 1
    assert syn_v.count("synthetic") == 10


def test_small_calibration_warns_that_its_fpr_cannot_be_kept(reference):
    rng = np.random.default_rng(12)
    held_out = pd.concat([make_features(f"h{i}", BIGRAMS, rng=rng) for i in range(40)])
    stats = file_statistics(held_out, reference)["statistic"]
    feats = make_features("x", BIGRAMS, rng=rng)
    # 40 recordings guarantee 1 / 41 = 2.4 %: enough for 5 %, not for 1 %
    ok = DefaultDetector(reference, calibration=calibrate(stats, target_fpr=0.05))
    assert ok.decide(feats).warnings == []
    few = calibrate(stats, target_fpr=0.01)
    assert few.metrics["fpr_bound"] == pytest.approx(1 / 41)
    assert few.threshold > stats.max()
    (warning,) = DefaultDetector(reference, calibration=few).decide(feats).warnings
    assert "40 organic" in warning and "2.44%" in warning
    assert "fpr_bound_speakers" not in ok.decide(feats).thresholds
    # counted per speaker (10 of four recordings each: 1 / 11 = 9.1 %, too few for 5 %)
    # the report says how many speakers
    by_speaker = calibrate(stats, target_fpr=0.05, organic_groups=np.arange(40) // 4)
    decision = DefaultDetector(reference, calibration=by_speaker).decide(feats)
    assert decision.thresholds["fpr_bound_speakers"] == 10.0
    assert decision.thresholds["fpr_bound"] == pytest.approx(1 / 11)
    (warning,) = decision.warnings
    assert "organic recordings of 10 speakers" in warning and "9.09%" in warning


def test_inconclusive_on_too_few_bigrams(reference):
    rng = np.random.default_rng(4)
    det = DefaultDetector(reference, calibration=PRIOR_CALIBRATION)
    d = det.decide(make_features("x", BIGRAMS[:3], rng=rng, scale=5.0))
    assert d.verdict == "inconclusive" and d.score is None
    assert "only 3" in d.reason
    empty = make_features("x", BIGRAMS[:1], rng=rng).iloc[0:0]
    d0 = det.decide(empty)
    assert d0.verdict == "inconclusive" and "no usable bigram" in d0.reason


def test_bigrams_at_one_boundary_count_as_one_occurrence(reference):
    """Six bigrams whose windows all sit at one boundary (what zero-length phones made
    until session 28, the probe's F3) are one transition, not six pieces of evidence."""
    rng = np.random.default_rng(4)
    det = DefaultDetector(reference, calibration=PRIOR_CALIBRATION)
    feats = make_features("x", BIGRAMS[:6], rng=rng)
    assert det.decide(feats).verdict != "inconclusive"
    stacked = feats.assign(boundary_s=0.4)
    d = det.decide(stacked)
    assert d.verdict == "inconclusive" and d.score is None
    assert d.reason.startswith("only 1 usable bigram occurrence(s)")
    assert len(d.bigrams) == 6  # each is still listed as evidence
    assert file_statistics(stacked, reference)["n_bigrams"].tolist() == [1]
    assert file_statistics(feats, reference)["n_bigrams"].tolist() == [6]


def test_inconclusive_low_confidence_needs_more(reference):
    rng = np.random.default_rng(5)
    det = DefaultDetector(reference, calibration=PRIOR_CALIBRATION)
    feats = make_features("x", BIGRAMS[:6], rng=rng)
    assert det.decide(feats).verdict != "inconclusive"
    d = det.decide(feats, low_confidence=True)
    assert d.verdict == "inconclusive" and "low confidence" in d.reason


def test_inconclusive_when_reference_only_global(reference):
    rng = np.random.default_rng(6)
    det = DefaultDetector(reference, calibration=PRIOR_CALIBRATION)
    unseen = ["ZH-OY", "OY-ZH", "UH-ZH", "ZH-UH", "OY-UH", "UH-OY", "AW-ZH", "ZH-AW"]
    d = det.decide(make_features("x", unseen, rng=rng))
    assert d.verdict == "inconclusive" and "reference covers too few" in d.reason
    assert set(d.bigrams["level"]) == {"global"}


def test_flags_raise_statistic_by_flag_weight(reference):
    rng = np.random.default_rng(8)
    feats = make_features("x", BIGRAMS, rng=rng)
    no_baseline = Calibration(threshold=2.0, slope=1.0, flag_baseline=0.0)
    det = DefaultDetector(reference, calibration=no_baseline)
    base, big = det.evaluate(feats)
    b0 = big.iloc[0]
    (crit,) = critical_flags(big.iloc[[0]], code="area_out_of_range")
    stat, big2 = det.evaluate(feats, [crit])
    assert stat == pytest.approx(base + FLAG_WEIGHT / len(big))
    assert big2.iloc[0]["flags"] == ["area_out_of_range"]
    # a flag on another time span of the same bigram does not attach
    far = Flag(
        code="x", message="m", severity="critical", bigram=b0["bigram"], start=50.0, end=51.0
    )
    stat_far, _ = det.evaluate(feats, [far])
    assert stat_far == pytest.approx(base)
    # only the flagged share above the organic baseline counts
    all_flagged = critical_flags(big)
    with_baseline = DefaultDetector(
        reference, calibration=Calibration(threshold=2.0, slope=1.0, flag_baseline=0.75)
    )
    stat_b, _ = with_baseline.evaluate(feats, all_flagged)
    assert stat_b == pytest.approx(base + FLAG_WEIGHT * 0.25)
    stat_b1, _ = with_baseline.evaluate(feats, [crit])  # 1/8 flagged < 0.75: nothing added
    assert stat_b1 == pytest.approx(base)


def _with_window_spans(feats: pd.DataFrame, window_samples: int) -> pd.DataFrame:
    """The feature columns ``window_start_s`` / ``window_end_s`` of windows of
    ``window_samples`` at 16 kHz centred on ``boundary_s + offset_s``."""
    centre = feats["boundary_s"] + feats["offset_s"]
    start = centre - window_samples / 2 / 16000
    return feats.assign(window_start_s=start, window_end_s=start + window_samples / 16000)


def test_evidence_spans_are_the_windows_as_cut_whatever_their_length(reference):
    """The probe's F6: the spans assumed the published 565-sample window, 5.2 ms off for a
    reference measured with 400-sample windows. They now come from the table's window
    columns; a table without usable ones keeps the published window around the centres."""
    from vtract.detect.deviation import WINDOW_SECONDS

    rng = np.random.default_rng(13)
    det = DefaultDetector(reference, calibration=PRIOR_CALIBRATION)
    feats = _with_window_spans(make_features("x", BIGRAMS, rng=rng), 400)
    _, big = det.evaluate(feats)
    table = feats.groupby(["bigram", "boundary_s"])
    np.testing.assert_array_equal(
        big.set_index(["bigram", "boundary_s"])["start_s"], table["window_start_s"].min()
    )
    np.testing.assert_array_equal(
        big.set_index(["bigram", "boundary_s"])["end_s"], table["window_end_s"].max()
    )
    first = big.iloc[0]
    assert first["end_s"] - first["start_s"] == pytest.approx((2 * 450 + 400) / 16000)
    _, published = det.evaluate(feats.drop(columns=["window_start_s", "window_end_s"]))
    assert published.iloc[0]["start_s"] == pytest.approx(
        first["boundary_s"] - 450 / 16000 - WINDOW_SECONDS / 2
    )
    # placeholder columns (a window that ends where it starts) are no spans either
    _, placeholder = det.evaluate(feats.assign(window_start_s=0.0, window_end_s=0.0))
    np.testing.assert_array_equal(placeholder["start_s"], published["start_s"])


def test_a_flag_stays_with_the_occurrence_whose_windows_raised_it(reference):
    """Two occurrences of one bigram 20 ms apart (their windows overlap); only the first
    has an impossible shape. Its flags belong to it alone (the probe's F5: they were
    listed on both, and both got the flag share)."""
    from vtract.detect.estimates import plausibility_flags

    rng = np.random.default_rng(14)
    feats = make_features("x", ["M-AA", "M-AA", *BIGRAMS[:4]], rng=rng)
    feats.loc[np.isclose(feats["boundary_s"], 0.3), "boundary_s"] = 0.12
    first = (feats["boundary_s"] == 0.1) & (feats["section"] == 0)
    feats.loc[first, "area_cm2"] = 1e-3  # widest / narrowest far beyond any tract
    feats = _with_window_spans(feats, 565)
    flags = plausibility_flags(feats)
    assert {f.bigram for f in flags} == {"M-AA"} and len(flags) >= 1
    starts = feats[feats["boundary_s"] == 0.1]["window_start_s"]
    assert all(f.start == starts.min() for f in flags)
    _, big = DefaultDetector(reference, calibration=PRIOR_CALIBRATION).evaluate(feats, flags)
    m_aa = big[big["bigram"] == "M-AA"].set_index("boundary_s")
    assert m_aa.loc[0.1, "flag_share"] > 0 and m_aa.loc[0.1, "flags"]
    assert m_aa.loc[0.12, "flag_share"] == 0 and m_aa.loc[0.12, "flags"] == []


def test_calibration_read_from_reference(organic):
    cal = Calibration(threshold=1.23, slope=4.0, target_fpr=0.01, method="logistic-ml")
    ref = TableReference(organic, calibration={"default": cal.to_dict()})
    resolved, warnings = DefaultDetector(ref).resolved_calibration()
    assert resolved == cal and warnings == []
    resolved, warnings = DefaultDetector(TableReference(organic)).resolved_calibration()
    assert resolved is PRIOR_CALIBRATION and "uncalibrated" in warnings[0]


def test_non_finite_areas_are_ignored(reference):
    rng = np.random.default_rng(9)
    feats = make_features("x", BIGRAMS, rng=rng)
    det = DefaultDetector(reference, calibration=PRIOR_CALIBRATION)
    base, _ = det.evaluate(feats)
    broken = pd.concat([feats, feats.head(4).assign(area_cm2=np.nan, window_index=9)])
    stat, big = det.evaluate(broken)
    assert np.isfinite(stat) and stat == pytest.approx(base)
    assert (big["n_windows"] == 3).all()  # the window without areas was left out


def test_low_confidence_needs_a_margin(reference):
    rng = np.random.default_rng(10)
    feats = make_features("x", BIGRAMS * 2, rng=rng)  # 16 occurrences: enough when recognised
    base = DefaultDetector(reference, calibration=PRIOR_CALIBRATION).evaluate(feats)[0]
    near = Calibration(threshold=base, slope=1.0)  # score exactly 0.5
    det = DefaultDetector(reference, calibration=near)
    assert det.decide(feats).verdict == "synthetic"
    d = det.decide(feats, low_confidence=True)
    assert d.verdict == "inconclusive" and "within" in d.reason
    far = DefaultDetector(reference, calibration=Calibration(threshold=base - 10, slope=1.0))
    assert far.decide(feats, low_confidence=True).verdict == "synthetic"


def _calibrated_without_flags(reference):
    """Twelve organic recordings and the deviation calibration set on them with --no-flags."""
    from vtract.detect.fitting import fit_thresholds

    rng = np.random.default_rng(31)
    table = pd.concat(
        [make_features(f"o{i}", BIGRAMS, rng=rng, label="organic") for i in range(12)],
        ignore_index=True,
    )
    calibration, _ = fit_thresholds(
        reference, table, target_fpr=0.2, statistic="deviation", use_flags=False
    )
    return table, calibration


def test_a_deviation_calibration_that_does_not_record_its_flag_choice_is_warned(reference):
    """A record from before use_flags was stored (made with or without --no-flags, which
    cannot be told) was read as 'with flags' without a word; the probe's --no-flags
    reference then called its own organic calibration recording synthetic (session-27
    review, R5). It is still computed with the flags (what that vtract did), with a
    warning on every report and in `reference info`."""
    from vtract.detect.stored import calibration_warnings

    table, calibration = _calibrated_without_flags(reference)
    old = {k: v for k, v in calibration["default"].items() if k != "use_flags"}
    cal = Calibration.from_dict(old)
    assert cal.use_flags is None and cal.flags_in_statistic
    assert Calibration.from_dict(cal.to_dict()).use_flags is None  # kept through a re-save
    det = DefaultDetector(reference, calibration=cal)
    _, warnings = det.resolved_calibration()
    assert any("did not record whether the plausibility flags" in w for w in warnings)
    feats = table[table["file"] == "o0"]
    big = det.evaluate(feats)[1]
    flags = critical_flags(big)
    recorded = DefaultDetector(reference, calibration=dataclasses.replace(cal, use_flags=False))
    without = recorded.decide(feats, flags).statistic
    assert det.decide(feats, flags).statistic == pytest.approx(without + 1.0)
    assert calibration_warnings({"default": old})["default"] == [cal.use_flags_warning]
    # recorded choices, and dynamics records (no flags to choose), give no such warning
    assert calibration_warnings(calibration) == {}
    dyn = Calibration(threshold=1.0, slope=1.0, statistic="dynamics", model={"x": 1})
    dyn_old = {k: v for k, v in dyn.to_dict().items() if k != "use_flags"}
    assert Calibration.from_dict(dyn_old).use_flags is True


def test_a_calibration_without_flags_is_applied_without_flags(organic, reference, tmp_path):
    """``calibrate --statistic deviation --no-flags`` set the threshold on flag-free
    statistics, but analyze added the flags back (each statistic gaining up to 1.0) and
    called 9 of 10 organic calibration recordings synthetic (session 27 probe, F1)."""
    from click.testing import CliRunner

    from vtract.cli import cli
    from vtract.detect.calibration import CalibrationError
    from vtract.detect.fitting import fit_thresholds
    from vtract.errors import VtractError

    table, calibration = _calibrated_without_flags(reference)
    cal = Calibration.from_dict(calibration["default"])
    assert cal.use_flags is False and calibration["default"]["use_flags"] is False
    assert cal.flag_baseline == 0.0
    stats = file_statistics(table, reference).set_index("file")["statistic"]
    with_flags = DefaultDetector(reference, calibration=dataclasses.replace(cal, use_flags=True))
    det = DefaultDetector(reference, calibration=cal)
    for name, feats in table.groupby("file"):
        big = det.evaluate(feats)[1]
        # a critical flag on every occurrence: the statistic the threshold was set on ignores it
        flags = critical_flags(big)
        decision = det.decide(feats, flags)
        assert decision.statistic == pytest.approx(stats[name], rel=1e-12)
        assert "plausibility flags left out, as calibrated" in decision.reason
        assert with_flags.decide(feats, flags).statistic == pytest.approx(stats[name] + 1.0)
        assert decision.bigrams["flags"].iloc[0] == ["c"]  # still shown as evidence
    # organic recordings below the threshold at calibration stay below it in analysis
    below = [n for n, s in stats.items() if s < cal.threshold]
    assert len(below) >= 10
    for name in below:
        assert det.decide(table[table["file"] == name]).verdict == "organic"
    # the dynamics statistic has no flags to leave out
    with pytest.raises(VtractError, match="deviation statistic"):
        fit_thresholds(reference, table, use_flags=False)
    with pytest.raises(CalibrationError, match="use_flags"):
        Calibration(threshold=1.0, slope=1.0, statistic="dynamics", model={"x": 1}, use_flags=False)
    dummy = tmp_path / "t.parquet"
    dummy.write_bytes(b"")
    res = CliRunner().invoke(
        cli, ["calibrate", str(dummy), "--out", str(tmp_path / "o.vtref"), "--no-flags"]
    )
    assert res.exit_code == 2 and "give --statistic deviation with it" in res.output


def test_a_malformed_calibration_of_a_duck_typed_reference_is_a_vtract_error(organic):
    """A ``Reference`` is checked when read (F7); a duck-typed one is checked when used."""
    from vtract.errors import VtractError

    ref = TableReference(organic, calibration={"default": [1, 2]})
    with pytest.raises(VtractError, match="malformed default calibration: a list, not a record"):
        DefaultDetector(ref).resolved_calibration()
