"""End-to-end analysis: evidence + alignment + reference -> a valid Report."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import vtract
from _shared import SHARED_DATA, needs_shared, non_utf8_copy
from vtract.analysis import analyze
from vtract.errors import ReferenceError_, VtractError
from vtract.provenance import path_text

pytestmark = needs_shared

ARCTIC = SHARED_DATA / "organic" / "arctic"
N_SECTIONS = 12


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A small organic reference from two aligned recordings other than the test file."""
    from vtract.features import extract_features
    from vtract.reference import Reference

    feats = []
    for wav, tg in [
        ("organic/mfa/acoustic_corpus.wav", "organic/mfa/acoustic_corpus.TextGrid"),
        ("organic/praatio/mary.wav", "organic/praatio/mary.TextGrid"),
    ]:
        ev = vtract.load(SHARED_DATA / wav)
        aln = vtract.read_alignment(SHARED_DATA / tg)
        feats.append(extract_features(ev, aln, label="organic", n_sections=N_SECTIONS))
    ref = Reference.fit(
        pd.concat(feats, ignore_index=True),
        name="test-small",
        settings={"extract_features": {"n_sections": N_SECTIONS}},
        min_count=5,
    )
    path = tmp_path_factory.mktemp("ref") / "small.vtref"
    ref.save(path)
    return ref, path


def test_a_badly_fitting_transcript_is_reported_as_such(reference):
    """A wrong transcript is force-aligned but flagged: the report says the transcript fits
    badly, not that none was given, and applies the low-confidence verdict rules."""
    ref, _ = reference
    wav = ARCTIC / "arctic_a0009.wav"
    rep = analyze(
        wav, transcript="she had your dark suit in greasy wash water all year", reference=ref
    )
    assert rep.alignment["source"] == "pocketsphinx-align" and rep.alignment["low_confidence"]
    assert any("force-aligned but fits the audio badly" in w for w in rep.warnings)
    assert any("may not match the audio" in w for w in rep.warnings)
    assert not any("no transcript" in w for w in rep.warnings)


def test_a_transcript_that_fails_on_a_truncated_file_says_the_file_is_truncated(tmp_path):
    """The whole recording's transcript cannot fit a file cut to 70 %: the alignment error
    carries the container finding that explains it."""
    import soundfile as sf

    from hardening.corpus import truncate
    from vtract.errors import AlignmentError

    x, sr = sf.read(ARCTIC / "arctic_a0009.wav")
    path = tmp_path / "a0009.mp3"
    sf.write(path, x, sr, format="MP3")
    truncate(path, 0.7)
    with pytest.raises(
        AlignmentError,
        match=r"no alignment of the transcript .*; less audio decodes than the file's header "
        r"declares, so the transcript may cover speech that is not in the part analysed; "
        r"container: truncated: the header declares 3\.095 s of audio",
    ):
        analyze(path, transcript="He turned sharply, and faced Gregson across the table.")


def test_telephone_band_evidence_gets_no_verdict(tmp_path):
    """Below MIN_CALIBRATED_RATE_HZ the detector's statistic no longer separates
    (benchmarks/bench_band_limited.py): the same speech at 8 kHz is inconclusive, with why."""
    import soundfile as sf
    from scipy.signal import resample_poly

    from vtract.analysis import MIN_CALIBRATED_RATE_HZ

    wav, lab = ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab"
    full = analyze(wav, alignment=lab)
    assert full.verdict in ("organic", "synthetic")  # a verdict at the file's own rate
    x, sr = sf.read(wav)
    assert sr >= MIN_CALIBRATED_RATE_HZ
    narrow = tmp_path / "a0009_8k.wav"
    sf.write(narrow, resample_poly(x, 8000, sr), 8000, subtype="PCM_16")
    rep = analyze(narrow, alignment=lab)
    assert rep.verdict == "inconclusive" and rep.score is None
    assert "sampled at 8000 Hz" in rep.reason and "nothing above 4000 Hz" in rep.reason
    assert rep.n_bigrams > 0 and rep.bigrams  # the per-bigram evidence is still shown
    # decoded to 8 kHz by the caller: the same
    decoded = analyze(vtract.load(wav, sr=8000), alignment=lab)
    assert decoded.verdict == "inconclusive" and "sampled at 8000 Hz" in decoded.reason


