"""Public API of vtract.tract: validation, rates, batch, Wakita round trip, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import vtract
from vtract.cli import cli
from vtract.errors import EstimationError
from vtract.evidence import resample
from vtract.synth import log_area_correlation, tube_vowel
from vtract.tract import TractEstimate, estimate_tract, estimate_tracts
from vtract.tract.length import SPEED_OF_SOUND_CM_S
from vtract.tract.lpc import autocorrelation, levinson_durbin
from vtract.tract.wakita import LPC_MEAN_AREA_CM2, areas_from_parcor

METHODS = ("default", "lpc", "paper")
# a smooth /a/-like tract (glottis -> lips)
SHAPE = np.array([2.0, 1.5, 1.0, 1.2, 2.5, 4.0, 6.0, 7.0, 6.5, 5.0, 4.0, 3.0, 2.5, 2.0, 1.6])


@pytest.fixture(scope="module")
def vowel16() -> np.ndarray:
    x = tube_vowel(SHAPE, 17.0 / SHAPE.size, 48000, f0=120.0, duration=0.25, seed=1)
    return np.asarray(x, dtype=np.float64)


def frame_at(x48: np.ndarray, sr: int, ms: float = 35.3125) -> np.ndarray:
    y = resample(x48, 48000, sr)
    start = int(0.1 * sr)
    return y[start : start + round(ms * 1e-3 * sr)]


def test_public_names_are_exported():
    assert vtract.estimate_tract is estimate_tract
    assert vtract.estimate_tracts is estimate_tracts
    assert vtract.TractEstimate is TractEstimate


@pytest.mark.parametrize("method", METHODS)
def test_estimate_is_consistent(vowel16, method):
    est = estimate_tract(frame_at(vowel16, 16000), 16000, method=method)
    assert est.method == method
    assert np.all(np.isfinite(est.areas)) and np.all(est.areas > 0)
    assert est.reflection.shape == est.areas.shape
    assert est.length_cm == pytest.approx(est.n_sections * est.section_length_cm)
    np.testing.assert_allclose(
        est.reflection[:-1],
        (est.areas[1:] - est.areas[:-1]) / (est.areas[1:] + est.areas[:-1]),
        atol=1e-9,
    )
    assert est.formants_hz.shape == est.bandwidths_hz.shape and est.formants_hz.size >= 3
    assert np.all(np.diff(est.formants_hz) > 0)
    assert est.params["analysis_rate"] == 16000
    assert 10.0 <= est.params.get("estimated_length_cm", est.length_cm) <= 22.0
    json.dumps(est.to_dict())


@pytest.mark.parametrize("method", ["default", "lpc-refined", "lpc"])
def test_areas_have_documented_scale(vowel16, method):
    est = estimate_tract(frame_at(vowel16, 16000), 16000, method=method)
    assert np.exp(np.mean(np.log(est.areas))) == pytest.approx(LPC_MEAN_AREA_CM2, rel=1e-9)


def test_wakita_parcor_round_trip_is_exact():
    """Wakita's all-pole tube (matched glottis, ideal open lips, sections of c / 2fs)."""
    sr = 16000
    x = tube_vowel(
        SHAPE, SPEED_OF_SOUND_CM_S / (2 * sr), sr, glottis="matched", losses=False,
        radiation=False, glottal="impulse", f0=50.0, duration=0.3,
    )  # fmt: skip
    seg = np.ascontiguousarray(x[: int(0.02 * sr)])
    _, k, _ = levinson_durbin(autocorrelation(seg, SHAPE.size - 1), SHAPE.size - 1)
    areas, _ = areas_from_parcor(k, 3.0)
    np.testing.assert_allclose(areas / areas[0], SHAPE / SHAPE[0], rtol=0.08)
    est = estimate_tract(
        x[800:1365], sr, method="lpc", n_sections=SHAPE.size,
        length_cm=SHAPE.size * SPEED_OF_SOUND_CM_S / (2 * sr),
    )  # fmt: skip
    assert np.corrcoef(np.log(est.areas), np.log(SHAPE))[0, 1] > 0.95


