"""Every corpus case through the readers: a VtractError or a sound result, nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vtract
from hardening.corpus import AUDIO_CASES, SPEECH_CASES, SPEECH_SPECS, Case, require
from vtract.container import PREFIX
from vtract.errors import AlignmentError, VtractError

TEXTGRID_CASES = tuple(n for n in SPEECH_SPECS if n.startswith("textgrid_"))


@pytest.mark.parametrize("name", AUDIO_CASES + SPEECH_CASES)
def test_loader_refuses_clearly_or_returns_sound_evidence(corpus, name):
    case: Case = require(corpus, name)
    try:
        ev = vtract.load(case.audio)
    except VtractError as exc:
        assert case.loads is not True, f"{name} must load, got {type(exc).__name__}: {exc}"
        message = str(exc)
        assert message and "\n" not in message
        assert case.audio.name in message or "no such file" in message
        return
    assert case.loads is not False, f"{name} must be refused, loaded {ev.duration:.3f} s"
    assert ev.sr == 16000 and ev.samples.ndim == 1 and ev.samples.dtype == np.float32
    assert ev.samples.size >= 565
    assert np.isfinite(ev.samples).all()
    assert ev.duration == pytest.approx(ev.samples.size / 16000)
    assert len(ev.sha256) == 64 and len(ev.pcm_sha256) == 64
    container = [w for w in ev.warnings if w.startswith(PREFIX)]
    if case.warns:
        assert any(case.warns in w for w in container), (name, ev.warnings)
    else:
        assert container == [], (name, container)


def test_speech_in_awkward_containers_decodes_to_the_same_signal(corpus):
    """8/24-bit, float, six channels and 96 kHz hold the same speech: same samples."""
    base = vtract.load(require(corpus, "speech_float_wav").audio).samples.astype(np.float64)
    tolerance = {
        "speech_pcm_24": 1e-4,
        "speech_six_channel": 2e-3,  # mean of gains 1..0.5 = 0.75 of the signal
        "speech_hires_96k": 2e-2,
        "speech_pcm_u8": 2e-2,
    }
    for name, tol in tolerance.items():
        x = vtract.load(corpus[name].audio).samples.astype(np.float64)
        if name == "speech_six_channel":
            x = x / 0.75
        n = min(x.size, base.size)
        rms = np.sqrt(np.mean((x[:n] - base[:n]) ** 2)) / np.sqrt(np.mean(base[:n] ** 2))
        assert rms < tol * 10, f"{name}: relative rms difference {rms:.2e}"


@pytest.mark.parametrize("name", TEXTGRID_CASES)
def test_textgrid_reader_refuses_clearly_or_returns_ordered_intervals(corpus, name):
    case: Case = require(corpus, name)
    assert case.textgrid is not None
    try:
        al = vtract.read_alignment(case.textgrid)
    except VtractError as exc:
        assert isinstance(exc, AlignmentError), type(exc).__name__
        assert case.alignment_reads is not True, f"{name} must read: {exc}"
        assert str(exc) and "\n" not in str(exc)
        return
    assert case.alignment_reads is not False, f"{name} must be refused"
    for table in (al.phones, al.words):
        assert {"start", "end", "label"} <= set(table.columns)
        if len(table):
            assert np.isfinite(table["start"]).all() and np.isfinite(table["end"]).all()
            assert (table["start"] <= table["end"]).all()
            assert (table["start"] >= 0).all()


def test_utf16_textgrid_reads_like_utf8(corpus):
    utf8 = vtract.read_alignment(require(corpus, "textgrid_valid").textgrid)
    utf16 = vtract.read_alignment(require(corpus, "textgrid_utf16").textgrid)
    cols = ["start", "end", "label", "word"]
    pd.testing.assert_frame_equal(
        utf8.phones[cols].reset_index(drop=True), utf16.phones[cols].reset_index(drop=True)
    )
    assert list(utf8.phones["label"][:4]) == ["HH", "IY", "T", "ER"]
    assert list(utf8.words["label"]) == [
        "he", "turned", "sharply", "and", "faced", "gregson", "across", "the", "table"
    ]  # fmt: skip


def test_unknown_labels_are_reported_not_hidden(corpus):
    al = vtract.read_alignment(require(corpus, "textgrid_unknown_labels").textgrid)
    assert "Q#" in al.unknown_labels