def test_telephone_band_evidence_stored_at_a_full_band_rate_gets_no_verdict(tmp_path):
    """The 8 kHz copy converted back to 16 kHz: the rate says full band, the spectrum not
    (vtract.bandwidth; the corpus's recordings lie at -45 dB or above)."""
    import soundfile as sf
    from scipy.signal import resample_poly

    from vtract.bandwidth import MIN_HIGH_BAND_DB

    wav, lab = ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab"
    full = analyze(wav, alignment=lab)
    assert full.provenance["parameters"]["high_band_level_db"] > MIN_HIGH_BAND_DB + 10
    x, sr = sf.read(wav)
    stored = tmp_path / "a0009_8k_at_16k.wav"
    sf.write(stored, resample_poly(resample_poly(x, 8000, sr), 16000, 8000), 16000, "PCM_16")
    rep = analyze(stored, alignment=lab)
    assert rep.provenance["parameters"]["high_band_level_db"] < MIN_HIGH_BAND_DB
    assert rep.verdict == "inconclusive" and rep.score is None
    assert "band-limited although sampled at 16000 Hz" in rep.reason
    assert rep.n_bigrams > 0 and rep.bigrams


def _clean_and_degraded(tmp_path, name, degrade):
    """arctic_a0009 analysed as recorded and as ``degrade(x, sr)`` (16-bit WAV, same labels):
    the first gets a verdict, the second none, with its per-bigram evidence still shown.
    Returns the provenance parameters of both and the degraded copy's report."""
    import soundfile as sf

    wav, lab = ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab"
    full = analyze(wav, alignment=lab)
    assert full.verdict in ("organic", "synthetic")
    x, sr = sf.read(wav)
    assert sr == 16000
    path = tmp_path / f"{name}.wav"
    sf.write(path, degrade(x, sr), sr, "PCM_16")
    rep = analyze(path, alignment=lab)
    assert rep.verdict == "inconclusive" and rep.score is None
    assert rep.n_bigrams > 0 and rep.bigrams
    return full.provenance["parameters"], rep.provenance["parameters"], rep


def test_audio_low_passed_at_5_5_khz_stored_at_16_khz_gets_no_verdict(tmp_path):
    """An 11.025 kHz recording converted to 16 kHz keeps its 6-7 kHz band above the
    telephone threshold (the resampler's stopband), but its spectrum falls off an edge."""
    from scipy.signal import resample_poly

    from vtract.bandwidth import MIN_EDGE_DROP_DB, MIN_HIGH_BAND_DB

    clean, params, rep = _clean_and_degraded(
        tmp_path,
        "a0009_11k_at_16k",
        lambda x, sr: resample_poly(resample_poly(x, 441, 640), 640, 441),
    )
    assert clean["spectral_edge_drop_db"] < MIN_EDGE_DROP_DB - 5
    assert params["high_band_level_db"] > MIN_HIGH_BAND_DB  # the telephone rule misses it
    assert params["spectral_edge_drop_db"] >= MIN_EDGE_DROP_DB
    assert 5000 <= params["spectral_edge_hz"] <= 6300
    assert "band-limited although sampled at 16000 Hz" in rep.reason and "kHz" in rep.reason


def test_clipped_telephone_band_evidence_stored_at_a_full_band_rate_gets_no_verdict(tmp_path):
    """Session-28 probe F1: 0.1 % of the samples of the telephone-band copy clipped (the peak
    then at 0.9, so no clipping warning): the clipping refills the long-term high band, which
    passed it as full-band; the quieter frames' spectrum keeps the band limit."""
    from scipy.signal import resample_poly

    from vtract.bandwidth import MIN_EDGE_DROP_DB, MIN_HIGH_BAND_DB, MIN_QUIET_HIGH_BAND_DB

    def clipped_phone(x, sr):
        phone = resample_poly(resample_poly(x, 8000, sr), sr, 8000)
        level = np.quantile(np.abs(phone), 0.999)
        return np.clip(phone, -level, level) / level * 0.9

    _, params, rep = _clean_and_degraded(tmp_path, "a0009_8k_clipped", clipped_phone)
    assert params["high_band_level_db"] > MIN_HIGH_BAND_DB  # the long-term rule misses it
    assert params["spectral_edge_drop_db"] < MIN_EDGE_DROP_DB
    assert params["quiet_high_band_level_db"] < MIN_QUIET_HIGH_BAND_DB
    assert "band-limited although sampled at 16000 Hz" in rep.reason
    assert "quieter frames" in rep.reason


