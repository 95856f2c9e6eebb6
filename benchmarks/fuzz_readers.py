"""Long, on-demand crash-freedom fuzzing of the audio loader and alignment readers.

Usage::

    python benchmarks/fuzz_readers.py --seconds 600 [--targets wav,textgrid] [--engine auto]

Engines: ``atheris`` (coverage-guided libFuzzer, used when installed:
``pip install atheris``) or ``mutate`` (seeded random mutations of valid
seeds, the same operators as the in-suite hypothesis fuzzing). Any
exception that is not a :class:`vtract.errors.VtractError` is a bug: each
distinct one (by exception type and raising line) is saved with a Python
reproducer under ``benchmarks/results/fuzz_crashes/`` and listed in
``benchmarks/results/fuzz_readers.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

#: benchmarks/results (not imported from _harness here: it imports vtract, which must
#: first be imported under atheris's instrumentation, or its coverage is not seen)
RESULTS = HERE / "results"

#: Fuzz targets (tests/hardening/fuzz_targets.py), imported by :func:`load_targets`
#: so that atheris can instrument the readers as they are imported.
FT: Any = None


def load_targets(instrument: bool) -> None:
    global FT
    if instrument:
        import atheris

        with atheris.instrument_imports(include=["vtract", "praatio"]):
            # the whole package (evidence, container, ogg, ...) is imported here first
            import vtract.alignment  # noqa: F401
            from hardening import fuzz_targets
    else:
        from hardening import fuzz_targets
    FT = fuzz_targets


class Findings:
    """Distinct non-VtractError exceptions, keyed by type and raising line."""

    def __init__(self, crash_dir: Path) -> None:
        self.crash_dir = crash_dir
        self.items: dict[str, dict[str, object]] = {}
        self.executions = {t: 0 for t in FT.TARGETS}
        self.outcomes: dict[str, dict[str, int]] = {t: {} for t in FT.TARGETS}

    def run(self, target: str, data: bytes, folder: str) -> None:
        self.executions[target] += 1
        try:
            outcome = FT.run_target(target, data, folder)
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?"
            key = f"{target}|{type(exc).__name__}|{where}"
            if key not in self.items or len(data) < self.items[key]["size"]:  # type: ignore[operator]
                self.crash_dir.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256(key.encode()).hexdigest()[:12]
                path = self.crash_dir / f"{target}-{digest}.py"
                path.write_text(FT.reproducer(target, data))
                self.items[key] = {
                    "target": target,
                    "exception": type(exc).__name__,
                    "message": str(exc)[:300],
                    "where": where,
                    "size": len(data),
                    "reproducer": str(path.relative_to(HERE.parent)),
                }
            outcome = f"BUG:{type(exc).__name__}"
        counts = self.outcomes[target]
        counts[outcome] = counts.get(outcome, 0) + 1


def fuzz_mutate(targets: list[str], seconds: float, findings: Findings, seed: int) -> None:
    import random

    rng = random.Random(seed)
    stop = time.monotonic() + seconds
    with tempfile.TemporaryDirectory() as folder:
        # a crash of native code (libsndfile, FFmpeg) ends the process: its input is then
        # the file left in this folder
        print(f"inputs are written to {folder}", flush=True)
        while time.monotonic() < stop:
            target = rng.choice(targets)
            base = rng.choice(FT.seeds(target))
            ops = [
                (rng.randrange(7), rng.randrange(2**16), rng.randrange(2**32))
                for _ in range(rng.randint(1, 8))
            ]
            findings.run(target, FT.mutate(base, ops), folder)


def fuzz_atheris(
    targets: list[str], seconds: float, findings: Findings, finish: Callable[[], int]
) -> None:
    """Coverage-guided fuzzing; libFuzzer ends the process, so ``finish`` runs from inside."""
    import atheris

    folder = tempfile.mkdtemp()
    print(f"inputs are written to {folder}", flush=True)  # a native crash leaves its input there
    corpus = Path(tempfile.mkdtemp())
    for i, target in enumerate(targets):
        for j, data in enumerate(FT.seeds(target)):
            (corpus / f"seed-{i}-{j}").write_bytes(bytes([i]) + data)
    deadline = time.monotonic() + seconds

    def one_input(data: bytes) -> None:
        if time.monotonic() > deadline:
            os._exit(finish())
        if data:
            findings.run(targets[data[0] % len(targets)], data[1:], folder)  # never raises

    atheris.Setup([sys.argv[0], "-rss_limit_mb=4096", str(corpus)], one_input)
    atheris.Fuzz()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--targets", default="", help="comma-separated (default: all)")
    parser.add_argument("--engine", choices=["auto", "atheris", "mutate"], default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "mutate"
    load_targets(instrument=engine == "atheris")
    targets = [t for t in args.targets.split(",") if t] or list(FT.TARGETS)
    unknown = set(targets) - set(FT.TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {sorted(FT.TARGETS)}")
    findings = Findings(RESULTS / "fuzz_crashes")
    t0 = time.monotonic()

    def finish() -> int:
        elapsed = time.monotonic() - t0
        figures = {
            "engine": engine,
            "seconds": round(elapsed, 1),
            "executions": findings.executions,
            "outcomes": findings.outcomes,
            "bugs": list(findings.items.values()),
        }
        from _harness import write_result  # after load_targets: vtract is instrumented

        write_result("fuzz_readers", figures, {"targets": targets, "seed": args.seed})
        print(f"engine {engine}: {sum(findings.executions.values())} inputs in {elapsed:.0f} s")
        for t in targets:
            print(f"  {t:9s} {findings.executions[t]:7d} inputs  {findings.outcomes[t]}")
        print(f"{len(findings.items)} distinct bug(s)")
        for item in findings.items.values():
            print(f"  {item['target']}: {item['exception']} at {item['where']}: {item['message']}")
            print(f"    reproducer: {item['reproducer']}")
        sys.stdout.flush()
        return 1 if findings.items else 0

    if engine == "atheris":
        fuzz_atheris(targets, args.seconds, findings, finish)
    else:
        fuzz_mutate(targets, args.seconds, findings, args.seed)
    sys.exit(finish())


if __name__ == "__main__":
    main()
