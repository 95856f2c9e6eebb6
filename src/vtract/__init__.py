"""vtract: forensic detection of audio deepfakes by vocal-tract reconstruction.

Public API (see ``docs/DESIGN.md`` in the shared notes and the README):

- :func:`load` -> :class:`Evidence`
- :func:`read_alignment`, :func:`align` -> :class:`Alignment`
- :func:`estimate_tract`, :func:`estimate_tracts` -> :class:`TractEstimate`
- :class:`Reference`, :func:`default_reference`
- :func:`analyze`, :func:`analyze_many` -> :class:`Report`
- :mod:`vtract.plot`

Heavy submodules are imported lazily so ``import vtract`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from .errors import VtractError
from .evidence import Evidence, load
from .provenance import provenance

__all__ = [
    "Alignment",
    "Evidence",
    "Reference",
    "Report",
    "TractEstimate",
    "VtractError",
    "__version__",
    "align",
    "analyze",
    "analyze_many",
    "default_reference",
    "estimate_tract",
    "estimate_tracts",
    "load",
    "provenance",
    "read_alignment",
]

# public name -> module that defines it (imported on first access)
_LAZY = {
    "Alignment": "vtract.alignment",
    "read_alignment": "vtract.alignment",
    "align": "vtract.alignment",
    "TractEstimate": "vtract.tract",
    "estimate_tract": "vtract.tract",
    "estimate_tracts": "vtract.tract",
    "Reference": "vtract.reference",
    "default_reference": "vtract.reference",
    "analyze": "vtract.analysis",
    "Report": "vtract.report",
    "analyze_many": "vtract.batch",
    "plot": "vtract.plot",
    "synth": "vtract.synth",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if name in ("plot", "synth") else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vtract' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
