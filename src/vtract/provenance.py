"""Provenance: what produced a result, with which settings, from which input.

Every output of vtract (reports, feature tables, references, benchmark JSON)
carries :func:`provenance`. Apart from ``created_utc`` it is a pure function
of the environment and its arguments, so two runs on the same input compare
equal once the timestamp is removed.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import os
import platform
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from ._version import __version__

__all__ = [
    "DEPENDENCIES",
    "dependency_versions",
    "file_sha256",
    "git_commit",
    "path_from_text",
    "path_text",
    "provenance",
    "visible_text",
]

#: Distributions whose versions are recorded in every provenance block.
DEPENDENCIES = (
    "numpy",
    "scipy",
    "numba",
    "praat-parselmouth",
    "soundfile",
    "pocketsphinx",
    "praatio",
    "pandas",
    "matplotlib",
    "joblib",
    "av",
)


@functools.cache
def dependency_versions() -> dict[str, str | None]:
    """Installed versions of :data:`DEPENDENCIES` (``None`` when absent)."""
    out: dict[str, str | None] = {}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    try:
        import soundfile

        out["libsndfile"] = str(soundfile.__libsndfile_version__)
    except Exception:  # pragma: no cover - soundfile is a hard dependency
        out["libsndfile"] = None
    return out


@functools.cache
def git_commit() -> str | None:
    """Commit of the vtract source tree when run from a git checkout."""
    env_commit = os.environ.get("VTRACT_GIT_COMMIT")
    if env_commit:
        return env_commit
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks, opened read-only."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def path_text(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    r"""The text that names a file in vtract's outputs (tables, JSON, HTML, messages).

    A file name is bytes on Linux and need not be UTF-8 (old media, Windows
    shares). Python hands such a name over with its stray bytes as lone
    surrogates (``"bad\udcff.wav"``), which UTF-8 writers (Parquet, CSV,
    JSON with ``ensure_ascii=False``, HTML) refuse. Here every byte that is
    not UTF-8 is written as a visible ``\xNN`` escape instead: the name can
    be read, is the same in every output, and its bytes can be read off it.
    The file itself is still opened by its real name.

    Parameters
    ----------
    path : str, bytes or path-like
        The path as given (or as found in a folder).

    Returns
    -------
    str
        Valid Unicode text: the path itself when it is valid UTF-8, otherwise
        with each offending byte as ``\xNN`` (the name ``bad<0xFF>.wav`` gives
        ``bad\xff.wav``); a lone surrogate that no file name decodes to is
        written as ``\udNNN``.

    Notes
    -----
    The escape is not reversible by itself: a name that really contains the
    four characters ``\xff`` is written the same way. The file's SHA-256,
    recorded beside every name, tells such files apart.

    Examples
    --------
    >>> path_text(b"bad\xff.wav")
    'bad\\xff.wav'
    >>> path_text("caf\u00e9.wav")
    'café.wav'
    """
    raw = os.fspath(path)
    try:
        data = os.fsencode(raw)
    except UnicodeEncodeError:  # a surrogate that no file-system name decodes to
        data = str(raw).encode("utf-8", "backslashreplace")
    return data.decode("utf-8", "backslashreplace")


#: ``\xNN`` escapes that :func:`path_text` writes for a byte that is not UTF-8
#: (always 0x80 or above: ASCII bytes are valid UTF-8).
_BYTE_ESCAPE = re.compile(r"\\x([89a-f][0-9a-f])")


def path_from_text(text: str) -> str:
    r"""The file-system name that :func:`path_text` wrote as ``text``.

    Each ``\xNN`` escape of a byte 0x80-0xFF becomes that byte again, and the
    bytes are decoded as Python decodes file names (:func:`os.fsdecode`), so
    the result opens, stats and compares like the original name.

    Parameters
    ----------
    text : str
        A path as written in a report (``Report.file``, ``evidence["path"]``).

    Returns
    -------
    str
        The name with its stray bytes restored (``"bad\xff.wav"`` gives
        ``"bad\udcff.wav"``, the name of the file ``bad<0xFF>.wav``); ``text``
        itself when it holds no such escape.

    Notes
    -----
    Like :func:`path_text`, not unambiguous: a name that really contains the
    four characters ``\xff`` is read as the byte. Callers that guard a file
    (:meth:`vtract.report.Report.to_html`) check both readings.
    """
    if not _BYTE_ESCAPE.search(text):
        return text
    parts = _BYTE_ESCAPE.split(text)  # text, hex, text, hex, ..., text
    raw = b"".join(
        bytes([int(part, 16)]) if i % 2 else os.fsencode(part) for i, part in enumerate(parts)
    )
    return os.fsdecode(raw)


#: Unicode categories escaped by :func:`visible_text`: control, format (bidi
#: controls, zero-width characters), surrogate, private use, unassigned, and
#: the line and paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible_text(
    text: str, drawable: Callable[[str], bool] | None = None, *, keep: str = "\n\t"
) -> str:
    r"""``text`` with every character that could hide or disguise what it says escaped.

    A file name or label is shown to an examiner as evidence. Characters that
    are invisible or change how the rest is displayed -- bidirectional
    controls (U+202E RIGHT-TO-LEFT OVERRIDE makes ``suspect_<U+202E>calf.wav``
    read as ``suspect_vaw.flac``), zero-width and other format characters,
    control characters, unassigned code points and lone surrogates -- are
    written as visible escapes: ``\x07`` below U+0080, else ``\uNNNN`` or
    ``\UNNNNNNNN``. Newlines and tabs are kept.

    Parameters
    ----------
    text : str
        The text to show.
    drawable : callable, optional
        ``drawable(char)`` is false for a character the output cannot draw
        (a glyph missing from the PDF font); such characters are escaped too.
    keep : str, default "\\n\\t"
        Characters never escaped (a one-line terminal message passes ``""``,
        so that a newline cannot forge a second line).

    Returns
    -------
    str
        ``text`` unchanged when nothing needed escaping.

    Notes
    -----
    A name that really contains the six characters ``\u202e`` is shown the
    same way; the JSON report keeps the exact text.

    Examples
    --------
    >>> visible_text("suspect_\u202ecalf.wav")
    'suspect_\\u202ecalf.wav'
    """
    out = []
    for char in text:
        if char in keep:
            out.append(char)
        elif unicodedata.category(char) in _HIDDEN_CATEGORIES or (
            drawable is not None and not drawable(char)
        ):
            out.append(_escape_char(char))
        else:
            out.append(char)
    return "".join(out)


def provenance(
    parameters: dict[str, Any] | None = None,
    inputs: dict[str, str] | None = None,
    *,
    timestamp: bool = True,
) -> dict[str, Any]:
    """Provenance block for any vtract output.

    Parameters
    ----------
    parameters : dict, optional
        Every setting that influenced the result (JSON-serialisable).
    inputs : dict, optional
        Input names mapped to their SHA-256 hashes.
    timestamp : bool, default True
        Include ``created_utc``. Leave it out to compare runs byte for byte.

    Returns
    -------
    dict
        ``tool``, ``version``, ``git_commit``, ``python``, ``platform``,
        ``dependencies``, ``parameters``, ``inputs`` and ``created_utc``.
    """
    block: dict[str, Any] = {
        "tool": "vtract",
        "version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": f"{platform.system()}-{platform.machine()}",
        "implementation": sys.implementation.name,
        "dependencies": dependency_versions(),
        "parameters": dict(parameters or {}),
        "inputs": dict(inputs or {}),
    }
    if timestamp:
        block["created_utc"] = (
            _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        )
    return block
