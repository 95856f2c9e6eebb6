"""Organic corpora: find recordings with their phones, turn them into feature tables.

Used by ``vtract reference build`` and ``scripts/build_default_reference.py``.

Where the phones of a recording come from, first match wins
-----------------------------------------------------------
For an audio file ``dir/x.ext`` (any of :data:`AUDIO_SUFFIXES`: ``.wav .flac .mp3
.ogg .m4a ...``):

1. an alignment beside it: ``x.TextGrid``, ``x_phones.TextGrid``,
   ``x_phone.lab`` (HTS), ``x.PHN`` (TIMIT), or ``x.lab`` when it holds
   HTS-style timed labels; a file that cannot be read as an alignment (e.g. a
   TextGrid with words only) is passed over and the reason kept;
2. a transcript, forced-aligned with :func:`vtract.align`: ``x.lab`` /
   ``x.txt`` / ``x.normalized.txt`` holding plain text, or the ``x`` line of a
   ``transcripts.psv`` (``id|text``) in the same folder;
3. only when recognition is allowed: speech recognition followed by
   alignment (``vtract.align(ev, transcript=None)``), recorded as such
   (``phones_from = "recognition"``, alignment marked low-confidence).

A manifest (``.csv``, ``.tsv`` or ``.psv`` with a header) lists recordings
explicitly: column ``path`` (audio, relative to the manifest) and optional
``transcript``, ``alignment`` (path) and ``speaker``.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .errors import InputFileError, VtractError
from .evidence import AUDIO_EXTENSIONS
from .features import DETECTION_METHOD
from .provenance import file_sha256, path_text

__all__ = [
    "AUDIO_SUFFIXES",
    "CorpusError",
    "Recording",
    "corpus_features",
    "drop_duplicate_recordings",
    "find_recordings",
    "read_manifest",
    "recording_features",
]

#: Audio file suffixes picked up in folders (lower case; :data:`vtract.evidence.AUDIO_EXTENSIONS`).
AUDIO_SUFFIXES = tuple(sorted(AUDIO_EXTENSIONS))
_HTS_LINE = re.compile(r"^\s*\d+\s+\d+\s+\S+")
SpeakerRule = Literal["none", "parent", "prefix"]


class CorpusError(VtractError):
    """A corpus folder or manifest cannot be used."""


@dataclass(frozen=True)
class Recording:
    """One organic recording and the ways to get its phones.

    Attributes
    ----------
    audio : pathlib.Path
        Audio file.
    speaker : str
        Speaker id (``""`` unknown: each file is then its own speaker).
    alignments : tuple of pathlib.Path
        Alignment files to try, in order.
    transcript : str or None
        Orthographic transcript for forced alignment.
    recognise : bool
        Allow recognition when nothing else works.
    name : str
        Identifier written into feature tables (default: the audio path, as
        :func:`vtract.provenance.path_text` writes it).
    """

    audio: Path
    speaker: str = ""
    alignments: tuple[Path, ...] = ()
    transcript: str | None = None
    recognise: bool = False
    name: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _speaker(audio: Path, rule: SpeakerRule) -> str:
    if rule == "parent":
        return path_text(audio.parent.name)
    if rule == "prefix":
        return path_text(re.split(r"[-_]", audio.stem, maxsplit=1)[0])
    return ""


def _is_timed_labels(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return False
    return bool(_HTS_LINE.match(first))


def _read_text(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return " ".join(text.split()) or None


def _psv(folder: Path, cache: dict[Path, dict[str, str]]) -> dict[str, str]:
    if folder not in cache:
        table: dict[str, str] = {}
        psv = folder / "transcripts.psv"
        if psv.is_file():
            for line in psv.read_text(encoding="utf-8", errors="replace").splitlines():
                if "|" in line:
                    key, text = line.split("|", 1)
                    table[key.strip()] = text.strip()
        cache[folder] = table
    return cache[folder]


def _describe(
    audio: Path, speaker: str, recognise: bool, cache: dict[Path, dict[str, str]]
) -> Recording:
    d, stem = audio.parent, audio.stem
    alignments: list[Path] = []
    for cand in (
        d / f"{stem}.TextGrid",
        d / f"{stem}_phones.TextGrid",
        d / f"{stem}_phone.lab",
        d / f"{stem}.PHN",
    ):
        if cand.is_file():
            alignments.append(cand)
    lab = d / f"{stem}.lab"
    transcript = None
    if lab.is_file() and _is_timed_labels(lab):
        alignments.append(lab)
    elif lab.is_file():
        transcript = _read_text(lab)
    for cand in (d / f"{stem}.txt", d / f"{stem}.normalized.txt"):
        if transcript is None and cand.is_file():
            transcript = _read_text(cand)
    if transcript is None:
        transcript = _psv(d, cache).get(stem)
    return Recording(
        audio=audio,
        speaker=speaker,
        alignments=tuple(alignments),
        transcript=transcript,
        recognise=recognise,
        name=path_text(audio),
    )


def find_recordings(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    speaker_from: SpeakerRule = "none",
    recognise: bool = False,
) -> list[Recording]:
    """Recordings under folders, manifests or single audio files.

    Parameters
    ----------
    inputs : iterable of path-like
        Folders (searched recursively), manifests (``.csv``/``.tsv``/``.psv``)
        or audio files.
    speaker_from : {"none", "parent", "prefix"}
        Speaker of folder/file inputs: unknown, the parent folder's name, or
        the file name up to the first ``-``/``_`` (LibriSpeech ``61-70968-0000``).
    recognise : bool, default False
        Allow recognition for recordings without alignment or transcript.

    Returns
    -------
    list of Recording
        Sorted by path within each input. Recordings with no way to get phones
        are kept (they are reported as skipped when processed).
    """
    if speaker_from not in ("none", "parent", "prefix"):
        raise CorpusError(
            f"speaker_from must be 'none', 'parent' or 'prefix', got {speaker_from!r}"
        )
    cache: dict[Path, dict[str, str]] = {}
    out: list[Recording] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES
            )
            out += [_describe(f, _speaker(f, speaker_from), recognise, cache) for f in files]
        elif p.is_file() and p.suffix.lower() in (".csv", ".tsv", ".psv"):
            out += read_manifest(p, recognise=recognise)
        elif p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES:
            out.append(_describe(p, _speaker(p, speaker_from), recognise, cache))
        elif p.exists():
            raise CorpusError(f"{p} is neither a folder, a manifest (.csv/.tsv/.psv) nor audio")
        else:
            raise InputFileError(f"input not found: {p}")
    return out


def drop_duplicate_recordings(
    recordings: Sequence[Recording],
) -> tuple[list[Recording], list[dict[str, str]]]:
    """Keep one of each recording: the same file twice, or the same bytes under two names.

    A reference counts windows and speakers; a recording listed twice (the same
    path given twice, overlapping folders, copies under other names) would
    count its windows twice, meet ``min_count`` by repetition and, with no
    speaker given, count as several speakers (hiding the few-speakers
    warning). The first occurrence is kept.

    Parameters
    ----------
    recordings : sequence of Recording
        As :func:`find_recordings` returns them.

    Returns
    -------
    kept : list of Recording
        In the original order.
    dropped : list of dict
        ``{"file", "reason"}`` for each recording left out, naming the one kept.
        A file that cannot be read is kept (its processing reports why).
    """
    kept: list[Recording] = []
    dropped: list[dict[str, str]] = []
    by_path: dict[str, Recording] = {}
    by_sha: dict[str, Recording] = {}
    for rec in recordings:
        real = os.path.realpath(rec.audio)
        if real in by_path:
            first = by_path[real]
            dropped.append(
                {"file": path_text(rec.audio), "reason": f"same file as {path_text(first.audio)}"}
            )
            continue
        try:
            sha = file_sha256(rec.audio)
        except OSError:
            sha = None
        if sha is not None and sha in by_sha:
            first = by_sha[sha]
            dropped.append(
                {
                    "file": path_text(rec.audio),
                    "reason": f"same content (SHA-256 {sha[:16]}...) as {path_text(first.audio)}",
                }
            )
            continue
        by_path[real] = rec
        if sha is not None:
            by_sha[sha] = rec
        kept.append(rec)
    return kept, dropped


def read_manifest(path: str | os.PathLike[str], *, recognise: bool = False) -> list[Recording]:
    """Recordings listed in a manifest (header with ``path`` [, ``transcript``, ``alignment``, ``speaker``]).

    Relative paths are taken relative to the manifest's folder.
    """
    p = Path(path)
    delimiter = {".csv": ",", ".tsv": "\t", ".psv": "|"}.get(p.suffix.lower(), ",")
    try:
        with open(p, encoding="utf-8-sig", newline="") as fh:  # a BOM is allowed
            rows = list(csv.DictReader(fh, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CorpusError(f"cannot read manifest {p}: {exc}") from exc
    if not rows or "path" not in rows[0]:
        raise CorpusError(f"manifest {p} needs a header with a 'path' column")
    base = p.parent
    out = []
    for i, row in enumerate(rows, start=2):
        audio_s = (row.get("path") or "").strip()
        if not audio_s:
            raise CorpusError(f"manifest {p} line {i}: empty path")
        audio = (base / audio_s) if not Path(audio_s).is_absolute() else Path(audio_s)
        ali_s = (row.get("alignment") or "").strip()
        alignments = (
            ((base / ali_s) if not Path(ali_s).is_absolute() else Path(ali_s),) if ali_s else ()
        )
        text = (row.get("transcript") or "").strip() or None
        out.append(
            Recording(
                audio=audio,
                speaker=(row.get("speaker") or "").strip(),
                alignments=alignments,
                transcript=text,
                recognise=recognise,
                name=path_text(audio),
            )
        )
    return out


def recording_features(
    rec: Recording,
    *,
    method: str = DETECTION_METHOD,
    sections: int | None = 15,
    cross_word: bool = False,
    label: str = "organic",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Feature table of one recording and a record of how it was made.

    Returns
    -------
    (pandas.DataFrame, dict)
        The table (empty when skipped) and ``file, sha256, speaker,
        phones_from, alignment_source, duration_s, n_bigrams, n_windows,
        failed_windows, skipped, notes``.
    """
    from .alignment import align, read_alignment
    from .errors import AlignmentError
    from .evidence import load
    from .features import empty_features, extract_features

    record: dict[str, Any] = {
        "file": rec.name or path_text(rec.audio),
        "sha256": "",
        "speaker": rec.speaker,
        "phones_from": "",
        "alignment_source": "",
        "duration_s": None,
        "n_bigrams": 0,
        "n_windows": 0,
        "failed_windows": 0,
        "skipped": "",
        "notes": list(rec.notes),
    }
    try:
        ev = load(rec.audio)
    except VtractError as exc:
        record["skipped"] = f"audio: {exc}"
        return empty_features(), record
    record["sha256"] = ev.sha256
    record["duration_s"] = round(float(ev.duration), 3)
    alignment = None
    for ali_path in rec.alignments:
        try:
            alignment = read_alignment(ali_path, for_audio=rec.audio)
            record["phones_from"] = f"alignment file {path_text(ali_path.name)}"
            break
        except VtractError as exc:
            record["notes"].append(f"{path_text(ali_path.name)} not usable: {exc}")
    if alignment is None and rec.transcript:
        try:
            alignment = align(ev, transcript=rec.transcript)
            record["phones_from"] = "transcript (forced alignment)"
        except AlignmentError as exc:
            record["notes"].append(f"forced alignment failed: {exc}")
    if alignment is None and rec.recognise:
        try:
            alignment = align(ev, transcript=None)
            record["phones_from"] = "recognition"
        except AlignmentError as exc:
            record["notes"].append(f"recognition failed: {exc}")
    if alignment is None:
        record["skipped"] = "no usable alignment, transcript or recognition"
        return empty_features(), record
    record["alignment_source"] = alignment.source
    df = extract_features(
        ev,
        alignment,
        method=method,
        speaker=rec.speaker,
        label=label,
        file=rec.name or path_text(rec.audio),
        sections=sections,
        cross_word=cross_word,
    )
    record["failed_windows"] = int(df.attrs.get("failed_windows", 0))
    record["n_windows"] = int((df["section"] == 0).sum())
    record["n_bigrams"] = int(
        df.loc[df["section"] == 0, ["bigram", "boundary_s"]].drop_duplicates().shape[0]
    )
    return df, record


