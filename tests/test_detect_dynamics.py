"""Tract-dynamics descriptors, descriptor models and the dynamics calibration."""

from __future__ import annotations

import itertools
import math
import zlib

import numpy as np
import pandas as pd
import pytest

from _detect import make_features
from vtract.detect.calibration import Calibration, CalibrationError, threshold_at_fpr
from vtract.detect.default import DefaultDetector
from vtract.detect.dynamics import (
    DESCRIPTORS,
    WITH_SHIMMER,
    DescriptorModel,
    fit_discriminative,
    fit_one_class,
    recording_descriptors,
    window_log_areas,
)
from vtract.detect.fitting import fit_thresholds
from vtract.errors import VtractError

BIGRAMS = ["AH-N", "T-IY", "S-T", "IH-NG", "DH-AH", "AE-T", "ER-Z", "K-AE"]


def dynamic_features(
    file: str,
    rng: np.random.Generator,
    *,
    spread: float,
    label: str = "",
    speaker: str = "",
    n_windows: int = 3,
    n_sections: int = 4,
) -> pd.DataFrame:
    """Feature table whose length and F1 vary per window (make_features keeps them fixed)."""
    df = make_features(
        file,
        BIGRAMS,
        rng=rng,
        spread=spread,
        label=label,
        speaker=speaker,
        n_windows=n_windows,
        n_sections=n_sections,
    )
    keys = df[["boundary_s", "window_index"]].drop_duplicates()
    length = pd.Series(rng.uniform(14.0, 18.0, len(keys)), index=pd.MultiIndex.from_frame(keys))
    f1 = pd.Series(rng.uniform(300.0, 800.0, len(keys)), index=length.index)
    idx = pd.MultiIndex.from_frame(df[["boundary_s", "window_index"]])
    return df.assign(
        length_cm=length.reindex(idx).to_numpy(),
        f1_hz=f1.reindex(idx).to_numpy(),
        # a per-file value that leaves the random stream of the areas as it was
        shimmer_local=0.05 + 0.15 * (zlib.crc32(file.encode()) % 1000) / 1000,
    )


def reference_descriptors(df: pd.DataFrame) -> dict[str, float]:
    """Plain-loop computation of the descriptors (tract four and log_shimmer) of one recording."""
    windows = sorted({(b, w) for b, w in zip(df["boundary_s"], df["window_index"], strict=True)})
    n_sec = int(df["n_sections"].iloc[0])
    shapes = {}
    length, f1 = [], []
    for b, w in windows:
        rows = df[(df["boundary_s"] == b) & (df["window_index"] == w)].sort_values("section")
        shapes[(b, w)] = np.log(rows["area_cm2"].to_numpy())
        length.append(rows["length_cm"].iloc[0])
        f1.append(rows["f1_hz"].iloc[0])
    stack = np.array([shapes[k] for k in windows])
    spread = float(np.median([np.std(stack[:, s], ddof=1) for s in range(n_sec)]))
    steps = []
    for (b, w), (b2, w2) in itertools.pairwise(windows):
        if b == b2 and w2 == w + 1:
            steps.append(np.mean(np.abs(shapes[(b2, w2)] - shapes[(b, w)])))
    q = np.percentile
    return {
        "shape_spread": spread,
        "shape_jitter": float(np.median(steps)) if steps else math.nan,
        "length_spread": float(q(length, 75) - q(length, 25)),
        "f1_spread": float(q(f1, 75) - q(f1, 25)),
        "log_shimmer": math.log(df["shimmer_local"].iloc[0]),
    }


def test_descriptors_match_plain_loops() -> None:
    rng = np.random.default_rng(1)
    a = dynamic_features("a.wav", rng, spread=0.1)
    b = dynamic_features("b.wav", rng, spread=0.6)
    got = recording_descriptors(pd.concat([a, b], ignore_index=True))
    assert list(got.index) == ["a.wav", "b.wav"]
    for name, table in (("a.wav", a), ("b.wav", b)):
        want = reference_descriptors(table)
        for d in WITH_SHIMMER:
            assert got.loc[name, d] == pytest.approx(want[d], rel=1e-12), d
        assert got.loc[name, "n_windows"] == 3 * len(BIGRAMS)
    # a wider log-normal spread of the areas is seen as a wider shape spread
    assert got.loc["b.wav", "shape_spread"] > 1.5 * got.loc["a.wav", "shape_spread"]


