"""Progress reporting for batch runs: stderr only, silent when not interactive."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress_bar", "wants_progress"]


def wants_progress(enabled: bool | None) -> bool:
    """Resolve the progress setting: ``None`` means "only if stderr is a terminal"."""
    if enabled is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty())
    return bool(enabled)


def progress_bar(*, total: int, desc: str, enabled: bool | None) -> Any:
    """A tqdm bar on stderr showing files done, files/s and ETA (disabled when quiet).

    Parameters
    ----------
    total : int
        Number of files expected.
    desc : str
        Label shown before the bar.
    enabled : bool or None
        ``True``/``False`` force it on/off; ``None`` shows it only when
        stderr is a terminal. Nothing is ever written to stdout.
    """
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit="file",
        file=sys.stderr,
        disable=not wants_progress(enabled),
        dynamic_ncols=True,
        smoothing=0.1,
        mininterval=0.5,
    )
