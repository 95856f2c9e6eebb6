"""What common channel degradations do to the default detector.

Forensic evidence is rarely studio audio: it has been recorded in a room, over
a noisy line, and passed through a lossy codec on its way to the examiner. The
shipped reference and calibration come from clean recordings. This benchmark
takes every recording of the labelled corpus in ``../shared/data``
(:mod:`_detection_corpus`, alignments cached), degrades its audio in one of the
ways below, and measures the tract-dynamics statistic of the *shipped*
calibration on the original and the degraded copy, with the same alignment (so
only the audio differs; the phone boundaries are the clean ones, which favours
the degraded copies). When the shipped reference (or ``--reference``) holds a dry-voice model
(``vtract calibrate --with-shimmer``; :mod:`vtract.detect.default`), the
statistic is the detector's gated log-odds (:func:`shipped_statistic`): the
dry-voice model's where the copy's steepest level decay reaches
:data:`vtract.reverberation.DRY_DECAY_DB`, the four descriptors' elsewhere,
so a room that sends a copy from one model to the other is part of what is
measured:

``gain_-20db``
    scaled by 0.1 (a sanity check: the estimator is level-invariant);
``white_snr<S>``, ``pink_snr<S>``, ``brown_snr<S>``
    white, pink (1/f power) or brown (1/f^2) Gaussian noise at ``S`` dB below
    the mean power of the aligned speech phones;
``speech_shaped_snr<S>``
    stationary noise with the recording's own long-term spectrum (its Fourier
    magnitudes with random phases), at the same SNR;
``babble_snr<S>``
    one recording each of six other speakers of LibriSpeech test-other (not
    the recording's speaker), each looped to the recording's length from a
    random offset, at equal power, summed, at the same SNR;
``dc_offset_5pct``
    a constant offset of 5 % of the speech phones' RMS (inaudible; below
    :func:`vtract.load`'s DC warning);
``hum50_snr<S>``, ``hum60_snr30``
    a 50 (60) Hz mains hum (a pure sine) at ``S`` (30) dB below the speech
    power;
``buzz50_snr30``
    a mains buzz: 50 Hz and its harmonics up to 250 Hz (amplitude 1/k), 30 dB
    below the speech power (the analysis high-pass removes the fundamental,
    not the harmonics, which lie among the voice's own);
``room_tone_lj``
    the pauses of another LJSpeech recording (organic: the voice and room the
    ESPnet fakes imitate), stitched and looped to the recording's length, at
    the level they have in their own recording relative to its speech (the
    donor's own speech-to-pause ratio, median 39 dB): what a forger who adds
    a real recording's room tone to a clean fake would produce. Donors are
    the organic LJSpeech and ESPnet ground-truth recordings whose pauses
    (samples 30 ms or more from any speech phone) last at least 0.3 s and
    lie at least :data:`MIN_DONOR_SPEECH_TO_PAUSE_DB` below their speech (a
    pause within that of the speech holds a breath or a misplaced boundary);
    never the recording itself;
``reverb_rt<T>``
    convolved with a synthetic room impulse response: a unit direct path and
    an exponentially decaying Gaussian tail (60 dB decay in ``T`` s, starting
    after 2 ms) of equal energy (direct-to-reverberant ratio 0 dB);
``clip_<P>pct``
    hard-clipped at the level only ``P`` % of samples exceed;
``mp3_<K>kbps``, ``opus_<K>kbps``
    encoded and decoded by libsndfile (LAME / libopus through ``soundfile``)
    at the constant-bitrate setting that gives about ``K`` kbit/s at 16 kHz,
    the decoder's delay removed (lag of the peak cross-correlation).

Noise and impulse responses are seeded by the recording's name, so the run is
deterministic.

Printed and written to ``results/degradations.json``: per condition and label,
how many recordings lie above the calibrated threshold before and after (for
organic recordings: the false-positive rate), the median shift of the
statistic, the ROC AUC before and after, and the share that
``vtract.analyze``'s band-limit checks (:mod:`vtract.bandwidth`), its
noise-floor check (:mod:`vtract.noise_floor`) and its reverberation check
(:mod:`vtract.reverberation`) would make inconclusive; what is left above the
threshold after them is ``synthetic_verdicts``. The shipped calibration was fitted on these recordings, so the
"original" figures are in-sample (optimistic); the change between the two
columns is what this measures.

Usage: ``python benchmarks/bench_degradations.py [--libri N] [--jobs 2]
[--conditions white_snr20,mp3_24kbps]``
"""

