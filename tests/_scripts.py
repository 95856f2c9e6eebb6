"""Import the repository's scripts (benchmarks, scripts/) as modules in tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_script(relative_path: str) -> ModuleType:
    """Execute ``ROOT / relative_path`` as a fresh module named after the file and return it.

    Benchmark scripts put their own folder on ``sys.path`` when imported, so
    their sibling helpers (``_harness``, ``bench_detection``) resolve.
    """
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
