"""What a batch table's answers depend on besides the input files.

A results table may only be resumed by a run that would give the same
answers: the same vtract version and code (a digest of the whole vtract
package source, :func:`code_fingerprint`: aligner, evidence decoding,
features, tract estimator, detectors, verdict conditions...), the same
versions of the numerical and audio libraries (:data:`LIBRARIES`), per-file
function (for a ``--per-file`` plugin: its name *and* the SHA-256 of its
source, :func:`per_file_fingerprint`), organic reference and analysis
options (detector, estimator method, channel, pronunciations...).
:func:`analysis_settings` states these as canonical JSON, which every row
carries in its ``analysis_settings`` column; a resumed run whose settings
differ is refused (:class:`~vtract.batch.output.BatchOutput`) instead of
silently keeping answers made another way.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import os
import pickle
import sys
import types
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._version import __version__
from ..provenance import file_sha256
from .errors import BatchError

__all__ = [
    "LIBRARIES",
    "analysis_settings",
    "code_fingerprint",
    "describe_setting",
    "library_versions",
    "per_file_fingerprint",
    "settings_difference",
]

#: Distributions whose version can change a row (decoding, alignment, numerics).
LIBRARIES = ("numpy", "scipy", "numba", "soundfile", "pocketsphinx")

#: Package folders and file endings left out of :func:`code_fingerprint` (not analysis code).
_NOT_CODE_DIRS = ("__pycache__", "examples")
_NOT_CODE_SUFFIXES = (".pyc", ".pyo", ".md", ".typed")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the whole vtract package as installed (names and bytes, sorted).

    Every source file (and shipped schema and reference) below the package
    folder counts, so any change to the aligner, evidence decoding,
    features, estimator, detectors or verdict conditions, committed or not,
    changes it, even while the version string stays the same. Caches,
    documentation and example audio are left out. Line endings are read as
    ``\\n`` so a Windows checkout gives the same digest.

    Returns
    -------
    str
        64 hex digits.
    """
    root = Path(__file__).resolve().parent.parent
    files = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and not set(p.relative_to(root).parts[:-1]) & set(_NOT_CODE_DIRS)
        and not p.name.endswith(_NOT_CODE_SUFFIXES)
    )
    h = hashlib.sha256()
    for name in files:
        data = (root / name).read_bytes().replace(b"\r\n", b"\n")
        h.update(name.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


#: Prefix of :func:`per_file_fingerprint` when the source cannot be read (never resumed).
UNREADABLE = "unreadable"


def per_file_fingerprint(func: Callable[..., Any]) -> str:
    """SHA-256 of what a per-file function runs: its source, and its state if it has any.

    The source is the file of the module that defines the function (for a
    :func:`functools.partial`, the wrapped function; for a callable object,
    its class); when that module belongs to a package, every ``*.py`` file
    of the top-level package (so a helper module it imports counts too).
    Line endings are read as ``\n``. A function that is not a plain
    module-level function (a partial, a bound method, a callable object, a
    closure) also has state that can change its answers (bound arguments,
    attributes, captured values): its pickle (cloudpickle for closures) is
    hashed as well.

    Fallback: when the source cannot be read (a function typed at an
    interactive prompt with no source, a built-in, a module without a file)
    and :func:`inspect.getsource` cannot find it either, or the state cannot
    be pickled, the result is ``"unreadable (<why>) <random id>"``. The
    random id differs in every run, so a table written with such a function
    is never resumed (refused, see
    :class:`~vtract.batch.output.BatchOutput`): a resume that cannot show
    the code is the same is not made.

    Not covered: modules outside the function's own top-level package that
    it imports (other than :data:`LIBRARIES` and vtract itself, which
    :func:`analysis_settings` covers), data files it reads, and, on a remote
    Dask cluster, a different copy of the module on the workers.

    Parameters
    ----------
    func : callable
        The per-file function.

    Returns
    -------
    str
        64 hex digits, or ``"unreadable (...) <32 hex digits>"``.
    """
    h = hashlib.sha256()
    target: Any = func
    stateful = False
    while isinstance(target, functools.partial):
        target, stateful = target.func, True
    if isinstance(target, types.MethodType):
        target, stateful = target.__func__, True
    if isinstance(target, types.FunctionType):
        stateful = stateful or bool(target.__closure__) or "<locals>" in target.__qualname__
        owner: Any = target
    elif isinstance(target, types.BuiltinFunctionType):
        owner = target
    else:  # a callable object: its class's source, its attributes as state
        owner, stateful = type(target), True
    try:
        for name, data in _source_files(owner):
            h.update(name.encode("utf-8", "surrogateescape") + b"\0")
            h.update(hashlib.sha256(data.replace(b"\r\n", b"\n")).digest())
        if stateful:
            h.update(b"state\0" + hashlib.sha256(_pickled(func)).digest())
    except _Unreadable as exc:
        return f"{UNREADABLE} ({exc}) {uuid.uuid4().hex}"
    return h.hexdigest()


class _Unreadable(Exception):
    """The source or state of a per-file function cannot be read."""


def _source_files(owner: Any) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of the source files of the module defining ``owner``."""
    modname = getattr(owner, "__module__", None)
    module = sys.modules.get(modname) if isinstance(modname, str) else None
    top = sys.modules.get(modname.split(".")[0]) if isinstance(modname, str) else None
    folders = list(getattr(top, "__path__", None) or [])
    try:
        if folders:  # a package: all of its Python files
            files = []
            for folder in folders:
                root = Path(folder)
                files += [
                    (f"{root.name}/{p.relative_to(root).as_posix()}", p.read_bytes())
                    for p in root.rglob("*.py")
                    if "__pycache__" not in p.parts
                ]
            if files:
                return sorted(files)
        path = getattr(module, "__file__", None)
        if path and os.path.isfile(path) and path.endswith(".py"):
            return [(Path(path).name, Path(path).read_bytes())]
    except OSError as exc:
        raise _Unreadable(f"cannot read the source of {modname}: {exc.strerror}") from None
    try:  # no module file (an interactive session, a notebook cell): the object's own source
        return [
            (
                f"<source of {getattr(owner, '__qualname__', '?')}>",
                inspect.getsource(owner).encode(),
            )
        ]
    except (OSError, TypeError):
        raise _Unreadable(f"no source found for {describe_setting(owner)}") from None


def _pickled(func: Callable[..., Any]) -> bytes:
    """The pickle of ``func`` (cloudpickle when plain pickle cannot: closures, lambdas)."""
    try:
        return pickle.dumps(func, protocol=4)
    except Exception:
        pass
    try:
        try:  # joblib >= 1.5 depends on cloudpickle and no longer vendors it
            import cloudpickle
        except ImportError:
            from joblib.externals import cloudpickle  # type: ignore[no-redef]

        return bytes(cloudpickle.dumps(func, protocol=4))
    except Exception as exc:
        raise _Unreadable(f"its state cannot be pickled: {type(exc).__name__}") from None


def library_versions() -> dict[str, str]:
    """Versions of Python and of :data:`LIBRARIES` (``"not installed"`` when absent)."""
    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for dist in LIBRARIES:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def describe_setting(value: Any) -> Any:
    """A JSON-friendly description of a setting (paths as text, objects by name).

    Mappings and sequences are described item by item (mappings with sorted
    keys); an object with a ``name`` is described by its name and
    ``sha256``; a function by its qualified name.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {
            str(k): describe_setting(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(value, (list, tuple)):
        return [describe_setting(v) for v in value]
    name = getattr(value, "name", None)
    sha = getattr(value, "sha256", None)
    if isinstance(name, str):
        return {"name": name, "sha256": sha if isinstance(sha, str) else None}
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if module and qualname:
        return f"{module}.{qualname}"
    return type(value).__name__


def _reference_sha256(reference: Any) -> str:
    """SHA-256 of the reference file (``Reference.sha256`` of the reference loaded from it)."""
    path: str | os.PathLike[str]
    if reference is None:
        from ..reference import default_reference_path

        path = default_reference_path()
    elif isinstance(reference, (str, os.PathLike)):
        path = reference
    else:
        sha = getattr(reference, "sha256", None)
        if not isinstance(sha, str):
            raise BatchError(
                f"reference must be a path or a Reference, got {type(reference).__name__}"
            )
        return sha
    try:
        return file_sha256(path)
    except OSError as exc:
        raise BatchError(f"cannot read the reference {os.fspath(path)!r}: {exc.strerror}") from None


def _own_defaults(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def analysis_settings(
    per_file: Callable[..., Any] | None, reference: Any, options: Mapping[str, Any]
) -> str:
    """Canonical JSON of the settings a batch run's answers depend on.

    Parameters
    ----------
    per_file : callable or None
        The per-file function (``None``: :func:`vtract.analyze`).
    reference : path-like, Reference or None
        The organic reference (``None``: the shipped default), identified
        by its SHA-256.
    options : mapping
        Keyword options passed to every file. Options equal to the
        per-file function's own defaults are left out, so spelling out a
        default does not count as a change.

    Returns
    -------
    str
        JSON with sorted keys: ``vtract_version``, ``code_sha256``
        (:func:`code_fingerprint`: the version string does not change
        between development builds, the code may), ``libraries``
        (:func:`library_versions`), ``per_file``, ``per_file_sha256``
        (:func:`per_file_fingerprint` of a per-file function other than
        :func:`vtract.analyze`, whose code ``code_sha256`` covers; else
        ``null``), ``reference_sha256``,
        ``options`` and
        ``verdict_thresholds`` (with :func:`vtract.analyze`:
        :func:`vtract.verdict_conditions.verdict_thresholds`, so a resumed
        run does not mix verdicts made under different rules; else ``null``).

    Raises
    ------
    BatchError
        The reference file cannot be read.
    """
    rules: dict[str, Any] | None = None
    if per_file is None:
        from ..analysis import analyze
        from ..verdict_conditions import verdict_thresholds

        func: Callable[..., Any] = analyze
        name = "vtract.analyze"
        rules = verdict_thresholds()
        source = None
    else:
        func, name = per_file, describe_setting(per_file)
        source = per_file_fingerprint(per_file)
    defaults = _own_defaults(func)
    kept = {
        k: describe_setting(v)
        for k, v in options.items()
        if not (k in defaults and _same(defaults[k], v))
    }
    return json.dumps(
        {
            "vtract_version": __version__,
            "code_sha256": code_fingerprint(),
            "libraries": library_versions(),
            "per_file": name,
            "per_file_sha256": source,
            "reference_sha256": _reference_sha256(reference),
            "options": kept,
            "verdict_thresholds": rules,
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def _same(default: Any, value: Any) -> bool:
    """``value`` is the plain default (``None``, a bool, number or string)."""
    plain = (type(None), bool, int, float, str)
    return isinstance(default, plain) and type(value) is type(default) and value == default


def settings_difference(before: str, now: str) -> str:
    """What differs between two :func:`analysis_settings` strings, for a message.

    Returns
    -------
    str
        ``"key: before -> now"`` items joined with ``"; "`` (option keys as
        ``options.<name>``, thresholds as ``verdict_thresholds.<name>``); the
        whole strings when one is not valid JSON. An option missing on one
        side shows as ``(default)`` (options equal to their default are left
        out); any other missing key as ``(not recorded)``.
    """
    try:
        old, new = json.loads(before), json.loads(now)
    except (TypeError, ValueError):
        old, new = None, None
    if not isinstance(old, dict) or not isinstance(new, dict):
        return f"{before or '(none recorded)'} -> {now}"

    def flat(d: dict[str, Any]) -> dict[str, Any]:
        items: dict[str, Any] = {}
        for key, value in d.items():
            if key in ("options", "verdict_thresholds", "libraries") and isinstance(value, dict):
                items.update({f"{key}.{k}": v for k, v in value.items()})
            elif key != "options":
                items[key] = value
        return items

    a, b = flat(old), flat(new)
    missing = object()

    def shown(d: dict[str, Any], k: str) -> str:
        if k in d:
            return json.dumps(d[k], ensure_ascii=False)
        # An option left out is its default; any other key was not recorded at all
        # (settings written by another vtract version).
        return "(default)" if k.startswith("options.") else "(not recorded)"

    return "; ".join(
        f"{k}: {shown(a, k)} -> {shown(b, k)}"
        for k in sorted(set(a) | set(b))
        if a.get(k, missing) != b.get(k, missing)
    )
