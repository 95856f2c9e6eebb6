"""Bigram windows: analysis frames around the boundary of adjacent phones.

Blue et al. (USENIX Security 2022) estimate the vocal tract on windows of
565 samples (16 kHz) overlapping by 115 samples (hop 450), laid on a grid
anchored so that one window is centred on the boundary between two adjacent
phones of a word (a *bigram*), and extend the grid backwards into the first
phone and forwards into the second (authors' code,
``construct_uniform_windows_ph``).

Geometry (both policies)
------------------------
With window length ``n`` and hop ``h`` (both scaled from the 16 kHz values
to the working rate ``sr``: ``n = round(565 sr / 16000)``,
``h = n - round(115 sr / 16000)``) and boundary sample ``b =
round(boundary_s * sr)``, window ``k`` (``k = 0`` centred, negative before
the boundary, positive after) covers samples ``[b - n // 2 + k h,
b - n // 2 + k h + n)``. At 16 kHz the centred window is ``[b - 282,
b + 283)``: its middle sample (index 282) is the boundary sample, exactly as
published. Windows that would reach outside the audio are never produced.

Policies
--------
``"published"`` reproduces the authors' code: windows ``k <= 0`` are kept
while their first sample lies strictly after the first phone's start, and
windows ``k > 0`` while their last sample lies strictly before the second
phone's end. Edge cases of that rule: (1) when the first phone is shorter
than half a window (282 samples, 17.6 ms) the *boundary window itself* is
dropped, so short first phones (stop bursts, flaps, many unstressed vowels)
contribute no boundary window at all and, when the second phone is short
too, the bigram gets no window; (2) the boundary window is checked against
the first phone only, so it may run past the end of the second phone; (3)
the authors number windows by list position, so ``window_index`` 0 is the
boundary window only when no earlier window exists. (3) is fixed in both
policies here: ``window_index`` is always relative to the boundary window.

``"centred"`` (default, the fix): the boundary window ``k = 0`` is always
kept (when it lies inside the audio), because the transition it measures is
the point of a bigram; every other window is kept only when it lies entirely
inside the bigram span ``[start of phone 1, end of phone 2]``. Every adjacent
phone pair therefore yields at least one window, centred on its boundary,
and off-centre windows never mix in a third phone.

Pairs
-----
Adjacent phones (the second starts within :data:`ADJACENCY_TOLERANCE_S` of
the end of the first) that are both speech phones (one of the 39 ARPAbet phones of
:mod:`vtract.alignment.labels`: silence, noise and labels the normaliser
could not map are skipped) and belong to
the same word (or to any words with ``cross_word=True``). Word membership
comes from the word intervals of the alignment (phone midpoint), so a
repeated word ("that that") stays two words; without word intervals,
consecutive phones with the same non-empty ``word`` text form a word. When
the alignment carries no word information at all (phone-only TextGrids, HTS
labels), word boundaries are unknown and every adjacent speech-phone pair is
used (``word`` is then ``""``). A pair with a phone shorter than
:data:`MIN_PHONE_SECONDS` (half a sample at 16 kHz: a phone that lasts no
sample, such as a zero-length one) is left out: such a phone is no sound, and
its pairs would all be cut from one neighbouring boundary's window
(:func:`pair_census` counts them, and :func:`vtract.analyze` warns).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .alignment.labels import (
    CLASS_SILENCE,
    CLASS_UNKNOWN,
    phone_class,
)
from .alignment.model import Alignment, is_word_label
from .errors import AlignmentError, SampleRateError
from .evidence import Evidence, resample

__all__ = [
    "ADJACENCY_TOLERANCE_S",
    "MIN_PHONE_SECONDS",
    "PUBLISHED_OVERLAP",
    "PUBLISHED_RATE",
    "PUBLISHED_WINDOW",
    "BigramWindows",
    "PairCensus",
    "bigram_pairs",
    "bigram_windows",
    "is_speech_label",
    "iter_bigram_windows",
    "no_pair_reason",
    "pair_census",
    "samples_at",
    "short_phone_warning",
    "window_geometry",
]

#: Rate (Hz) at which the published window sizes are given.
PUBLISHED_RATE = 16000
#: Published window length (samples at 16 kHz).
PUBLISHED_WINDOW = 565
#: Published overlap between consecutive windows (samples at 16 kHz).
PUBLISHED_OVERLAP = 115
#: Largest gap (s) between two phones that still counts as adjacent.
ADJACENCY_TOLERANCE_S = 0.005
#: A phone shorter than this (s: half a sample at :data:`PUBLISHED_RATE`, so it
#: rounds to no sample, while a one-sample phone survives the rounding of its
#: times) is no sound, and pairs with it are left out: zero-length phones, which
#: TextGrids, CSV, HTS and TIMIT files can hold.
MIN_PHONE_SECONDS = 0.5 / PUBLISHED_RATE
#: Labels (lowercase) that denote silence, pauses or non-speech noise.
SILENCE_LABELS = frozenset(
    {
        "",
        "sil",
        "sp",
        "spn",
        "pau",
        "h#",
        "#",
        "noise",
        "nsn",
        "lau",
        "bn",
        "<sil>",
        "<unk>",
        "<s>",
        "</s>",
    }
)

Policy = Literal["centred", "published"]


@dataclass(frozen=True, eq=False)
class BigramWindows:
    """The analysis windows of one phone bigram.

    Attributes
    ----------
    bigram : str
        ARPAbet bigram ``"AH-N"``.
    phone1, phone2 : str
        The two phones.
    word : str
        Word of the bigram (``""`` when it spans two words).
    boundary_s : float
        Phone boundary (s).
    phone1_start_s, phone2_end_s : float
        Span of the bigram (s).
    sr : int
        Rate of :attr:`frames` (Hz).
    frames : numpy.ndarray
        float64 array ``(n_windows, window_len)``, C-contiguous.
    window_index : numpy.ndarray
        int64, 0 = the window centred on the boundary, negative before.
    offsets_s : numpy.ndarray
        Window centre minus boundary (s).
    window_start_s, window_end_s : numpy.ndarray
        Start and end (exclusive) of each window (s).
    start_samples : numpy.ndarray
        int64 first sample of each window at :attr:`sr`.
    """

    bigram: str
    phone1: str
    phone2: str
    word: str
    boundary_s: float
    phone1_start_s: float
    phone2_end_s: float
    sr: int
    frames: np.ndarray
    window_index: np.ndarray
    offsets_s: np.ndarray
    window_start_s: np.ndarray
    window_end_s: np.ndarray
    start_samples: np.ndarray

    @property
    def n_windows(self) -> int:
        """Number of windows."""
        return int(self.frames.shape[0])

    @property
    def start_s(self) -> float:
        """Start of the first window (s)."""
        return float(self.window_start_s[0])

    @property
    def end_s(self) -> float:
        """End of the last window (s)."""
        return float(self.window_end_s[-1])

    @property
    def centres_s(self) -> np.ndarray:
        """Centre time of each window (s)."""
        return self.boundary_s + self.offsets_s


def window_geometry(
    sr: int, *, window: int = PUBLISHED_WINDOW, overlap: int = PUBLISHED_OVERLAP
) -> tuple[int, int]:
    """Window length and hop (samples) at ``sr`` for sizes given at 16 kHz.

    Parameters
    ----------
    sr : int
        Working rate (Hz).
    window, overlap : int
        Window length and overlap in samples at 16 kHz (published: 565, 115).

    Returns
    -------
    (int, int)
        ``(length, hop)`` in samples at ``sr``.
    """
    if int(sr) <= 0:
        raise SampleRateError(f"sample rate must be positive, got {sr}")
    if window < 2 or overlap < 0 or overlap >= window:
        raise ValueError(
            f"window must be >= 2 samples and 0 <= overlap < window, got window={window}, overlap={overlap}"
        )
    n = round(window * sr / PUBLISHED_RATE)
    ov = round(overlap * sr / PUBLISHED_RATE)
    if n < 2 or n - ov < 1:
        raise SampleRateError(f"sample rate {sr} Hz too low for a {window}-sample (16 kHz) window")
    return int(n), int(n - ov)


def is_speech_label(label: str) -> bool:
    """True when ``label`` is one of the 39 ARPAbet phones (not silence, noise or unknown)."""
    return phone_class(str(label)) not in (CLASS_SILENCE, CLASS_UNKNOWN)


@dataclass(frozen=True)
class PairCensus:
    """The bigram pairs of an alignment, and what kept its other phones out of one.

    :func:`pair_census` counts each consecutive phone pair once, under the first
    rule it breaks, in this order: a phone is not speech (silence or noise, or a
    label the normaliser could not map), the two are not adjacent, they lie in
    two words (without ``cross_word``), a phone is shorter than
    :data:`MIN_PHONE_SECONDS`.

    Attributes
    ----------
    pairs : pandas.DataFrame
        The pairs kept (:func:`bigram_pairs`).
    n_phones : int
        Phone intervals of the alignment.
    n_speech_phones : int
        Of them, speech phones (one of the 39 ARPAbet phones).
    n_unknown_phones : int
        Phones whose label the normaliser could not map.
    not_speech : int
        Consecutive pairs with a phone that is not speech.
    not_adjacent : int
        Pairs of speech phones more than :data:`ADJACENCY_TOLERANCE_S` apart.
    across_words : int
        Adjacent pairs in two words, left out without ``cross_word``.
    short_phone : int
        Pairs left out because a phone lasts less than :data:`MIN_PHONE_SECONDS`
        (a zero-length phone is no sound: until session 28 such phones made
        bigrams nobody produced, all cut from one boundary's window, each
        counted as an occurrence).
    """

    pairs: pd.DataFrame
    n_phones: int
    n_speech_phones: int
    n_unknown_phones: int
    not_speech: int
    not_adjacent: int
    across_words: int
    short_phone: int


_PAIR_COLUMNS = [
    "bigram",
    "phone1",
    "phone2",
    "word",
    "phone1_start",
    "boundary",
    "phone2_end",
    "cross_word",
]


def bigram_pairs(alignment: Alignment, *, cross_word: bool = False) -> pd.DataFrame:
    """Adjacent speech-phone pairs of an alignment.

    Parameters
    ----------
    alignment : Alignment
        Phones (and, if present, words) with times.
    cross_word : bool, default False
        Also pair the last phone of a word with the first of the next word
        when they are adjacent (no pause between them).

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``bigram``, ``phone1``, ``phone2``, ``word``
        (``""`` across words), ``phone1_start``, ``boundary``,
        ``phone2_end`` (s), ``cross_word`` (bool), sorted by time. Pairs
        with a phone shorter than :data:`MIN_PHONE_SECONDS` are left out
        (:func:`pair_census` counts them).
    """
    return pair_census(alignment, cross_word=cross_word).pairs


def pair_census(alignment: Alignment, *, cross_word: bool = False) -> PairCensus:
    """The pairs of :func:`bigram_pairs`, with counts of the pairs each rule left out.

    Parameters
    ----------
    alignment : Alignment
        Phones (and, if present, words) with times.
    cross_word : bool, default False
        As for :func:`bigram_pairs`.

    Returns
    -------
    PairCensus
    """
    if not isinstance(alignment, Alignment):
        raise AlignmentError(f"expected a vtract Alignment, got {type(alignment).__name__}")
    phones = alignment.phones
    missing = {"start", "end", "label"} - set(phones.columns)
    if missing:
        raise AlignmentError(f"alignment phones lack columns {sorted(missing)}")
    order = np.argsort(phones["start"].to_numpy(dtype=np.float64), kind="mergesort")
    ph = phones.iloc[order].reset_index(drop=True)
    starts = ph["start"].to_numpy(dtype=np.float64)
    ends = ph["end"].to_numpy(dtype=np.float64)
    labels = [str(x) for x in ph["label"]]
    is_unknown = alignment.unknown_phones()[order]
    speech = np.array([is_speech_label(lab) for lab in labels], dtype=bool) & ~is_unknown
    long_enough = ends - starts >= MIN_PHONE_SECONDS
    counts = dict.fromkeys(("not_speech", "not_adjacent", "across_words", "short_phone"), 0)
    rows = []
    if len(ph) >= 2:
        word_id, word_text = _word_membership(ph, alignment.words)
        for i in range(len(ph) - 1):
            j = i + 1
            if not (speech[i] and speech[j]):
                counts["not_speech"] += 1
                continue
            if abs(starts[j] - ends[i]) > ADJACENCY_TOLERANCE_S:
                counts["not_adjacent"] += 1
                continue
            same_word = word_id[i] >= 0 and word_id[i] == word_id[j]
            if not same_word and not cross_word:
                counts["across_words"] += 1
                continue
            if not (long_enough[i] and long_enough[j]):
                counts["short_phone"] += 1
                continue
            p1, p2 = labels[i], labels[j]
            rows.append(
                {
                    "bigram": f"{p1}-{p2}",
                    "phone1": p1,
                    "phone2": p2,
                    "word": word_text[i] if same_word else "",
                    "phone1_start": float(starts[i]),
                    "boundary": float(0.5 * (ends[i] + starts[j])),
                    "phone2_end": float(ends[j]),
                    "cross_word": not same_word,
                }
            )
    pairs = (
        pd.DataFrame(rows, columns=_PAIR_COLUMNS)
        if rows
        else pd.DataFrame({c: [] for c in _PAIR_COLUMNS})
    )
    return PairCensus(
        pairs=pairs,
        n_phones=len(ph),
        n_speech_phones=int(speech.sum()),
        n_unknown_phones=int(is_unknown.sum()),
        **counts,
    )


def short_phone_warning(census: PairCensus) -> str | None:
    """The report's warning when pairs were left out for a phone too short to be one.

    Parameters
    ----------
    census : PairCensus
        :func:`pair_census` of the alignment analysed.

    Returns
    -------
    str or None
        ``None`` when no pair was left out for that reason.
    """
    if census.short_phone == 0:
        return None
    return (
        f"{census.short_phone} phone pair(s) of the alignment were left out because a phone "
        f"in them lasts no sample at {PUBLISHED_RATE} Hz (less than "
        f"{MIN_PHONE_SECONDS * 1e3:.3g} ms): a zero-length phone is no sound, and its pairs "
        "would be bigrams cut from a neighbouring boundary's window"
    )


def no_pair_reason(census: PairCensus) -> str:
    """Why an alignment gave no bigram pair, in words (for a report's reason).

    Parameters
    ----------
    census : PairCensus
        :func:`pair_census` of an alignment whose ``pairs`` is empty.

    Returns
    -------
    str
        The causes, from the counts of the census: no phones, no speech
        phone (and how many labels were not understood), a single speech
        phone, or how many consecutive pairs each rule left out.
    """
    n, speech, unknown = census.n_phones, census.n_speech_phones, census.n_unknown_phones
    if n == 0:
        return "the alignment has no phones"
    not_understood = f"{unknown} label(s) not understood" if unknown else ""
    if speech == 0:
        if unknown == n:
            return f"none of its {n} phone label(s) was understood as an ARPAbet phone"
        rest = f"; {not_understood}" if unknown else ""
        return f"none of its {n} phone(s) is a speech phone (silence or noise{rest})"
    if speech == 1:
        return f"it has only one speech phone among its {n} phone(s)"
    parts = []
    if census.not_speech:
        what = "silence, noise or a label not understood" if unknown else "silence or noise"
        parts.append(f"{census.not_speech} with a phone that is {what}")
    if census.not_adjacent:
        parts.append(
            f"{census.not_adjacent} not adjacent (more than "
            f"{ADJACENCY_TOLERANCE_S * 1e3:g} ms apart)"
        )
    if census.across_words:
        parts.append(
            f"{census.across_words} spanning two words (bigrams are taken within words unless "
            "cross_word is set)"
        )
    if census.short_phone:
        parts.append(f"{census.short_phone} with a phone that lasts no sample")
    return f"all {n - 1} consecutive phone pair(s) were left out: " + ", ".join(parts)


def _word_membership(phones: pd.DataFrame, words: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Word index (-1 = none) and word text of each phone."""
    n = len(phones)
    ids = np.full(n, -1, dtype=np.int64)
    text = [""] * n
    if words is not None and len(words) and {"start", "end"} <= set(words.columns):
        w = words.sort_values("start", kind="mergesort").reset_index(drop=True)
        ws = w["start"].to_numpy(dtype=np.float64)
        we = w["end"].to_numpy(dtype=np.float64)
        wl = [str(x) for x in w["label"]] if "label" in w.columns else [""] * len(w)
        mid = 0.5 * (
            phones["start"].to_numpy(dtype=np.float64) + phones["end"].to_numpy(dtype=np.float64)
        )
        for i, m in enumerate(mid):
            hit = np.nonzero((ws <= m) & (m < we))[0]
            if hit.size and is_word_label(wl[hit[0]]):
                ids[i] = int(hit[0])
                text[i] = wl[hit[0]].lower()
        return ids, text
    if "word" not in phones.columns or not any(
        is_word_label(str(w)) for w in phones["word"].fillna("")
    ):
        # no word information at all (phone-only TextGrid, HTS labels): boundaries unknown,
        # every adjacent speech-phone pair is used
        return np.zeros(n, dtype=np.int64), text
    current = -1
    previous = None
    for i, word in enumerate(phones["word"]):
        word = "" if word is None or (isinstance(word, float) and np.isnan(word)) else str(word)
        if not is_word_label(word):
            previous = None
            continue
        if word != previous:
            current += 1
        ids[i] = current
        text[i] = word.lower()
        previous = word
    return ids, text


def bigram_windows(
    evidence_or_samples: Evidence | np.ndarray,
    sr: int | None,
    alignment: Alignment,
    *,
    cross_word: bool = False,
    window: int = PUBLISHED_WINDOW,
    overlap: int = PUBLISHED_OVERLAP,
    policy: Policy = "centred",
) -> list[BigramWindows]:
    """Cut the analysis windows of every usable bigram.

    Parameters
    ----------
    evidence_or_samples : Evidence or numpy.ndarray
        The audio. An :class:`~vtract.Evidence` is resampled to ``sr`` when
        its rate differs.
    sr : int or None
        Working rate (Hz). Required for an array; ``None`` uses the
        evidence's rate.
    alignment : Alignment
        Phones (and words) of the recording.
    cross_word : bool, default False
        Also use pairs across word boundaries (no pause between them).
    window, overlap : int
        Window length and overlap in samples at 16 kHz (published: 565,
        115); scaled to ``sr``.
    policy : {"centred", "published"}
        Edge-case rule (see the module docstring).

    Returns
    -------
    list of BigramWindows
        Bigrams in time order; bigrams without any window are left out.
        :func:`iter_bigram_windows` gives the same one bigram at a time.
    """
    return list(
        iter_bigram_windows(
            evidence_or_samples,
            sr,
            alignment,
            cross_word=cross_word,
            window=window,
            overlap=overlap,
            policy=policy,
        )
    )


def iter_bigram_windows(
    evidence_or_samples: Evidence | np.ndarray,
    sr: int | None,
    alignment: Alignment,
    *,
    cross_word: bool = False,
    window: int = PUBLISHED_WINDOW,
    overlap: int = PUBLISHED_OVERLAP,
    policy: Policy = "centred",
) -> Iterator[BigramWindows]:
    """The windows of :func:`bigram_windows`, one bigram at a time.

    Same parameters and the same :class:`BigramWindows`, in the same order;
    only one bigram's frames exist at a time, so a long recording's frames
    (``n_windows x 565`` float64) are never all held at once. The arguments
    are checked when this is called, not when iteration starts.
    """
    if policy not in ("centred", "published"):
        raise ValueError(f"policy must be 'centred' or 'published', got {policy!r}")
    x, rate = samples_at(evidence_or_samples, sr)
    n, hop = window_geometry(rate, window=window, overlap=overlap)
    pairs = bigram_pairs(alignment, cross_word=cross_word)
    return _cut_windows(x, rate, n, hop, pairs, policy)


def _cut_windows(
    x: np.ndarray, rate: int, n: int, hop: int, pairs: pd.DataFrame, policy: Policy
) -> Iterator[BigramWindows]:
    total = x.shape[0]
    for row in pairs.itertuples(index=False):
        starts = _window_starts(
            b=round(row.boundary * rate),
            s1=round(row.phone1_start * rate),
            e2=round(row.phone2_end * rate),
            n=n,
            hop=hop,
            total=total,
            policy=policy,
        )
        if not starts:
            continue
        ks = np.array([k for k, _ in starts], dtype=np.int64)
        st = np.array([s for _, s in starts], dtype=np.int64)
        # float32 -> float64 is exact: converting per frame equals converting the whole signal
        frames = np.ascontiguousarray(np.stack([x[s : s + n] for s in st]), dtype=np.float64)
        centres = (st + (n - 1) / 2.0) / rate
        yield BigramWindows(
            bigram=row.bigram,
            phone1=row.phone1,
            phone2=row.phone2,
            word=row.word,
            boundary_s=float(row.boundary),
            phone1_start_s=float(row.phone1_start),
            phone2_end_s=float(row.phone2_end),
            sr=rate,
            frames=frames,
            window_index=ks,
            offsets_s=centres - float(row.boundary),
            window_start_s=st / rate,
            window_end_s=(st + n) / rate,
            start_samples=st,
        )


def _window_starts(
    *, b: int, s1: int, e2: int, n: int, hop: int, total: int, policy: Policy
) -> list[tuple[int, int]]:
    """``(k, start_sample)`` of the windows kept, ascending in time.

    Window ``k`` starts at ``c0 + k hop`` (``c0``: the window centred on the
    boundary). The kept ``k`` form one range on each side of the boundary,
    computed directly rather than by stepping hop by hop, so a phone that
    ends far past the audio (an alignment in the wrong time unit) costs
    nothing (it took minutes). ``tests/test_windows.py`` checks the ranges
    against the step-by-step loops they replace.
    """
    c0 = b - n // 2
    last = total - n  # latest start inside the audio
    if policy == "published":
        # authors: ``while start < curr_front`` going back from k = 0, ``while end -
        # WINDOW_SIZE > curr_front`` going on from k = 1; windows outside the audio dropped
        before = _k_range(max(s1 + 1, 0), last, c0, hop, k_max=0)
        after = _k_range(0, min(e2 - n - 1, last), c0, hop, k_min=1)
    else:
        centre = [0] if 0 <= c0 <= last else []
        lo, hi = max(s1, 0), min(e2, total) - n  # inside both phones and the audio
        before = centre + [k for k in _k_range(lo, hi, c0, hop, k_max=-1)]
        before.sort()
        after = _k_range(lo, hi, c0, hop, k_min=1)
    return [(k, c0 + k * hop) for k in (*before, *after)]


def _k_range(
    lo: int, hi: int, c0: int, hop: int, *, k_min: int | None = None, k_max: int | None = None
) -> list[int]:
    """The ``k`` (ascending) with ``lo <= c0 + k hop <= hi``, within ``[k_min, k_max]``."""
    first = -((c0 - lo) // hop)  # ceil((lo - c0) / hop)
    stop = (hi - c0) // hop  # floor((hi - c0) / hop)
    if k_min is not None:
        first = max(first, k_min)
    if k_max is not None:
        stop = min(stop, k_max)
    return list(range(first, stop + 1))


def samples_at(
    obj: Evidence | np.ndarray | Sequence[float], sr: int | None
) -> tuple[np.ndarray, int]:
    """Mono samples at the working rate, and that rate.

    Parameters
    ----------
    obj : Evidence or array_like
        An evidence (resampled to ``sr`` when its rate differs) or 1-D
        samples already at ``sr``.
    sr : int or None
        Working rate; ``None`` keeps an evidence's own rate (required for
        arrays).

    Returns
    -------
    samples : numpy.ndarray
        float64, or float32 samples as given (an evidence's own samples or a
        float32 array are not copied: frames are converted one by one).
    rate : int
    """
    if isinstance(obj, Evidence):
        rate = int(sr) if sr is not None else int(obj.sr)
        if rate <= 0:
            raise SampleRateError(f"sample rate must be positive, got {rate}")
        if rate == obj.sr and obj.samples.dtype == np.float32:
            # no float64 copy of the whole recording: frames are converted one by one
            return obj.samples, rate
        x = (
            resample(obj.samples, obj.sr, rate)
            if rate != obj.sr
            else np.asarray(obj.samples, dtype=np.float64)
        )
        return np.ascontiguousarray(x, dtype=np.float64), rate
    if sr is None:
        raise SampleRateError("sr is required when samples are given as an array")
    if int(sr) <= 0:
        raise SampleRateError(f"sample rate must be positive, got {sr}")
    x = np.asarray(obj)
    if x.dtype != np.float32:
        x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected 1-D mono samples, got shape {x.shape}")
    return np.ascontiguousarray(x), int(sr)
