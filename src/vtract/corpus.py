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
explicitly, with the columns of a ``vtract batch`` / ``vtract calibrate``
manifest (:mod:`vtract.batch.manifest`), so one labelled manifest serves all
three: headers are case-insensitive; ``path`` (``file`` and ``audio`` are
synonyms: the audio, relative to the manifest); optional ``transcript`` (the
words, or a ``.txt``/``.lab`` file holding them), ``alignment`` (``textgrid``
is a synonym: an alignment file), ``speaker`` and ``label``. A reference is
organic: rows labelled ``synthetic`` are left out with a note
(:func:`organic_recordings`), a label other than ``organic``, ``synthetic``
or empty is refused, and columns it does not use are named in a note.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .errors import InputFileError, VtractError
from .evidence import AUDIO_EXTENSIONS
from .features import DETECTION_METHOD
from .provenance import file_sha256, path_text

if TYPE_CHECKING:
    from .batch.inputs import LeftOut

__all__ = [
    "AUDIO_SUFFIXES",
    "MANIFEST_COLUMNS",
    "CorpusError",
    "Recording",
    "corpus_features",
    "drop_duplicate_recordings",
    "find_recordings",
    "organic_recordings",
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
    notes : tuple of str
        What the examiner should know about how it was listed.
    label : str
        Label a manifest gives (``""``, ``"organic"`` or ``"synthetic"``).
    transcript_file : pathlib.Path or None
        The file a manifest's ``transcript`` cell named, if it named one.
    """

    audio: Path
    speaker: str = ""
    alignments: tuple[Path, ...] = ()
    transcript: str | None = None
    recognise: bool = False
    name: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    label: str = ""
    transcript_file: Path | None = None


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
    notes: list[str] | None = None,
    left_out: list[LeftOut] | None = None,
) -> list[Recording]:
    """Recordings under folders, manifests or single audio files.

    Parameters
    ----------
    inputs : iterable of path-like
        Folders (searched recursively by :func:`vtract.batch.inputs.search_folder`,
        the folder search of ``vtract batch``: links to folders are not
        followed), manifests (``.csv``/``.tsv``/``.psv``) or audio files.
    speaker_from : {"none", "parent", "prefix"}
        Speaker of folder/file inputs: unknown, the parent folder's name, or
        the file name up to the first ``-``/``_`` (LibriSpeech ``61-70968-0000``).
    recognise : bool, default False
        Allow recognition for recordings without alignment or transcript.
    notes : list of str, optional
        Receives what the examiner should know about the manifests read
        (:func:`read_manifest`: columns not used).
    left_out : list of LeftOut, optional
        Receives a :class:`~vtract.batch.inputs.LeftOut` for every entry of a
        searched folder that is not used although it might hold a recording
        (a broken symbolic link, a FIFO or device named like audio, a link
        to a folder, a sub-folder that cannot be listed), sorted by path
        within each folder. Without it they are still left out, silently.

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
    from .batch.inputs import search_folder

    cache: dict[Path, dict[str, str]] = {}
    out: list[Recording] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            # sorted as Path objects (by component), the order references were always built in
            files = sorted(
                search_folder(p, extensions=AUDIO_SUFFIXES, left_out=left_out, source=str(item))
            )
            out += [_describe(f, _speaker(f, speaker_from), recognise, cache) for f in files]
        elif p.is_file() and p.suffix.lower() in (".csv", ".tsv", ".psv"):
            out += read_manifest(p, recognise=recognise, notes=notes)
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


#: Manifest columns a reference build reads, with their synonyms (as a batch manifest's).
MANIFEST_COLUMNS: dict[str, tuple[str, ...]] = {
    "path": ("path", "file", "audio"),
    "transcript": ("transcript",),
    "alignment": ("alignment", "textgrid"),
    "speaker": ("speaker",),
    "label": ("label",),
}
#: A ``transcript`` cell ending so names a file holding the words (as in a batch manifest).
_TRANSCRIPT_FILE_SUFFIXES = (".txt", ".lab")


def read_manifest(
    path: str | os.PathLike[str], *, recognise: bool = False, notes: list[str] | None = None
) -> list[Recording]:
    """Recordings listed in a manifest (see the module docstring for the columns).

    Relative paths are taken relative to the manifest's folder. Headers are
    case-insensitive and the synonyms of :data:`MANIFEST_COLUMNS` are
    accepted, as in a ``vtract batch`` / ``vtract calibrate`` manifest.

    Parameters
    ----------
    path : path-like
        The manifest (``.csv``, ``.tsv`` or ``.psv``).
    recognise : bool, default False
        Allow recognition for its recordings.
    notes : list of str, optional
        Receives a note naming the columns the build does not use.

    Returns
    -------
    list of Recording
        With :attr:`Recording.label` as given (lower case).

    Raises
    ------
    CorpusError
        Unreadable manifest, no path column, an empty path, or a label other
        than ``organic``, ``synthetic`` or empty.
    """
    p = Path(path)
    delimiter = {".csv": ",", ".tsv": "\t", ".psv": "|"}.get(p.suffix.lower(), ",")
    try:
        with open(p, encoding="utf-8-sig", newline="") as fh:  # a BOM is allowed
            reader = csv.DictReader(fh, delimiter=delimiter)
            header = {(h or "").strip().lower(): h for h in (reader.fieldnames or [])}
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CorpusError(f"cannot read manifest {p}: {exc}") from exc
    cols = {
        name: next((header[s] for s in synonyms if s in header), None)
        for name, synonyms in MANIFEST_COLUMNS.items()
    }
    if not rows or cols["path"] is None:
        raise CorpusError(
            f"manifest {p} needs a header with a 'path' column ('file' and 'audio' are synonyms)"
        )
    used = {c for c in cols.values() if c is not None}
    ignored = [h for h in (reader.fieldnames or []) if h not in used]
    if ignored and notes is not None:
        notes.append(
            f"manifest {p}: column(s) {ignored} not used by a reference build (it reads "
            f"{', '.join('/'.join(s) for s in MANIFEST_COLUMNS.values())})"
        )
    base = p.parent

    def cell(row: dict[str, str | None], name: str) -> str:
        col = cols[name]
        value = row.get(col) if col is not None else None
        return value.strip() if isinstance(value, str) else ""

    def resolve(value: str) -> Path:
        return (base / value) if not Path(value).is_absolute() else Path(value)

    out = []
    for i, row in enumerate(rows, start=2):
        audio_s = cell(row, "path")
        if not audio_s:
            raise CorpusError(f"manifest {p} line {i}: empty path")
        audio = resolve(audio_s)
        ali_s = cell(row, "alignment")
        alignments = (resolve(ali_s),) if ali_s else ()
        label = cell(row, "label").lower()
        if label not in ("", "organic", "synthetic"):
            raise CorpusError(
                f"manifest {p} line {i}: label {label!r} is not 'organic', 'synthetic' or empty"
            )
        text, text_file, row_notes = _manifest_transcript(cell(row, "transcript"), resolve)
        out.append(
            Recording(
                audio=audio,
                speaker=cell(row, "speaker"),
                alignments=alignments,
                transcript=text,
                recognise=recognise,
                name=path_text(audio),
                notes=tuple(f"manifest {p.name} line {i}: {n}" for n in row_notes),
                label=label,
                transcript_file=text_file,
            )
        )
    return out


def _manifest_transcript(value: str, resolve: Any) -> tuple[str | None, Path | None, list[str]]:
    """The words of a manifest's ``transcript`` cell: the text, or the file it names."""
    if not value:
        return None, None, []
    if not value.lower().endswith(_TRANSCRIPT_FILE_SUFFIXES):
        return " ".join(value.split()), None, []
    from .batch.inputs import read_transcript

    file = resolve(value)
    if not file.is_file():
        return None, file, [f"transcript file {path_text(file)} not found"]
    if _is_timed_labels(file):
        return (
            None,
            file,
            [
                f"transcript file {path_text(file)} holds timed labels (an alignment): give it "
                "in the alignment column"
            ],
        )
    try:
        return read_transcript(file), file, []
    except VtractError as exc:
        return None, file, [str(exc)]


def organic_recordings(
    recordings: Sequence[Recording],
) -> tuple[list[Recording], list[dict[str, str]]]:
    """The recordings a reference may be built from: those not labelled synthetic.

    A labelled manifest (``vtract calibrate``'s) may be given to ``vtract
    reference build``; its fakes must not become organic statistics.

    Returns
    -------
    kept : list of Recording
        Labelled ``organic`` or not labelled, in order.
    left_out : list of dict
        ``{"file", "reason"}`` for each recording labelled ``synthetic``.
    """
    kept = [r for r in recordings if r.label != "synthetic"]
    left_out = [
        {"file": path_text(r.audio), "reason": "labelled synthetic (a reference is organic)"}
        for r in recordings
        if r.label == "synthetic"
    ]
    return kept, left_out


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
    from .analysis import check_alignment
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
            # as analyze does: an alignment of another recording is refused, low coverage noted
            record["notes"] += check_alignment(alignment, ev.duration)
            record["phones_from"] = f"alignment file {path_text(ali_path.name)}"
            break
        except VtractError as exc:
            alignment = None
            record["notes"].append(f"{path_text(ali_path.name)} not usable: {exc}")
    if alignment is None and rec.transcript:
        try:
            alignment = align(ev, transcript=rec.transcript)
            record["notes"] += check_alignment(alignment, ev.duration)
            record["phones_from"] = "transcript (forced alignment)"
        except AlignmentError as exc:
            alignment = None
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


def extraction_settings(method: str, sections: int | None, cross_word: bool) -> dict[str, Any]:
    """The ``settings["extract_features"]`` record of what :func:`corpus_features` measures.

    Stored with a reference built from its tables (``vtract reference build``,
    ``scripts/build_default_reference.py``), so that evidence is later
    measured the same way: 16 kHz, the published window and overlap,
    centred windows, and the analysis high-pass of ``method``.

    Parameters
    ----------
    method, sections, cross_word
        As given to :func:`corpus_features`.

    Returns
    -------
    dict
    """
    from .features import measurement_settings
    from .tract.highpass import analysis_highpass_hz
    from .windows import PUBLISHED_OVERLAP, PUBLISHED_WINDOW

    return measurement_settings(
        sr=16000,
        window=PUBLISHED_WINDOW,
        overlap=PUBLISHED_OVERLAP,
        policy="centred",
        sections=sections,
        cross_word=cross_word,
        highpass_hz=analysis_highpass_hz(method),
    )


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
