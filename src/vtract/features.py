"""The feature table: one tidy row per (bigram window, tube section).

:func:`extract_features` cuts the bigram windows of a recording
(:mod:`vtract.windows`), estimates a vocal tract per window
(:func:`vtract.tract.estimate_tracts`) and lays the result out as a pandas
DataFrame with the columns of :data:`FEATURE_COLUMNS`:

========================  =====================================================
``file``, ``sha256``      evidence path (as given) and SHA-256 of its bytes
``speaker``, ``label``    speaker id (``""`` unknown); ``"organic"``,
                          ``"synthetic"`` or ``""``
``bigram``                ARPAbet bigram ``"AH-N"``; ``bigram_ipa`` ``"ʌ-n"``
``phone1``, ``phone2``    the phones; ``class1``, ``class2`` their classes
                          (:func:`vtract.alignment.labels.phone_class`)
``word``                  word of the bigram (``""`` across words)
``boundary_s``            phone boundary (s)
``window_index``          0 = window centred on the boundary, negative before
``offset_s``              window centre minus boundary (s)
``window_start_s/end_s``  window span (s)
``section``               0 = glottis ... ``n_sections - 1`` = lips
``n_sections``            sections per window in the table (see below)
``n_sections_native``     sections of the estimate before resampling
``area_cm2``              area of that section (cm^2)
``length_cm``             tract length of the window's estimate (cm)
``fit_error_db``          estimator fit error (dB, ``nan`` if not fitted)
``f1_hz .. f3_hz``        formants of the estimate (``nan`` when missing)
``method``                estimator name
``shimmer_local``         Praat's local shimmer of the whole recording
                          (:func:`vtract.voice_source.voice_perturbation`;
                          ``nan`` when undefined), on every row; only with
                          ``extract_features(..., voice_source=True)``
                          (since 27 Nov 2026)
``extraction``            how the table was measured: JSON of
                          :func:`measurement_settings` (rate, window,
                          overlap, policy, sections, cross-word bigrams,
                          analysis high-pass cutoff), on every row; written
                          by :func:`extract_features` since 28 Nov 2026
========================  =====================================================

``shimmer_local`` and ``extraction`` are the recording-level columns
(:data:`RECORDING_COLUMNS`): they are optional, so tables without them read
as before. The ``log_shimmer`` descriptor (used only by calibrations made
with ``--with-shimmer``) is undefined without ``shimmer_local``; without
``extraction`` a table cannot be checked against the settings of the
reference it is calibrated into (:func:`vtract.detect.labelled.check_measured_like`
then warns).

Window-level values (length, fit error, formants) repeat on every section
row of a window; select ``section == 0`` for one row per window.

Sections. The ``"paper"`` estimator always has 15 sections, but estimators
that tie the number of sections to the estimated tract length (``N = 2 L
fs / c``: ``"lpc"``, ``"default"``, ``"lpc-refined"``) give different counts from window to
window, so "section k" would not mean the same place along the tract. The
table therefore resamples every area function onto ``sections`` equal
sections of the relative glottis-to-lips axis (default
:data:`DEFAULT_SECTIONS` = 15, the published count, which leaves the paper
estimator's areas untouched): each output section takes the
length-weighted geometric mean of the input sections it overlaps
(:func:`resample_areas`). ``sections=None`` keeps the native sections.

Estimator. Feature tables default to :data:`DETECTION_METHOD`
(``"lpc-refined"``), the estimator the detector and the shipped reference
are built on, not to :func:`vtract.estimate_tract`'s default (the most
accurate shapes; see :mod:`vtract.tract.default` for why the two differ).

Filtering. Before the windows are cut, the whole recording goes through
the analysis high-pass (:mod:`vtract.tract.highpass`: zero-phase, 80 Hz) for
every estimator except ``"paper"``: content below every tract resonance
(mains hum, rumble) otherwise dominates the quiet windows and moves their
estimates. ``highpass_hz`` overrides the cutoff (``0`` = none).

Windows the estimator refuses (a silent stop closure, say) are left out;
their number is in ``df.attrs["failed_windows"]``.
:func:`normalise_by_speaker` adds speaker-normalised columns. Tables are
stored as Parquet (:func:`write_features` writes atomically).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .alignment.labels import phone_class, to_ipa
from .alignment.model import Alignment
from .errors import EstimationError, InputFileError, VtractError
from .evidence import Evidence
from .provenance import path_text
from .tract.highpass import analysis_highpass_hz, highpass
from .tract.result import TractEstimate
from .voice_source import voice_perturbation
from .windows import (
    PUBLISHED_OVERLAP,
    PUBLISHED_WINDOW,
    BigramWindows,
    Policy,
    iter_bigram_windows,
    samples_at,
)

__all__ = [
    "DEFAULT_SECTIONS",
    "DETECTION_METHOD",
    "FEATURE_COLUMNS",
    "FEATURE_DTYPES",
    "FIXED_MEASUREMENT_SETTINGS",
    "NORMALISED_COLUMNS",
    "RECORDING_COLUMNS",
    "FeatureTableError",
    "analysis_signal",
    "empty_features",
    "estimate_windows",
    "extract_features",
    "features_from_estimates",
    "measurement_settings",
    "normalise_by_speaker",
    "read_features",
    "resample_areas",
    "speaker_key",
    "window_rows",
    "write_features",
]

#: Column name -> pandas dtype of a feature table.
FEATURE_DTYPES: dict[str, str] = {
    "file": "str",
    "sha256": "str",
    "speaker": "str",
    "label": "str",
    "bigram": "str",
    "bigram_ipa": "str",
    "phone1": "str",
    "phone2": "str",
    "class1": "str",
    "class2": "str",
    "word": "str",
    "boundary_s": "float64",
    "window_index": "int64",
    "offset_s": "float64",
    "window_start_s": "float64",
    "window_end_s": "float64",
    "section": "int64",
    "n_sections": "int64",
    "n_sections_native": "int64",
    "area_cm2": "float64",
    "length_cm": "float64",
    "fit_error_db": "float64",
    "f1_hz": "float64",
    "f2_hz": "float64",
    "f3_hz": "float64",
    "method": "str",
}
#: Sections per window in a feature table (the published estimator's count).
DEFAULT_SECTIONS = 15
#: Estimator of feature tables, references and the detector (``"lpc-refined"``).
DETECTION_METHOD = "lpc-refined"
#: :func:`extract_features` estimates the windows of consecutive bigrams together, about
#: this many at a time (fewer estimator calls; memory stays bounded on long recordings).
ESTIMATION_CHUNK_FRAMES = 256
#: Columns of a feature table, in order.
FEATURE_COLUMNS: tuple[str, ...] = tuple(FEATURE_DTYPES)
#: Optional recording-level columns (one value repeated on every row) that
#: :func:`extract_features` adds to a non-empty table.
RECORDING_COLUMNS: tuple[str, ...] = ("shimmer_local", "extraction")
#: Settings of :func:`measurement_settings` that :func:`vtract.analyze` always takes
#: from the reference; ``cross_word`` is not among them, because ``analyze`` takes
#: bigrams across words in a recording whose alignment has no word intervals.
FIXED_MEASUREMENT_SETTINGS: tuple[str, ...] = (
    "sr",
    "window",
    "overlap",
    "policy",
    "sections",
    "highpass_hz",
)
#: Columns added by :func:`normalise_by_speaker`.
NORMALISED_COLUMNS: tuple[str, ...] = ("log_area", "area_norm", "log_area_norm", "length_norm")


class FeatureTableError(VtractError):
    """A feature table is malformed (missing columns, wrong types, unreadable)."""


@functools.cache
def _overlap_weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` share of each output section covered by each input section."""
    edges_in = np.arange(n_in + 1) / n_in
    edges_out = np.arange(n_out + 1) / n_out
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    w = np.clip(hi - lo, 0.0, None) * n_out
    w /= w.sum(axis=1, keepdims=True)
    w.setflags(write=False)
    return w