def test_an_offset_and_a_slow_drift_do_not_move_the_score(tmp_path):
    """An inaudible DC offset (5 % of the RMS) and a 0.5 Hz drift: the windows lose their
    straight line before estimation, so the statistic stays where the clean file has it
    (before the estimators removed it, such an offset lowered synthetic statistics by 0.3-2)."""
    import soundfile as sf

    wav, lab = ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab"
    clean = analyze(wav, alignment=lab)
    x, sr = sf.read(wav)
    rms = float(np.sqrt(np.mean(x**2)))
    drift = 0.05 * rms + 0.05 * rms * np.sin(2 * np.pi * 0.5 * np.arange(x.size) / sr)
    path = tmp_path / "a0009_offset.wav"
    sf.write(path, x + drift, sr, "DOUBLE")
    shifted = analyze(path, alignment=lab)
    assert shifted.verdict == clean.verdict and clean.score is not None
    assert shifted.score == pytest.approx(clean.score, abs=1e-3)


def test_noisy_evidence_gets_no_verdict(tmp_path):
    """White noise at 10 dB SNR: full band, no edge, but the quiet frames are filled."""
    from vtract.noise_floor import MIN_SPEECH_TO_FLOOR_DB

    def noisy(x, sr):
        noise = np.random.default_rng(12).standard_normal(x.size)
        return 0.5 * (x + noise * np.sqrt(np.mean(x**2) / 10.0))

    clean, params, rep = _clean_and_degraded(tmp_path, "a0009_noisy", noisy)
    assert clean["speech_to_floor_db"] >= MIN_SPEECH_TO_FLOOR_DB
    assert params["speech_to_floor_db"] < MIN_SPEECH_TO_FLOOR_DB
    assert params["spectral_edge_drop_db"] < 25 and params["high_band_level_db"] > -55
    assert "above its quiet ones" in rep.reason and "noise" in rep.reason


def test_reverberant_evidence_gets_no_verdict(tmp_path):
    """A simulated room (RT60 0.7 s): no band limit, little noise, but no steep offsets."""
    from _rooms import in_room
    from vtract.noise_floor import MIN_SPEECH_TO_FLOOR_DB
    from vtract.reverberation import MIN_STEEPEST_DECAY_DB

    def room(x, sr):
        y = in_room(x, sr, 0.7, np.random.default_rng(14))
        return 0.5 * y / np.max(np.abs(y))

    clean, params, rep = _clean_and_degraded(tmp_path, "a0009_room", room)
    assert clean["steepest_decay_db"] >= MIN_STEEPEST_DECAY_DB
    assert params["steepest_decay_db"] < MIN_STEEPEST_DECAY_DB
    assert params["speech_to_floor_db"] >= MIN_SPEECH_TO_FLOOR_DB  # not taken for noise
    assert "within 30 ms" in rep.reason and "reverberant room" in rep.reason


def test_evidence_too_short_to_measure_its_noise_and_room_gets_no_verdict(tmp_path):
    """Under about 1 s the noise floor and the level decay cannot be measured; noise or a
    room is then not ruled out, and the detector's verdict must not stand (it did until
    session 26: 0.97 s of speech in white noise at 10 dB SNR came out organic)."""
    import soundfile as sf

    from vtract.alignment.model import Alignment
    from vtract.detect.default import MIN_BIGRAMS

    wav, lab = ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab"
    x, sr = sf.read(wav)
    phones = vtract.read_alignment(lab).phones
    t0, t1 = float(phones["start"].iloc[1]), float(phones["start"].iloc[1]) + 0.97
    inside = phones[(phones["start"] >= t0) & (phones["end"] <= t1)]
    short = Alignment.from_intervals(
        [(r.start - t0, r.end - t0, r.label) for r in inside.itertuples()], [], source="test"
    )
    clip = x[int(t0 * sr) : int(t1 * sr)]
    noise = np.random.default_rng(5).standard_normal(clip.size) * np.sqrt(np.mean(clip**2) / 10)
    for name, signal in (("clean", clip), ("noisy", clip + noise)):
        path = tmp_path / f"{name}.wav"
        sf.write(path, 0.5 * signal / np.max(np.abs(signal)), sr, "PCM_16")
        rep = analyze(path, alignment=short)
        params = rep.provenance["parameters"]
        assert rep.n_bigrams >= MIN_BIGRAMS
        assert params["speech_to_floor_db"] is None and params["steepest_decay_db"] is None
        assert rep.verdict == "inconclusive" and rep.score is None, name
        assert "noise floor of the evidence could not be measured" in rep.reason
        assert "at least 1 s of audio" in rep.reason


