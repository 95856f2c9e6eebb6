"""Speech that a transcript leaves out is flagged (session 25 probe).

Forced alignment puts the words it has somewhere and the rest of the speech
in "silence"; on the bundled eSpeak example the acoustic-score checks let a
one-word transcript through. The loudness check measures how much of the
"silence" is as loud as the speech.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

import vtract
from vtract.alignment.align import (
    LOUD_SILENCE_WITHIN_DB,
    MIN_LOUD_SILENCE_S,
    MIN_SPEECH_CONTRAST_DB,
    loud_silence,
)

EXAMPLES = resources.files("vtract") / "data" / "examples"


def test_loud_silence_counts_the_uncovered_speech_level_frames():
    sr = 16000
    rng = np.random.default_rng(0)
    t = np.arange(3 * sr) / sr
    x = 1e-4 * rng.standard_normal(t.size)  # a floor 60 dB below the tone
    x[: 2 * sr] += 0.1 * np.sin(2 * np.pi * 440 * t[: 2 * sr])  # 2 s of "speech"
    # phones cover the first second only: the second second is loud and "silent"
    loud, contrast = loud_silence(x, sr, [(0.0, 1.0, "AA"), (1.0, 3.0, "SIL")])
    assert loud == pytest.approx(1.0, abs=0.03)
    assert contrast > 50
    # all speech covered: nothing loud is left in the silence
    loud, _ = loud_silence(x, sr, [(0.0, 2.0, "AA"), (2.0, 3.0, "sil")])
    assert loud < 0.03
    # no phone at all: nothing to compare with
    loud, contrast = loud_silence(x, sr, [(0.0, 3.0, "SIL")])
    assert loud == 0.0 and np.isnan(contrast)


def test_a_one_word_transcript_of_the_bundled_example_is_flagged():
    audio = EXAMPLES / "espeak_en_us.flac"
    text = (EXAMPLES / "espeak_en_us.txt").read_text(encoding="utf-8")
    ev = vtract.load(audio)
    right = vtract.align(ev, text)
    assert not right.low_confidence
    assert right.meta["loud_silence_seconds"] < MIN_LOUD_SILENCE_S
    one_word = vtract.align(ev, text.split()[0])
    assert one_word.meta["speech_contrast_db"] >= MIN_SPEECH_CONTRAST_DB
    assert one_word.meta["loud_silence_seconds"] >= MIN_LOUD_SILENCE_S
    assert one_word.low_confidence
    assert any("as loud as the speech" in w for w in one_word.meta["warnings"])
    assert LOUD_SILENCE_WITHIN_DB == 9.0
