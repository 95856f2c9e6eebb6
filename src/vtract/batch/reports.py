"""Per-file JSON reports written into one folder, never outside it.

File names are derived from the evidence name, which an adversary may
control (``../../etc/cron.d/x.wav``, names with separators or control
characters): :func:`report_path` keeps only letters, digits, ``-``, ``_``
and single ``.`` of the stem, appends the first 16 hex digits of the SHA-256 (so two
files with one name do not collide) and checks that the resolved path is
inside the folder.

One batch can analyse the same audio more than once: listed with a TextGrid
and again with a transcript, or two copies of one file in two folders. Each
of those analyses gets its own report: the batch passes
:func:`analysis_id` (the analysis key plus the absolute path), whose first 8
hex digits are appended to the name. Without it, whichever analysis finished
last would silently overwrite the other's report (and which one that is
depends on the worker schedule).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from ..output_files import atomic_path
from .errors import OutputError

__all__ = ["analysis_id", "report_path", "write_report_json"]

_UNSAFE = re.compile(r"[^\w.-]+", flags=re.UNICODE)
_MAX_STEM = 80


def analysis_id(input_key: str, path: str | os.PathLike[str]) -> str:
    """Identity of one analysis in one batch (64 hex digits).

    Parameters
    ----------
    input_key : str
        :attr:`vtract.batch.inputs.BatchInput.key` (audio, alignment and
        transcript hashes).
    path : path-like
        The evidence path (made absolute), so that two copies of one
        recording in two folders get two reports (their ``file`` differs).
    """
    text = "\x1f".join((input_key, os.path.abspath(os.fspath(path))))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def report_path(
    folder: str | os.PathLike[str],
    evidence: str | os.PathLike[str],
    sha256: str,
    analysis: str | None = None,
) -> Path:
    """Where the JSON report of ``evidence`` goes inside ``folder``.

    Parameters
    ----------
    folder : path-like
        Reports folder (need not exist yet).
    evidence : path-like
        Evidence file name or path (only its stem is used).
    sha256 : str
        SHA-256 of the evidence (hex).
    analysis : str, optional
        :func:`analysis_id` of this analysis (hex); its first 8 digits are
        appended so that several analyses of one recording do not share a file.

    Returns
    -------
    pathlib.Path
        ``folder/<safe stem>-<sha256[:16]>.json``, or
        ``folder/<safe stem>-<sha256[:16]>-<analysis[:8]>.json``.

    Raises
    ------
    OutputError
        ``sha256`` or ``analysis`` is not a hex digest, or the path would
        leave ``folder``.
    """
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise OutputError(f"sha256 {sha256!r} is not a 64-digit lowercase hex digest")
    if analysis is not None and not re.fullmatch(r"[0-9a-f]{8,64}", analysis):
        raise OutputError(f"analysis id {analysis!r} is not a lowercase hex digest")
    root = Path(os.path.abspath(Path(folder).expanduser()))
    stem = _UNSAFE.sub("_", Path(os.fspath(evidence)).stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip("._") or "evidence"
    suffix = "" if analysis is None else f"-{analysis[:8]}"
    target = root / f"{stem[:_MAX_STEM]}-{sha256[:16]}{suffix}.json"
    if target.parent != root or not target.resolve().is_relative_to(root.resolve()):
        raise OutputError(
            f"report for {os.fspath(evidence)!r} would be written outside {str(root)!r}"
        )
    return target


def write_report_json(
    folder: str | os.PathLike[str], report: Any, analysis: str | None = None
) -> Path:
    """Write ``report.to_json()`` into ``folder`` atomically; return the path.

    ``analysis`` is passed to :func:`report_path`.
    """
    target = report_path(folder, report.file or "evidence", report.sha256, analysis)
    try:
        # the name is ours: a link planted under it is replaced, never followed
        with atomic_path(target, follow_symlinks=False) as tmp:
            tmp.write_text(report.to_json(indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write report {str(target)!r}: {exc.strerror or exc}") from None
    return target
