"""Calibration math against hand-computed ROC / AUC / EER / thresholds."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from vtract.detect.calibration import (
    Calibration,
    CalibrationError,
    binomial_interval,
    calibrate,
    equal_error_rate,
    fpr_bound,
    grouped_fpr_bound,
    precision_recall_at,
    roc_auc,
    roc_curve,
    threshold_at_fpr,
)


def _mann_whitney_auc(y, s):
    pos = [b for a, b in zip(y, s) if a]
    neg = [b for a, b in zip(y, s) if not a]
    total = 0.0
    for p, n in itertools.product(pos, neg):
        total += 1.0 if p > n else 0.5 if p == n else 0.0
    return total / (len(pos) * len(neg))


def test_roc_curve_hand_computed():
    # scores 0.9(P) 0.8(N) 0.7(P) 0.6(N) 0.5(P); thresholds descending
    y = [True, False, True, False, True]
    s = [0.9, 0.8, 0.7, 0.6, 0.5]
    fpr, tpr, thr = roc_curve(y, s)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 1.0])
    assert thr[0] == np.inf
    np.testing.assert_allclose(thr[1:], s)
    # AUC by hand: pairs (P>N): 0.9>0.8,0.6; 0.7>0.6; 0.5>none -> 3 of 6
    assert roc_auc(y, s) == pytest.approx(0.5)


def test_roc_ties_form_one_point_and_count_half():
    y = [True, False, True, False]
    s = [1.0, 1.0, 0.0, 0.0]
    fpr, tpr, _ = roc_curve(y, s)
    np.testing.assert_allclose(fpr, [0, 0.5, 1.0])
    np.testing.assert_allclose(tpr, [0, 0.5, 1.0])
    assert roc_auc(y, s) == pytest.approx(0.5)


def test_auc_equals_mann_whitney_on_random_data():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(4, 30))
        y = rng.random(n) < 0.5
        y[0], y[1] = True, False
        s = np.round(rng.normal(y * 0.7, 1.0), 1)  # rounding creates ties
        assert roc_auc(y, s) == pytest.approx(_mann_whitney_auc(y, s))


def test_perfect_separation():
    y = [False, False, True, True]
    s = [0.1, 0.2, 0.8, 0.9]
    assert roc_auc(y, s) == 1.0
    eer, t = equal_error_rate(y, s)
    assert eer == 0.0
    m = precision_recall_at(y, s, t)
    assert m["fp"] == 0 and m["fn"] == 0


def test_eer_hand_computed_interpolated():
    # organic 1,2,3,4 ; synthetic 2.5,5,6,7
    # thresholds: inf(0,0) 7(0,.25) 6(0,.5) 5(0,.75) 4(.25,.75) 3(.5,.75) 2.5(.5,1) 2(.75,1) 1(1,1)
    # fpr - fnr: at 5 -> 0-.25=-.25; at 4 -> .25-.25=0  => EER 0.25 exactly at threshold 4
    y = [False] * 4 + [True] * 4
    s = [1, 2, 3, 4, 2.5, 5, 6, 7]
    eer, t = equal_error_rate(y, s)
    assert eer == pytest.approx(0.25)
    assert t == pytest.approx(4.0)


def test_eer_interpolation_between_points():
    # organic 0,2 ; synthetic 1,3: points inf(0,0) 3(0,.5) 2(.5,.5) 1(.5,1) 0(1,1)
    # fpr-fnr: inf -1; 3: -.5; 2: 0  -> EER 0.5 at 2
    eer, t = equal_error_rate([False, False, True, True], [0, 2, 1, 3])
    assert eer == pytest.approx(0.5) and t == pytest.approx(2.0)
    # organic 0,1,2 ; synthetic 1.5,3: inf(0,0) 3(0,.5) 2(1/3,.5) 1.5(1/3,1)
    # diff: -1, -.5, -1/6, 1/3 -> cross between 2 (-1/6) and 1.5 (+1/3): w = (1/6)/(1/2) = 1/3
    # eer = 1/3 + w*(1/3-1/3) = 1/3 ; threshold = 2 + (1.5-2)/3
    eer, t = equal_error_rate([False, False, False, True, True], [0, 1, 2, 1.5, 3])
    assert eer == pytest.approx(1 / 3)
    assert t == pytest.approx(2 - 0.5 / 3)


def test_threshold_at_fpr_empirical_rule():
    org = np.arange(1.0, 101.0)  # 1..100
    # 1 % of 100 -> one false positive allowed: between 99 and 100
    t = threshold_at_fpr(org, 0.01, rule="empirical")
    assert t == pytest.approx(99.5)
    assert np.mean(org >= t) == pytest.approx(0.01)
    # 0 % -> just above the maximum
    t0 = threshold_at_fpr(org, 0.0, rule="empirical")
    assert t0 > 100 and np.mean(org >= t0) == 0
    # 5 % with ties at the boundary never exceeds the target
    tied = np.r_[np.arange(95.0), [200.0] * 5]
    t5 = threshold_at_fpr(tied, 0.04, rule="empirical")
    assert np.mean(tied >= t5) <= 0.04
    with pytest.raises(CalibrationError):
        threshold_at_fpr([], 0.01)
    with pytest.raises(CalibrationError):
        threshold_at_fpr([1.0, 2.0], 1.0)
    with pytest.raises(CalibrationError, match="rule"):
        threshold_at_fpr(org, 0.01, rule="quantile")


def test_threshold_at_fpr_conformal_rule_counts():
    # k = floor(fpr (n + 1)) - 1 calibration statistics lie above the threshold
    org = np.arange(1.0, 217.0)  # n = 216: floor(2.17) - 1 = 1 above
    t = threshold_at_fpr(org, 0.01)
    assert t == pytest.approx(215.5)
    assert fpr_bound(216, 0.01) == pytest.approx(2 / 217)
    # n = 99 is the smallest sample that allows the 1 % guarantee (threshold above all)
    assert threshold_at_fpr(np.arange(1.0, 100.0), 0.01) > 99
    assert fpr_bound(99, 0.01) == pytest.approx(0.01)
    # n = 50: no threshold keeps 1 %; the bound says so
    assert threshold_at_fpr(np.arange(1.0, 51.0), 0.01) > 50
    assert fpr_bound(50, 0.01) == pytest.approx(1 / 51)
    with pytest.raises(CalibrationError):
        fpr_bound(0, 0.01)


def test_calibration_knows_whether_it_keeps_its_target_fpr():
    org = np.arange(1.0, 51.0)  # 50 recordings guarantee 2/51 at 5 %, only 1/51 at 1 %
    assert calibrate(org, target_fpr=0.05).keeps_target_fpr
    few = calibrate(org, target_fpr=0.01)
    assert few.metrics["fpr_bound"] == pytest.approx(1 / 51)
    assert not few.keeps_target_fpr
    # reports and `vtract calibrate` print this one warning: count, target, 1/51 = 1.96 %
    assert calibrate(org, target_fpr=0.05).target_fpr_warning is None
    assert few.target_fpr_warning == (
        "the calibration threshold was set on 50 organic recordings, too few to keep the "
        "false-positive rate at 1.00%: the guaranteed rate is 1.96%"
    )
    # a calibration made before the conformal rule records no guarantee
    old = dict(few.to_dict(), metrics={"n_organic": 50})
    assert Calibration.from_dict(old).keeps_target_fpr


def test_conformal_threshold_keeps_fpr_on_new_recordings():
    """Monte Carlo: new organic statistics reach the conformal threshold at most
    ``fpr`` of the time, while the empirical rule exceeds it.

    With ``k`` calibration statistics above a threshold placed between the
    ``k``-th and ``(k+1)``-th largest, a new exchangeable statistic reaches it
    with probability between ``k / (n + 1)`` and ``(k + 1) / (n + 1)``:
    conformal k = 1, empirical k = 2 for n = 216 and fpr = 1 %.
    """
    rng = np.random.default_rng(11)
    n, trials, fpr = 216, 4000, 0.01
    cal = rng.standard_normal((trials, n))
    new = rng.standard_normal((trials, 50))
    rates = {}
    for rule in ("conformal", "empirical"):
        thr = np.array([threshold_at_fpr(c, fpr, rule=rule) for c in cal])
        rates[rule] = float(np.mean(new >= thr[:, None]))
    # Monte Carlo standard error ~ 0.0003
    assert 1 / 217 + 0.001 < rates["conformal"] < 2 / 217 - 0.001
    assert rates["conformal"] <= fpr
    assert 2 / 217 + 0.001 < rates["empirical"] < 3 / 217 - 0.001
    assert rates["empirical"] > fpr


def test_speaker_rule_with_one_recording_per_speaker_is_the_recording_rule():
    rng = np.random.default_rng(3)
    for n in (50, 99, 216, 459):
        org = rng.standard_normal(n)
        speakers = [f"s{i}" for i in range(n)]
        assert threshold_at_fpr(org, 0.01, groups=speakers) == threshold_at_fpr(org, 0.01)
        assert grouped_fpr_bound(org, speakers, 0.01) == pytest.approx(fpr_bound(n, 0.01))
        cal = calibrate(org, target_fpr=0.01, organic_groups=speakers)
        assert cal.threshold == calibrate(org, target_fpr=0.01).threshold
        assert cal.metrics["threshold_rule"] == "conformal-by-speaker"
        assert cal.metrics["n_speakers"] == n
    # ties at the cut too (both rules then go just above the tied value)
    for n in (150, 216, 300):
        tied = np.round(rng.standard_normal(n) * 3) / 3
        speakers = np.arange(n)
        assert threshold_at_fpr(tied, 0.02, groups=speakers) == threshold_at_fpr(tied, 0.02)


def test_speaker_rule_counts_speakers_not_recordings():
    # 199 speakers: 198 with one recording (statistics 1..198) and speaker "big"
    # with ten recordings above all of them. fpr = 2 %: K + 1 = 200, so the
    # statistics above the threshold may weigh fpr (K + 1) - 1 = 3 speakers.
    single = np.arange(1.0, 199.0)
    big = np.arange(301.0, 311.0)
    org = np.r_[single, big]
    groups = [f"s{i}" for i in range(198)] + ["big"] * 10
    # "big" weighs 1 in all (0.1 per recording), then 198 and 197 reach 3
    t = threshold_at_fpr(org, 0.02, groups=groups)
    assert t == pytest.approx(196.5)
    assert grouped_fpr_bound(org, groups, 0.02) == pytest.approx(4 / 200)
    # counted per recording, three of the ten fill the floor(0.02 * 209) - 1 = 3 places
    assert threshold_at_fpr(org, 0.02) == pytest.approx(307.5)
    # with 98 speakers no threshold keeps 1 %: above everything, bound 1 / 99
    few = np.arange(1.0, 99.0)
    assert threshold_at_fpr(few, 0.01, groups=np.arange(98)) > 98
    assert grouped_fpr_bound(few, np.arange(98), 0.01) == pytest.approx(1 / 99)
    cal = calibrate(np.r_[few, few], target_fpr=0.01, organic_groups=np.tile(np.arange(98), 2))
    assert not cal.keeps_target_fpr
    assert cal.target_fpr_warning == (
        "the calibration threshold was set on organic recordings of 98 speakers, too few to "
        "keep the false-positive rate at 1.00%: the guaranteed rate is 1.01%"
    )
    # a cut never splits tied statistics
    tied = np.r_[np.arange(1.0, 197.0), [500.0] * 4]
    t_tied = threshold_at_fpr(tied, 0.02, groups=np.arange(200))
    assert np.sum(tied >= t_tied) == 0
    with pytest.raises(CalibrationError, match="one per statistic"):
        threshold_at_fpr(org, 0.01, groups=groups[:-1])
    with pytest.raises(CalibrationError, match="group"):
        threshold_at_fpr([1.0, 2.0], 0.01, groups=["a", None])
    with pytest.raises(CalibrationError, match="conformal"):
        threshold_at_fpr(org, 0.01, rule="empirical", groups=groups)


def test_speaker_rule_keeps_fpr_for_new_speakers_where_recording_rule_fails():
    """Monte Carlo with speakers of two kinds (hierarchical exchangeability).

    70 % of speakers read one recording, with statistics around 0; 30 % read
    ten, around -1 (an audiobook reader with a steady voice, say). A new
    speaker is drawn the same way. Counted per recording, the threshold is
    set mostly on the ten-recording speakers and a new speaker's recording
    reaches it far more often than 5 %; counted per speaker it stays below.
    The false-positive rate of each threshold is exact (normal tails).
    """
    from scipy.stats import norm

    rng = np.random.default_rng(5)
    fpr, n_speakers, trials = 0.05, 150, 400
    speaker_sd, within_sd = 0.5, 0.5
    total_sd = math.hypot(speaker_sd, within_sd)

    def new_speaker_fpr(thr: float) -> float:
        return 0.7 * norm.sf(thr / total_sd) + 0.3 * norm.sf((thr + 1.0) / total_sd)

    rates = {"recording": [], "speaker": []}
    for _ in range(trials):
        many = rng.random(n_speakers) < 0.3
        sizes = np.where(many, 10, 1)
        centre = np.where(many, -1.0, 0.0) + speaker_sd * rng.standard_normal(n_speakers)
        groups = np.repeat(np.arange(n_speakers), sizes)
        stats = centre[groups] + within_sd * rng.standard_normal(groups.size)
        rates["recording"].append(new_speaker_fpr(threshold_at_fpr(stats, fpr)))
        rates["speaker"].append(new_speaker_fpr(threshold_at_fpr(stats, fpr, groups=groups)))
    by_recording, by_speaker = np.mean(rates["recording"]), np.mean(rates["speaker"])
    assert by_recording > 2 * fpr
    assert 0.6 * fpr < by_speaker <= fpr


def test_precision_recall_at_counts():
    y = [False, False, True, True, True]
    s = [0.1, 0.6, 0.4, 0.7, 0.9]
    m = precision_recall_at(y, s, 0.5)
    assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (2, 1, 1, 1)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["fpr"] == pytest.approx(0.5)
    # exact intervals of 1/2 false positives and 2/3 detections (Clopper-Pearson)
    assert m["fpr_ci95"] == pytest.approx([0.0126, 0.9874], abs=1e-4)
    assert m["recall_ci95"][0] == pytest.approx(0.0943, abs=1e-4)
    assert m["recall_ci95"][1] == pytest.approx(0.9916, abs=1e-4)


@pytest.mark.parametrize("k, n", [(0, 270), (1, 30), (4, 270), (12, 270), (30, 30)])
def test_binomial_interval_is_the_exact_clopper_pearson_interval(k, n):
    from scipy.stats import binom

    lo, hi = binomial_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    # defining property: the tail probabilities at the bounds are alpha / 2
    if k < n:
        assert binom.cdf(k, n, hi) == pytest.approx(0.025, rel=1e-6)
    else:
        assert hi == 1.0
    if k > 0:
        assert binom.sf(k - 1, n, lo) == pytest.approx(0.025, rel=1e-6)
    else:
        assert lo == 0.0
        # closed form for zero events: 1 - (alpha / 2) ** (1 / n)
        assert hi == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-9)


def test_binomial_interval_refuses_bad_counts():
    for k, n, level in [(3, 2, 0.95), (-1, 5, 0.95), (0, 0, 0.95), (1, 5, 1.0), (0.5, 5, 0.95)]:
        with pytest.raises(CalibrationError):
            binomial_interval(k, n, level)


def test_bad_inputs_raise():
    with pytest.raises(CalibrationError, match="both classes"):
        roc_curve([True, True], [0.1, 0.2])
    with pytest.raises(CalibrationError, match="one label per score"):
        roc_curve([True, False], [0.1])
    with pytest.raises(CalibrationError, match="NaN"):
        roc_auc([True, False], [np.nan, 0.1])


def test_calibrate_organic_only_and_score_mapping():
    org = np.linspace(0.0, 1.0, 201)
    cal = calibrate(org, target_fpr=0.01)
    assert cal.method == "organic-spread"
    assert np.mean(org >= cal.threshold) <= 0.01
    assert cal.score(cal.threshold) == pytest.approx(0.5)
    assert cal.score(np.median(org)) == pytest.approx(0.05)
    s = cal.score(np.array([-1.0, 0.5, 2.0]))
    assert np.all(np.diff(s) > 0) and np.all((s >= 0) & (s <= 1))
    assert Calibration.from_dict(cal.to_dict()) == cal


def test_calibrate_with_fakes_fits_slope_by_likelihood():
    rng = np.random.default_rng(0)
    org = rng.normal(0, 1, 300)
    syn = rng.normal(3, 1, 300)
    cal = calibrate(org, syn, target_fpr=0.05)
    assert cal.method == "logistic-ml"
    # the fitted slope maximises the likelihood with the midpoint fixed
    d = np.r_[org, syn] - cal.threshold
    y = np.r_[np.zeros(300), np.ones(300)]

    def ll(a):
        p = 1 / (1 + np.exp(-a * d))
        return np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))

    assert ll(cal.slope) >= ll(cal.slope * 1.05) and ll(cal.slope) >= ll(cal.slope * 0.95)
    assert cal.metrics["auc"] == pytest.approx(roc_auc(y.astype(bool), np.r_[org, syn]))
    assert cal.metrics["at_threshold"]["fpr"] <= 0.05
    assert 0.0 < cal.metrics["eer"] < 0.2


def test_calibration_rejects_bad_parameters():
    with pytest.raises(CalibrationError):
        Calibration(threshold=math.nan, slope=1.0)
    with pytest.raises(CalibrationError):
        Calibration(threshold=1.0, slope=0.0)
    with pytest.raises(CalibrationError):
        calibrate([1.0])


def test_degenerate_organic_statistics_and_labels_are_refused():
    """All-tied organic statistics gave a slope of 1/ulp (1.3e16; 1.3e308 at zero), and
    precision_recall_at cast every string label to True = synthetic (session 27 probe, F15)."""
    for value in (1.0, 0.0):
        with pytest.raises(CalibrationError, match=r"10 organic statistics do not spread"):
            calibrate([value] * 10)
    # ties at the top: the threshold sits one step above them, so the organic spread sets
    # the slope (finite, and the score of the median stays 0.05 only when the gap is real)
    org = np.r_[np.zeros(5), np.ones(15)]
    cal = calibrate(org, target_fpr=0.05)
    assert cal.threshold == np.nextafter(1.0, 2.0)
    assert cal.slope == pytest.approx(math.log(19.0) / np.std(org))
    assert cal.score(1.0 + 1e-12) == pytest.approx(0.5, abs=1e-9)
    # with labelled fakes the slope comes from them, tied organic statistics or not
    assert calibrate([1.0] * 10, [2.0, 3.0, 4.0]).method == "logistic-ml"
    with pytest.raises(CalibrationError, match="booleans or 0/1"):
        precision_recall_at(["organic", "synthetic", "organic"], [1, 2, 3], 2)
    with pytest.raises(CalibrationError, match="booleans or 0/1"):
        precision_recall_at([0, 1, 2], [1, 2, 3], 2)
    with pytest.raises(CalibrationError, match="one label per score"):
        precision_recall_at([0, 1], [1, 2, 3], 2)
    # one class is fine here (an FPR on organic recordings alone)
    assert precision_recall_at([0, 0, 0], [1, 2, 3], 2)["fp"] == 2
    assert precision_recall_at([False, True, True], [1, 2, 3], 2)["tp"] == 2
