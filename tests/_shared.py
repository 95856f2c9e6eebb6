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
