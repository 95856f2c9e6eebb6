"""Cheap stand-ins for ``vtract.analyze`` used by the batch tests.

They decode the real file with :func:`vtract.load` (so hashes, decoding
errors and durations are real) and derive a deterministic score from the
signal's RMS, so the expected value of every row can be recomputed
independently in the test process.
"""

from __future__ import annotations

import json
import os

import numpy as np

from vtract.evidence import load
from vtract.report import BigramEvidence, Flag, Report


def rms_score(samples: np.ndarray) -> float:
    """Independent reference for the fake score: clip(3 * RMS, 0, 1)."""
    x = np.asarray(samples, dtype=np.float64)
    return float(min(1.0, 3.0 * np.sqrt(np.mean(x * x))))


def fake_analyze(path, *, transcript=None, alignment=None, reference=None, **options) -> Report:
    """A Report whose score is :func:`rms_score` of the decoded audio."""
    ev = load(path)
    score = rms_score(ev.samples)
    verdict = "synthetic" if score >= 0.5 else "organic"
    n = 1 + int(ev.duration * 4)  # a duration-dependent number of "bigrams"
    bigrams = [
        BigramEvidence(
            bigram="AH-N",
            ipa="ʌn",
            word="one",
            boundary=0.1 * i,
            start=0.1 * i - 0.02,
            end=0.1 * i + 0.02,
            areas_cm2=[1.0, 2.0, score],
            length_cm=16.6,
            deviation=score,
            score=score,
            reference_level="global",
            flags=[],
        )
        for i in range(n)
    ]
    flags = [Flag(code="loud", message="RMS above 0.2")] if score > 0.6 else []
    return Report(
        file=str(ev.path),
        sha256=ev.sha256,
        pcm_sha256=ev.pcm_sha256,
        score=score,
        verdict=verdict,
        reason="fake",
        flags=flags,
        bigrams=bigrams,
        evidence=ev.summary(),
        alignment={"source": "fake" if transcript is None else "transcript"},
        warnings=[
            f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', '')}",
            f"transcript={transcript or ''}",
            f"options={json.dumps(options, sort_keys=True)}",
        ],
    )


def crashing_analyze(path, **kwargs) -> Report:
    """Like :func:`fake_analyze`, but kills its worker process on files named ``crash*``."""
    if os.path.basename(str(path)).startswith("crash"):
        os._exit(3)
    return fake_analyze(path, **kwargs)


def item_duration(item):
    """A :func:`vtract.batch.map_files` function: decoded duration of one input."""
    if "raise" in item.path.name:
        raise ValueError(f"asked to fail on {item.path.name}")
    return load(item.path).duration


def write_tone(path, amplitude, *, seconds=0.5, sr=16000, freq=220.0) -> None:
    """Write a sine tone as 16-bit WAV (or FLAC from the suffix)."""
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    sf.write(
        path, (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr, subtype="PCM_16"
    )


def make_corpus(folder, n=5, *, bad=True):
    """``n`` tones of rising amplitude (names with spaces and non-ASCII) and one bad file.

    Returns the list of audio paths (sorted as the batch discovers them) and the bad path.
    """
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"tone é {i}.wav"
        write_tone(p, 0.04 * (i + 1), seconds=0.25 + 0.05 * i)
        paths.append(p)
    bad_path = None
    if bad:
        bad_path = folder / "bad.wav"
        bad_path.write_text("this is not audio")
    return paths, bad_path


def slow_first_analyze(path, **kwargs) -> Report:
    """Like :func:`fake_analyze`, but files named ``slow*`` sleep 120 s while a ``SLOW`` file
    sits beside them (the same function, so a resumed run has the same settings)."""
    import time
    from pathlib import Path

    p = Path(str(path))
    if p.name.startswith("slow") and (p.parent / "SLOW").exists():
        (p.parent / f"pid-{os.getpid()}").write_text("")
        time.sleep(120)
    return fake_analyze(path, **kwargs)


def start_slow_batch(tmp_path, *options, wait_s: float = 100.0, **popen):
    """Start ``vtract batch`` on a slow file and a quick one, and wait until the slow one is
    being analysed and the quick one is journaled.

    Returns ``(process, folder, journal)``; ``options`` are added to the command line and
    ``popen`` to :class:`subprocess.Popen`.
    """
    import subprocess
    import sys
    import time

    folder = tmp_path / "ev"
    folder.mkdir()
    write_tone(folder / "slow.wav", 0.3)
    write_tone(folder / "t0.wav", 0.1)
    (folder / "SLOW").write_text("")
    tests = os.path.dirname(os.path.abspath(__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtract", "batch", str(folder), "--out", str(tmp_path / "r.csv"),
         "-j", "2", "-q", *options, "--per-file", "_batch_fakes:slow_first_analyze"],
        env=env, stderr=subprocess.PIPE, text=True, **popen,
    )  # fmt: skip
    journal = tmp_path / ".r.csv.journal.jsonl"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and not (
        any(folder.glob("pid-*")) and journal.exists() and journal.read_text().count("\n") >= 1
    ):
        time.sleep(0.05)
    return proc, folder, journal


def slow_worker_gone(folder, *, wait_s: float = 5.0) -> bool:
    """Whether the worker that ran the slow file (it wrote ``pid-<pid>``) is gone within
    ``wait_s`` seconds."""
    import time

    (slow_pid,) = [int(p.name[4:]) for p in folder.glob("pid-*")]
    for _ in range(round(wait_s / 0.1)):
        try:
            os.kill(slow_pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