def _one(args: tuple[Recording, dict[str, Any]]) -> tuple[pd.DataFrame, dict[str, Any]]:
    rec, options = args
    return recording_features(rec, **options)


def corpus_features(
    recordings: Sequence[Recording],
    *,
    method: str = DETECTION_METHOD,
    sections: int | None = 15,
    cross_word: bool = False,
    jobs: int = 1,
    progress: bool = False,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Feature tables of many recordings (in parallel with ``jobs`` processes).

    Returns
    -------
    (pandas.DataFrame, list of dict)
        All rows concatenated (input order) and one record per recording
        (:func:`recording_features`).
    """
    if jobs < 1:
        raise CorpusError(f"jobs must be >= 1, got {jobs}")
    options = {"method": method, "sections": sections, "cross_word": cross_word}
    tasks = [(r, options) for r in recordings]
    if jobs == 1:
        iterator: Iterable[Any] = tasks
        if progress:
            from tqdm import tqdm

            iterator = tqdm(tasks, desc="recordings", unit="file")
        results = [_one(t) for t in iterator]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=jobs, backend="loky", verbose=5 if progress else 0)(
            delayed(_one)(t) for t in tasks
        )
    frames = [df for df, _ in results if len(df)]
    from .features import empty_features

    table = pd.concat(frames, ignore_index=True) if frames else empty_features()
    return table, [rec for _, rec in results]
