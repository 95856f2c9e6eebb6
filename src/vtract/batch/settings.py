"""What a batch table's answers depend on besides the input files.

A results table may only be resumed by a run that would give the same
answers: the same vtract version and code (a digest of the whole vtract
package source, :func:`code_fingerprint`: aligner, evidence decoding,
features, tract estimator, detectors, verdict conditions...), the same
versions of the numerical and audio libraries (:data:`LIBRARIES`), per-file
function (for a ``--per-file`` plugin: its name, the SHA-256 of its source,
:func:`per_file_fingerprint`, and of its bound state,
:func:`per_file_state_fingerprint`), organic reference and analysis
options (detector, estimator method, channel, pronunciations...).
:func:`analysis_settings` states these as canonical JSON, which every row
carries in its ``analysis_settings`` column; a resumed run whose settings
differ is refused (:class:`~vtract.batch.output.BatchOutput`) instead of
silently keeping answers made another way.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import importlib.metadata
import inspect
import io
import json
import os
import pickle
import sys
import types
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from .._version import __version__
from ..provenance import file_sha256
from .errors import BatchError

__all__ = [
    "LIBRARIES",
    "analysis_settings",
    "canonical_pickle",
    "code_fingerprint",
    "describe_setting",
    "library_versions",
    "per_file_fingerprint",
    "per_file_state_fingerprint",
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


#: Prefix of a per-file fingerprint that could not be made (never resumed).
UNREADABLE = "unreadable"


def per_file_fingerprint(func: Callable[..., Any]) -> str:
    """SHA-256 of the source of a per-file function.

    The source is the file of the module that defines the function (for a
    :func:`functools.partial`, the wrapped function; for a bound method,
    its function; for a callable object, its class); when that module
    belongs to a package, every ``*.py`` file of the top-level package (so
    a helper module it imports counts too). Line endings are read as
    ``\n``. What the function is bound to or captures (bound arguments,
    attributes, captured values) is fingerprinted apart, by
    :func:`per_file_state_fingerprint`; :func:`analysis_settings` records
    both, so a refused resume can say which one differs.

    Fallback: when the source cannot be read (a function typed at an
    interactive prompt with no source, a built-in, a module without a file)
    and :func:`inspect.getsource` cannot find it either, the result is
    ``"unreadable (<why>) <random id>"``. The random id differs in every
    run, so a table written with such a function is never resumed (refused,
    see :class:`~vtract.batch.output.BatchOutput`): a resume that cannot
    show the code is the same is not made.

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
    owner, _stateful = _plugin_parts(func)
    h = hashlib.sha256()
    try:
        for name, data in _source_files(owner):
            h.update(name.encode("utf-8", "surrogateescape") + b"\0")
            h.update(hashlib.sha256(data.replace(b"\r\n", b"\n")).digest())
    except _Unreadable as exc:
        return f"{UNREADABLE} ({exc}) {uuid.uuid4().hex}"
    return h.hexdigest()


def per_file_state_fingerprint(func: Callable[..., Any]) -> str | None:
    """SHA-256 of what a per-file function is bound to or captures, or ``None`` if nothing.

    A plain module-level function has no state (``None``). A
    :func:`functools.partial` (its bound arguments), a bound method (its
    object), a callable object (its attributes) and a closure, lambda or
    nested function (its captured values, defaults and the globals its code
    names) do: their canonical pickle (:func:`canonical_pickle`) is hashed.
    The canonical pickle is the same in every process for the same state:
    a set's elements and a dict's items are written in a sorted order, not
    in the order string hashing (randomised per process) gives them, and
    functions and classes that cannot be found by name are written by
    value, without the random id cloudpickle gives a class. An object whose
    own pickle holds something that differs from process to process (a
    random number, a memory address, the time) still gives another
    fingerprint in every process: a resume is then refused with a message
    saying the state pickles differently, not that the code changed.

    Fallback: state that cannot be pickled (an open file, a lock, a
    generator) gives ``"unreadable (its state cannot be pickled: <why>)
    <random id>"``, so a table written with it is never resumed.

    Parameters
    ----------
    func : callable
        The per-file function.

    Returns
    -------
    str or None
        64 hex digits, ``"unreadable (...) <32 hex digits>"``, or ``None``.
    """
    _owner, stateful = _plugin_parts(func)
    if not stateful:
        return None
    try:
        return hashlib.sha256(canonical_pickle(func)).hexdigest()
    except Exception as exc:
        why = f"its state cannot be pickled: {type(exc).__name__}"
        return f"{UNREADABLE} ({why}) {uuid.uuid4().hex}"


def _plugin_parts(func: Callable[..., Any]) -> tuple[Any, bool]:
    """Whose source a per-file function runs, and whether it has state besides that source."""
    target: Any = func
    stateful = False
    while isinstance(target, functools.partial):
        target, stateful = target.func, True
    if isinstance(target, types.MethodType):
        target, stateful = target.__func__, True
    if isinstance(target, types.FunctionType):
        stateful = stateful or bool(target.__closure__) or "<locals>" in target.__qualname__
        return target, stateful
    if isinstance(target, types.BuiltinFunctionType):
        return target, stateful
    return type(target), True  # a callable object: its class's source, its attributes as state


class _Unreadable(Exception):
    """The source of a per-file function cannot be read."""


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


#: Pickle protocol of :func:`canonical_pickle` (fixed: the bytes must not change with Python).
_PROTOCOL = 4
#: Class members left out of a class written by value (filled in by Python, not written).
_NOT_MEMBERS = frozenset({"__dict__", "__weakref__", "__slotnames__", "_abc_impl"})


