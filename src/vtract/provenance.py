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
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from ._version import __version__

__all__ = [
    "DEPENDENCIES",
    "dependency_versions",
    "file_sha256",
    "git_commit",
    "path_text",
    "provenance",
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