from __future__ import annotations

import argparse
import functools
import io
import math
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf
from scipy.signal import correlate, fftconvolve

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vtract
from _detection_corpus import (
    SHARED,
    Item,
    cached_alignment,
    cached_features,
    corpus_items,
    item_features,
)
from _harness import emit_result
from bench_band_limited import ANALYSIS_RATE, scored_row
from bench_detection import SETTINGS, gated_log_odds
from vtract.alignment.model import Alignment
from vtract.detect.calibration import Calibration, roc_auc
from vtract.detect.default import DRY_VOICE
from vtract.detect.dynamics import DESCRIPTORS, DescriptorModel
from vtract.evidence import Evidence
from vtract.verdict_conditions import SIGNAL_MEASURES, signal_measures, verdict_conditions
from vtract.windows import is_speech_label

#: libsndfile compression levels giving the named constant bitrate at 16 kHz
#: (measured on LJ001-0001: MP3 0.75 -> 49 kbit/s, 0.9 -> 24; Opus 0.9 -> 32, 0.97 -> 14).
CODEC_SETTINGS: dict[str, tuple[str, str, float]] = {
    "mp3_48kbps": ("MP3", "MPEG_LAYER_III", 0.75),
    "mp3_24kbps": ("MP3", "MPEG_LAYER_III", 0.9),
    "opus_32kbps": ("OGG", "OPUS", 0.9),
    "opus_14kbps": ("OGG", "OPUS", 0.97),
}
#: Largest codec delay searched for (samples at 16 kHz).
MAX_CODEC_DELAY = 4000
#: Talkers summed in the babble condition.
BABBLE_TALKERS = 6


