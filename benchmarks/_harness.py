"""Shared plumbing for benchmark scripts: timing and JSON results with provenance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vtract.provenance import file_sha256, provenance

RESULTS = Path(__file__).resolve().parent / "results"


def best_of(func: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Run ``func`` ``repeats`` times; return the fastest wall time (s) and its result."""
    best = float("inf")
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def source_state() -> dict[str, Any]:
    """What the recorded commit does not say: tracked files changed since it, and the hash
    of the packaged reference (whose calibration most detection benchmarks score with).

    Until session 31 a run with uncommitted code or an uncommitted reference was
    credited to the commit alone (benchmark audit F5).
    """
    from vtract.reference import default_reference_path

    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        changed = (
            sorted(line[3:] for line in out.stdout.splitlines()) if out.returncode == 0 else None
        )
    except (OSError, subprocess.SubprocessError):
        changed = None
    ref = default_reference_path()
    return {
        "uncommitted_changes": changed,
        "packaged_reference_sha256": file_sha256(ref) if ref.is_file() else None,
    }


def write_result(name: str, figures: dict[str, Any], parameters: dict[str, Any]) -> Path:
    """Write ``results/<name>.json`` atomically with a provenance block and print it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "figures": figures,
        "machine": {"cpus": os.cpu_count(), "argv": sys.argv[1:]},
        "provenance": provenance(parameters),
        "source_state": source_state(),
    }
    path = RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)  # e.g. results/dry_voice/
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    print(json.dumps(figures, indent=2, sort_keys=True))
    print(f"wrote {path}")
    return path


def emit_result(
    name: str, figures: dict[str, Any], parameters: dict[str, Any], *, write: bool = True
) -> Path | None:
    """:func:`write_result`, or (``write=False``, a script's ``--no-json``) only print the figures."""
    if write:
        return write_result(name, figures, parameters)
    print(json.dumps(figures, indent=2, default=float))
    return None