def test_noisy_evidence_with_its_pauses_gated_to_silence_gets_no_verdict(tmp_path):
    """White noise at 20 dB SNR, then a noise gate that zeroes every 10 ms stretch 20 dB
    below the loudest: 41 % of the samples are zeros, most of them in the pauses. The
    zeros are left out of the noise floor, which stays as noisy as without the gate (until
    session 28 they set it to its 120 dB cap and the evidence got a verdict: the probe's
    F2), and the report says that the pauses were gated."""
    from vtract.noise_floor import MIN_SPEECH_TO_FLOOR_DB

    def noisy_and_gated(x, sr):
        noise = np.random.default_rng(12).standard_normal(x.size)
        y = 0.5 * (x + noise * np.sqrt(np.mean(x**2) / 100.0))
        w = int(0.01 * sr)
        envelope = np.sqrt(np.convolve(y**2, np.ones(w) / w, "same"))
        return np.where(envelope < envelope.max() * 0.1, 0.0, y)

    _, params, rep = _clean_and_degraded(tmp_path, "a0009_gated", noisy_and_gated)
    assert params["speech_to_floor_db"] < MIN_SPEECH_TO_FLOOR_DB
    assert 0.3 < params["digital_silence_between_sounds_share"] < params["digital_silence_share"]
    assert "above its quiet ones" in rep.reason and "noise" in rep.reason
    gated = [w for w in rep.warnings if "digital silence" in w]
    assert len(gated) == 1 and "between the first and last sound" in gated[0]
    assert f"{100 * params['digital_silence_between_sounds_share']:.0f} %" in gated[0]


def test_noisy_evidence_with_its_pauses_gated_to_dither_gets_no_verdict(tmp_path):
    """White noise at 20 dB SNR, then a noise gate that closes where the 10 ms RMS lies
    less than 6 dB above the noise's, and 16-bit TPDF dither: the pauses hold dither, not
    zeros, so the pauses' floor passes the noise check (until session 29 the copy came out
    organic: docs/LIMITS.md); the noise under the speech fills the valleys of its spectrum
    and fails it."""

    def noisy_and_gated(x, sr):
        rng = np.random.default_rng(12)
        noise = rng.standard_normal(x.size) * np.sqrt(np.mean(x**2) / 100.0)
        y = x + noise
        w = int(0.01 * sr)
        envelope = np.sqrt(np.convolve(y**2, np.ones(w) / w, "same"))
        y = 0.9 * np.where(envelope >= 2.0 * noise.std(), y, 0.0) / np.max(np.abs(y))
        return np.round(y * 32767 + rng.random(y.size) - rng.random(y.size)) / 32767

    clean, params, rep = _clean_and_degraded(tmp_path, "a0009_dithered", noisy_and_gated)
    from vtract.noise_floor import MIN_SPEECH_TO_FLOOR_DB, MIN_SPEECH_TO_VALLEY_FLOOR_DB

    assert clean["speech_to_valley_floor_db"] >= MIN_SPEECH_TO_VALLEY_FLOOR_DB + 10
    assert params["speech_to_floor_db"] >= MIN_SPEECH_TO_FLOOR_DB + 20  # the dither's floor
    assert params["speech_to_valley_floor_db"] < MIN_SPEECH_TO_VALLEY_FLOOR_DB - 5
    assert params["digital_silence_between_sounds_share"] < 0.05  # no warning on zeros
    assert "speech_to_valley_floor_db" in rep.reason
    assert f"rise only {params['speech_to_valley_floor_db']:.1f} dB above the floor" in rep.reason
    assert "38.5 dB or more" in rep.reason and "noise gate" in rep.reason