def test_descriptors_of_a_single_recording_and_gaps() -> None:
    rng = np.random.default_rng(2)
    one = dynamic_features("x", rng, spread=0.2, n_windows=1).drop(columns=["file"])
    got = recording_descriptors(one)
    assert list(got.index) == [""]
    assert math.isnan(got.loc["", "shape_jitter"])  # no occurrence with two windows
    assert math.isfinite(got.loc["", "shape_spread"])
    with pytest.raises(VtractError, match="f1_hz"):
        recording_descriptors(one.drop(columns=["f1_hz"]))


def test_window_log_areas_keep_each_files_most_common_section_grid() -> None:
    rng = np.random.default_rng(3)
    a = dynamic_features("a.wav", rng, spread=0.2, n_sections=4)
    odd = dynamic_features("a.wav", rng, spread=0.2, n_sections=6).iloc[:12]  # 2 windows
    odd = odd.assign(boundary_s=odd["boundary_s"] + 100.0)
    b = dynamic_features("b.wav", rng, spread=0.2, n_sections=6)
    grid = window_log_areas(pd.concat([a, odd, b], ignore_index=True))
    rows_a = grid.loc["a.wav"]
    assert len(rows_a) == 3 * len(BIGRAMS)  # the two 6-section windows left out
    assert rows_a.notna().sum(axis=1).eq(4).all()
    assert grid.loc["b.wav"].notna().sum(axis=1).eq(6).all()
    first = a[(a["boundary_s"] == a["boundary_s"].min()) & (a["window_index"] == -1)]
    want = np.log(first.sort_values("section")["area_cm2"].to_numpy())
    got = rows_a.loc[(first["boundary_s"].iloc[0], -1)].to_numpy()[:4]
    assert got == pytest.approx(want, rel=1e-12)


def test_one_class_statistic_is_the_robust_mahalanobis_distance() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal([1.0, 0.5, 4.0, 200.0], [0.1, 0.05, 1.0, 40.0], size=(400, 4))
    organic = pd.DataFrame(x, columns=list(DESCRIPTORS))
    model = fit_one_class(organic)
    center = np.median(x, axis=0)
    scale = 1.482602218505602 * np.median(np.abs(x - center), axis=0)
    z = np.clip((x - center) / scale, -8, 8)
    precision = np.linalg.inv(np.cov(z.T) + 1e-3 * np.eye(4))
    probe = np.array([[1.3, 0.5, 4.0, 200.0], list(center)])
    zp = (probe - center) / scale
    want = np.einsum("ij,jk,ik->i", zp, precision, zp)
    got = model.statistic(pd.DataFrame(probe, columns=list(DESCRIPTORS)))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert got[1] == pytest.approx(0.0, abs=1e-20)
    # about 3 robust sigmas off in one independent descriptor -> distance about 9
    assert 6.0 < got[0] < 13.0


def test_discriminative_model_is_a_stationary_point_of_its_loss() -> None:
    rng = np.random.default_rng(4)
    org = pd.DataFrame(rng.normal(0.0, 1.0, (150, 4)), columns=list(DESCRIPTORS))
    syn = pd.DataFrame(rng.normal([1.5, 0, 0, 0], 1.0, (50, 4)), columns=list(DESCRIPTORS))
    model = fit_discriminative(org, syn, l2=5.0)
    w = np.asarray(model.weights)
    assert w[0] > 0.5 and np.all(np.abs(w[1:]) < 0.35)
    x = np.vstack([org.to_numpy(), syn.to_numpy()])
    y = np.r_[np.zeros(150), np.ones(50)]
    xs = (x - x.mean(0)) / x.std(0)
    sample_w = np.where(y > 0, 0.5 * 200 / 50, 0.5 * 200 / 150)

    def loss(b: np.ndarray) -> float:
        z = xs @ b[:-1] + b[-1]
        return float(np.sum(sample_w * (np.log1p(np.exp(z)) - y * z)) + 5.0 * np.sum(b[:-1] ** 2))

    b = np.r_[w, model.bias]
    eps = 1e-6
    grad = [(loss(b + eps * e) - loss(b - eps * e)) / (2 * eps) for e in np.eye(5)]
    np.testing.assert_allclose(grad, 0.0, atol=1e-3)