def resample_areas(areas: np.ndarray, n_out: int) -> np.ndarray:
    """Resample an area function onto ``n_out`` equal sections of the same tract.

    Parameters
    ----------
    areas : numpy.ndarray
        Areas (cm^2) of equal-length sections, glottis to lips, all > 0.
    n_out : int
        Number of output sections.

    Returns
    -------
    numpy.ndarray
        ``n_out`` areas; output section ``j`` is the geometric mean of the
        input areas weighted by their overlap with ``[j / n_out, (j + 1) /
        n_out]`` of the relative tract axis. Identity when the counts match.
    """
    a = np.asarray(areas, dtype=np.float64)
    if a.ndim != 1 or a.size < 1:
        raise FeatureTableError(f"areas must be a non-empty 1-D array, got shape {a.shape}")
    if int(n_out) < 1:
        raise FeatureTableError(f"n_out must be >= 1, got {n_out}")
    if a.size == int(n_out):
        return a.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(_overlap_weights(a.size, int(n_out)) @ np.log(a))


def _bigram_chunks(
    windows: Iterable[BigramWindows], frames_per_chunk: int
) -> Iterator[list[BigramWindows]]:
    """Consecutive bigrams in groups of at least ``frames_per_chunk`` frames (the last fewer)."""
    chunk: list[BigramWindows] = []
    n_frames = 0
    for bw in windows:
        chunk.append(bw)
        n_frames += len(bw.frames)
        if n_frames >= frames_per_chunk:
            yield chunk
            chunk, n_frames = [], 0
    if chunk:
        yield chunk


