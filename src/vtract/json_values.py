"""Standard JSON from measured values: non-finite floats become ``null``.

Python's :mod:`json` writes ``NaN`` and ``Infinity`` by default, which strict
parsers (JavaScript's ``JSON.parse``, jq, most JSON Schema validators) refuse.
vtract writes every JSON document with ``allow_nan=False`` after passing its
values through :func:`finite_or_null`, so a value that does not exist (a fit
error of a method without a fit, a formant that was not found) is ``null``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite_or_null", "is_finite_number"]


def finite_or_null(obj: Any) -> Any:
    """Copy of ``obj`` with every non-finite float replaced by ``None``.

    Parameters
    ----------
    obj : object
        A float, or dicts, lists and tuples of them (tuples become lists);
        other values are returned as they are.

    Returns
    -------
    object
        The same structure, safe for ``json.dumps(..., allow_nan=False)``.
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_null(v) for v in obj]
    return obj


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` read from JSON is a finite number (an int or float, not a bool).

    Examples
    --------
    >>> [is_finite_number(v) for v in (1, 2.5, True, float("nan"), "3", None)]
    [True, True, False, False, False, False]
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
