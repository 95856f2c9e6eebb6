"""Forced alignment and recognition with pocketsphinx (one decoder per config, reused).

Kept few: each test reuses the module-level decoders of vtract.alignment.sphinx.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import vtract
from _shared import SHARED_DATA, needs_shared
from vtract.alignment import aligner_model_info, read_alignment
from vtract.errors import AlignmentError, VtractError

pytestmark = needs_shared

A0009 = SHARED_DATA / "organic" / "arctic" / "arctic_a0009.wav"
A0009_LAB = SHARED_DATA / "organic" / "arctic" / "arctic_a0009_phone.lab"
A0009_TEXT = "He turned sharply, and faced Gregson across the table."
A0009_WORDS = ["he", "turned", "sharply", "and", "faced", "gregson", "across", "the", "table"]


@pytest.fixture(scope="module")
def evidence():
    return vtract.load(A0009)


@pytest.fixture(scope="module")
def aligned(evidence):
    return vtract.align(evidence, A0009_TEXT)


def _boundaries(df):
    speech = df[~df["label"].isin(["sil", "spn"])]
    return speech["label"].tolist(), speech["start"].to_numpy(), speech["end"].to_numpy()


def test_alignment_matches_arctic_reference_labels(aligned):
    ref = read_alignment(A0009_LAB)
    ref_labels, ref_start, ref_end = _boundaries(ref.phones)
    labels, start, end = _boundaries(aligned.phones)
    assert labels == ref_labels  # CMUdict and the ARCTIC labels agree on this sentence
    err = np.abs(np.concatenate([start - ref_start, end - ref_end]))
    assert np.median(err) <= 0.020
    assert aligned.words["label"].tolist() == A0009_WORDS
    assert aligned.source == "pocketsphinx-align" and not aligned.low_confidence
    # phones tile their words
    for w in aligned.words.itertuples():
        inside = aligned.phones[aligned.phones.word == w.label]
        assert inside["start"].min() == pytest.approx(w.start)
        assert inside["end"].max() == pytest.approx(w.end)
    assert aligned.meta["beams"] == {"beam": 1e-48, "pbeam": 1e-48, "wbeam": 7e-29}
    assert aligned.meta["transcript_words"] == A0009_WORDS


def test_repeated_runs_identical(evidence, aligned):
    other = vtract.load(SHARED_DATA / "synthetic" / "piper" / "joe_1.wav")
    vtract.align(other, "Don't ask me to carry an oily rag like that.")  # decoder history
    again = vtract.align(evidence, A0009_TEXT)
    assert again.phones.equals(aligned.phones)
    assert again.words.equals(aligned.words)


def test_identical_across_processes(aligned):
    code = (
        "import json, vtract;"
        f"a = vtract.align({str(A0009)!r}, {A0009_TEXT!r});"
        "print(json.dumps([a.phones[['start','end','label','word']].values.tolist(),"
        " a.words[['start','end','label']].values.tolist()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    phones, words = json.loads(out.stdout)
    assert phones == aligned.phones[["start", "end", "label", "word"]].values.tolist()
    assert words == aligned.words[["start", "end", "label"]].values.tolist()


def test_oov_error_lists_words_and_pronunciations_fix_it(evidence):
    with pytest.raises(AlignmentError, match=r"zorblax, gregsonn.*pronunciations="):
        vtract.align(evidence, "he turned zorblax and faced gregsonn across the table")
    al = vtract.align(
        evidence,
        "he turned zorblax and faced gregson across the table",
        pronunciations={"Zorblax": "SH AA1 R P L IY0"},
    )
    assert al.words["label"].tolist()[2] == "zorblax"
    assert al.phones[al.phones.word == "zorblax"]["label"].tolist() == [
        "SH",
        "AA",
        "R",
        "P",
        "L",
        "IY",
    ]
    # the added word does not leak into later calls
    with pytest.raises(AlignmentError, match="zorblax"):
        vtract.align(evidence, "he turned zorblax and faced gregson across the table")
    with pytest.raises(AlignmentError, match="ARPAbet"):
        vtract.align(evidence, "he", pronunciations={"he": "H EE"})


def test_8khz_evidence_is_upsampled(aligned):
    ev8 = vtract.load(A0009, sr=8000)
    al = vtract.align(ev8, A0009_TEXT)
    assert al.meta["aligner_resampled_from"] == 8000
    assert al.meta["evidence_sr"] == 8000
    assert al.words["label"].tolist() == A0009_WORDS
    ref = read_alignment(A0009_LAB)
    ref_labels, ref_start, _ = _boundaries(ref.phones)
    labels, start, _ = _boundaries(al.phones)
    assert labels == ref_labels
    assert np.median(np.abs(start - ref_start)) <= 0.030


def test_recognition_marks_low_confidence(evidence):
    words = vtract.align(evidence)
    assert words.low_confidence and words.source == "pocketsphinx-recognize"
    assert words.meta["recognizer"] == "words"
    assert words.meta["recognizer_options"] == {"fwdflat": False, "maxhmmpf": 10000}
    # the recogniser gets this clean sentence right (measured), with posteriors in [0, 1]
    assert words.words["label"].tolist() == A0009_WORDS
    assert words.words["confidence"].between(0, 1).all()
    phones = vtract.align(evidence, recognize="allphone")
    assert phones.low_confidence and len(phones.words) == 0
    assert phones.meta["recognizer"] == "allphone"
    assert set(phones.phones["label"]) <= {*vtract.alignment.labels.ARPABET, "sil", "spn"}


def test_bad_arguments(evidence):
    with pytest.raises(AlignmentError, match="no words"):
        vtract.align(evidence, " ... ")
    with pytest.raises(AlignmentError, match="recognize"):
        vtract.align(evidence, recognize="magic")
    with pytest.raises(AlignmentError, match="method"):
        vtract.align(evidence, "he", method="dtw")


def test_model_info_hashes():
    info = aligner_model_info()
    assert info["engine"] == "pocketsphinx"
    assert {"en-us/mdef", "en-us/means", "cmudict-en-us.dict"} <= set(info["files"])
    assert all(len(h) == 64 for h in info["files"].values())


def test_cli_align(tmp_path, aligned):
    from vtract.cli import cli

    out = tmp_path / "a.TextGrid"
    res = CliRunner().invoke(
        cli, ["align", str(A0009), "--transcript", A0009_TEXT, "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    record = json.loads(res.output)
    assert record["words"] == A0009_WORDS and record["low_confidence"] is False
    back = read_alignment(out)
    assert back.phones["label"].tolist() == aligned.phones["label"].tolist()
    assert np.allclose(back.phones["start"], aligned.phones["start"])
    res = CliRunner().invoke(cli, ["align", str(A0009), "--out", str(out)])
    assert res.exit_code == 2
    res = CliRunner().invoke(cli, ["align", str(A0009), "--transcript", "qqzx", "--out", str(out)])
    assert res.exit_code == 1


def test_transcript_number_too_large_is_a_clear_error(tmp_path, evidence):
    from vtract.cli import cli

    with pytest.raises(AlignmentError, match="too large to read as words"):
        vtract.align(evidence, "1,000,000,000,000,000")
    for args in (
        ["align", str(A0009), "--out", str(tmp_path / "o.TextGrid")],
        ["analyze", str(A0009)],
    ):
        res = CliRunner().invoke(cli, [*args, "--transcript", "1,000,000,000,000,000"])
        assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
        assert "too large to read as words" in res.output
        assert "Traceback" not in res.output


def test_possessive_rule_and_derivation(evidence):
    from vtract.alignment.align import possessive_pronunciation

    assert possessive_pronunciation("JH AH JH") == "JH AH JH IH Z"
    assert possessive_pronunciation("K AE T") == "K AE T S"
    assert possessive_pronunciation("B EH G ER") == "B EH G ER Z"
    al = vtract.align(evidence, "he turned sharply and faced gregson's across the table")
    assert al.meta["derived_pronunciations"] == {"gregson's": "G R EH G S AH N Z"}
    assert al.phones[al.phones.word == "gregson's"]["label"].tolist()[-1] == "Z"


def test_threads_get_their_own_decoders(evidence, aligned):
    from concurrent.futures import ThreadPoolExecutor

    from vtract.alignment import sphinx

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: vtract.align(evidence, A0009_TEXT), range(2)))
    for r in results:
        assert r.phones.equals(aligned.phones)
    # no decoder object is cached under two different threads
    ids = [id(d) for d in sphinx._cache.values()]
    assert len(ids) == len(set(ids))


def test_wrong_transcript_is_flagged(evidence, aligned):
    # pocketsphinx aligns a wrong transcript with wide beams instead of failing;
    # the acoustic fit must flag it
    assert aligned.meta["score_per_frame"] > -40 and "warnings" not in aligned.meta
    wrong = vtract.align(evidence, "she had your dark suit in greasy wash water all year")
    assert wrong.low_confidence
    assert wrong.meta["score_per_frame"] < -40
    assert "may not match" in wrong.meta["warnings"][0]
    assert "score" in wrong.phones.columns
    # a truncated transcript: the left-out speech lands in "silence" and fits it badly
    partial = vtract.align(evidence, "He turned sharply")
    assert partial.low_confidence
    assert any("silence" in w for w in partial.meta["warnings"])
    assert aligned.meta["silence_score_per_frame"] > -40


def test_analyze_command_takes_pronunciations_for_unknown_words():
    """The OOV fix is reachable from `vtract analyze`, not only from the Python API."""
    from vtract.cli import cli

    wav = str(SHARED_DATA / "organic" / "arctic" / "arctic_a0009.wav")
    text = "he turned zorblax and faced gregson across the table"
    runner = CliRunner()
    unknown = runner.invoke(cli, ["analyze", wav, "--transcript", text])
    assert unknown.exit_code == 1
    assert "zorblax" in unknown.stderr and "--pronunciation 'word=ARPABET PHONES'" in unknown.stderr
    fixed = runner.invoke(
        cli,
        ["analyze", wav, "--transcript", text, "--pronunciation", "zorblax=SH AA1 R P L IY0"],
    )
    assert fixed.exit_code == 0, fixed.stderr
    record = json.loads(fixed.stdout)
    assert record["alignment"]["source"] == "pocketsphinx-align"
    assert "zorblax" in [w["label"] for w in record["alignment"]["words"]]
    bad = runner.invoke(cli, ["analyze", wav, "--transcript", text, "--pronunciation", "zorblax"])
    assert bad.exit_code == 2 and "expected WORD=PHONES" in bad.stderr
    with pytest.raises(VtractError, match="no transcript was given"):
        vtract.analyze(wav, pronunciations={"zorblax": "SH AA1 R P L IY0"})


def test_oov_error_message_is_cut_short(evidence):
    long_word = "zorblax" * 150_000  # about 1 MB
    with pytest.raises(AlignmentError) as info:
        vtract.align(evidence, f"he turned {long_word} and faced")
    message = str(info.value)
    assert f"dictionary: {long_word[:40]}...;" in message and len(message) < 400
    many = " ".join(f"zorb{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(100))
    with pytest.raises(AlignmentError) as info:
        vtract.align(evidence, many)
    assert "zorbat and 80 more;" in str(info.value)
    with pytest.raises(AlignmentError) as info:
        vtract.align(evidence, "." * 1_000_000)
    assert len(str(info.value)) < 200


def test_alignment_does_not_depend_on_the_recording_level(evidence, aligned):
    """The aligner hears the evidence at a fixed peak level: the same float samples at
    -60 dB, or 24 dB above full scale (not clipped in a float file), align exactly as
    recorded. Before session 26 pocketsphinx got them as they were, clipped to int16:
    quiet audio aligned differently or not at all, loud audio was clipped."""
    from vtract.alignment.align import ALIGNER_PEAK_DBFS

    x = np.asarray(evidence.samples, dtype=np.float64)
    peak_db = 20 * np.log10(np.max(np.abs(x)))
    assert aligned.meta["aligner_gain_db"] == pytest.approx(ALIGNER_PEAK_DBFS - peak_db, abs=0.01)
    for gain in (2.0**-10, 2.0**4):  # powers of two: the scaled samples are exact
        scaled = vtract.Evidence.from_array(x * gain, evidence.sr)
        other = vtract.align(scaled, A0009_TEXT)
        assert other.meta["aligner_gain_db"] == pytest.approx(
            aligned.meta["aligner_gain_db"] - 20 * np.log10(gain), abs=0.01
        )
        for column in ("start", "end", "label"):
            assert other.phones[column].tolist() == aligned.phones[column].tolist()