def empty_features() -> pd.DataFrame:
    """A feature table with no rows and the right columns and dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in FEATURE_DTYPES.items()})


def estimate_windows(
    windows: Sequence[BigramWindows], *, method: str = DETECTION_METHOD, **estimator_options: Any
) -> list[list[TractEstimate | None]]:
    """Estimate a vocal tract for every window of every bigram.

    Parameters
    ----------
    windows : sequence of BigramWindows
        Output of :func:`vtract.windows.bigram_windows`.
    method : str, default :data:`DETECTION_METHOD` (``"lpc-refined"``)
        Estimator (:func:`vtract.tract.estimate_tracts`).
    **estimator_options
        Passed to the estimator.

    Returns
    -------
    list of list of (TractEstimate or None)
        One list per bigram, one entry per window; ``None`` where the
        estimator refused the window (:class:`~vtract.errors.EstimationError`,
        e.g. a silent closure). Bad options still raise.

    Notes
    -----
    When the bigrams share a frame length and rate, all their windows are
    estimated in one call (each window's estimate does not depend on the
    others; ``tests/test_features.py`` checks that the estimates equal one
    call per bigram). If that call refuses a window, the bigrams are
    estimated one by one, and the frames of a refusing bigram one by one.
    """
    from .tract import estimate_tract, estimate_tracts

    windows = list(windows)
    widths = {bw.frames.shape[1:] for bw in windows}
    rates = {bw.sr for bw in windows}
    if len(windows) > 1 and len(widths) == 1 and len(rates) == 1:
        # one call for all the bigrams' frames (the per-call cost is a third of the work
        # on short bigrams); when a window is refused, bigram by bigram below
        try:
            together = list(
                estimate_tracts(
                    np.concatenate([bw.frames for bw in windows]),
                    windows[0].sr,
                    method=method,
                    **estimator_options,
                )
            )
        except EstimationError:
            pass
        else:
            bounds = np.cumsum([0, *(len(bw.frames) for bw in windows)])
            return [list(together[a:b]) for a, b in itertools.pairwise(bounds)]
    out: list[list[TractEstimate | None]] = []
    for bw in windows:
        try:
            out.append(list(estimate_tracts(bw.frames, bw.sr, method=method, **estimator_options)))
            continue
        except EstimationError:
            pass
        row: list[TractEstimate | None] = []
        for frame in bw.frames:
            try:
                row.append(estimate_tract(frame, bw.sr, method=method, **estimator_options))
            except EstimationError as exc:
                if _is_option_error(str(exc)):
                    raise
                row.append(None)
        out.append(row)
    return out


def _is_option_error(message: str) -> bool:
    """True for estimator errors about its settings (raised, never skipped).

    Matches the option messages of :func:`vtract.tract.estimate_tract`
    (``"method is ..."``, ``"n_sections is ..."`` ...).
    """
    return any(
        word in message for word in ("method is", "n_sections is", "length_cm is", "solver is")
    )


def window_rows(
    bw: BigramWindows,
    estimates: Sequence[TractEstimate | None],
    *,
    sections: int | None = DEFAULT_SECTIONS,
    per_section: bool = True,
) -> dict[str, Any]:
    """Columns (without the file-level ones) for the windows of one bigram.

    ``None`` estimates are skipped; ``sections`` as in :func:`extract_features`.
    With ``per_section=False`` the window-level columns hold one value per
    window (lists), ``area_cm2`` one area array per window and ``section``
    is left out: the compact form the feature table is built from.
    """
    if len(estimates) != bw.n_windows:
        raise FeatureTableError(
            f"bigram {bw.bigram} at {bw.boundary_s:.3f} s has {bw.n_windows} windows but "
            f"{len(estimates)} estimates"
        )
    c1, c2 = phone_class(bw.phone1), phone_class(bw.phone2)
    ipa = f"{to_ipa(bw.phone1)}-{to_ipa(bw.phone2)}"
    cols: dict[str, list[Any]] = {
        c: [] for c in FEATURE_COLUMNS if c not in ("file", "sha256", "speaker", "label")
    }
    for i, est in enumerate(estimates):
        if est is None:
            continue
        native = np.asarray(est.areas, dtype=np.float64)
        areas = native if sections is None else resample_areas(native, sections)
        n = areas.shape[0]
        f = np.asarray(est.formants_hz, dtype=np.float64)
        fk = [float(f[j]) if f.shape[0] > j else np.nan for j in range(3)]
        per_window = {
            "bigram": bw.bigram,
            "bigram_ipa": ipa,
            "phone1": bw.phone1,
            "phone2": bw.phone2,
            "class1": c1,
            "class2": c2,
            "word": bw.word,
            "boundary_s": bw.boundary_s,
            "window_index": int(bw.window_index[i]),
            "offset_s": float(bw.offsets_s[i]),
            "window_start_s": float(bw.window_start_s[i]),
            "window_end_s": float(bw.window_end_s[i]),
            "n_sections": n,
            "n_sections_native": int(native.shape[0]),
            "length_cm": float(est.length_cm),
            "fit_error_db": float(est.fit_error_db),
            "f1_hz": fk[0],
            "f2_hz": fk[1],
            "f3_hz": fk[2],
            "method": str(est.method),
        }
        if not per_section:
            for key, value in per_window.items():
                cols[key].append(value)
            cols["area_cm2"].append(areas)
            continue
        for key, value in per_window.items():
            cols[key].extend([value] * n)
        cols["section"].extend(range(n))
        cols["area_cm2"].extend(areas.tolist())
    if not per_section:
        del cols["section"]
        return cols
    return {k: np.asarray(v) for k, v in cols.items()}


def features_from_estimates(
    windows: Sequence[BigramWindows],
    estimates: Sequence[Sequence[TractEstimate | None]],
    *,
    file: str = "",
    sha256: str = "",
    speaker: str = "",
    label: str = "",
    sections: int | None = DEFAULT_SECTIONS,
) -> pd.DataFrame:
    """Lay out estimates already computed for bigram windows as a feature table.

    Parameters
    ----------
    windows : sequence of BigramWindows
        The bigrams.
    estimates : sequence of sequences of (TractEstimate or None)
        ``estimates[i][j]`` belongs to window ``j`` of bigram ``i``; ``None``
        (a refused window) is left out.
    file, sha256, speaker, label : str
        File-level columns.
    sections : int or None, default 15
        Resample every area function to this many sections (``None``: native).

    Returns
    -------
    pandas.DataFrame
        The feature table (:data:`FEATURE_COLUMNS`); ``attrs["failed_windows"]``
        counts the ``None`` estimates.
    """
    if len(windows) != len(estimates):
        raise FeatureTableError(f"{len(windows)} bigrams but {len(estimates)} lists of estimates")
    return _table(
        zip(windows, estimates),
        file=file,
        sha256=sha256,
        speaker=speaker,
        label=label,
        sections=sections,
    )


#: Columns holding one value per window (repeated on every section row of it).
_WINDOW_COLUMNS: tuple[str, ...] = tuple(
    c
    for c in FEATURE_COLUMNS
    if c not in ("file", "sha256", "speaker", "label", "section", "area_cm2")
)


def _table(
    bigrams: Iterable[tuple[BigramWindows, Sequence[TractEstimate | None]]],
    *,
    file: str,
    sha256: str,
    speaker: str,
    label: str,
    sections: int | None,
) -> pd.DataFrame:
    """Feature table from ``(windows, estimates)`` of each bigram, consumed one at a time.

    Holds one value per window (not per row) until the end and builds each
    column once, so neither the bigrams' frames and estimates nor per-row
    Python objects accumulate; the values are those of :func:`window_rows`.
    """
    _check_label(label)
    if sections is not None and int(sections) < 1:
        raise FeatureTableError(f"sections must be >= 1 or None, got {sections}")
    per_window: dict[str, list[Any]] = {c: [] for c in _WINDOW_COLUMNS}
    areas: list[np.ndarray] = []
    failed = 0
    for bw, ests in bigrams:
        failed += sum(1 for e in ests if e is None)
        cols = window_rows(bw, ests, sections=sections, per_section=False)
        for key, values in cols.items():
            if key == "area_cm2":
                areas.extend(values)
            else:
                per_window[key].extend(values)
    if not areas:
        df = empty_features()
        df.attrs["failed_windows"] = int(failed)
        return df
    counts = np.asarray(per_window["n_sections"], dtype=np.int64)
    rows = np.repeat(np.arange(counts.size), counts)  # window of each row
    n = int(rows.size)
    first = np.cumsum(counts) - counts
    data: dict[str, Any] = {}
    # a name that is not UTF-8 goes into the text column with visible \xNN escapes
    file = path_text(file)
    for c, value in (("file", file), ("sha256", sha256), ("speaker", speaker), ("label", label)):
        data[c] = pd.array([value], dtype=FEATURE_DTYPES[c]).take(np.zeros(n, dtype=np.intp))
    for c in _WINDOW_COLUMNS:
        values = per_window.pop(c)
        if FEATURE_DTYPES[c] == "str":
            data[c] = pd.array(values, dtype="str").take(rows)
        else:
            data[c] = np.asarray(values).astype(FEATURE_DTYPES[c], copy=False)[rows]
    data["section"] = np.arange(n, dtype=np.int64) - first[rows]
    data["area_cm2"] = np.concatenate(areas).astype(np.float64, copy=False)
    del areas
    df = pd.DataFrame(data, columns=list(FEATURE_COLUMNS), copy=False).astype(FEATURE_DTYPES)
    df.attrs["failed_windows"] = int(failed)
    return df


def measurement_settings(
    *,
    sr: int | None,
    window: int,
    overlap: int,
    policy: str,
    sections: int | None,
    cross_word: bool,
    highpass_hz: float,
) -> dict[str, Any]:
    """How a feature table was measured, as a reference records it.

    The keys are those of ``settings["extract_features"]`` in a
    :class:`vtract.Reference` (:func:`vtract.corpus.extraction_settings`),
    so a table's ``extraction`` column and a reference's record compare key
    by key.

    Parameters
    ----------
    sr : int or None
        Working rate (Hz; ``None``: the evidence's own).
    window, overlap : int
        Window and overlap (samples at 16 kHz, :func:`vtract.windows.window_geometry`).
    policy : str
        Window placement (:func:`vtract.windows.bigram_windows`).
    sections : int or None
        Sections per window in the table.
    cross_word : bool
        Whether bigrams were also taken across word boundaries.
    highpass_hz : float
        The analysis high-pass cutoff actually run (Hz; 0: none).

    Returns
    -------
    dict
    """
    return {
        "sr": None if sr is None else int(sr),
        "window": int(window),
        "overlap": int(overlap),
        "policy": str(policy),
        "sections": None if sections is None else int(sections),
        "cross_word": bool(cross_word),
        "highpass_hz": float(highpass_hz),
    }


def analysis_signal(
    evidence: Evidence,
    sr: int | None,
    *,
    method: str = DETECTION_METHOD,
    highpass_hz: float | None = None,
) -> tuple[Evidence | np.ndarray, int | None]:
    """What :func:`extract_features` cuts its windows from, and at which rate.

    Parameters
    ----------
    evidence : Evidence
        The recording.
    sr : int or None
        Working rate (``None``: the evidence's own).
    method : str, default :data:`DETECTION_METHOD`
        Estimator; sets the default cutoff.
    highpass_hz : float, optional
        As :func:`extract_features`: the analysis high-pass cutoff, ``0`` for
        none, by default :func:`vtract.tract.highpass.analysis_highpass_hz`.

    Returns
    -------
    signal : Evidence or numpy.ndarray
        The evidence itself when no filter applies, else the high-passed
        samples at the working rate.
    rate : int or None
        The rate to cut ``signal`` at (``sr`` for the evidence itself).

    Raises
    ------
    FeatureTableError
        A negative or non-finite ``highpass_hz``.
    """
    cutoff = analysis_highpass_hz(method) if highpass_hz is None else float(highpass_hz)
    if not (np.isfinite(cutoff) and cutoff >= 0):
        raise FeatureTableError(f"highpass_hz must be >= 0 (0 = no filter), got {highpass_hz}")
    if cutoff == 0:
        return evidence, sr
    x, rate = samples_at(evidence, sr)
    return highpass(x, rate, cutoff), rate


def extract_features(
    evidence: Evidence,
    alignment: Alignment,
    *,
    method: str = DETECTION_METHOD,
    speaker: str = "",
    label: str = "",
    file: str | None = None,
    sr: int | None = 16000,
    sections: int | None = DEFAULT_SECTIONS,
    cross_word: bool = False,
    policy: Policy = "centred",
    window: int = PUBLISHED_WINDOW,
    overlap: int = PUBLISHED_OVERLAP,
    highpass_hz: float | None = None,
    voice_source: bool = False,
    **estimator_options: Any,
) -> pd.DataFrame:
    """Feature table of one recording: bigram windows -> tract estimates -> rows.

    Parameters
    ----------
    evidence : Evidence
        The recording.
    alignment : Alignment
        Its phones and words.
    method : str, default :data:`DETECTION_METHOD` (``"lpc-refined"``)
        Estimator (:func:`vtract.tract.estimate_tracts`).
    speaker : str, default ""
        Speaker id (``""`` when unknown).
    label : {"", "organic", "synthetic"}
        Ground-truth label, if known.
    file : str, optional
        Value of the ``file`` column (default: the evidence path); a name that
        is not UTF-8 is written as :func:`vtract.provenance.path_text` does.
    sr : int or None, default 16000
        Working rate; the evidence is resampled to it (``None`` keeps its
        rate). Window sizes scale with it (:func:`vtract.windows.window_geometry`).
    sections : int or None, default 15
        Sections per window in the table (module docstring); ``None`` keeps
        the estimator's own.
    cross_word, policy, window, overlap
        Window options (:func:`vtract.windows.bigram_windows`).
    highpass_hz : float, optional
        Cutoff of the zero-phase high-pass run over the whole recording (at
        the working rate) before the windows are cut
        (:func:`vtract.tract.highpass.highpass`); ``0`` for none. By default
        :func:`vtract.tract.highpass.analysis_highpass_hz` of ``method``: 80 Hz, none
        for ``"paper"``. The evidence itself is not changed.
    voice_source : bool, default False
        Also measure the recording's voice shimmer (the ``shimmer_local`` column,
        :func:`vtract.voice_source.voice_perturbation`, on the evidence as
        loaded). Off by default: it costs about 0.03 s of CPU per second of
        audio, and only a calibration made with ``--with-shimmer`` uses it.
    **estimator_options
        Passed to the estimator.

    Returns
    -------
    pandas.DataFrame
        The feature table (empty, with the right columns, when the recording
        has no usable bigram); when it is not empty, with the ``extraction``
        column (:func:`measurement_settings` as JSON) and, when
        ``voice_source`` is true, ``shimmer_local``.
    """
    if not isinstance(evidence, Evidence):
        raise FeatureTableError(f"expected vtract Evidence, got {type(evidence).__name__}")
    # measured first, so that Praat's copy of the samples is gone before the table grows
    shimmer = (
        voice_perturbation(evidence.samples, evidence.sr).shimmer_local if voice_source else None
    )
    source, rate = analysis_signal(evidence, sr, method=method, highpass_hz=highpass_hz)
    windows = iter_bigram_windows(
        source,
        rate,
        alignment,
        cross_word=cross_word,
        window=window,
        overlap=overlap,
        policy=policy,
    )
    # a few bigrams at a time: their frames and estimates are dropped once laid out
    estimated = (
        (bw, ests)
        for chunk in _bigram_chunks(windows, ESTIMATION_CHUNK_FRAMES)
        for bw, ests in zip(
            chunk, estimate_windows(chunk, method=method, **estimator_options), strict=True
        )
    )
    name = file if file is not None else ("" if evidence.path is None else str(evidence.path))
    df = _table(
        estimated,
        file=name,
        sha256=evidence.sha256,
        speaker=speaker,
        label=label,
        sections=sections,
    )
    if len(df) and shimmer is not None:
        df["shimmer_local"] = shimmer
    if len(df):
        cutoff = analysis_highpass_hz(method) if highpass_hz is None else float(highpass_hz)
        settings = measurement_settings(
            sr=sr,
            window=window,
            overlap=overlap,
            policy=policy,
            sections=sections,
            cross_word=cross_word,
            highpass_hz=cutoff,
        )
        df["extraction"] = pd.array([json.dumps(settings, sort_keys=True)], dtype="str").take(
            np.zeros(len(df), dtype=np.intp)
        )
    return df


def speaker_key(df: pd.DataFrame) -> pd.Series:
    """Who a row belongs to: the speaker id, or the file when the speaker is unknown."""
    known = df["speaker"].notna()
    spk = df["speaker"].astype(object).where(known, "").astype(str)
    return spk.where(spk != "", "file:" + df["file"].astype(str))


def normalise_by_speaker(df: pd.DataFrame) -> pd.DataFrame:
    """Add speaker-normalised columns (:data:`NORMALISED_COLUMNS`).

    ``log_area = ln(area_cm2)``; ``area_norm = area_cm2 / m_A`` and
    ``log_area_norm = ln(area_norm)``, where ``m_A`` is the median area over
    all rows (all windows and sections) of the same speaker (the file when
    the speaker is unknown, :func:`speaker_key`); ``length_norm = length_cm /
    m_L`` with ``m_L`` the speaker's median tract length over windows. This
    removes a speaker's overall size (and an estimator's unknown area scale)
    while keeping the shape of each area function.

    Parameters
    ----------
    df : pandas.DataFrame
        Feature table.

    Returns
    -------
    pandas.DataFrame
        A copy with the added columns.
    """
    _check_columns(df)
    out = df.copy()
    key = speaker_key(out)
    area = out["area_cm2"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["log_area"] = np.log(area)
        m_area = (
            out.groupby(key, sort=False)["area_cm2"].transform("median").to_numpy(dtype=np.float64)
        )
        out["area_norm"] = area / m_area
        out["log_area_norm"] = np.log(out["area_norm"].to_numpy(dtype=np.float64))
    first = out["section"] == 0
    m_len = out.loc[first].groupby(key[first], sort=False)["length_cm"].median()
    out["length_norm"] = out["length_cm"].to_numpy(dtype=np.float64) / key.map(m_len).to_numpy(
        dtype=np.float64
    )
    return out


def write_features(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a feature table to Parquet atomically (temp file + rename).

    Parameters
    ----------
    df : pandas.DataFrame
        Feature table (extra columns are kept).
    path : path-like
        Destination ``.parquet`` file.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    _check_columns(df)
    from .output_files import atomic_path

    dest = Path(path)
    with atomic_path(dest) as tmp:
        df.reset_index(drop=True).to_parquet(tmp, index=False)
    return dest


def read_features(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a feature table written by :func:`write_features`.

    Raises
    ------
    InputFileError
        The file does not exist.
    FeatureTableError
        It is not Parquet or lacks feature columns.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"feature table not found: {p}")
    try:
        df = pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise FeatureTableError(f"cannot read feature table {p}: {exc}") from exc
    _check_columns(df, where=str(p))
    try:
        return df.astype(FEATURE_DTYPES)
    except (TypeError, ValueError) as exc:
        raise FeatureTableError(f"feature table {p} has columns of the wrong type: {exc}") from exc


def _check_columns(df: pd.DataFrame, where: str = "feature table") -> None:
    if not isinstance(df, pd.DataFrame):
        raise FeatureTableError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in FEATURE_COLUMNS if c not in df.columns]
    if missing:
        raise FeatureTableError(f"{where} lacks columns {missing}")


def _check_label(label: str) -> None:
    if label not in ("", "organic", "synthetic"):
        raise FeatureTableError(f"label must be '', 'organic' or 'synthetic', got {label!r}")