X20 = np.linspace(0.0, 1.0, 20)
INDEPENDENT_SHAPES = {  # not in the benchmark's truth set
    "a-like": SHAPE,
    "i-like": np.exp(np.log(1.5) + 1.2 * np.cos(np.pi * X20)),
    "u-like": np.maximum(2.8 + 2.0 * np.cos(2 * np.pi * X20), 0.3),
    "larynx-neutral": np.where(X20 < 0.12, 1.0, 3.5),
    "schwa-like": 3.0 + 0.8 * np.sin(3 * np.pi * X20),
}


def test_realistic_vowels_default_beats_lpc_and_paper():
    """Lossy tubes + LF pulses: mean log-area r vs truth, default > lpc and paper; lengths."""
    r: dict[str, list[float]] = {m: [] for m in METHODS}
    for i, areas in enumerate(INDEPENDENT_SHAPES.values()):
        dx = 17.0 / areas.size
        x = tube_vowel(areas, dx, 16000, f0=110.0, duration=0.2, seed=i, jitter=0.005)
        frame = x[1600:2165]
        for m in METHODS:
            est = estimate_tract(frame, 16000, method=m)
            r[m].append(
                log_area_correlation(
                    est.areas, est.section_length_cm, areas, np.full(areas.size, dx)
                )
            )
            length = est.params.get("estimated_length_cm", est.length_cm)
            assert abs(length - 17.0) < 1.5
    mean = {m: float(np.mean(v)) for m, v in r.items()}
    assert mean["default"] > mean["lpc"] + 0.05
    assert mean["default"] > mean["paper"] + 0.1
    assert r["default"][3] > 0.85  # larynx tube + uniform tract


def test_default_and_lpc_refined_differ_only_in_the_shape_prior():
    """``"default"`` (formant poles + MRI codebook) vs ``"lpc-refined"`` (LPC poles): steps 3-6."""
    from vtract.tract.default import (
        MRI_CODEBOOK_WIDTH,
        MRI_PRIOR_WEIGHT,
        PRIOR_FORMANT_POLES,
        PRIOR_LPC_POLES,
        default_core,
        formant_shape,
        wakita_shape,
    )
    from vtract.tract.preprocess import remove_linear_trend
    from vtract.tract.shape_prior import mri_codebook

    book = mri_codebook(6)

    areas = INDEPENDENT_SHAPES[list(INDEPENDENT_SHAPES)[2]]
    x = tube_vowel(areas, 17.0 / areas.size, 16000, f0=110.0, duration=0.2, seed=3)
    frame = np.ascontiguousarray(x[1600:2165])
    est = estimate_tract(frame, 16000)
    assert est.method == "default" and est.params["shape_prior"] == "formant-poles"
    core = default_core(
        remove_linear_trend(frame), 16000.0, -1.0, -1, PRIOR_FORMANT_POLES, book.log_formants, book.shapes,
        MRI_CODEBOOK_WIDTH, MRI_PRIOR_WEIGHT[PRIOR_FORMANT_POLES],
    )  # fmt: skip
    np.testing.assert_array_equal(est.areas, core[0])
    # the two priors share formants and length measurement but not the shape
    c_f, f_f, _, l_f, _ = formant_shape(frame, 16000.0, -1.0)
    c_w, f_w, _, l_w, _ = wakita_shape(frame, 16000.0, -1.0)
    np.testing.assert_array_equal(f_f, f_w)
    assert l_f == l_w and not np.allclose(c_f, c_w)
    refined = estimate_tract(frame, 16000, method="lpc-refined")
    assert refined.params["shape_prior"] == "lpc-poles" and refined.params["mri_prior_weight"] == 0
    lpc_core = default_core(
        remove_linear_trend(frame), 16000.0, -1.0, -1, PRIOR_LPC_POLES, book.log_formants, book.shapes,
        MRI_CODEBOOK_WIDTH, 0.0,
    )  # fmt: skip
    np.testing.assert_array_equal(refined.areas, lpc_core[0])


