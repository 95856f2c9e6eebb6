"""``vtract.align``: offline forced alignment and recognition with pocketsphinx.

With a transcript (``method="words"``): the transcript is normalised
(:func:`~vtract.alignment.transcript.normalize_transcript`), every word is
checked against CMUdict (plus ``pronunciations``), then pocketsphinx aligns
it as DESIGN.md prescribes: decoder with ``lm=None, bestpath=False``,
``reinit_feat()``, ``set_align_text``, decode, ``set_alignment()``, decode
again, then words and the phones inside each word (10 ms frames). When the
default beams return no hypothesis the wide beams (beam=1e-80, pbeam=1e-80,
wbeam=1e-60) are tried, then wider ones (1e-120, 1e-120, 1e-100); the beams that produced the result are in
``meta["beams"]`` and ``meta["beam_attempts"]``. Wide beams make
pocketsphinx align even a WRONG transcript, so the fit is checked: a mean
acoustic score per frame below :data:`MISMATCH_SCORE_PER_FRAME`, overall or
over the frames aligned to silence (speech the transcript leaves out), marks
the result ``low_confidence`` with a reason in ``meta["warnings"]``.

Without a transcript: ``recognize="words"`` (default) recognises words with
the en-us trigram LM (search options
:data:`~vtract.alignment.sphinx.WORD_RECOGNITION_OPTIONS`, recorded in
``meta["recognizer_options"]``; word error rate 0.25 on the transcribed
recordings of ``../shared/data``, 0.40 on the organic ones,
``benchmarks/bench_recognition.py``), then force-aligns them (word
confidence = recogniser posterior); ``recognize="allphone"`` is phone recognition with the phone LM
(faster, no words, ~45% phone error). Both set ``low_confidence=True``.

The aligner hears the audio scaled so that its peak is at
:data:`ALIGNER_PEAK_DBFS` (``meta["aligner_gain_db"]``), so an alignment does
not depend on the recording's level. Audio not at 16 kHz is resampled to 16 kHz for the aligner (polyphase, as
:func:`vtract.evidence.resample`) and ``meta["aligner_resampled_from"]``
records the rate; ``meta["evidence_original_sr"]`` keeps the file's own rate
(8 kHz telephone audio stays band-limited to 4 kHz after upsampling).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import AlignmentError
from ..evidence import Evidence, load, resample
from ..provenance import path_text
from .labels import ARPABET
from .model import Alignment, clean_word
from .sphinx import (
    ALIGN_BEAMS,
    FRAME_RATE,
    SAMPLE_RATE,
    WORD_RECOGNITION_OPTIONS,
    aligner_model_info,
    decoder,
)
from .transcript import normalize_transcript, shorten, shortened_list

__all__ = ["ALIGNER_PEAK_DBFS", "MISMATCH_SCORE_PER_FRAME", "align", "possessive_pronunciation"]

_METHODS = ("words",)
_RECOGNIZERS = ("words", "allphone")
_WORD_RE = re.compile(r"^[a-z0-9][a-z0-9'\-.]*$")


#: The aligner hears the evidence scaled so that its peak is at this level (dBFS).
#: pocketsphinx's features are not level-invariant (its live cepstral mean
#: starts from a fixed estimate, and 16-bit quantisation swamps quiet audio),
#: so before session 26, when the samples went in as they were, the same
#: float recording at another gain aligned differently (piper_joe at gain 1,
#: 0.3 and 0.1: statistic -3.00, -3.16 and -2.38), quiet audio (peak -86
#: dBFS) failed to align, and float audio above full scale was clipped.
ALIGNER_PEAK_DBFS = -1.0


def _pcm16(ev: Evidence) -> tuple[bytes, dict[str, Any]]:
    """The evidence as the aligner hears it: 16 kHz, peak at :data:`ALIGNER_PEAK_DBFS`, int16."""
    info: dict[str, Any] = {
        "evidence_sr": int(ev.sr),
        "evidence_original_sr": int(ev.original_sr),
        "aligner_sr": SAMPLE_RATE,
    }
    x = np.asarray(ev.samples, dtype=np.float64)
    if ev.sr != SAMPLE_RATE:
        x = resample(x, int(ev.sr), SAMPLE_RATE)
        info["aligner_resampled_from"] = int(ev.sr)
    elif ev.original_sr != SAMPLE_RATE:
        info["aligner_resampled_from"] = int(ev.original_sr)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 0.0:  # load() refuses silence; an Evidence built otherwise may hold it
        gain = 10.0 ** (ALIGNER_PEAK_DBFS / 20.0) / peak
        x = x * gain
        info["aligner_gain_db"] = round(20.0 * np.log10(gain), 2)
    pcm = np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2")
    return pcm.tobytes(), info


def _pronunciations(
    pronunciations: Mapping[str, str] | None,
) -> tuple[tuple[str, str], ...]:
    if not pronunciations:
        return ()
    if not isinstance(pronunciations, Mapping):
        raise AlignmentError(
            f"pronunciations must be a mapping word -> 'PH ON ES', got {type(pronunciations).__name__}"
        )
    allowed = set(ARPABET)
    out = []
    for word, phones in sorted(pronunciations.items()):
        w = str(word).strip().lower()
        if not _WORD_RE.match(w):
            raise AlignmentError(f"pronunciation key {word!r} is not a single word")
        seq = [re.sub(r"[012]$", "", p).upper() for p in str(phones).split()]
        bad = [p for p in seq if p not in allowed]
        if not seq or bad:
            raise AlignmentError(
                f"pronunciation of {word!r} is {phones!r}; expected space-separated ARPAbet phones "
                f"(CMUdict set, e.g. 'D IY P'){'; not phones: ' + ', '.join(bad) if bad else ''}"
            )
        out.append((w, " ".join(seq)))
    return tuple(out)


_SIBILANTS = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
_VOICELESS = frozenset({"P", "T", "K", "F", "TH"})


def possessive_pronunciation(base: str) -> str:
    """Pronunciation of ``word's`` from that of ``word`` (English rule).

    After a sibilant the ending is IH Z ("judge's"), after another voiceless
    consonant S ("cat's"), otherwise Z ("dog's", "beggar's").
    """
    last = base.split()[-1]
    if last in _SIBILANTS:
        return f"{base} IH Z"
    if last in _VOICELESS:
        return f"{base} S"
    return f"{base} Z"


def _derived(words: list[str], prons: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Possessives missing from CMUdict whose stem is in it: ``beggar's``, ``boys'``."""
    probe = decoder("align")
    given = {w for w, _ in prons}
    out: dict[str, str] = {}
    for w in dict.fromkeys(words):
        if w in given or probe.lookup_word(w) is not None:
            continue
        if w.endswith("'s") and (base := probe.lookup_word(w[:-2])) is not None:
            out[w] = possessive_pronunciation(base)
        elif w.endswith("s'") and (base := probe.lookup_word(w[:-1])) is not None:
            out[w] = base
    return out


