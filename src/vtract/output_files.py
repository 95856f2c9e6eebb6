"""Writing result files safely: atomically, and never over the evidence.

A forensic tool must not destroy what it examines, nor leave a half-written
result that looks complete. Every output goes to a temporary file in the same
folder and is moved into place with :func:`os.replace` only when complete; an
output whose resolved path is one of the inputs is refused first.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from .errors import VtractError

__all__ = [
    "OutputFileError",
    "OutputOverInputError",
    "atomic_path",
    "atomic_text_file",
    "os_error_reason",
    "prepare_output",
    "refuse_output_over_inputs",
]


class OutputOverInputError(VtractError):
    """An output path resolves to one of the inputs."""


class OutputFileError(VtractError):
    """An output file or its folder cannot be created or written."""


def os_error_reason(exc: OSError) -> str:
    """One line saying what the file system refused, naming the path involved."""
    name = os.fspath(exc.filename) if exc.filename is not None else ""
    if exc.errno == errno.EEXIST and name:
        return f"{name!r} is a file where a folder is needed"
    if exc.errno == errno.ENOTDIR and name:
        return f"part of {name!r} is a file where a folder is needed"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{name}: {reason}" if name else reason


def _cannot_write(path: str | os.PathLike[str], exc: OSError) -> OutputFileError:
    return OutputFileError(f"cannot write {os.fspath(path)!r}: {os_error_reason(exc)}")


def prepare_output(path: str | os.PathLike[str]) -> Path:
    """Create the folder of an output file now, before any work is done for it.

    Raises
    ------
    OutputFileError
        The folder cannot be created (a file is in the way, no permission,
        read-only file system) or ``path`` is an existing folder.
    """
    dest = Path(path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(dest, exc) from None
    if dest.is_dir():
        raise OutputFileError(f"cannot write {os.fspath(dest)!r}: it is a folder")
    if not os.access(dest.parent, os.W_OK):
        raise OutputFileError(f"cannot write {os.fspath(dest)!r}: its folder is not writable")
    return dest


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
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` that replaces it only on success.

    The caller writes the temporary file; when the block ends without an
    exception it gets the mode a plain ``open(..., "w")`` would give and is
    moved over ``path`` with :func:`os.replace`. On any exception (including
    :class:`KeyboardInterrupt`) it is removed and ``path`` is left as it was.
    """
    dest = prepare_output(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise _cannot_write(dest, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        try:
            os.chmod(tmp, _default_mode())
            os.replace(tmp, dest)
        except OSError as exc:
            raise _cannot_write(dest, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_text_file(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Open a temporary UTF-8 text file that replaces ``path`` only on success."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        yield fh


def _default_mode() -> int:
    """File mode a plain ``open(..., "w")`` would give (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