def test_model_round_trip_and_malformed() -> None:
    rng = np.random.default_rng(5)
    organic = pd.DataFrame(rng.normal(size=(50, 4)), columns=list(DESCRIPTORS))
    model = fit_one_class(organic)
    again = DescriptorModel.from_dict(model.to_dict())
    np.testing.assert_array_equal(again.statistic(organic), model.statistic(organic))
    with pytest.raises(VtractError, match="malformed"):
        DescriptorModel.from_dict({"kind": "one-class"})
    with pytest.raises(VtractError, match="kind"):
        DescriptorModel(kind="magic", names=("a",), center=(0.0,), scale=(1.0,))
    with pytest.raises(CalibrationError, match="descriptor model"):
        Calibration(threshold=1.0, slope=1.0, statistic="dynamics")


def labelled_corpus(n_org: int = 30, n_syn: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(6)
    parts = [
        dynamic_features(f"o{i}", rng, spread=0.15, label="organic", speaker=f"s{i % 15}")
        for i in range(n_org)
    ]
    parts += [
        dynamic_features(f"x{i}", rng, spread=0.6, label="synthetic", speaker=f"tts{i % 3}")
        for i in range(n_syn)
    ]
    return pd.concat(parts, ignore_index=True)


def organic_referenced_stats(corpus: pd.DataFrame) -> pd.DataFrame:
    """File statistics of ``corpus`` against a reference of its own organic files."""
    from _detect import TableReference
    from vtract.detect.default import file_statistics

    return file_statistics(corpus, TableReference(corpus[corpus["label"] == "organic"]), None)


def speakers_corpus(
    rng: np.random.Generator,
    organic_speakers: list[str],
    fake_speakers: list[str],
    organic_prefix: str = "o",
) -> pd.DataFrame:
    """One organic recording per entry of ``organic_speakers`` (files ``<prefix><i>``) and
    one fake per entry of ``fake_speakers`` (files ``x<i>``), in that order."""
    parts = [
        dynamic_features(f"{organic_prefix}{i}", rng, spread=0.15, label="organic", speaker=s)
        for i, s in enumerate(organic_speakers)
    ]
    parts += [
        dynamic_features(f"x{i}", rng, spread=0.6, label="synthetic", speaker=s)
        for i, s in enumerate(fake_speakers)
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("with_fakes", [False, True])
def test_dynamics_calibration_and_verdicts(with_fakes: bool) -> None:
    from _detect import TableReference

    corpus = labelled_corpus()
    organic = corpus[corpus["label"] == "organic"]
    ref = TableReference(organic)
    data = corpus if with_fakes else organic
    calibration, summary = fit_thresholds(ref, data, target_fpr=0.05)
    cal = Calibration.from_dict(calibration["default"])
    assert cal.statistic == "dynamics"
    assert cal.model["kind"] == ("discriminative" if with_fakes else "one-class")
    assert summary["n_organic_files"] == 30
    # the threshold is the 5 % point of the organic out-of-fold statistics, not of in-sample ones
    model = DescriptorModel.from_dict(cal.model)
    in_sample = model.statistic(recording_descriptors(organic))
    assert cal.threshold != pytest.approx(threshold_at_fpr(in_sample, 0.05))
    det = DefaultDetector(ref, calibration=cal)
    rng = np.random.default_rng(7)
    fake = dynamic_features("new-fake", rng, spread=0.6, speaker="tts9")
    real = dynamic_features("new-real", rng, spread=0.15, speaker="s99")
    d_fake = det.decide(fake)
    d_real = det.decide(real)
    assert d_fake.verdict == "synthetic" and d_real.verdict == "organic"
    assert set(d_fake.descriptors) == set(DESCRIPTORS)
    assert d_fake.statistic == pytest.approx(
        float(model.statistic(recording_descriptors(fake))[0]), rel=1e-12
    )
    assert "statistic of the tract dynamics " in d_fake.reason
    assert "log_shimmer" not in d_fake.descriptors and "voice shimmer" not in d_fake.reason
    ranges = d_fake.descriptor_ranges
    assert set(ranges) == set(DESCRIPTORS)
    organic_desc = recording_descriptors(organic)
    for name, (q05, q50, q95) in ranges.items():
        assert q05 <= q50 <= q95
        assert q50 == pytest.approx(float(np.median(organic_desc[name])), rel=1e-12)


def test_dynamics_threshold_can_count_speakers() -> None:
    from _detect import TableReference
    from vtract.detect.default import file_statistics
    from vtract.detect.fitting import dynamics_calibration

    corpus = labelled_corpus()  # 30 organic files of 15 speakers, two each
    ref = TableReference(corpus[corpus["label"] == "organic"])
    stats = file_statistics(corpus, ref, None)
    by_spk, s_org, _ = dynamics_calibration(corpus, stats, target_fpr=0.1)  # the default
    by_rec, s_org2, _ = dynamics_calibration(
        corpus, stats, target_fpr=0.1, threshold_by="recording"
    )
    np.testing.assert_array_equal(s_org, s_org2)  # the same out-of-fold statistics
    organic = corpus[corpus["label"] == "organic"]
    speakers = organic.groupby("file", sort=True)["speaker"].first().to_numpy()
    assert by_spk.threshold == threshold_at_fpr(s_org, 0.1, groups=speakers)
    assert by_rec.threshold == threshold_at_fpr(s_org, 0.1)
    assert by_spk.metrics["threshold_rule"] == "conformal-by-speaker"
    assert by_spk.metrics["n_speakers"] == 15
    # 15 speakers allow 0.1 * 16 - 1 = 0.6 of a speaker above: one recording (half a
    # speaker); 30 recordings allow floor(0.1 * 31) - 1 = 2
    assert np.sum(s_org >= by_spk.threshold) == 1
    assert by_spk.metrics["fpr_bound"] == pytest.approx(1.5 / 16)
    assert np.sum(s_org >= by_rec.threshold) == 2
    assert by_rec.metrics["fpr_bound"] == pytest.approx(3 / 31)
    calibration, _ = fit_thresholds(ref, corpus, target_fpr=0.1, threshold_by="recording")
    assert calibration["default"]["threshold"] == by_rec.threshold
    with pytest.raises(VtractError, match="threshold_by"):
        dynamics_calibration(corpus, stats, threshold_by="file")
    # the legacy deviation statistic's threshold counts the same speakers
    organic_only = corpus[corpus["label"] == "organic"]
    dev, summary = fit_thresholds(ref, organic_only, target_fpr=0.1, statistic="deviation")
    dev_cal = Calibration.from_dict(dev["default"])
    assert dev_cal.metrics["threshold_rule"] == "conformal-by-speaker"
    assert dev_cal.metrics["n_speakers"] == 15
    dev_rec, _ = fit_thresholds(
        ref, organic_only, target_fpr=0.1, statistic="deviation", threshold_by="recording"
    )
    assert dev_rec["default"]["metrics"]["threshold_rule"] == "conformal"
    assert summary["n_organic_files"] == 30


def test_dynamics_statistic_undefined_is_inconclusive() -> None:
    from _detect import TableReference

    corpus = labelled_corpus()
    ref = TableReference(corpus[corpus["label"] == "organic"])
    calibration, _ = fit_thresholds(ref, corpus)
    det = DefaultDetector(ref, calibration=Calibration.from_dict(calibration["default"]))
    single = dynamic_features("w1", np.random.default_rng(8), spread=0.3, n_windows=1)
    decision = det.decide(single)
    assert decision.verdict == "inconclusive" and decision.score is None
    assert "shape_jitter" in decision.reason


def test_cli_calibrate_dynamics_writes_a_descriptor_model(tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from vtract.cli import cli
    from vtract.features import write_features
    from vtract.reference import Reference, default_reference_path

    rng = np.random.default_rng(9)
    parts = [
        dynamic_features(
            f"o{i}.wav", rng, spread=0.15, label="organic", speaker=f"s{i}", n_sections=15
        )
        for i in range(8)
    ]
    parts += [
        dynamic_features(
            f"x{i}.wav", rng, spread=0.6, label="synthetic", speaker=f"tts{i}", n_sections=15
        )
        for i in range(4)  # four voices: one voice's fakes would leave a fold without fakes
    ]
    full = pd.concat(parts, ignore_index=True)
    full = full.assign(
        window_start_s=full["boundary_s"] + full["offset_s"] - 0.0177,
        window_end_s=full["boundary_s"] + full["offset_s"] + 0.0177,
        n_sections_native=15,
        method="lpc-refined",  # the shipped reference's estimator (another one is refused)
    )
    table = tmp_path / "labelled.parquet"
    write_features(full, table)
    out = tmp_path / "cal.vtref"
    args = ["calibrate", str(table), "--reference", str(default_reference_path())]
    res = CliRunner().invoke(cli, [*args, "--out", str(out), "--fpr", "0.05"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["default"]["statistic"] == "dynamics"
    # 8 organic speakers guarantee at best 1/9, not 5 %: the command says so
    assert "of 8 speakers, too few to keep the false-positive rate at 5.00%" in res.stderr
    assert "the guaranteed rate is 11.11%" in res.stderr
    stored = Calibration.from_dict(Reference.load(out).calibration["default"])
    assert stored.model["kind"] == "discriminative" and stored.model["info"]["n_organic"] == 8
    # the synthetic files spread their shapes more: the model weighs shape_spread up
    assert stored.model["weights"][0] > 0
    assert stored.model["names"] == list(DESCRIPTORS)
    res = CliRunner().invoke(cli, [*args, "--out", str(out), "--fpr", "0.05", "--with-shimmer"])
    assert res.exit_code == 0, res.output
    stored = Reference.load(out).calibration
    assert Calibration.from_dict(stored["default"]).model["names"] == list(DESCRIPTORS)
    assert Calibration.from_dict(stored["dry_voice"]).model["names"] == list(WITH_SHIMMER)
    assert json.loads(res.stdout)["dry_voice"]["n_organic_files"] == 8
    # recalibrating that reference without the option drops its dry-voice model, and says so
    again = ["calibrate", str(table), "--reference", str(out), "--out", str(out), "--fpr", "0.05"]
    res = CliRunner().invoke(cli, again)
    assert res.exit_code == 0, res.output
    assert "dry_voice calibration (voice shimmer) was removed" in res.stderr
    assert "dry_voice" not in Reference.load(out).calibration
    stored = Calibration.from_dict(Reference.load(out).calibration["default"])
    assert stored.metrics["threshold_rule"] == "conformal-by-speaker"
    assert stored.metrics["n_speakers"] == 8
    # counted per recording: 8 recordings of one speaker each give the same guarantee
    res = CliRunner().invoke(cli, [*args, "--out", str(out), "--threshold-by", "recording"])
    assert res.exit_code == 0, res.output
    stored = Calibration.from_dict(Reference.load(out).calibration["default"])
    assert stored.metrics["threshold_rule"] == "conformal"
    assert "8 organic recordings, too few" in res.stderr


def test_descriptors_of_a_recording_do_not_depend_on_the_others_in_the_table() -> None:
    # a 4-section recording beside a 6-section one (until session 16 its jitter was nan:
    # the pandas pivot's columns were the union of both grids)
    rng = np.random.default_rng(3)
    a = dynamic_features("a.wav", rng, spread=0.2, n_sections=4)
    b = dynamic_features("b.wav", rng, spread=0.2, n_sections=6)
    both = recording_descriptors(pd.concat([a, b], ignore_index=True))
    for name, table in (("a.wav", a), ("b.wav", b)):
        alone = recording_descriptors(table)
        for d in WITH_SHIMMER:
            assert both.loc[name, d] == pytest.approx(alone.loc[name, d], rel=1e-12), (name, d)
            assert both.loc[name, d] == pytest.approx(reference_descriptors(table)[d], rel=1e-12)


def test_the_shimmer_option_adds_log_shimmer_to_the_model() -> None:
    from _detect import TableReference

    corpus = labelled_corpus()
    ref = TableReference(corpus[corpus["label"] == "organic"])
    calibration, _ = fit_thresholds(ref, corpus, descriptors=WITH_SHIMMER)
    cal = Calibration.from_dict(calibration["default"])
    assert cal.model["names"] == list(WITH_SHIMMER)
    det = DefaultDetector(ref, calibration=cal)
    fake = dynamic_features("new-fake", np.random.default_rng(7), spread=0.6, speaker="tts9")
    decided = det.decide(fake)
    assert set(decided.descriptors) == set(WITH_SHIMMER)
    assert decided.descriptors["log_shimmer"] == pytest.approx(
        math.log(fake["shimmer_local"].iloc[0]), rel=1e-12
    )
    assert "tract dynamics and voice shimmer" in decided.reason
    # a table without the recording's shimmer (written before the column existed)
    old = dynamic_features("w2", np.random.default_rng(8), spread=0.3)
    decision = det.decide(old.drop(columns=["shimmer_local"]))
    assert decision.verdict == "inconclusive" and decision.score is None
    assert "log_shimmer" in decision.reason and "shimmer_local" in decision.reason
    assert "shape_jitter" not in decision.reason
    # the four-descriptor default does not need the column; the option does
    fit_thresholds(ref, corpus.drop(columns=["shimmer_local"]))
    with pytest.raises(VtractError, match="shimmer_local"):
        fit_thresholds(ref, corpus.drop(columns=["shimmer_local"]), descriptors=WITH_SHIMMER)
    with pytest.raises(VtractError, match="unknown descriptor"):
        fit_thresholds(ref, corpus, descriptors=("shape_spread", "pitch"))


def test_the_dry_voice_model_decides_only_recordings_without_a_room() -> None:
    from _detect import TableReference
    from vtract.reverberation import DRY_DECAY_DB

    corpus = labelled_corpus()
    organic = corpus[corpus["label"] == "organic"]
    calibration, summary = fit_thresholds(
        TableReference(organic), corpus, target_fpr=0.05, voice_descriptors=WITH_SHIMMER
    )
    four = Calibration.from_dict(calibration["default"])
    voice = Calibration.from_dict(calibration["dry_voice"])
    assert four.model["names"] == list(DESCRIPTORS)
    assert voice.model["names"] == list(WITH_SHIMMER)
    assert summary["dry_voice"]["n_organic_files"] == 30
    # the same fit as asking for the five directly (its own out-of-fold threshold)
    five, _ = fit_thresholds(
        TableReference(organic), corpus, target_fpr=0.05, descriptors=WITH_SHIMMER
    )
    assert voice.threshold == pytest.approx(Calibration.from_dict(five["default"]).threshold)
    det = DefaultDetector(TableReference(organic, calibration))
    fake = dynamic_features("new-fake", np.random.default_rng(7), spread=0.6, speaker="tts9")
    desc = recording_descriptors(fake)

    def statistic(cal: Calibration) -> float:
        return float(DescriptorModel.from_dict(cal.model).statistic(desc)[0])

    dry = det.decide(fake, steepest_decay_db=DRY_DECAY_DB)
    assert set(dry.descriptors) == set(WITH_SHIMMER)
    assert dry.statistic == pytest.approx(statistic(voice), rel=1e-12)
    assert dry.thresholds["threshold"] == voice.threshold
    assert dry.thresholds["dry_decay_db"] == DRY_DECAY_DB
    assert "voice-shimmer model decided" in dry.reason
    for decay, why in (
        (DRY_DECAY_DB - 0.1, "below 16 dB (a room"),
        (None, "not measured"),
        (float("nan"), "not measured"),
    ):
        wet = det.decide(fake, steepest_decay_db=decay)
        assert set(wet.descriptors) == set(DESCRIPTORS), decay
        assert wet.statistic == pytest.approx(statistic(four), rel=1e-12)
        assert wet.thresholds["threshold"] == four.threshold
        assert "voice-shimmer model was not used" in wet.reason and why in wet.reason
    # a dry recording whose shimmer was not measured falls back to the four too
    unmeasured = det.decide(fake.drop(columns=["shimmer_local"]), steepest_decay_db=30.0)
    assert unmeasured.verdict != "inconclusive"
    assert set(unmeasured.descriptors) == set(DESCRIPTORS)
    assert "shimmer could not be measured" in unmeasured.reason
    # a calibration given to the detector replaces both of the reference's
    given = DefaultDetector(TableReference(organic, calibration), calibration=four)
    assert "voice-shimmer" not in given.decide(fake, steepest_decay_db=30.0).reason
    # without a dry-voice calibration the decay changes nothing and the reason says nothing
    plain = DefaultDetector(TableReference(organic, {"default": calibration["default"]}))
    assert "voice-shimmer" not in plain.decide(fake, steepest_decay_db=30.0).reason


def test_a_bad_dry_voice_calibration_is_refused() -> None:
    from _detect import TableReference

    corpus = labelled_corpus()
    organic = corpus[corpus["label"] == "organic"]
    ref = TableReference(organic)
    with pytest.raises(VtractError, match="log_shimmer"):
        fit_thresholds(ref, corpus, voice_descriptors=DESCRIPTORS)
    with pytest.raises(VtractError, match="dynamics"):
        fit_thresholds(ref, corpus, statistic="deviation", voice_descriptors=WITH_SHIMMER)
    calibration, _ = fit_thresholds(ref, corpus)
    fake = dynamic_features("f", np.random.default_rng(7), spread=0.6)
    four_only = {**calibration, "dry_voice": calibration["default"]}
    with pytest.raises(VtractError, match="must be a tract-dynamics model with log_shimmer"):
        DefaultDetector(TableReference(organic, four_only)).decide(fake, steepest_decay_db=30.0)
    broken = {**calibration, "dry_voice": {"threshold": "x"}}
    with pytest.raises(VtractError, match="malformed dry_voice"):
        DefaultDetector(TableReference(organic, broken)).decide(fake, steepest_decay_db=30.0)


def test_dynamics_calibration_says_it_needs_other_speakers() -> None:
    """Seven organic LJSpeech recordings (one speaker) failed with "need at least 2 organic
    recordings ..., got 0", with --threshold-by recording too (session 27 probe, F10)."""
    from vtract.detect.fitting import dynamics_calibration

    rng = np.random.default_rng(12)
    corpus = speakers_corpus(rng, ["LJ"] * 7, ["tts"] * 3, organic_prefix="lj")
    stats = organic_referenced_stats(corpus)
    for by in ("recording", "speaker"):
        with pytest.raises(VtractError) as err:
            dynamics_calibration(corpus, stats, threshold_by=by)
        message = str(err.value)
        assert "the fold of speaker(s) 'LJ' holds 7 of the 7 organic recordings" in message
        assert "leaves 0 to train on" in message and "come from 1 speaker(s)" in message
    # one dominant speaker and one other: the dominant speaker's fold leaves one
    other = dynamic_features("m0", rng, spread=0.15, label="organic", speaker="mary")
    corpus2 = pd.concat([corpus, other], ignore_index=True)
    stats2 = organic_referenced_stats(corpus2)
    with pytest.raises(VtractError, match=r"'LJ' holds 7 of the 8 organic recordings and leaves 1"):
        dynamics_calibration(corpus2, stats2, threshold_by="recording")


def test_dynamics_calibration_refuses_a_fold_left_without_fakes() -> None:
    """Session 31 probe F1: fakes of one voice all sat in one fold, whose model was then
    one-class; the threshold was set on Mahalanobis distances and log-odds mixed and stored
    with the log-odds model, which no fake reached ("recall 1.0" on paper)."""
    from vtract.detect.fitting import dynamics_calibration

    rng = np.random.default_rng(21)
    corpus = speakers_corpus(rng, [f"s{i}" for i in range(12)], ["joe"] * 6)
    stats = organic_referenced_stats(corpus)
    with pytest.raises(
        VtractError, match=r"fold of speaker\(s\) 'joe' leaves 0 of the 6 synthetic"
    ):
        dynamics_calibration(corpus, stats, target_fpr=0.1)
    # fakes of three voices: every fold keeps at least 2, and every model is discriminative
    voiced = corpus.assign(
        speaker=np.where(
            corpus["label"] == "synthetic",
            "tts" + (corpus["file"].str[1:].astype(int) % 3).astype(str),
            corpus["speaker"],
        )
    )
    cal, s_org, _ = dynamics_calibration(voiced, stats, target_fpr=0.1)
    assert cal.model["kind"] == "discriminative"
    # out-of-fold statistics are log-odds like the stored model's: the organic ones of the
    # stored model and of the folds lie on the same scale (a one-class fold gave 3-20)
    model = DescriptorModel.from_dict(cal.model)
    in_sample = model.statistic(recording_descriptors(voiced[voiced["label"] == "organic"]))
    assert np.max(np.abs(s_org)) < 3 * np.max(np.abs(in_sample)) + 1


def test_dynamics_calibration_folds_null_speakers_by_file() -> None:
    """Session 31 probe F4: null speakers (a Parquet table keeps None/NaN) were one
    speaker "nan", so all such files shared one fold and calibration was refused."""
    from vtract.detect.fitting import dynamics_calibration

    corpus = labelled_corpus()
    stats = organic_referenced_stats(corpus)
    blank = corpus.assign(speaker="")
    expected, s_blank, _ = dynamics_calibration(blank, stats, target_fpr=0.1)
    for null in (None, np.nan):
        table = corpus.assign(speaker=pd.Series(null, index=corpus.index, dtype=object))
        cal, s_org, _ = dynamics_calibration(table, stats, target_fpr=0.1)
        np.testing.assert_array_equal(s_org, s_blank)
        assert cal.threshold == expected.threshold
        assert cal.metrics["n_speakers"] == 30


def test_the_reason_names_the_bigrams_most_deviant_from_the_reference() -> None:
    """Session 31 probe F6: the reason's "most atypical against the organic reference" was
    ranked by the score, which adds the anatomical flags, while the report's figures of the
    most deviant bigrams rank by the deviation: they named different bigrams."""
    from _detect import TableReference

    corpus = labelled_corpus()
    organic = corpus[corpus["label"] == "organic"]
    ref = TableReference(organic)
    calibration, _ = fit_thresholds(ref, corpus, target_fpr=0.05)
    det = DefaultDetector(ref, calibration=Calibration.from_dict(calibration["default"]))
    rng = np.random.default_rng(7)
    fake = dynamic_features("new-fake", rng, spread=0.6, speaker="tts9")
    # a critical flag on the fourth most deviant occurrence: its score rises above the third's,
    # but its shapes stay as typical as they were
    from _detect import critical_flags

    first = det.decide(fake)
    fourth = first.bigrams.sort_values("deviation", ascending=False).iloc[[3]]
    d = det.decide(fake, critical_flags(fourth, code="area_out_of_range"))
    big = d.bigrams
    by_score = big.sort_values("score", ascending=False, kind="stable")["bigram"]
    assert fourth["bigram"].iloc[0] in by_score.head(3).tolist()  # the old ranking named it
    by_deviation = big.sort_values("deviation", ascending=False, kind="stable")["bigram"]
    named = d.reason.split("most atypical against the organic reference: ")[1].split(";")[0]
    assert named.split(", ") == by_deviation.head(3).tolist()