def test_a_reference_measured_by_other_estimator_code_gives_no_verdict():
    """The reference records the estimator fingerprint that measured it; compared with
    areas from other tract-estimator code its statistics mean nothing, so no verdict."""
    from vtract.reference import Reference, default_reference_path, estimator_fingerprint

    wav, lab = ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab"
    running = estimator_fingerprint()
    same = analyze(wav, alignment=lab)
    assert same.verdict in ("organic", "synthetic")
    assert same.provenance["parameters"]["estimator_code_sha256"] == running
    assert same.reference["estimator_code_sha256"] == running
    assert not any("estimator code" in w for w in same.warnings)

    shipped = Reference.from_bytes(default_reference_path().read_bytes())

    def edited(edit) -> Reference:
        """A reference with edited metadata (a Reference's own cannot change, session 27)."""
        meta = copy.deepcopy(shipped.meta)
        edit(meta["estimator"])
        return Reference(shipped.stats, meta)

    other = edited(lambda estimator: estimator.update(code_sha256="0" * 64))
    rep = analyze(wav, alignment=lab, reference=other)
    assert rep.verdict == "inconclusive" and rep.score is None
    assert "other tract-estimator code" in rep.reason and "000000000000..." in rep.reason
    assert running[:12] in rep.reason and rep.reason in rep.warnings
    assert rep.bigrams == same.bigrams  # measured all the same, and shown

    unrecorded = edited(lambda estimator: estimator.pop("code_sha256"))
    rep = analyze(wav, alignment=lab, reference=unrecorded)
    assert rep.verdict == same.verdict and rep.score == same.score
    assert rep.reference["estimator_code_sha256"] is None
    assert any("does not record the estimator code" in w for w in rep.warnings)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_arctic_a0009_with_hts_labels_gives_valid_report(reference):
    from vtract.report import validate_report_dict

    ref, _ = reference
    wav = ARCTIC / "arctic_a0009.wav"
    rep = analyze(wav, alignment=ARCTIC / "arctic_a0009_phone.lab", reference=ref)
    d = rep.to_dict()
    validate_report_dict(d)
    assert rep.verdict in ("organic", "synthetic", "inconclusive")
    assert rep.sha256 == _sha256(wav)
    assert d["provenance"]["inputs"]["evidence"] == _sha256(wav)
    assert d["provenance"]["inputs"]["reference"] == ref.sha256 == d["reference"]["sha256"]
    assert d["provenance"]["inputs"]["alignment"] == _sha256(ARCTIC / "arctic_a0009_phone.lab")
    assert d["alignment"]["source"] == "hts" and not d["alignment"]["low_confidence"]
    # HTS labels have no words: bigrams are taken across words, and the report says so
    assert any("cross_word=True" in w for w in rep.warnings)
    assert d["provenance"]["parameters"]["features"]["n_sections"] == N_SECTIONS
    # every bigram comes from the alignment's adjacent phones and has a positive area function
    phones = rep.alignment["phones"]
    pairs = {f"{a['label']}-{b['label']}" for a, b in itertools.pairwise(phones)}
    assert rep.n_bigrams >= 20
    assert {b.bigram for b in rep.bigrams} <= pairs
    assert all(len(b.areas_cm2) >= 2 and min(b.areas_cm2) > 0 for b in rep.bigrams)
    assert all(b.start < b.boundary < b.end for b in rep.bigrams)
    if rep.verdict != "inconclusive":
        assert 0.0 <= rep.score <= 1.0
        assert (rep.score >= 0.5) == (rep.verdict == "synthetic")
    # deterministic apart from the timestamp
    again = analyze(wav, alignment=ARCTIC / "arctic_a0009_phone.lab", reference=ref)
    assert again.score == rep.score and again.bigrams == rep.bigrams


def test_a_csv_of_several_utterances_is_read_for_the_evidence_it_names(reference, tmp_path):
    ref, _ = reference
    wav = ARCTIC / "arctic_a0009.wav"
    phones = vtract.read_alignment(ARCTIC / "arctic_a0009_phone.lab").phones
    rows = ["filename,start,end,phone"]
    for name in ("arctic_a0001.wav", "arctic_a0009.wav"):  # another utterance first
        shift = 0.05 if name == "arctic_a0001.wav" else 0.0
        rows += [
            f"{name},{r.start + shift:.5f},{r.end + shift:.5f},{r.label}"
            for r in phones.itertuples()
        ]
    table = tmp_path / "corpus.csv"
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rep = analyze(wav, alignment=table, reference=ref)
    direct = analyze(wav, alignment=ARCTIC / "arctic_a0009_phone.lab", reference=ref)
    assert rep.alignment["meta"]["utterance"] == "arctic_a0009.wav"
    assert [b.boundary for b in rep.bigrams] == pytest.approx(
        [b.boundary for b in direct.bigrams], abs=1e-4
    )
    with pytest.raises(vtract.errors.AlignmentError, match="no utterance for recording"):
        analyze(ARCTIC / "arctic_a0007.wav", alignment=table, reference=ref)