def test_formant_is_a_deprecated_name_of_default():
    areas = INDEPENDENT_SHAPES["i-like"]
    x = tube_vowel(areas, 17.0 / areas.size, 16000, f0=110.0, duration=0.2, seed=3)
    frame = np.ascontiguousarray(x[1600:2165])
    with pytest.warns(DeprecationWarning, match="now called 'default'"):
        old = estimate_tract(frame, 16000, method="formant")
    assert old.method == "default"
    np.testing.assert_array_equal(old.areas, estimate_tract(frame, 16000).areas)
    with pytest.warns(DeprecationWarning):
        batch = estimate_tracts(frame[None, :], 16000, method="formant")
    np.testing.assert_array_equal(batch[0].areas, old.areas)


@pytest.mark.parametrize("method", ["default", "lpc-refined"])
@pytest.mark.parametrize("sr", [8000, 11025, 22050, 44100, 48000])
def test_sample_rates_are_handled(vowel16, sr, method):
    ref = estimate_tract(frame_at(vowel16, 16000), 16000, method=method)
    est = estimate_tract(frame_at(vowel16, sr), sr, method=method)
    assert est.params["input_rate"] == sr
    assert est.params["analysis_rate"] == min(sr, 16000)
    # the model is scaled with the analysis rate: N = 2 L fs / c
    expected_n = round(2 * est.length_cm * est.params["analysis_rate"] / SPEED_OF_SOUND_CM_S)
    assert est.n_sections == expected_n
    r = log_area_correlation(
        est.areas, est.section_length_cm, ref.areas, np.full(ref.n_sections, ref.section_length_cm)
    )
    assert r > (0.6 if sr < 16000 else 0.9)
    if sr >= 16000:
        np.testing.assert_allclose(est.formants_hz[:3], ref.formants_hz[:3], rtol=0.05)


def test_given_length_and_sections(vowel16):
    est = estimate_tract(
        frame_at(vowel16, 16000), 16000, method="lpc", length_cm=15.0, n_sections=12
    )
    assert est.length_cm == 15.0 and est.n_sections == 12
    assert est.section_length_cm == pytest.approx(1.25)
    assert est.params["length_source"] == "given"


def test_deterministic(vowel16):
    f = frame_at(vowel16, 16000)
    for m in METHODS:
        a, b = estimate_tract(f, 16000, method=m), estimate_tract(f.copy(), 16000, method=m)
        np.testing.assert_array_equal(a.areas, b.areas)


@pytest.mark.parametrize(
    ("frame", "sr", "kwargs", "match"),
    [
        (np.full(565, np.nan), 16000, {}, "NaN or infinite"),
        (np.zeros(565), 16000, {}, "silent"),
        (np.full(565, 0.3), 16000, {}, "silent"),
        (np.linspace(-0.2, 0.3, 565), 16000, {}, "straight line"),
        (np.ones(50), 16000, {}, "at least 160"),
        (np.ones((2, 565)), 16000, {}, "1-D"),
        (np.random.default_rng(0).standard_normal(565), 7999, {}, "8000 to 48000"),
        (np.random.default_rng(0).standard_normal(565), 96000, {}, "8000 to 48000"),
        (np.random.default_rng(0).standard_normal(565), 16000.5, {}, "integer"),
        (np.random.default_rng(0).standard_normal(565), 16000, {"method": "x"}, "expected one of"),
        (np.random.default_rng(0).standard_normal(565), 16000, {"n_sections": 1}, "n_sections"),
        (np.random.default_rng(0).standard_normal(565), 16000, {"length_cm": 50.0}, "length_cm"),
        (
            np.random.default_rng(0).standard_normal(565),
            16000,
            {"method": "lpc", "solver": "fast"},
            "solver",
        ),
        (np.random.default_rng(0).standard_normal(565), float("inf"), {}, "finite number"),
        (
            np.random.default_rng(0).standard_normal(565),
            16000,
            {"n_sections": np.nan},
            "n_sections",
        ),
        (
            np.random.default_rng(0).standard_normal(565),
            16000,
            {"n_sections": np.inf},
            "n_sections",
        ),
        (np.random.default_rng(0).standard_normal(565), 16000, {"n_sections": [10]}, "n_sections"),
        (np.random.default_rng(0).standard_normal(565), 16000, {"n_sections": True}, "n_sections"),
        (np.random.default_rng(0).standard_normal(565), 16000, {"length_cm": "17"}, "length_cm"),
        (np.random.default_rng(0).standard_normal(565), 16000, {"length_cm": True}, "length_cm"),
        (
            np.random.default_rng(0).standard_normal(565),
            16000,
            {"method": "paper", "length_cm": 12.0},
            "fixed length",
        ),
        # squared samples overflow from about 1e154: refused, not a silently wrong tract
        (1e160 * np.random.default_rng(0).standard_normal(565), 16000, {}, "scale the audio down"),
    ],
)
def test_bad_input_raises_estimation_error(frame, sr, kwargs, match):
    with pytest.raises(EstimationError, match=match):
        estimate_tract(frame, sr, **kwargs)