def _rng(item: Item, condition: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{item.key}|{condition}".encode()))


def speech_power(x: np.ndarray, sr: int, aln: Alignment) -> float:
    """Mean power of the samples inside the alignment's speech phones."""
    mask = speech_mask(x.size, sr, aln)
    return float(np.mean(x[mask] ** 2)) if mask.any() else float(np.mean(x**2))


def coloured_noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Gaussian noise whose power density goes as ``f ** -exponent`` (0 white, 1 pink)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    y = np.fft.irfft(spectrum / f ** (exponent / 2.0), n)
    return y / np.sqrt(np.mean(y**2))


def speech_shaped_noise(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Stationary noise with the recording's own long-term spectrum (random phase), unit power."""
    spectrum = np.abs(np.fft.rfft(x)) * np.exp(2j * np.pi * rng.random(x.size // 2 + 1))
    y = np.fft.irfft(spectrum, x.size)
    return y / np.sqrt(np.mean(y**2))


def _babble_sources() -> list[Path]:
    """The talkers babble is drawn from: LibriSpeech test-other, sorted by path."""
    return sorted((SHARED / "organic" / "librispeech" / "test-other").rglob("*.flac"))


def librispeech_speaker(path: Path) -> str:
    """The corpus's speaker id of a LibriSpeech file (``<speaker>-<chapter>-<n>.flac``)."""
    return "libri-" + path.stem.split("-")[0]


def babble(rng: np.random.Generator, item: Item, n: int, sr: int) -> np.ndarray:
    """:data:`BABBLE_TALKERS` other talkers at equal power, each looped to ``n``; unit power.

    One recording each of :data:`BABBLE_TALKERS` different speakers, none of
    them ``item``'s.
    """
    by_speaker: dict[str, list[Path]] = {}
    for p in _babble_sources():
        if librispeech_speaker(p) != item.speaker:
            by_speaker.setdefault(librispeech_speaker(p), []).append(p)
    speakers = sorted(by_speaker)
    total = np.zeros(n)
    for k in rng.choice(len(speakers), size=BABBLE_TALKERS, replace=False):
        files = by_speaker[speakers[k]]
        path = files[int(rng.integers(len(files)))]
        talker = np.asarray(vtract.load(path, sr=sr).samples, dtype=np.float64)
        talker = np.roll(np.resize(talker, n), int(rng.integers(n)))
        total += talker / np.sqrt(np.mean(talker**2))
    return total / np.sqrt(np.mean(total**2))


#: Organic families whose pauses make the ``room_tone_lj`` condition.
ROOM_TONE_FAMILIES = ("ljspeech", "espnet-ground-truth")
#: Samples this close to a speech phone are not pause (breath, release, boundary error).
PAUSE_MARGIN_S = 0.03
#: Least pause a donor recording must have.
MIN_DONOR_PAUSE_S = 0.3
#: A donor's pauses must lie this far below its speech (else they hold breath or speech).
MIN_DONOR_SPEECH_TO_PAUSE_DB = 25.0
#: Raised-cosine fade at each end of a stitched pause (and overlap between pauses).
STITCH_FADE_S = 0.005


def speech_mask(n: int, sr: int, aln: Alignment) -> np.ndarray:
    """Samples inside the alignment's speech phones."""
    mask = np.zeros(n, dtype=bool)
    for start, end, label in aln.phones[["start", "end", "label"]].itertuples(index=False):
        if is_speech_label(label):
            mask[round(start * sr) : round(end * sr)] = True
    return mask


def pause_segments(n: int, sr: int, aln: Alignment) -> list[tuple[int, int]]:
    """``(start, stop)`` sample ranges at least :data:`PAUSE_MARGIN_S` from any speech phone,
    each at least four fades long."""
    margin = round(PAUSE_MARGIN_S * sr)
    near = np.convolve(speech_mask(n, sr, aln).astype(float), np.ones(2 * margin + 1), "same")
    pause = np.concatenate(([False], near < 0.5, [False]))
    edges = np.flatnonzero(np.diff(pause.astype(np.int8)))
    shortest = 4 * round(STITCH_FADE_S * sr)
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= shortest]


def stitch(segments: list[np.ndarray], sr: int) -> np.ndarray:
    """Segments joined end to end, each faded in and out over :data:`STITCH_FADE_S` and
    overlapped by that much with the next (no clicks at the joins)."""
    fade = round(STITCH_FADE_S * sr)
    ramp = np.sin(0.5 * np.pi * (np.arange(fade) + 0.5) / fade) ** 2
    total = sum(len(s) for s in segments) - fade * (len(segments) - 1)
    out = np.zeros(total)
    at = 0
    for seg in segments:
        seg = np.array(seg, dtype=np.float64)
        seg[:fade] *= ramp
        seg[-fade:] *= ramp[::-1]
        out[at : at + len(seg)] += seg
        at += len(seg) - fade
    return out


@functools.cache
def room_tone_donors() -> tuple[tuple[str, np.ndarray, float], ...]:
    """``(key, stitched pauses, pause power / speech power)`` of every usable donor."""
    donors = []
    for item in corpus_items():
        if item.label != "organic" or item.family not in ROOM_TONE_FAMILIES:
            continue
        ev = vtract.load(item.path, sr=ANALYSIS_RATE)
        aln = cached_alignment(item, ev)
        if aln is None:
            continue
        x = np.asarray(ev.samples, dtype=np.float64)
        segments = [x[a:b] for a, b in pause_segments(x.size, ev.sr, aln)]
        if sum(len(s) for s in segments) < MIN_DONOR_PAUSE_S * ev.sr:
            continue
        tone = stitch(segments, ev.sr)
        ratio = float(np.mean(tone**2)) / speech_power(x, ev.sr, aln)
        if ratio > 10.0 ** (-MIN_DONOR_SPEECH_TO_PAUSE_DB / 10.0):
            continue
        donors.append((item.key, tone, ratio))
    return tuple(donors)


def room_tone_summary() -> dict[str, Any]:
    """How many donors ``room_tone_lj`` draws from, their speech-to-pause ratios and lengths."""
    donors = room_tone_donors()
    ratio_db = [-10.0 * np.log10(r) for _, _, r in donors]
    seconds = [len(tone) / ANALYSIS_RATE for _, tone, _ in donors]
    return {
        "n": len(donors),
        "speech_to_pause_db_median": round(float(np.median(ratio_db)), 1),
        "speech_to_pause_db_range": [round(min(ratio_db), 1), round(max(ratio_db), 1)],
        "pause_seconds_median": round(float(np.median(seconds)), 2),
    }


def add_room_tone(x: np.ndarray, sr: int, aln: Alignment, item: Item) -> np.ndarray:
    """``x`` plus another recording's pauses at that recording's own level below its speech."""
    donors = [d for d in room_tone_donors() if d[0] != item.key]
    rng = _rng(item, "room_tone_lj")
    _, tone, ratio = donors[int(rng.integers(len(donors)))]
    looped = np.roll(np.resize(tone, x.size), int(rng.integers(x.size)))
    return add_noise(x, sr, aln, -10.0 * np.log10(ratio), looped / np.sqrt(np.mean(looped**2)))


#: Harmonics of the ``buzz50`` condition (amplitude 1/k for the k-th).
BUZZ_HARMONICS = 5


def mains_hum(n: int, sr: int, f0_hz: float, n_harmonics: int) -> np.ndarray:
    """Unit-power mains hum: harmonics ``k = 1 .. n_harmonics`` of ``f0_hz`` with amplitude
    ``1 / k`` and zero phase (``n_harmonics = 1``: a pure sine)."""
    t = np.arange(n) / sr
    k = np.arange(1, n_harmonics + 1)
    amplitudes = 1.0 / k
    hum = (amplitudes[:, None] * np.sin(2.0 * np.pi * f0_hz * k[:, None] * t)).sum(axis=0)
    return hum / np.sqrt(0.5 * np.sum(amplitudes**2))


def add_noise(
    x: np.ndarray, sr: int, aln: Alignment, snr_db: float, noise: np.ndarray
) -> np.ndarray:
    """``x`` plus unit-power ``noise`` at ``snr_db`` below the mean power of its speech phones."""
    return x + noise * np.sqrt(speech_power(x, sr, aln) / 10.0 ** (snr_db / 10.0))


def reverberate(x: np.ndarray, sr: int, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` in a synthetic room: direct path + exponential tail, DRR 0 dB, same length."""
    n = int(rt60_s * sr)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * 10.0 ** (-3.0 * t / rt60_s)  # -60 dB at rt60
    tail[: int(0.002 * sr)] = 0.0
    tail /= np.sqrt(np.sum(tail**2))
    h = np.concatenate(([1.0], tail[1:]))
    return fftconvolve(x, h)[: x.size]


def clip(x: np.ndarray, percent: float) -> np.ndarray:
    level = float(np.quantile(np.abs(x), 1.0 - percent / 100.0))
    return np.clip(x, -level, level)


def codec(x: np.ndarray, sr: int, name: str) -> np.ndarray:
    """Encode and decode with libsndfile; the decoder's delay removed."""
    fmt, subtype, level = CODEC_SETTINGS[name]
    peak = float(np.max(np.abs(x))) or 1.0
    buf = io.BytesIO()
    kwargs: dict[str, Any] = {"compression_level": level}
    if fmt == "MP3":
        kwargs["bitrate_mode"] = "CONSTANT"
    sf.write(buf, x / peak * 0.9, sr, format=fmt, subtype=subtype, **kwargs)
    buf.seek(0)
    y, _ = sf.read(buf, dtype="float64")
    y = y * peak / 0.9
    head = min(x.size, 5 * sr)
    xc = correlate(y[: head + MAX_CODEC_DELAY], x[:head], mode="valid", method="fft")
    lag = int(np.argmax(xc[: MAX_CODEC_DELAY + 1]))
    out = y[lag : lag + x.size]
    return np.pad(out, (0, x.size - out.size))


def conditions() -> dict[str, Callable[[np.ndarray, int, Alignment, Item], np.ndarray]]:
    """Every degradation by name: ``f(samples, sr, alignment, item) -> degraded samples``."""
    c: dict[str, Callable[[np.ndarray, int, Alignment, Item], np.ndarray]] = {
        "gain_-20db": lambda x, sr, aln, it: 0.1 * x,
    }
    for snr in (30, 20, 10):
        c[f"white_snr{snr}"] = lambda x, sr, aln, it, s=snr: add_noise(
            x, sr, aln, s, coloured_noise(_rng(it, f"white{s}"), x.size, 0.0)
        )
    for snr in (20, 30):
        c[f"pink_snr{snr}"] = lambda x, sr, aln, it, s=snr: add_noise(
            x, sr, aln, s, coloured_noise(_rng(it, f"pink{s}"), x.size, 1.0)
        )
    c["brown_snr20"] = lambda x, sr, aln, it: add_noise(
        x, sr, aln, 20, coloured_noise(_rng(it, "brown20"), x.size, 2.0)
    )
    c["speech_shaped_snr20"] = lambda x, sr, aln, it: add_noise(
        x, sr, aln, 20, speech_shaped_noise(_rng(it, "speech_shaped20"), x)
    )
    c["babble_snr20"] = lambda x, sr, aln, it: add_noise(
        x, sr, aln, 20, babble(_rng(it, "babble20"), it, x.size, sr)
    )
    c["dc_offset_5pct"] = lambda x, sr, aln, it: x + 0.05 * np.sqrt(speech_power(x, sr, aln))
    for name, snr, f0, harmonics in (
        ("hum50_snr30", 30, 50.0, 1),
        ("hum50_snr40", 40, 50.0, 1),
        ("hum60_snr30", 30, 60.0, 1),
        ("buzz50_snr30", 30, 50.0, BUZZ_HARMONICS),
    ):
        c[name] = lambda x, sr, aln, it, s=snr, f=f0, k=harmonics: add_noise(
            x, sr, aln, s, mains_hum(x.size, sr, f, k)
        )
    c["room_tone_lj"] = add_room_tone
    for rt in (0.3, 0.7):
        c[f"reverb_rt{rt}"] = lambda x, sr, aln, it, r=rt: reverberate(x, sr, r, _rng(it, f"rt{r}"))
    c["clip_1pct"] = lambda x, sr, aln, it: clip(x, 1.0)
    for name in CODEC_SETTINGS:
        c[name] = lambda x, sr, aln, it, n=name: codec(x, sr, n)
    return c


def degraded_copies(
    item: Item, names: Sequence[str]
) -> Iterator[tuple[str, np.ndarray, int, Alignment]]:
    """``(kind, samples, sr, alignment)``: the recording at the analysis rate, then each condition.

    The first ``kind`` is ``"original"``; nothing is yielded when the
    recording has no cached alignment.
    """
    ev = vtract.load(item.path, sr=ANALYSIS_RATE)
    aln = cached_alignment(item, ev)
    if aln is None:
        return
    x = np.asarray(ev.samples, dtype=np.float64)
    every = conditions()
    yield "original", x, ev.sr, aln
    for kind in names:
        yield kind, every[kind](x, ev.sr, aln, item), ev.sr, aln


def copy_features(
    item: Item, kind: str, samples: np.ndarray, sr: int, alignment: Alignment
) -> pd.DataFrame:
    """Feature table of one copy: the cached one of the original, else measured on ``samples``."""
    if kind == "original":
        return cached_features(item, SETTINGS)
    copy = Evidence.from_array(np.ascontiguousarray(samples, dtype=np.float32), sr)
    return item_features(item, copy, alignment, SETTINGS)


def recording_rows(
    item: Item, model: DescriptorModel, names: list[str], voice: DescriptorModel | None = None
) -> list[dict[str, Any]]:
    """Statistic(s), descriptors and signal measures of one recording, original and degraded."""
    rows = []
    for kind, samples, sr, aln in degraded_copies(item, names):
        table = copy_features(item, kind, samples, sr, aln)
        row = scored_row(
            item, kind, table, model, aln.low_confidence, voice, **signal_measures(samples, sr)
        )
        if row is not None:
            rows.append(row)
    return rows


def remeasured_rows(item: Item, kept: pd.DataFrame, names: Sequence[str]) -> list[dict[str, Any]]:
    """``kept`` (one recording's rows of an earlier run) with every signal measure taken again.

    The copies are made again (they are seeded by the recording's name) and
    :func:`vtract.verdict_conditions.signal_measures` is applied to each; the
    statistics and descriptors are kept, since the analysis is not run. Measures
    the rows already hold must come out equal (to 1e-9 dB, or both ``nan``),
    else the copies are not the ones that were analysed and this raises.
    """
    out = []
    by_kind = kept.set_index("kind")
    for kind, samples, sr, _aln in degraded_copies(item, [n for n in names if n in by_kind.index]):
        if kind not in by_kind.index:
            continue
        row = by_kind.loc[kind].to_dict()
        for name, value in signal_measures(samples, sr).items():
            if name in row:
                old = float(row[name])
                same = (math.isnan(old) and math.isnan(value)) or abs(old - value) <= 1e-9 * max(
                    1.0, abs(old)
                )
                if not same:
                    raise RuntimeError(
                        f"{item.key} {kind}: {name} is {value!r}, the kept row has {old!r}; "
                        "the copy differs from the analysed one"
                    )
            row[name] = value
        out.append({"kind": kind, **row})
    return out


def shipped_calibrations(reference: Path | None = None) -> tuple[Calibration, Calibration | None]:
    """The ``"default"`` calibration and the dry-voice model (or None) of the shipped reference
    (or of ``reference``)."""
    ref = vtract.default_reference() if reference is None else vtract.Reference.load(reference)
    stored = ref.calibration
    voice = stored.get(DRY_VOICE)
    return (
        Calibration.from_dict(stored["default"]),
        None if voice is None else Calibration.from_dict(voice),
    )


def shipped_statistic(rows: pd.DataFrame, four: Calibration, voice: Calibration) -> pd.DataFrame:
    """Rows with ``statistic`` replaced by the gated detector's log-odds (threshold 0).

    The four-descriptor statistic is kept as ``statistic_four``; ``dry_voice``
    says which rows the dry-voice model decided (their decay, degraded or
    not, reaches :data:`~vtract.reverberation.DRY_DECAY_DB`).
    """
    log_odds, used = gated_log_odds(
        four,
        voice,
        rows["statistic"],
        rows["statistic_dry_voice"],
        rows["steepest_decay_db"],
    )
    return rows.assign(statistic_four=rows["statistic"], statistic=log_odds, dry_voice=used)


#: The conditions of :func:`vtract.verdict_conditions.verdict_conditions` behind each
#: column :func:`_gates` adds.
GATE_CONDITIONS: dict[str, tuple[str, ...]] = {
    "band_limited": ("high_band_level", "spectral_edge"),
    "noisy": ("noise_floor",),
    "reverberant": ("reverberation",),
}


def _gates(rows: pd.DataFrame) -> pd.DataFrame:
    """Which of vtract.analyze's signal checks each row fails (band limit, noise, room).

    Each row's measures go through :func:`vtract.verdict_conditions.verdict_conditions`
    at the analysis rate, and a column is true where one of its conditions
    (:data:`GATE_CONDITIONS`) withholds the verdict as in ``vtract.analyze``: past its
    threshold, or not measured where that blocks a verdict (session 30; until then the
    thresholds were restated here, and an unmeasured noise floor or room passed).
    """
    missing = {"quiet_high_band_level_db", "quiet_spectral_edge_drop_db"} - set(rows.columns)
    if missing:
        raise ValueError(
            f"rows without {sorted(missing)}: measured before session 28's quieter-frame "
            "band-limit measures; measure them again (without --from-rows)"
        )
    if "speech_to_valley_floor_db" not in rows.columns:
        raise ValueError(
            "rows without ['speech_to_valley_floor_db']: measured before session 29's "
            "valley-floor measure; measure them again (without --from-rows)"
        )
    measures = [m for m in SIGNAL_MEASURES if m in rows.columns]
    calls: dict[str, list[bool]] = {column: [] for column in GATE_CONDITIONS}
    for values in rows[measures].itertuples(index=False):
        withheld = {
            c.key
            for c in verdict_conditions(
                ANALYSIS_RATE, None, None, **{m: float(v) for m, v in zip(measures, values)}
            )
            if c.withholds_verdict
        }
        for column, keys in GATE_CONDITIONS.items():
            calls[column].append(bool(withheld.intersection(keys)))
    return rows.assign(**{column: np.array(c, dtype=bool) for column, c in calls.items()})


def summarise(rows: pd.DataFrame, threshold: float, names: list[str]) -> dict[str, Any]:
    """Per condition: threshold crossings, shifts, AUCs and the signal checks' calls."""
    rows = _gates(rows)
    stat = rows.pivot_table(index=["file", "label"], columns="kind", values="statistic")
    out: dict[str, Any] = {"threshold": threshold, "conditions": {}}
    original = stat["original"].dropna()
    y_all = np.asarray(original.index.get_level_values("label") != "organic")
    out["auc_original"] = round(roc_auc(y_all, original.to_numpy(np.float64)), 4)
    for name in ["original", *names]:
        if name not in stat.columns:
            continue
        both = stat[sorted({"original", name})].dropna().reset_index()
        picked = rows[rows["file"].isin(both["file"]) & (rows["kind"] == name)].set_index("file")
        y = (both["label"] != "organic").to_numpy()
        entry: dict[str, Any] = {
            "auc_original": round(roc_auc(y, both["original"].to_numpy(np.float64)), 4),
            "auc_degraded": round(roc_auc(y, both[name].to_numpy(np.float64)), 4),
            "per_label": {},
        }
        for label, g in both.groupby("label"):
            up = (g[name] > threshold).to_numpy()
            band_limited = picked.loc[g["file"], "band_limited"].to_numpy(bool)
            noisy = picked.loc[g["file"], "noisy"].to_numpy(bool)
            reverberant = picked.loc[g["file"], "reverberant"].to_numpy(bool)
            blocked = band_limited | noisy | reverberant
            floor = picked.loc[g["file"], "speech_to_floor_db"]
            decay = picked.loc[g["file"], "steepest_decay_db"]
            entry["per_label"][label] = {
                "n": len(g),
                "above_threshold_original": round(float((g["original"] > threshold).mean()), 4),
                "above_threshold_degraded": round(float(up.mean()), 4),
                "median_statistic_shift": round(float((g[name] - g["original"]).median()), 3),
                "called_band_limited": round(float(band_limited.mean()), 4),
                "speech_to_floor_db_median": round(float(floor.median()), 1),
                "called_noisy": round(float(noisy.mean()), 4),
                "steepest_decay_db_median": round(float(decay.median()), 1),
                "called_reverberant": round(float(reverberant.mean()), 4),
                **(
                    {"dry_voice_share": round(float(picked.loc[g["file"], "dry_voice"].mean()), 4)}
                    if "dry_voice" in picked.columns
                    else {}
                ),
                "inconclusive_by_signal_checks": round(float(blocked.mean()), 4),
                # what analyze would still call synthetic: above threshold, passing the checks
                "synthetic_verdicts": round(float((up & ~blocked).mean()), 4),
            }
        kept = rows[rows["file"].isin(both["file"]) & rows["kind"].isin(["original", name])]
        entry["descriptor_medians"] = {
            f"{label}/{kind}": {
                k: round(float(v), 3) for k, v in g[list(DESCRIPTORS)].median().items()
            }
            for (label, kind), g in kept.groupby(["label", "kind"])
        }
        out["conditions"][name] = entry
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--libri", type=int, default=None, help="LibriSpeech files per subset")
    ap.add_argument("--jobs", type=int, default=1, help="recordings processed in parallel")
    ap.add_argument("--conditions", default="", help="comma-separated subset of the conditions")
    ap.add_argument(
        "--rows", type=Path, default=None, help="keep the per-recording rows here (Parquet)"
    )
    ap.add_argument("--from-rows", type=Path, default=None, help="summarise rows kept by --rows")
    ap.add_argument(
        "--remeasure",
        type=Path,
        default=None,
        help="rows kept by --rows: make the copies again and take every signal measure again "
        "(checked equal where the rows have it; statistics kept, the analysis is not run), "
        "then summarise; with --rows the updated rows are kept there",
    )
    ap.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="score this reference's calibrations instead of the packaged ones (with a "
        "dry-voice model: the gated pair)",
    )
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    names = list(conditions())
    if args.conditions:
        asked = [c.strip() for c in args.conditions.split(",") if c.strip()]
        unknown = sorted(set(asked) - set(names))
        if unknown:
            sys.exit(f"unknown conditions {unknown}; choose from {names}")
        names = asked
    cal, voice = shipped_calibrations(args.reference)
    model = DescriptorModel.from_dict(cal.model)
    voice_model = None if voice is None else DescriptorModel.from_dict(voice.model)
    items = corpus_items(librispeech_per_subset=args.libri)
    t0 = time.time()
    if args.from_rows is not None and args.remeasure is not None:
        sys.exit("give --from-rows or --remeasure, not both")
    if args.from_rows is not None:
        rows = pd.read_parquet(args.from_rows)
        names = [n for n in names if n in set(rows["kind"])]
    elif args.remeasure is not None:
        from joblib import Parallel, delayed

        kept = pd.read_parquet(args.remeasure)
        names = [n for n in names if n in set(kept["kind"])]
        by_file = dict(iter(kept.groupby("file", sort=False)))
        todo = [it for it in items if it.key in by_file]
        per_item = Parallel(n_jobs=args.jobs, verbose=5 if args.jobs > 1 else 0)(
            delayed(remeasured_rows)(item, by_file[item.key], names) for item in todo
        )
        rows = pd.DataFrame([r for rs in per_item for r in rs])[
            list(dict.fromkeys([*kept.columns, *SIGNAL_MEASURES]))
        ]
        if len(rows) != len(kept):
            sys.exit(f"{len(kept)} kept rows, {len(rows)} remeasured: the corpus changed")
        if args.rows is not None:
            rows.to_parquet(args.rows)
    else:
        from joblib import Parallel, delayed

        per_item = Parallel(n_jobs=args.jobs, verbose=5 if args.jobs > 1 else 0)(
            delayed(recording_rows)(item, model, names, voice_model) for item in items
        )
        rows = pd.DataFrame([r for rs in per_item for r in rs])
        if args.rows is not None:
            rows.to_parquet(args.rows)
    kept_rows = args.from_rows is not None or args.remeasure is not None
    if kept_rows and voice is None:
        # the kept statistics came from the model of the run that made the rows; score the
        # kept descriptors with the model whose threshold is used (until session 31 the
        # statistics were kept, and a recalibrated reference was silently mixed with them)
        rows = rescored(rows, model)
    threshold = cal.threshold
    if voice is not None:
        if "statistic_dry_voice" not in rows.columns:
            sys.exit(
                "these rows were kept without the dry-voice statistic; run without --from-rows"
            )
        rows = shipped_statistic(rows, cal, voice)
        threshold = 0.0
    figures = summarise(rows, threshold, names)
    figures["statistic"] = (
        "four-descriptor dynamics statistic"
        if voice is None
        else "gated dynamics log-odds (the dry-voice model where the recording is dry, "
        "else the four descriptors; bench_detection.gated_log_odds)"
    )
    if args.from_rows is None and args.remeasure is None:
        figures["seconds"] = round(time.time() - t0, 1)
    figures["n_recordings"] = len(items)
    params = {
        "settings": SETTINGS,
        "conditions": names,
        "codec_settings": {k: list(v) for k, v in CODEC_SETTINGS.items()},
        "librispeech_per_subset": args.libri,
        "room_tone_donors": room_tone_summary() if "room_tone_lj" in names else None,
        # summarised from rows kept by an earlier run (its statistics and signal measures)
        "from_rows": None if args.from_rows is None else str(args.from_rows),
        # rows kept by an earlier run, their signal measures taken again
        "remeasured_rows": None if args.remeasure is None else str(args.remeasure),
        "reference": None if args.reference is None else str(args.reference),
        # kept rows: their statistics recomputed from their descriptors by the model used
        "statistic_recomputed": kept_rows and voice is None,
    }
    emit_result("degradations", figures, params, write=not args.no_json)


def rescored(rows: pd.DataFrame, model: DescriptorModel) -> pd.DataFrame:
    """``rows`` with ``statistic`` recomputed by ``model`` from the descriptors they keep."""
    missing = [n for n in model.names if n not in rows.columns]
    if missing:
        sys.exit(f"the kept rows lack the descriptor(s) {missing}; run without --from-rows")
    return rows.assign(statistic=model.statistic(rows[list(model.names)]))


if __name__ == "__main__":
    # run the importable module, not __main__, so worker processes find
    # recording_rows and the per-process room-tone donor cache by reference
    # (a functools.cache wrapper defined in __main__ cannot be sent to them)
    import bench_degradations

    bench_degradations.main()
