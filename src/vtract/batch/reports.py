"""Per-file JSON reports written into one folder, never outside it.

File names are derived from the evidence name, which an adversary may
control (``../../etc/cron.d/x.wav``, names with separators or control
characters): :func:`report_path` keeps only letters, digits, ``-``, ``_``
and single ``.`` of the stem, appends the first 16 hex digits of the SHA-256 (so two
files with one name do not collide) and checks that the resolved path is
inside the folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..output_files import atomic_path
from .errors import OutputError

__all__ = ["report_path", "write_report_json"]

_UNSAFE = re.compile(r"[^\w.-]+", flags=re.UNICODE)
_MAX_STEM = 80


def report_path(
    folder: str | os.PathLike[str], evidence: str | os.PathLike[str], sha256: str
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

    Returns
    -------
    pathlib.Path
        ``folder/<safe stem>-<sha256[:16]>.json``.

    Raises
    ------
    OutputError
        ``sha256`` is not a hex digest, or the path would leave ``folder``.
    """
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise OutputError(f"sha256 {sha256!r} is not a 64-digit lowercase hex digest")
    root = Path(os.path.abspath(Path(folder).expanduser()))
    stem = _UNSAFE.sub("_", Path(os.fspath(evidence)).stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip("._") or "evidence"
    target = root / f"{stem[:_MAX_STEM]}-{sha256[:16]}.json"
    if target.parent != root or not target.resolve().is_relative_to(root.resolve()):
        raise OutputError(
            f"report for {os.fspath(evidence)!r} would be written outside {str(root)!r}"
        )
    return target


def write_report_json(folder: str | os.PathLike[str], report: Any) -> Path:
    """Write ``report.to_json()`` into ``folder`` atomically; return the path."""
    target = report_path(folder, report.file or "evidence", report.sha256)
    try:
        with atomic_path(target) as tmp:
            tmp.write_text(report.to_json(indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write report {str(target)!r}: {exc.strerror or exc}") from None
    return target
