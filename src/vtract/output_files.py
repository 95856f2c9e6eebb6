"""Writing result files safely: atomically, and never over the evidence.

A forensic tool must not destroy what it examines, nor leave a half-written
result that looks complete. Every output goes to a temporary file in the same
folder and is moved into place with :func:`os.replace` only when complete; an
output whose resolved path is one of the inputs is refused first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from .errors import VtractError

__all__ = ["OutputOverInputError", "atomic_text_file", "refuse_output_over_inputs"]


class OutputOverInputError(VtractError):
    """An output path resolves to one of the inputs."""


def refuse_output_over_inputs(
    outputs: Iterable[str | os.PathLike[str] | None],
    inputs: Iterable[str | os.PathLike[str] | None],
) -> None:
    """Raise :class:`OutputOverInputError` when an output would replace an input.

    Paths are compared after resolving symbolic links and ``..`` so another
    spelling of the same file is caught too.
    """
    resolved = {os.path.realpath(p) for p in inputs if p is not None}
    for out in outputs:
        if out is not None and os.path.realpath(out) in resolved:
            raise OutputOverInputError(
                f"output {os.fspath(out)!r} is one of the inputs: refusing to overwrite evidence"
            )


@contextlib.contextmanager
def atomic_text_file(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Open a temporary text file that replaces ``path`` only on success.

    On any exception (including :class:`KeyboardInterrupt`) the temporary file
    is removed and ``path`` keeps its previous content.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    fh = open(tmp, "w", encoding="utf-8")
    try:
        yield fh
        fh.close()
        os.replace(tmp, target)
    except BaseException:
        fh.close()
        tmp.unlink(missing_ok=True)
        raise
