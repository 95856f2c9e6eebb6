"""Location of the shared speech data used by data-driven tests.

CI runs on a clean clone with ``../shared`` beside it; elsewhere those tests
skip with a clear reason instead of failing obscurely.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "VTRACT_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)

needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"shared speech data not found at {SHARED_DATA} (set VTRACT_SHARED_DATA)",
)


def non_utf8_copy(source: Path, folder: Path, stem: bytes = b"bad\xff_good") -> Path:
    """Copy ``source`` into ``folder`` under a name holding the byte 0xFF (not UTF-8).

    Returns the name as Python hands it over (the byte as the surrogate
    ``"\\udcff"``). Skips the test on a file system that refuses such names
    (macOS APFS and HFS+, most Windows file systems).
    """
    folder.mkdir(parents=True, exist_ok=True)
    raw = os.path.join(os.fsencode(folder), stem + os.fsencode(source.suffix))
    try:
        fd = os.open(raw, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except (OSError, ValueError) as exc:
        pytest.skip(f"this file system refuses a file name that is not UTF-8 ({exc})")
    with os.fdopen(fd, "wb") as fh:
        fh.write(source.read_bytes())
    return Path(os.fsdecode(raw))