@pytest.mark.parametrize("method", ["default", "lpc", "lpc-refined"])
def test_batch_equals_single(vowel16, method):
    y = resample(vowel16, 48000, 16000)
    frames = np.stack([y[1600 + 100 * i : 2165 + 100 * i] for i in range(4)])
    batch = estimate_tracts(frames, 16000, method=method)
    assert len(batch) == 4
    for f, b in zip(frames, batch):
        single = estimate_tract(f, 16000, method=method)
        np.testing.assert_array_equal(b.areas, single.areas)
        np.testing.assert_array_equal(b.reflection, single.reflection)
        np.testing.assert_array_equal(b.formants_hz, single.formants_hz)
        np.testing.assert_array_equal(b.bandwidths_hz, single.bandwidths_hz)
        assert b.length_cm == single.length_cm and b.params == single.params
    ragged = estimate_tracts([frames[0], frames[1][:400]], 16000, method=method)
    np.testing.assert_array_equal(
        ragged[1].areas, estimate_tract(frames[1][:400], 16000, method=method).areas
    )
    listed = estimate_tracts(list(frames), 16000, method=method)
    np.testing.assert_array_equal(listed[2].areas, batch[2].areas)


def test_paper_batch_of_windows_of_several_lengths_equals_single(vowel16):
    """Each window is fitted unpadded, as estimate_tract fits it (a zero-padded window
    gets other LPC starting points and, before the fix, another minimum: up to 12 cm^2
    apart on this pair)."""
    y = resample(vowel16, 48000, 16000)
    frames = [y[1600:2080], y[1700:2100], y[1800:2280]]
    batch = estimate_tracts(frames, 16000, method="paper")
    for f, b in zip(frames, batch):
        single = estimate_tract(f, 16000, method="paper")
        np.testing.assert_array_equal(b.areas, single.areas)
        assert b.fit_error_db == single.fit_error_db


@pytest.mark.parametrize("method", ["default", "lpc", "lpc-refined"])
def test_an_offset_and_a_drift_do_not_change_the_estimate(vowel16, method):
    """A DC offset as large as the frame's RMS and a slope across it: the same tract."""
    f = frame_at(vowel16, 16000)
    shifted = f + np.sqrt(np.mean(f**2)) * (1.0 + np.linspace(-0.5, 0.5, f.size))
    a, b = estimate_tract(f, 16000, method=method), estimate_tract(shifted, 16000, method=method)
    np.testing.assert_allclose(b.areas, a.areas, rtol=1e-6)
    np.testing.assert_allclose(b.formants_hz, a.formants_hz, rtol=1e-6)
    batch = estimate_tracts(np.stack([f, shifted]), 16000, method=method)
    np.testing.assert_allclose(batch[1].areas, batch[0].areas, rtol=1e-6)


def test_the_paper_method_keeps_the_offset_as_published(vowel16):
    f = frame_at(vowel16, 16000)
    shifted = f + 0.5 * np.max(np.abs(f))
    a, b = estimate_tract(f, 16000, method="paper"), estimate_tract(shifted, 16000, method="paper")
    assert not np.allclose(a.areas, b.areas, rtol=1e-3)


def test_batch_names_the_bad_window(vowel16):
    y = resample(vowel16, 48000, 16000)
    frames = np.stack([y[1600:2165], np.zeros(565)])
    with pytest.raises(EstimationError, match="window 1: frame is silent"):
        estimate_tracts(frames, 16000)
    with pytest.raises(EstimationError, match="2-D"):
        estimate_tracts(np.zeros(565), 16000)


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"non-standard JSON constant {name}")


