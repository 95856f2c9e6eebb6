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
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _harness import RESULTS, write_result  # noqa: E402
from hardening.fuzz_targets import TARGETS, mutate, reproducer, run_target, seeds  # noqa: E402


class Findings:
    """Distinct non-VtractError exceptions, keyed by type and raising line."""

    def __init__(self, crash_dir: Path) -> None:
        self.crash_dir = crash_dir
        self.items: dict[str, dict[str, object]] = {}
        self.executions = {t: 0 for t in TARGETS}
        self.outcomes: dict[str, dict[str, int]] = {t: {} for t in TARGETS}

    def run(self, target: str, data: bytes, folder: str) -> None:
        self.executions[target] += 1
        try:
            outcome = run_target(target, data, folder)
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?"
            key = f"{target}|{type(exc).__name__}|{where}"
            if key not in self.items or len(data) < self.items[key]["size"]:  # type: ignore[operator]
                self.crash_dir.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256(key.encode()).hexdigest()[:12]
                path = self.crash_dir / f"{target}-{digest}.py"
                path.write_text(reproducer(target, data))
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
        while time.monotonic() < stop:
            target = rng.choice(targets)
            base = rng.choice(seeds(target))
            ops = [
                (rng.randrange(7), rng.randrange(2**16), rng.randrange(2**32))
                for _ in range(rng.randint(1, 8))
            ]
            findings.run(target, mutate(base, ops), folder)


def fuzz_atheris(targets: list[str], seconds: float, findings: Findings) -> None:
    import atheris

    folder = tempfile.mkdtemp()
    corpus = Path(tempfile.mkdtemp())
    for i, target in enumerate(targets):
        for j, data in enumerate(seeds(target)):
            (corpus / f"seed-{i}-{j}").write_bytes(bytes([i]) + data)

    def one_input(data: bytes) -> None:
        if not data:
            return
        target = targets[data[0] % len(targets)]
        findings.run(target, data[1:], folder)  # records, never raises

    argv = [sys.argv[0], f"-max_total_time={int(seconds)}", "-rss_limit_mb=4096", str(corpus)]
    atheris.Setup(argv, one_input)
    try:
        atheris.Fuzz()
    except SystemExit:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--engine", choices=["auto", "atheris", "mutate"], default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {sorted(TARGETS)}")
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "mutate"
    findings = Findings(RESULTS / "fuzz_crashes")
    t0 = time.monotonic()
    if engine == "atheris":
        fuzz_atheris(targets, args.seconds, findings)
    else:
        fuzz_mutate(targets, args.seconds, findings, args.seed)
    elapsed = time.monotonic() - t0
    figures = {
        "engine": engine,
        "seconds": round(elapsed, 1),
        "executions": findings.executions,
        "outcomes": findings.outcomes,
        "bugs": list(findings.items.values()),
    }
    write_result("fuzz_readers", figures, {"targets": targets, "seed": args.seed})
    print(f"engine {engine}: {sum(findings.executions.values())} inputs in {elapsed:.0f} s")
    for t in targets:
        print(f"  {t:9s} {findings.executions[t]:7d} inputs  {findings.outcomes[t]}")
    print(f"{len(findings.items)} distinct bug(s)")
    for item in findings.items.values():
        print(
            f"  {item['target']}: {item['exception']} at {item['where']}: {item['message'][:120]}"
        )
        print(f"    reproducer: {item['reproducer']}")
    sys.exit(1 if findings.items else 0)


if __name__ == "__main__":
    main()
