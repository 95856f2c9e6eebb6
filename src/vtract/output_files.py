"""Writing result files safely: atomically, and never over the evidence.

A forensic tool must not destroy what it examines, nor leave a half-written
result that looks complete. Every output goes to a temporary file in the same
folder and is moved into place with :func:`os.replace` only when complete; an
output whose resolved path is one of the inputs is refused first.

Symbolic links are followed: the file a link names is replaced, the link is
kept. An output that exists and is not a regular file -- a FIFO, a character
device such as ``/dev/null``, ``/dev/stdout`` or ``/dev/fd/N`` of a pipe (a
shell's ``>(cmd)``) -- cannot be replaced atomically and must never be
replaced, so it is written to directly; a block device or a socket is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
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


def _destination(path: str | os.PathLike[str], follow_symlinks: bool = True) -> tuple[Path, bool]:
    """The file an output to ``path`` lands in, and whether to write it directly.

    Returns ``(dest, direct)``. ``direct`` is true when ``path`` exists and is
    not a regular file or folder (FIFO, character device, a ``/proc/self/fd``
    pipe): ``dest`` is then ``path`` as given, since opening it follows the
    links (``/dev/stdout`` resolves to a ``pipe:[...]`` name that cannot be
    opened). Otherwise ``dest`` is the final target of any symbolic links
    (``path`` itself when ``follow_symlinks`` is false and it is a link).

    Raises
    ------
    OutputFileError
        ``path`` is a block device or a socket.
    """
    given = Path(path)
    if not follow_symlinks and given.is_symlink():
        return given, False
    try:
        st = os.stat(given)
    except OSError:  # missing (a dangling link is followed to its target), or unusable
        return (Path(os.path.realpath(given)) if follow_symlinks else given), False
    mode = st.st_mode
    if stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        kind = "a block device" if stat.S_ISBLK(mode) else "a socket"
        raise OutputFileError(f"cannot write {os.fspath(given)!r}: it is {kind}")
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        real = Path(os.path.realpath(given))
        try:
            if os.path.samestat(os.stat(real), st):
                return real, False
        except OSError:
            pass
        # a link that does not resolve to a name (a /proc/PID/fd link to a
        # deleted file): only the given path reaches the file
        return (given, True) if stat.S_ISREG(mode) else (given, False)
    return given, True


def prepare_output(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> Path:
    """Create the folder of an output file now, before any work is done for it.

    Parameters
    ----------
    path : str or os.PathLike
        The output file.
    follow_symlinks : bool, default True
        Check the folder of the file a symbolic link names (where
        :func:`atomic_path` writes), not the link's.

    Returns
    -------
    pathlib.Path
        Where the output will be written: the final target of ``path``'s
        symbolic links, or ``path`` itself when it exists and is not a
        regular file (a FIFO or character device is written to directly).

    Raises
    ------
    OutputFileError
        The folder cannot be created (a file is in the way, no permission,
        read-only file system), ``path`` is an existing folder, a block
        device or a socket.
    """
    return _prepare(path, follow_symlinks)[0]


def _prepare(path: str | os.PathLike[str], follow_symlinks: bool) -> tuple[Path, bool]:
    """:func:`prepare_output`, also saying whether the output is written directly."""
    dest, direct = _destination(path, follow_symlinks)
    if direct:
        return dest, True
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(dest, exc) from None
    if dest.is_dir():
        raise OutputFileError(f"cannot write {os.fspath(path)!r}: it is a folder")
    if not os.access(dest.parent, os.W_OK):
        raise OutputFileError(f"cannot write {os.fspath(dest)!r}: its folder is not writable")
    return dest, False


def refuse_output_over_inputs(
    outputs: Iterable[str | os.PathLike[str] | None],
    inputs: Iterable[str | os.PathLike[str] | None],
) -> None:
    """Raise :class:`OutputOverInputError` when an output would replace an input.

    Paths are compared after resolving symbolic links and ``..``, so another
    spelling of the same file, or a link to it, is caught too; so is another
    name of the same file (a hard link, ``/dev/fd/N`` of an open input), by
    device and inode.
    """
    resolved: set[str] = set()
    ids: set[tuple[int, int]] = set()
    for p in inputs:
        if p is None:
            continue
        resolved.add(os.path.realpath(p))
        with contextlib.suppress(OSError, ValueError):
            st = os.stat(p)
            ids.add((st.st_dev, st.st_ino))
    for out in outputs:
        if out is None:
            continue
        same = os.path.realpath(out) in resolved
        if not same and ids:
            with contextlib.suppress(OSError, ValueError):
                st = os.stat(out)
                same = stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) in ids
        if same:
            raise OutputOverInputError(
                f"output {os.fspath(out)!r} is one of the inputs: refusing to overwrite evidence"
            )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> Iterator[Path]:
    """Yield the path to write an output to; it replaces ``path`` only on success.

    For a regular file (existing or not) this is a temporary file beside the
    destination. When the block ends without an exception it gets the mode a
    plain ``open(..., "w")`` would give and is moved over the destination
    with :func:`os.replace`. On any exception (including
    :class:`KeyboardInterrupt`) it is removed and the destination is left as
    it was.

    Parameters
    ----------
    path : str or os.PathLike
        The output file.
    follow_symlinks : bool, default True
        When ``path`` is a symbolic link, replace the file it finally names
        and keep the link (as the shell's ``>`` does). False replaces the
        link itself with the file (for names the caller made up, as in a
        reports folder, where a planted link must not be followed).

    Yields
    ------
    pathlib.Path
        The temporary file to write; or, when ``path`` exists and is not a
        regular file (a FIFO, a character device such as ``/dev/null``,
        ``/dev/stdout``, ``/dev/fd/N`` of a pipe), ``path`` itself: such a file
        cannot be replaced atomically and is never replaced, so it is written
        directly (opening a FIFO waits for a reader, as the shell does).

    Raises
    ------
    OutputFileError
        The destination cannot be created or written (see
        :func:`prepare_output`), or is a block device or a socket.
    """
    dest, direct = _prepare(path, follow_symlinks)
    if direct:
        yield dest
        return
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
def atomic_text_file(
    path: str | os.PathLike[str], *, follow_symlinks: bool = True
) -> Iterator[IO[str]]:
    """Open a UTF-8 text file that replaces ``path`` only on success.

    As :func:`atomic_path`: a symbolic link's target is replaced, a FIFO or
    character device is written directly.
    """
    with (
        atomic_path(path, follow_symlinks=follow_symlinks) as tmp,
        open(tmp, "w", encoding="utf-8") as fh,
    ):
        yield fh


def _default_mode() -> int:
    """File mode a plain ``open(..., "w")`` would give (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