def test_cli_estimate(tmp_path, vowel16):
    path = tmp_path / "a.wav"
    sf.write(path, 0.5 * vowel16 / np.abs(vowel16).max(), 48000)
    runner = CliRunner()
    res = runner.invoke(cli, ["estimate", str(path), "--start", "0.1", "--end", "0.135", "--json"])
    assert res.exit_code == 0, res.output
    # strict JSON: the fit error of a method without a spectral fit is null, not NaN
    record = json.loads(res.output, parse_constant=_refuse_constant)
    assert record["fit_error_db"] is None
    assert record["method"] == "default" and len(record["areas_cm2"]) == len(record["reflection"])
    assert record["params"]["input_rate"] == 48000
    res = runner.invoke(
        cli, ["estimate", str(path), "--start", "0.1", "--end", "0.135", "--method", "paper"]
    )
    assert res.exit_code == 0 and "method=paper" in res.output
    args = ["estimate", str(path), "--start", "0.1", "--end", "0.135", "--json"]
    old_name = runner.invoke(cli, [*args, "--method", "formant"])
    assert old_name.exit_code == 0 and "now called default" in old_name.stderr
    assert json.loads(old_name.stdout)["areas_cm2"] == record["areas_cm2"]
    res = runner.invoke(cli, ["estimate", str(path), "--start", "0.2", "--end", "0.9"])
    assert res.exit_code == 1 and "past the end" in res.output
    res = runner.invoke(cli, ["estimate", str(path), "--start", "0", "--end", "inf"])
    assert res.exit_code == 1 and "expected finite times" in res.output
    # the estimate comes with its anatomical findings: a 5.5 cm tract is no human's
    assert record["flags"] == []
    res = runner.invoke(cli, [*args, "--length", "5.5", "--method", "lpc"])
    flags = json.loads(res.stdout)["flags"]
    (length,) = [f for f in flags if f["code"] == "tract_length_out_of_range"]
    assert length["measured"] == pytest.approx(5.5) and length["expected_min"] == 6.0
    res = runner.invoke(cli, [*args[:-1], "--length", "5.5", "--method", "lpc"])
    assert "critical tract_length_out_of_range: median vocal tract length 5.5 cm" in res.stdout


def test_cli_estimate_reports_the_evidence_it_read(tmp_path, vowel16):
    """What loading noted is printed with the estimate; a channel can be picked; a rate
    above the estimators' 48 kHz is resampled (they were refused before session 26)."""
    y = 0.5 * vowel16 / np.abs(vowel16).max()
    runner = CliRunner()
    args = ["--start", "0.1", "--end", "0.135", "--json"]
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.stack([y, np.zeros_like(y)], axis=1), 48000)
    mixed = json.loads(runner.invoke(cli, ["estimate", str(stereo), *args]).stdout)
    assert any("2 channels averaged" in w for w in mixed["evidence_warnings"])
    picked = runner.invoke(cli, ["estimate", str(stereo), *args, "--channel", "0"])
    alone = json.loads(picked.stdout)
    assert alone["evidence_warnings"] == []
    mono = tmp_path / "mono.wav"
    sf.write(mono, y, 48000)
    assert (
        alone["areas_cm2"]
        == json.loads(runner.invoke(cli, ["estimate", str(mono), *args]).stdout)["areas_cm2"]
    )
    text = runner.invoke(cli, ["estimate", str(stereo), "--start", "0.1", "--end", "0.135"])
    assert "evidence: 2 channels averaged to one" in text.stdout
    high = tmp_path / "high.wav"
    sf.write(high, resample(y, 48000, 96000), 96000)
    res = runner.invoke(cli, ["estimate", str(high), *args])
    assert res.exit_code == 0, res.output
    record = json.loads(res.stdout)
    assert record["params"]["input_rate"] == 48000
    assert any("96000" in w for w in record["evidence_warnings"])
    low = tmp_path / "low.wav"
    sf.write(low, resample(y, 48000, 6000), 6000)
    res = runner.invoke(cli, ["estimate", str(low), *args])
    assert res.exit_code == 1 and "8000 Hz or more" in res.output