def test_paper_detector_end_to_end(reference):
    from vtract.report import validate_report_dict

    ref, _ = reference
    rep = analyze(
        ARCTIC / "arctic_a0009.wav",
        alignment=ARCTIC / "arctic_a0009_phone.lab",
        reference=ref,
        detector="paper",
    )
    validate_report_dict(rep.to_dict())
    assert rep.detector == "paper"
    # no labelled fakes in the reference: the organic-range rule applies
    assert "sentence_threshold" in rep.thresholds
    assert rep.verdict in ("organic", "synthetic")
    outside = np.mean([b.deviation for b in rep.bigrams if b.reference_level == "bigram"] or [0])
    assert 0.0 <= outside <= 1.0


def test_short_recording_is_inconclusive_with_reason(reference):
    from vtract.alignment.model import Alignment

    ref, _ = reference
    ev = vtract.load(ARCTIC / "arctic_a0009.wav")
    full = vtract.read_alignment(ARCTIC / "arctic_a0009_phone.lab")
    # keep only the first three speech phones: at most two bigrams
    speech = full.phones[~full.phones["label"].isin(["sil", "spn"])].head(3)
    aln = Alignment.from_intervals(
        list(zip(speech["start"], speech["end"], speech["label"])),
        [(float(speech["start"].min()), float(speech["end"].max()), "word")],
        source="test",
    )
    rep = analyze(ev, alignment=aln, reference=ref)
    assert rep.verdict == "inconclusive" and rep.score is None
    assert "at least" in rep.reason
    assert rep.to_dict()["score"] is None


def test_bad_arguments_raise_vtract_errors(reference):
    ref, _ = reference
    wav = ARCTIC / "arctic_a0009.wav"
    lab = ARCTIC / "arctic_a0009_phone.lab"
    with pytest.raises(VtractError, match="not both"):
        analyze(wav, transcript="author of the", alignment=lab, reference=ref)
    with pytest.raises(VtractError, match="unknown detector"):
        analyze(wav, alignment=lab, reference=ref, detector="magic")
    with pytest.raises(ReferenceError_, match="not comparable"):
        analyze(wav, alignment=lab, reference=ref, method="lpc")
    with pytest.raises(VtractError):
        analyze(123, alignment=lab, reference=ref)  # type: ignore[arg-type]


def test_cli_analyze_json_lines_and_errors(reference, tmp_path):
    from vtract.cli import cli

    _, ref_path = reference
    bad = tmp_path / "not_audio.wav"
    bad.write_bytes(b"this is not audio" * 10)
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "analyze",
            str(ARCTIC / "arctic_a0009.wav"),
            str(bad),
            "--textgrid",
            str(ARCTIC / "arctic_a0009_phone.lab"),
            "--textgrid",
            str(ARCTIC / "arctic_a0009_phone.lab"),
            "--reference",
            str(ref_path),
        ],
    )
    assert res.exit_code == 1
    lines = [json.loads(x) for x in res.stdout.strip().splitlines()]
    assert len(lines) == 2
    ok, err = lines
    for key in ("file", "sha256", "score", "verdict", "flags", "n_bigrams", "provenance"):
        assert key in ok
    assert ok["verdict"] in ("organic", "synthetic", "inconclusive")
    assert err["file"] == str(bad.resolve()) and err["error"]["type"] == "UnsupportedFormatError"
    assert "not_audio.wav" in res.stderr and res.stderr.count("\n") == 1

    usage = runner.invoke(cli, ["analyze", "a.wav", "b.wav", "--transcript", "x"])
    assert usage.exit_code == 2


