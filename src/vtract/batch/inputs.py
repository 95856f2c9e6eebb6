"""Batch inputs: turn files, folders, globs and manifests into work items.

:func:`discover_inputs` accepts any mix of

- audio files (any name; the decoder decides whether it is audio),
- folders (searched recursively for :data:`AUDIO_EXTENSIONS`, sorted),
- glob patterns (``"calls/**/*.wav"``, recursive, sorted),
- CSV manifests (``*.csv``, see :mod:`vtract.batch.manifest`),

and returns :class:`BatchInput` items in a deterministic order: the order of
the arguments, each expanded in sorted path order (manifests keep their row
order). :func:`hash_inputs` then adds the SHA-256 of each audio (and
alignment) file; :attr:`BatchInput.key` (audio hash + alignment hash +
transcript + speaker + label + any problem + the file's path) is what a
resumed run uses to skip work already in the output: every path gets its
own row, so two copies of one recording (or a renamed exhibit) each get a
row of their own (within one run :func:`vtract.analyze_many` analyses the
copies once and gives each copy's row that analysis, see ``copy_of`` in
:mod:`vtract.batch.rows`; with ``--reports`` each gets a report of its own).

Nothing found in a searched folder or glob is dropped silently: an entry
named like audio that is not a readable regular file (a broken symbolic
link, a FIFO or device, a folder called ``x.wav`` that a glob matches but
does not search), a link to a folder (folders are searched without
following links, so the search cannot loop or leave the tree; below the
fixed part of a glob, before its first wildcard, links to folders are not
followed either) and a sub-folder that cannot be listed are returned
through ``left_out`` with the reason (:func:`discover_inputs`,
:func:`search_folder`); :func:`vtract.analyze_many` prints them and lists
them under ``left_out`` in its summary. A folder called ``x.wav`` whose
files are searched (inside a searched folder, or reached by a glob's
``**``) is searched like any folder and not left out.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .. import evidence
from ..errors import InputFileError
from ..provenance import file_sha256

__all__ = [
    "AUDIO_EXTENSIONS",
    "BatchInput",
    "LeftOut",
    "discover_inputs",
    "hash_inputs",
    "input_key",
    "read_transcript",
    "search_folder",
]

#: File name endings picked up when a folder or glob is searched (lower case).
AUDIO_EXTENSIONS = evidence.AUDIO_EXTENSIONS
#: Sidecar transcript endings looked for beside an audio file when asked.
TRANSCRIPT_SIDECARS = (".lab", ".txt")
#: Sidecar alignment endings looked for beside an audio file when asked.
TEXTGRID_SIDECARS = (".TextGrid", ".textgrid")

_GLOB_CHARS = frozenset("*?[")


def _has_magic(text: str) -> bool:
    """``text`` holds a glob wildcard (``*``, ``?`` or ``[``, as :mod:`glob` reads them)."""
    return bool(_GLOB_CHARS & set(text))


@dataclass(frozen=True)
class LeftOut:
    """An entry of a searched folder or glob that is not analysed, and why.

    Attributes
    ----------
    path : pathlib.Path
        The entry (absolute, links not followed).
    reason : str
        Why it is not analysed (``"a broken symbolic link"``, ``"a link to
        a folder (not followed)"``, ...).
    source : str
        The argument (folder or glob) it was found through.
    """

    path: Path
    reason: str
    source: str = ""


@dataclass(frozen=True)
class BatchInput:
    """One evidence file to process, with what is known about it.

    Attributes
    ----------
    path : pathlib.Path
        Absolute path of the audio file.
    transcript : str or None
        Transcript text (already read when it came from a file).
    transcript_path : pathlib.Path or None
        File the transcript was read from, if any.
    textgrid : pathlib.Path or None
        Alignment file (TextGrid, HTS ``.lab``, TIMIT, CSV) to use instead of
        aligning.
    speaker : str
        Speaker identifier (``""`` if unknown).
    label : str
        Ground-truth label (``"organic"``, ``"synthetic"`` or ``""``).
    source : str
        The argument (or manifest) this item was found through.
    sha256 : str or None
        SHA-256 of the file's bytes, filled by :func:`hash_inputs`.
    alignment_sha256 : str or None
        SHA-256 of the alignment file, filled by :func:`hash_inputs`.
    problem : str or None
        Why this input cannot be processed (a manifest row naming a missing
        file, a bad label ...); it then becomes an error row instead of
        stopping the batch.
    """

    path: Path
    transcript: str | None = None
    transcript_path: Path | None = None
    textgrid: Path | None = None
    speaker: str = ""
    label: str = ""
    source: str = ""
    sha256: str | None = None
    alignment_sha256: str | None = None
    problem: str | None = None

    @property
    def key(self) -> str | None:
        """Identity of this row: path + audio bytes + alignment bytes + transcript + speaker + label + problem.

        Each path is its own row: copies of one recording under other names
        (or a renamed exhibit) each have their own row. The same recording
        analysed with another alignment or transcript is another analysis;
        with another ground-truth label it is another row (a resumed run
        relabels such a carried row instead of analysing again, see
        :class:`~vtract.batch.output.BatchOutput`); with another speaker it
        is another row, and another analysis only for a per-file plugin,
        which is passed the speaker (:func:`vtract.analyze` does not use
        it, so a resumed run relabels that row too). An input with a
        :attr:`problem` has a key of its own
        (the problem text is part of it), so an error row never takes the
        key of a valid row for the same audio and never makes a resumed run
        skip it. ``None`` until :func:`hash_inputs` has run (or when a file
        could not be read).
        """
        if self.sha256 is None or (self.textgrid is not None and self.alignment_sha256 is None):
            return None
        return input_key(
            self.sha256,
            self.alignment_sha256,
            self.transcript,
            speaker=self.speaker,
            label=self.label,
            problem=self.problem,
            path=self.path,
        )


def input_key(
    sha256: str,
    alignment_sha256: str | None,
    transcript: str | None,
    *,
    speaker: str = "",
    label: str = "",
    problem: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> str:
    """Key of one results row (32 hex digits).

    Parameters
    ----------
    sha256 : str
        SHA-256 of the audio file.
    alignment_sha256 : str or None
        SHA-256 of the alignment file, if any.
    transcript : str or None
        Transcript text, if any.
    speaker, label : str, default ""
        Speaker identifier (passed to the analysis) and ground-truth label
        (carried into the row).
    problem : str or None
        Why the input cannot be analysed; a problem row never shares the key
        of the analysis it failed to describe.
    path : path-like, optional
        The evidence file (absolute): every path is a row of its own.
    """
    fields = (
        sha256,
        alignment_sha256 or "",
        transcript or "",
        speaker,
        label,
        "" if problem is None else "problem:" + problem,
        "" if path is None else os.fspath(path),
    )
    text = "\x1f".join(fields)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def discover_inputs(
    inputs: str | os.PathLike[str] | BatchInput | Iterable[str | os.PathLike[str] | BatchInput],
    *,
    extensions: Iterable[str] = AUDIO_EXTENSIONS,
    sidecars: bool = False,
    left_out: list[LeftOut] | None = None,
) -> list[BatchInput]:
    """Expand files, folders, globs and CSV manifests into :class:`BatchInput` items.

    Parameters
    ----------
    inputs : path, BatchInput or iterable of them
        What to process. A ``*.csv`` path is read as a manifest
        (:func:`vtract.batch.manifest.read_manifest`); a folder is searched
        recursively (:func:`search_folder`); a string holding ``*``, ``?``
        or ``[`` that is not an existing path is a glob pattern, expanded
        as :func:`glob.glob` with ``recursive=True`` does (``**`` matches
        any depth, wildcards do not match names starting with a dot), but
        without following links to folders below its fixed part (the
        components before the first wildcard, which are taken as given).
    extensions : iterable of str, default :data:`AUDIO_EXTENSIONS`
        File endings (with the dot, any case) picked up in folders and globs.
    sidecars : bool, default False
        For files found directly, through folders or globs, use
        ``<stem>.TextGrid`` beside the audio as its alignment and ``<stem>.lab``
        or ``<stem>.txt`` as its transcript when present.
    left_out : list, optional
        Receives a :class:`LeftOut` for every entry of a searched folder or
        glob that is not analysed although it might hold evidence: an entry
        named like audio that is a broken symbolic link, a FIFO, socket or
        device, or a folder a glob matches without searching it; a link to
        a folder (not followed); a sub-folder that cannot be listed. A
        folder named like audio whose files are searched (every sub-folder
        of a searched folder, the folders a glob's ``**`` reaches) is not
        left out. Without ``left_out`` they are still left out, silently.

    Returns
    -------
    list of BatchInput
        In argument order, each argument expanded in sorted order; the same
        file reached twice with the same alignment, transcript, speaker and
        label (and no problem) is kept once (first occurrence).

    Raises
    ------
    InputFileError
        A path does not exist, a glob or folder matches no audio file, or a
        manifest is malformed.
    """
    from .manifest import read_manifest

    if isinstance(inputs, (str, os.PathLike, BatchInput)):
        inputs = [inputs]
    exts = _endings(extensions)
    items: list[BatchInput] = []
    for arg in inputs:
        if isinstance(arg, BatchInput):
            items.append(replace(arg, path=_absolute(arg.path)))
            continue
        if not isinstance(arg, (str, os.PathLike)):
            raise InputFileError(
                f"batch input {arg!r} is a {type(arg).__name__}: expected a path, glob or BatchInput"
            )
        text = os.fspath(arg)
        p = Path(text).expanduser()
        if p.is_file() and p.suffix.lower() == ".csv":
            items.extend(read_manifest(p))
        elif p.is_file():
            items.append(_item(p, text, sidecars))
        elif p.is_dir():
            skipped: list[LeftOut] = []
            found = search_folder(p, extensions=exts, left_out=skipped, source=text)
            if not found:
                raise InputFileError(
                    f"folder {text!r} holds no audio file (looked for {', '.join(sorted(exts))})"
                    + _left_out_text(skipped)
                )
            items.extend(_item(f, text, sidecars) for f in found)
            if left_out is not None:
                left_out.extend(skipped)
        elif _has_magic(text):
            skipped = []
            matches = _search_glob(os.path.expanduser(text), exts, text, skipped)
            if not matches:
                raise InputFileError(
                    f"glob {text!r} matches no audio file" + _left_out_text(skipped)
                )
            items.extend(_item(m, text, sidecars) for m in matches)
            if left_out is not None:
                left_out.extend(skipped)
        elif p.exists():
            raise InputFileError(f"batch input {text!r} is neither a file nor a folder")
        else:
            raise InputFileError(f"no such file, folder or glob match: {text!r}")
    return _dedupe(items)


def hash_inputs(items: Sequence[BatchInput]) -> list[BatchInput]:
    """Return the items with the SHA-256 of their audio and alignment files filled in.

    Each file is read once, in chunks. A file that cannot be read keeps
    ``None``; its worker then reports the reason as an error row.
    """
    out = []
    for item in items:
        sha = item.sha256 if item.sha256 is not None else _try_sha256(item.path)
        aln = item.alignment_sha256
        if aln is None and item.textgrid is not None:
            aln = _try_sha256(item.textgrid)
        out.append(replace(item, sha256=sha, alignment_sha256=aln))
    return out


def _try_sha256(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))


def _sort_key(p: Path) -> str:
    return os.fspath(p)


def search_folder(
    folder: str | os.PathLike[str],
    *,
    extensions: Iterable[str] = AUDIO_EXTENSIONS,
    left_out: list[LeftOut] | None = None,
    source: str = "",
) -> list[Path]:
    """Regular files with an audio ending below ``folder``, searched recursively.

    The one folder search of ``vtract batch`` (:func:`discover_inputs`) and
    ``vtract reference build`` (:func:`vtract.corpus.find_recordings`).
    ``folder`` itself may be a link to a folder; links to folders below it
    are not followed (the search cannot loop or leave the tree). Links to
    files are followed, and names starting with a dot are searched too.

    Parameters
    ----------
    folder : path-like
        The folder to search.
    extensions : iterable of str, default :data:`AUDIO_EXTENSIONS`
        File endings (with the dot, any case) picked up.
    left_out : list, optional
        Receives a :class:`LeftOut` (sorted by path) for every entry that
        might hold evidence but is not searched or picked up: an entry with
        an audio ending that is a broken symbolic link, a FIFO, socket or
        device; a link to a folder (not followed); a sub-folder that cannot
        be listed. A sub-folder named like audio (``x.wav/``) is searched
        like any other and is not left out.
    source : str, default ""
        Recorded as :attr:`LeftOut.source` (the argument searched).

    Returns
    -------
    list of pathlib.Path
        The files found (below ``folder`` as given, links not resolved),
        sorted by path text.
    """
    exts = _endings(extensions)
    root = Path(folder)
    found: list[Path] = []
    skipped: list[LeftOut] = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        skipped.append(
            LeftOut(_absolute(where), f"a folder that cannot be listed ({exc.strerror})", source)
        )

    for base_text, dirs, files in os.walk(root, onerror=unreadable, followlinks=False):
        base = Path(base_text)
        for name in dirs:
            d = base / name
            if d.is_symlink():
                skipped.append(LeftOut(_absolute(d), _FOLDER_LINK, source))
        for name in files:
            f = base / name
            if f.suffix.lower() not in exts:
                continue
            if f.is_file():
                found.append(f)
            else:
                skipped.append(LeftOut(_absolute(f), _not_a_file(f), source))
    if left_out is not None:
        left_out.extend(sorted(skipped, key=lambda e: _sort_key(e.path)))
    return sorted(found, key=_sort_key)


#: Why a link to a folder met while searching is left out.
_FOLDER_LINK = "a link to a folder (not followed)"


def _endings(extensions: Iterable[str]) -> frozenset[str]:
    """File endings as lower-case ``.ext`` (a missing dot added); refuses none."""
    exts = frozenset(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)
    if not exts:
        raise InputFileError("extensions is empty: expected at least one audio file ending")
    return exts


def _search_glob(
    pattern: str, exts: frozenset[str], source: str, left_out: list[LeftOut]
) -> list[Path]:
    """Regular files with an audio ending that ``pattern`` matches, sorted by path text.

    Matches as :func:`glob.glob` with ``recursive=True`` does (``**`` as a
    whole component matches the folder and every folder below it, a
    wildcard does not match a name starting with a dot unless the pattern
    component starts with one), with one difference: below the fixed part
    of the pattern (the components before the first wildcard, taken as
    given), a link to a folder is never entered, as in :func:`search_folder`;
    each one the pattern would have entered goes into ``left_out``. So does
    every matched entry with an audio ending that is not a regular file,
    except a folder whose entries the pattern searched (``ev/**/*.wav``
    searches ``ev/x.wav/``).
    """
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if _has_magic(part)), len(parts))
    base = Path(*parts[:fixed]) if fixed else Path()
    rest = parts[fixed:]
    skipped: dict[Path, LeftOut] = {}  # by path: the first reason found wins

    def leave(path: Path, reason: str) -> None:
        skipped.setdefault(_absolute(path), LeftOut(_absolute(path), reason, source))

    def entries(folder: Path, component: str) -> list[Path]:
        """The entries of ``folder`` that ``component`` (a wildcard or a literal name) names."""
        if not _has_magic(component):
            p = folder / component
            return [p] if os.path.lexists(p) else []
        try:
            with os.scandir(folder) as listing:
                return [
                    folder / e.name
                    for e in listing
                    if fnmatch.fnmatch(e.name, component)
                    and (not e.name.startswith(".") or component.startswith("."))
                ]
        except OSError as exc:
            leave(folder, f"a folder that cannot be listed ({exc.strerror})")
            return []

    def below(folder: Path) -> tuple[list[Path], list[Path]]:
        """``folder`` and every folder below it (what ``**`` matches), and their other entries."""
        folders, others, stack = [], [], [folder]
        while stack:
            here = stack.pop()
            folders.append(here)
            try:
                with os.scandir(here) as listing:
                    found = [e for e in listing if not e.name.startswith(".")]
            except OSError as exc:
                leave(here, f"a folder that cannot be listed ({exc.strerror})")
                continue
            for e in sorted(found, key=lambda e: e.name, reverse=True):
                path = here / e.name
                if e.is_dir(follow_symlinks=False):
                    stack.append(path)
                elif e.is_symlink() and e.is_dir():
                    leave(path, _FOLDER_LINK)
                else:
                    others.append(path)
        return folders, others

    if not rest or not base.is_dir():
        return []
    current = [base]  # the folders the next component is matched in
    searched: set[Path] = set()  # folders whose entries the last component was matched against
    matched: list[Path] = []
    for i, component in enumerate(rest):
        last = i == len(rest) - 1
        if component == "**":
            folders: list[Path] = []
            for folder in current:
                down, others = below(folder)
                folders += down
                if last:
                    matched += others
            current = list(dict.fromkeys(folders))
            if last:
                searched.update(current)
                matched += current
            continue
        following: list[Path] = []
        for folder in current:
            if last:
                searched.add(folder)
            for path in entries(folder, component):
                if last:
                    matched.append(path)
                elif path.is_symlink() and path.is_dir():
                    leave(path, _FOLDER_LINK)
                elif path.is_dir():
                    following.append(path)
        current = list(dict.fromkeys(following))
    files = []
    for path in dict.fromkeys(matched):
        if path.suffix.lower() not in exts:
            continue
        if path.is_file():
            files.append(path)
        elif not (path in searched and not path.is_symlink()):
            leave(path, _not_a_file(path))
    left_out.extend(sorted(skipped.values(), key=lambda e: _sort_key(e.path)))
    return sorted(files, key=_sort_key)


def _not_a_file(path: Path) -> str:
    """Why ``path``, named like audio, is not analysed."""
    if path.is_symlink() and not path.exists():
        return "a broken symbolic link"
    if path.is_dir():
        return (
            "a link to a folder named like audio"
            if path.is_symlink()
            else "a folder named like audio"
        )
    return "not a regular file (a FIFO, socket or device)"


def _left_out_text(left_out: list[LeftOut]) -> str:
    if not left_out:
        return ""
    first = left_out[0]
    more = f" and {len(left_out) - 1} more" if len(left_out) > 1 else ""
    return f"; left out: {str(first.path)!r} ({first.reason}){more}"


def _item(path: Path, source: str, sidecars: bool) -> BatchInput:
    path = _absolute(path)
    if not sidecars:
        return BatchInput(path=path, source=source)
    textgrid = next(
        (s for s in (path.with_suffix(e) for e in TEXTGRID_SIDECARS) if s.is_file()), None
    )
    t_path = next(
        (s for s in (path.with_suffix(e) for e in TRANSCRIPT_SIDECARS) if s.is_file()), None
    )
    transcript, problem = None, None
    if t_path is not None:
        try:
            transcript = read_transcript(t_path)
        except InputFileError as exc:
            problem = str(exc)
    return BatchInput(
        path=path,
        transcript=transcript,
        transcript_path=t_path,
        textgrid=textgrid,
        source=source,
        problem=problem,
    )


def read_transcript(path: Path) -> str:
    """Read a transcript file (UTF-8, optional BOM) as one line of text.

    Raises
    ------
    InputFileError
        The file cannot be read, is not UTF-8 or holds no text.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read transcript {str(path)!r}: {exc}") from None
    text = " ".join(text.split())
    if not text:
        raise InputFileError(f"transcript {str(path)!r} is empty")
    return text


def _dedupe(items: list[BatchInput]) -> list[BatchInput]:
    """Drop exact repeats: the same file with the same alignment, transcript, speaker and label.

    Everything that makes a row differ is compared, so a manifest row with a
    problem (a missing transcript file, a bad label) never hides a valid row
    for the same audio, and every such row gets its own error row (the
    problem text names its manifest line).
    """
    seen: set[tuple[object, ...]] = set()
    out = []
    for item in items:
        ident = (
            item.path,
            item.textgrid,
            item.transcript,
            item.transcript_path,
            item.speaker,
            item.label,
            item.problem,
        )
        if ident in seen:
            continue
        seen.add(ident)
        out.append(item)
    return out