def canonical_pickle(obj: Any) -> bytes:
    """A pickle of ``obj`` that is the same in every process for the same state.

    Used to fingerprint the state of a per-file function
    (:func:`per_file_state_fingerprint`); it is never unpickled. It differs
    from :func:`pickle.dumps` in what would make the bytes depend on the
    process rather than on the state:

    - the elements of a set or frozenset are written sorted by their own
      canonical pickles (:func:`pickle.dumps` writes them in iteration
      order, which follows string hashes, randomised per process);
    - the items of a dict (and of a dict subclass pickled with its items,
      except :class:`collections.OrderedDict`, whose order is part of its
      value) are written sorted by the canonical pickles of their keys (a
      dict built from a set has the set's order);
    - a function or class that cannot be found by its module and qualified
      name (a closure, a lambda, a nested function or class) is written by
      value (one that can is written by name, as :mod:`pickle` does): for a
      function its code (with its
      constants, e.g. the frozenset of ``x in {"a", "b"}``), defaults,
      captured values, attributes and the globals its code names; for a
      class its bases and members. A module is written by name; a static
      or class method, a property and a mapping proxy by what they hold.

    Everything else is written by its own ``__reduce_ex__``, as
    :mod:`pickle` writes it.

    Parameters
    ----------
    obj : object
        What to pickle.

    Returns
    -------
    bytes
        The pickle (protocol 4).

    Raises
    ------
    pickle.PicklingError, TypeError, RecursionError
        Something in ``obj`` cannot be pickled.
    """
    buffer = io.BytesIO()
    _CanonicalPickler(buffer, protocol=_PROTOCOL).dump(obj)
    return buffer.getvalue()


class _CanonicalPickler(pickle._Pickler):
    """The pure-Python pickler (which consults ``reducer_override`` for every object,
    sets and dicts included) with the reductions of :func:`canonical_pickle`."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (set, frozenset)):
            reduced: Any = obj.__reduce_ex__(_PROTOCOL)  # (type, (elements list,), state)
            if not (isinstance(reduced, tuple) and reduced[1] and isinstance(reduced[1][0], list)):
                return NotImplemented  # a subclass reducing itself otherwise: as it says
            func, args, *rest = reduced
            return (func, (sorted(args[0], key=canonical_pickle), *args[1:]), *rest)
        if isinstance(obj, dict) and not isinstance(obj, collections.OrderedDict):
            reduced = obj.__reduce_ex__(_PROTOCOL)  # (..., dict items iterator, ...)
            if isinstance(reduced, tuple) and len(reduced) >= 5 and reduced[4] is not None:
                items = sorted(reduced[4], key=lambda item: canonical_pickle(item[0]))
                return (*reduced[:4], iter(items), *reduced[5:])
            return NotImplemented
        if isinstance(obj, types.FunctionType) and not _by_reference(obj):
            return (_by_value, ("function", obj.__module__, obj.__qualname__), _function_state(obj))
        if isinstance(obj, type) and not _by_reference(obj):
            members = {
                name: value
                for name, value in vars(obj).items()
                if name not in _NOT_MEMBERS
                and not isinstance(value, (types.GetSetDescriptorType, types.MemberDescriptorType))
            }
            return (
                _by_value,
                ("class", obj.__module__, obj.__qualname__),
                (obj.__bases__, members),
            )
        if isinstance(obj, types.CodeType):
            return (_by_value, ("code", *_code_fields(obj)))
        if isinstance(obj, (staticmethod, classmethod)):
            return (_by_value, (type(obj).__name__,), obj.__func__)
        if isinstance(obj, property):
            return (_by_value, ("property",), (obj.fget, obj.fset, obj.fdel, obj.__doc__))
        if isinstance(obj, types.ModuleType):
            return (_by_value, ("module", obj.__name__))
        if isinstance(obj, types.MappingProxyType):
            return (_by_value, ("mappingproxy",), dict(obj))
        return NotImplemented


def _by_value(*what: Any) -> NoReturn:
    """Tag of what :func:`canonical_pickle` writes by value (it is never unpickled)."""
    raise BatchError("a canonical pickle fingerprints state; it is not meant to be unpickled")


def _by_reference(obj: Any) -> bool:
    """``obj`` (a function or class) is found again by its module and qualified name."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return False
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is obj


def _function_state(func: types.FunctionType) -> tuple[Any, ...]:
    """What a function written by value runs with besides its code's name."""
    cells = tuple(
        ("empty",) if _cell_empty(cell) else ("value", cell.cell_contents)
        for cell in func.__closure__ or ()
    )
    names = _code_names(func.__code__)
    used_globals = {name: func.__globals__[name] for name in names if name in func.__globals__}
    return (
        func.__code__,
        func.__defaults__,
        func.__kwdefaults__,
        cells,
        func.__dict__,
        used_globals,
    )


def _cell_empty(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (reading it is the test)
    except ValueError:
        return True
    return False


def _code_names(code: types.CodeType) -> set[str]:
    """Global (and attribute) names a code object and the code objects in it use."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _code_fields(code: types.CodeType) -> tuple[Any, ...]:
    """What a code object does, without where it was written (file name, line numbers)."""
    return (
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
        code.co_code,
        code.co_consts,
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
        code.co_name,
        getattr(code, "co_qualname", code.co_name),
    )


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
        (:func:`library_versions`), ``per_file``, ``per_file_sha256`` and
        ``per_file_state_sha256`` (:func:`per_file_fingerprint` and
        :func:`per_file_state_fingerprint` of a per-file function other than
        :func:`vtract.analyze`, whose code ``code_sha256`` covers; else
        ``null``; the state one is also ``null`` for a plain module-level
        function), ``reference_sha256``,
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
        source = state = None
    else:
        func, name = per_file, describe_setting(per_file)
        source = per_file_fingerprint(per_file)
        state = per_file_state_fingerprint(per_file)
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
            "per_file_state_sha256": state,
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