@pytest.mark.slow
def test_cli_calibrate_stores_thresholds_used_by_analyze(reference, tmp_path):
    from vtract.analysis import reference_features
    from vtract.cli import cli
    from vtract.detect.calibration import Calibration
    from vtract.features import write_features
    from vtract.reference import Reference

    ref, ref_path = reference
    syn = SHARED_DATA / "synthetic" / "classic"
    tables = []
    for wav, aln, label in [
        (ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab", "organic"),
        (
            SHARED_DATA / "organic/mfa/cold_corpus3.wav",
            SHARED_DATA / "organic/mfa/cold_corpus3.TextGrid",
            "organic",
        ),
        (
            syn / "festival_slt_hts_arctic_a0001.wav",
            syn / "festival_slt_hts_arctic_a0001.segs",
            "synthetic",
        ),
    ]:
        feats, _, _ = reference_features(
            vtract.load(wav), vtract.read_alignment(aln), ref, label=label
        )
        tables.append(feats)
    table = tmp_path / "labelled.parquet"
    write_features(pd.concat(tables, ignore_index=True), table)
    out = tmp_path / "calibrated.vtref"
    res = CliRunner().invoke(
        cli,
        [
            "calibrate",
            str(table),
            "--reference",
            str(ref_path),
            "--out",
            str(out),
            "--fpr",
            "0.0",
            "--statistic",
            "deviation",  # the dynamics model needs >= 4 organic recordings
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["n_organic_files"] == 2 and summary["n_synthetic_files"] == 1
    assert summary["in_reference"] == 0
    cal = Reference.load(out).calibration
    assert set(cal) == {"default", "paper"}
    stored = Calibration.from_dict(cal["default"])
    # with target FPR 0 the threshold lies just above the larger organic statistic
    assert stored.metrics["at_threshold"]["fp"] == 0
    rep = analyze(
        ARCTIC / "arctic_a0009.wav", alignment=ARCTIC / "arctic_a0009_phone.lab", reference=out
    )
    assert rep.thresholds["threshold"] == pytest.approx(stored.threshold)
    assert not any("uncalibrated" in w for w in rep.warnings)
    assert rep.verdict == "organic"  # a calibration organic file is below its own threshold


def test_recognition_finding_no_speech_is_inconclusive(reference, monkeypatch):
    import vtract.alignment
    from vtract.errors import AlignmentError
    from vtract.report import validate_report_dict

    ref, _ = reference

    def no_words(ev, transcript=None, **kw):
        raise AlignmentError("word recognition found no words in the audio")

    monkeypatch.setattr(vtract.alignment, "align", no_words)
    rng = np.random.default_rng(0)
    ev = vtract.Evidence.from_array(rng.normal(0, 0.1, 16000).astype(np.float32), 16000)
    rep = analyze(ev, reference=ref)
    validate_report_dict(rep.to_dict())
    assert rep.verdict == "inconclusive" and rep.score is None
    assert "no usable speech" in rep.reason and rep.file is None
    assert rep.alignment["low_confidence"] is True
    # with a transcript the same failure is an input error, not a verdict
    with pytest.raises(AlignmentError):
        analyze(ev, transcript="hello world", reference=ref)


def test_zero_length_phones_make_no_bigrams_and_the_report_says_so(reference):
    """The probe's F3 (session 28): one real boundary, M|IY at 0.40 s of mary.wav, with five
    zero-length phones at it made six bigrams, all cut from the window at that boundary,
    and an organic verdict from "6 bigram occurrences". Now no pair with a zero-length
    phone is used, the report warns, and the reason names why no bigram was left."""
    from vtract.alignment.model import Alignment

    ref, _ = reference
    ev = vtract.load(SHARED_DATA / "organic/praatio/mary.wav")
    aln = Alignment.from_intervals(
        [
            (0.32, 0.40, "M"),
            *[(0.40, 0.40, lab) for lab in ("EH", "R", "AA", "L", "D")],
            (0.40, 0.55, "IY"),
        ],
        [(0.32, 0.55, "mary")],
        source="csv",
    )
    rep = analyze(ev, alignment=aln, reference=ref)
    assert rep.verdict == "inconclusive" and rep.n_bigrams == 0 and not rep.bigrams
    assert rep.reason == (
        "no usable bigram: all 6 consecutive phone pair(s) were left out: 6 with a phone "
        "that lasts no sample"
    )
    (warning,) = [w for w in rep.warnings if "phone pair(s)" in w]
    assert warning.startswith("6 phone pair(s) of the alignment were left out")


@pytest.mark.parametrize(
    ("phones", "reason"),
    [
        (
            [(0.3, 0.4, "XQ"), (0.4, 0.5, "ZZ")],
            "no usable bigram: none of its 2 phone label(s) was understood as an ARPAbet phone",
        ),
        ([(0.0, 1.8, "sil")], "no usable bigram: none of its 1 phone(s) is a speech phone"),
        (
            [(0.3, 0.4, "M"), (0.42, 0.5, "AA"), (0.5, 0.6, "sil")],
            "no usable bigram: all 2 consecutive phone pair(s) were left out: 1 with a phone "
            "that is silence or noise, 1 not adjacent (more than 5 ms apart)",
        ),
        (
            [(1.845, 1.86, "M"), (1.86, 1.95, "AA")],
            "no usable bigram: none of the alignment's 1 phone pair(s) has a window inside the "
            "audio",
        ),
    ],
)
def test_the_reason_for_no_usable_bigram_names_its_cause(reference, phones, reason):
    """The probe's F7: the reason said "no pair of adjacent non-silent phones long enough for
    one window" whatever the cause, and under the default (centred) windows length never
    removes a pair."""
    from vtract.alignment.model import Alignment

    ref, _ = reference
    ev = vtract.load(SHARED_DATA / "organic/praatio/mary.wav")
    assert 1.85 < ev.duration < 1.86 + 0.0177  # the last pair's boundary window runs past it
    aln = Alignment.from_intervals(phones, [(0.0, 2.0, "w")], source="test")
    rep = analyze(ev, alignment=aln, reference=ref)
    assert rep.verdict == "inconclusive" and rep.n_bigrams == 0
    assert rep.reason.startswith(reason)
    assert "long enough" not in rep.reason


def test_overlapping_phones_are_refused(reference):
    from vtract.alignment.model import Alignment
    from vtract.errors import AlignmentError

    ref, _ = reference
    full = vtract.read_alignment(ARCTIC / "arctic_a0009_phone.lab")
    ph = full.phones
    rows = list(zip(ph["start"], ph["end"], ph["label"]))
    a, b, lab = rows[5]
    rows[5] = (a - 0.03, b, lab)  # starts 30 ms before the previous phone ends
    with pytest.raises(AlignmentError, match="overlap"):
        Alignment.from_intervals(rows, source="test")
    # an Alignment assembled by hand bypasses from_intervals: analyze checks it too
    aln = full
    aln.phones.loc[5, "start"] = aln.phones.loc[4, "end"] - 0.03
    with pytest.raises(AlignmentError, match="overlap"):
        analyze(ARCTIC / "arctic_a0009.wav", alignment=aln, reference=ref)


def test_a_file_name_that_is_not_utf8_is_analysed_and_named_with_a_visible_escape(
    reference, tmp_path
):
    """A name with the byte 0xFF raised UnicodeEncodeError from the feature table
    (session 25 probe): the file is opened by its real name and named as ``\\xff``."""
    ref, ref_path = reference
    wav, lab = ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab"
    odd = non_utf8_copy(wav, tmp_path)
    shown = str(tmp_path / "bad\\xff_good.wav")
    assert path_text(odd) == shown
    rep = analyze(odd, alignment=lab, reference=ref)
    assert rep.file == rep.evidence["path"] == shown
    assert rep.sha256 == _sha256(wav) and rep.n_bigrams >= 20
    json.dumps(rep.to_dict(), ensure_ascii=False).encode("utf-8")  # valid text throughout
    assert json.loads(rep.to_json())["file"] == shown
    assert shown in rep.to_html()

    # several files with the odd one in the middle: all analysed, exit 0, one line each
    from vtract.cli import cli

    args = ["analyze", str(wav), str(odd), str(wav), *(["--textgrid", str(lab)] * 3)]
    res = CliRunner().invoke(cli, [*args, "--reference", str(ref_path)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.stderr
    lines = [json.loads(x) for x in res.stdout.strip().splitlines()]
    # a record names the file as its report and custody block do: the resolved path
    assert [x["file"] for x in lines] == [str(wav.resolve()), shown, str(wav.resolve())]
    assert all("error" not in x for x in lines)
    assert lines[1]["score"] == lines[0]["score"] and lines[1]["sha256"] == lines[0]["sha256"]


def test_the_speaker_changes_nothing_in_the_report():
    """Session 28: 'vtract batch' reuses the analysis of a row whose speaker alone was
    corrected, because vtract.analyze only writes the speaker into the feature table it
    measures and drops (no detector reads it from one recording's table). The reports with
    and without a speaker are the same apart from their creation time."""
    wav, lab = ARCTIC / "arctic_a0009.wav", ARCTIC / "arctic_a0009_phone.lab"
    reports = [analyze(wav, alignment=lab, speaker=s).to_dict() for s in ("", "s1", "awb")]
    for report in reports:
        report["provenance"].pop("created_utc")
        report["chain_of_custody"].pop("created_utc")
    assert len(reports[0]["bigrams"]) >= 20  # a real analysis, per-bigram evidence compared
    assert reports[0] == reports[1] == reports[2]