def _dictionary_entries(
    words: list[str], prons: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """Pronunciations to add: new words as themselves, known words as a variant ``word(k)``."""
    probe = decoder("align")
    entries = []
    for w, phones in prons:
        if probe.lookup_word(w) is None:
            entries.append((w, phones))
            continue
        k = 2
        while probe.lookup_word(f"{w}({k})") is not None:
            k += 1
        entries.append((f"{w}({k})", phones))
    return tuple(entries)


def _decode(dec: Any, pcm: bytes) -> None:
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()


#: Mean acoustic score per frame (pocketsphinx alignment units: 0 when every
#: frame is scored by its best senone, more negative = worse fit) below which
#: the transcript probably does not match the audio. Measured on 8 files:
#: right transcripts -9 to -26 (-26 = MFA's cold_corpus, hoarse speech with
#: long pauses), wrong or truncated transcripts -43 to -56. Pocketsphinx
#: aligns a wrong transcript with wide beams rather than failing, so this
#: check flags it: ``low_confidence=True`` and a warning in ``meta``.
MISMATCH_SCORE_PER_FRAME = -40.0
#: The same limit applied to the frames aligned to silence, when they add up
#: to at least this many seconds: speech the transcript leaves out (a
#: truncated transcript, or TTS babbling past the text) lands in silence and
#: fits it badly. Measured: right transcripts -9 to -27 except a Transformer
#: + Griffin-Lim ESPnet sample (-67, 48% of it "silence"), truncated or wrong
#: transcripts -45 to -65.
MIN_SILENCE_CHECK_S = 0.5


#: Speech the transcript leaves out lands in intervals aligned to silence, at the
#: level of speech. Frames aligned to silence count as *loud* when their power
#: (80 Hz-7 kHz, 25 ms frames every 10 ms) is within this many dB of the median
#: power of the frames aligned to phones.
LOUD_SILENCE_WITHIN_DB = 9.0
#: ... and the alignment is flagged when they add up to at least this many seconds.
MIN_LOUD_SILENCE_S = 0.5
#: The loudness check needs pauses that are quieter than speech: it is skipped
#: when the median speech frame is less than this many dB above the recording's
#: 10th-percentile frame (a recording that noisy has pauses as loud as speech).
MIN_SPEECH_CONTRAST_DB = 15.0


def loud_silence(
    samples: np.ndarray, sr: int, phones: list[tuple[float, float, str]]
) -> tuple[float, float]:
    """Seconds aligned to silence at the level of speech, and the speech-to-floor contrast.

    Parameters
    ----------
    samples : numpy.ndarray
        The aligned recording.
    sr : int
        Its rate (Hz).
    phones : list of (start, end, label)
        The alignment's phones; ``SIL`` (any case) is silence, and so is
        whatever no interval covers.

    Returns
    -------
    (loud_s, contrast_db) : (float, float)
        Seconds of frames aligned to silence within
        :data:`LOUD_SILENCE_WITHIN_DB` of the median phone frame, and how
        far (dB) that median is above the 10th-percentile frame of the
        recording. ``(0.0, nan)`` when no frame is aligned to a phone.
    """
    from ..frame_power import frame_band_powers

    hop = 0.010
    power = frame_band_powers(samples, sr, [(80.0, 7000.0)], 0.025, hop)[0]
    if power.size == 0:
        return 0.0, float("nan")
    level = 10.0 * np.log10(np.maximum(power, 1e-20))
    centre = np.arange(level.size) * hop + 0.0125
    silent = np.ones(level.size, dtype=bool)
    for start, end, label in phones:  # frames with start <= centre < end, by index
        if label.upper() != "SIL":
            silent[np.searchsorted(centre, start) : np.searchsorted(centre, end)] = False
    if silent.all():
        return 0.0, float("nan")
    speech = float(np.median(level[~silent]))
    contrast = speech - float(np.percentile(level, 10))
    loud = silent & (level > speech - LOUD_SILENCE_WITHIN_DB)
    return float(loud.sum() * hop), contrast


def _fit_warnings(
    phones: list[tuple[float, float, str]],
    scores: list[float],
    score_per_frame: float,
    meta: dict[str, Any],
    loudness: tuple[float, float] = (0.0, float("nan")),
) -> list[str]:
    """Warnings when the forced alignment fits the audio badly (see MISMATCH_SCORE_PER_FRAME)."""
    out = []
    if score_per_frame < MISMATCH_SCORE_PER_FRAME:
        out.append(
            f"the transcript may not match the audio: mean acoustic score per frame "
            f"{score_per_frame:.1f} is below {MISMATCH_SCORE_PER_FRAME:.0f}; "
            "phone boundaries are unreliable"
        )
    sil = [(e - s, sc) for (s, e, lab), sc in zip(phones, scores) if lab.upper() == "SIL"]
    sil_s = sum(d for d, _ in sil)
    sil_score = sum(d * sc for d, sc in sil) / sil_s if sil_s > 0 else 0.0
    meta["silence_seconds"] = round(sil_s, 3)
    meta["silence_score_per_frame"] = round(sil_score, 4)
    if sil_s >= MIN_SILENCE_CHECK_S and sil_score < MISMATCH_SCORE_PER_FRAME:
        out.append(
            f"{sil_s:.2f} s aligned to silence fit the silence model badly (score per frame "
            f"{sil_score:.1f} < {MISMATCH_SCORE_PER_FRAME:.0f}): probably speech or noise that "
            "the transcript does not cover"
        )
    loud_s, contrast = loudness
    meta["loud_silence_seconds"] = round(loud_s, 3)
    meta["speech_contrast_db"] = round(contrast, 1) if np.isfinite(contrast) else None
    if contrast >= MIN_SPEECH_CONTRAST_DB and loud_s >= MIN_LOUD_SILENCE_S:
        out.append(
            f"{loud_s:.2f} s aligned to silence are as loud as the speech (within "
            f"{LOUD_SILENCE_WITHIN_DB:.0f} dB of its median): probably speech that the "
            "transcript does not cover (a truncated transcript?)"
        )
    return out


def _force_align(
    words: list[str], pcm: bytes, entries: tuple[tuple[str, str], ...]
) -> tuple[list[tuple[float, float, str]], list[tuple[float, float, str]], dict[str, Any]]:
    text = " ".join(words)
    attempts = []
    for beams in ALIGN_BEAMS:
        dec = decoder("align", beams=beams, pronunciations=entries)
        oov = [w for w in dict.fromkeys(words) if dec.lookup_word(w) is None]
        if oov:
            raise AlignmentError(
                f"word(s) not in the pronunciation dictionary: {shortened_list(oov, 20)}; "
                "give them with pronunciations={'word': 'ARPABET PHONES'} (on the command line: "
                "--pronunciation 'word=ARPABET PHONES') or rewrite the transcript"
            )
        dec.reinit_feat()
        dec.set_align_text(text)
        _decode(dec, pcm)
        attempts.append(dict(beams))
        if dec.hyp() is None:
            continue
        dec.reinit_feat()
        dec.set_alignment()
        _decode(dec, pcm)
        alignment = dec.get_alignment()
        if alignment is None:
            continue
        phones: list[tuple[float, float, str]] = []
        wlist: list[tuple[float, float, str]] = []
        scores: list[float] = []
        total_score = total_frames = 0
        for w in alignment:
            ws, we = w.start / FRAME_RATE, (w.start + w.duration) / FRAME_RATE
            wlist.append((ws, we, w.name))
            for p in w:
                phones.append((p.start / FRAME_RATE, (p.start + p.duration) / FRAME_RATE, p.name))
                scores.append(float(p.score) / max(int(p.duration), 1))
                total_score += int(p.score)
                total_frames += int(p.duration)
        if not phones:
            continue
        return (
            phones,
            wlist,
            {
                "beams": dict(beams),
                "beam_attempts": attempts,
                "phone_scores": scores,
                "score_per_frame": round(total_score / max(total_frames, 1), 4),
            },
        )
    raise AlignmentError(
        f"pocketsphinx found no alignment of the transcript ({len(words)} words) to the audio, "
        f"even with wide beams {ALIGN_BEAMS[-1]}; check that the transcript matches the speech"
    )


def _recognized_words(dec: Any) -> tuple[list[str], list[float]]:
    """The words of ``dec``'s last hypothesis that :func:`align` keeps (fillers, noise and
    sentence markers dropped), with their posterior probabilities clipped to [0, 1];
    empty when there is no hypothesis."""
    words: list[str] = []
    conf: list[float] = []
    if dec.hyp() is None:
        return words, conf
    for seg in dec.seg():
        w = clean_word(seg.word)
        if w and not w.startswith(("[", "+", "<")):
            words.append(w)
            conf.append(float(min(max(seg.prob, 0.0), 1.0)))
    return words, conf


def _recognize_words(pcm: bytes) -> tuple[list[str], list[float]]:
    dec = decoder("words")
    dec.reinit_feat()
    _decode(dec, pcm)
    if dec.hyp() is None:
        raise AlignmentError("word recognition found no speech in the audio")
    words, conf = _recognized_words(dec)
    if not words:
        raise AlignmentError("word recognition found no words in the audio")
    return words, conf


def _recognize_phones(pcm: bytes) -> list[tuple[float, float, str]]:
    dec = decoder("allphone")
    dec.reinit_feat()
    _decode(dec, pcm)
    phones = [
        (seg.start_frame / FRAME_RATE, (seg.end_frame + 1) / FRAME_RATE, seg.word)
        for seg in dec.seg()
    ]
    if not phones:
        raise AlignmentError("allphone recognition returned no phones")
    return phones


def align(
    evidence: Evidence | str | os.PathLike[str],
    transcript: str | None = None,
    *,
    pronunciations: Mapping[str, str] | None = None,
    method: str = "words",
    recognize: str = "words",
) -> Alignment:
    """Align evidence to words and phones offline with pocketsphinx.

    Parameters
    ----------
    evidence : Evidence or path
        Audio (a path is loaded with :func:`vtract.load` at 16 kHz).
    transcript : str, optional
        What is said. Numbers, case and punctuation are normalised. Without
        it, speech is recognised first (``recognize``) and the result is
        marked ``low_confidence``.
    pronunciations : mapping, optional
        Extra dictionary entries ``{"word": "ARPABET PHONES"}`` (stress digits
        allowed). A word already in CMUdict gets the pronunciation as an
        extra variant; the aligner picks the better-matching one. Possessives
        missing from CMUdict whose stem is there (``beggar's``, ``boys'``)
        are derived by rule (:func:`possessive_pronunciation`) and listed in
        ``meta["derived_pronunciations"]``; any other unknown word is an error.
    method : {"words"}, default "words"
        Forced alignment at word and phone level (the only method so far).
    recognize : {"words", "allphone"}, default "words"
        Recognition used when ``transcript`` is None: word recognition
        followed by forced alignment, or faster allphone recognition (phones
        only, no words).

    Returns
    -------
    Alignment
        ``source`` is ``"pocketsphinx-align"`` or
        ``"pocketsphinx-recognize"``; ``meta`` holds ``transcript_words``,
        ``beams``, ``beam_attempts``, ``aligner`` (model directory and file
        hashes), sample-rate information and ``duration``.

    Raises
    ------
    AlignmentError
        Out-of-vocabulary words (listed), an empty transcript, bad
        pronunciations, or no alignment even with wide beams.

    Examples
    --------
    >>> al = vtract.align("arctic_a0009.wav",
    ...                   "He turned sharply, and faced Gregson across the table.")  # doctest: +SKIP
    >>> al.phones.label.tolist()[:4]                                               # doctest: +SKIP
    ['sil', 'HH', 'IY', 'T']
    """
    if method not in _METHODS:
        raise AlignmentError(f"alignment method {method!r}; expected one of {_METHODS}")
    if recognize not in _RECOGNIZERS:
        raise AlignmentError(f"recognize={recognize!r}; expected one of {_RECOGNIZERS}")
    ev = evidence if isinstance(evidence, Evidence) else load(evidence)
    pcm, rate_info = _pcm16(ev)
    meta: dict[str, Any] = {
        "engine": "pocketsphinx",
        "method": method,
        "duration": float(ev.duration),
        "evidence_sha256": ev.sha256,
        "evidence_pcm_sha256": ev.pcm_sha256,
        **rate_info,
    }
    if ev.path is not None:
        meta["path"] = path_text(ev.path)
    prons = _pronunciations(pronunciations)

    if transcript is None and recognize == "allphone":
        phones = _recognize_phones(pcm)
        meta.update({"recognizer": "allphone", "aligner": aligner_model_info()})
        return Alignment.from_intervals(
            phones,
            [],
            source="pocketsphinx-recognize",
            scheme="arpabet",
            low_confidence=True,
            meta=meta,
        )

    word_conf: list[float] | None = None
    if transcript is None:
        words, word_conf = _recognize_words(pcm)
        meta["recognizer"] = "words"
        meta["recognizer_options"] = dict(WORD_RECOGNITION_OPTIONS)
        meta["recognized_text"] = " ".join(words)
    else:
        if not isinstance(transcript, str):
            raise AlignmentError(f"transcript must be text, got {type(transcript).__name__}")
        words = normalize_transcript(transcript)
        if not words:
            raise AlignmentError(
                f"transcript {shorten(transcript)!r} has no words after normalisation"
            )
        meta["transcript"] = transcript
    meta["transcript_words"] = words
    derived = _derived(words, prons)
    if derived:
        meta["derived_pronunciations"] = derived
        prons = tuple(sorted((*prons, *derived.items())))
    entries = _dictionary_entries(words, prons)
    if prons:
        meta["pronunciations"] = dict(prons)
    phones, wlist, beam_info = _force_align(words, pcm, entries)
    scores = beam_info.pop("phone_scores")
    meta.update(beam_info)
    meta["aligner"] = aligner_model_info()
    warnings = _fit_warnings(
        phones, scores, beam_info["score_per_frame"], meta, loud_silence(ev.samples, ev.sr, phones)
    )
    mismatch = bool(warnings)
    if warnings:
        meta["warnings"] = warnings
    real_words = [w for w in wlist if clean_word(w[2])]
    conf = None
    if word_conf is not None and len(word_conf) == len(real_words):
        conf = word_conf
    return Alignment.from_intervals(
        phones,
        real_words,
        source="pocketsphinx-align" if transcript is not None else "pocketsphinx-recognize",
        scheme="arpabet",
        word_confidence=conf,
        low_confidence=transcript is None or mismatch,
        meta=meta,
        extra_phone_columns={"score": scores},
    )
