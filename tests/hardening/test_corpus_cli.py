"""Every corpus case through ``vtract analyze`` and ``vtract batch``.

Each case must end with a clear one-line reason (exit 1, ``error`` object) or
a documented degraded result (``inconclusive`` with a reason) -- never a
traceback, a hang, or a confident verdict on noise, silence, music or a
broken alignment. The cases are analysed in a few guarded invocations (one
child process, :mod:`hardening.cli_runner`) and checked one by one.
"""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hardening.cli_runner import Outcome, has_subcommand, run_invocations
from hardening.corpus import (
    ANALYSES,
    AUDIO_CASES,
    NOT_CONFIDENT,
    REFUSE,
    SPEECH_CASES,
    Case,
    require,
)

ALL_CASES = AUDIO_CASES + SPEECH_CASES
#: Time allowed per file of a grouped invocation before it counts as hung.
SECONDS_PER_FILE = 40.0
VERDICTS = {"organic", "synthetic", "inconclusive"}

needs_analyze = pytest.mark.skipif(
    not has_subcommand("analyze"), reason="`vtract analyze` does not exist yet"
)
needs_batch = pytest.mark.skipif(
    not has_subcommand("batch"), reason="`vtract batch` does not exist yet"
)


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(path)


def _groups(corpus: dict[str, Case]) -> list[list[Case]]:
    """Cases that can share one ``vtract analyze`` invocation."""
    plain = [c for c in corpus.values() if c.textgrid is None and c.transcript is None]
    grids = [c for c in corpus.values() if c.textgrid is not None]
    texts = [c for c in corpus.values() if c.transcript is not None]
    return [g for g in (plain, grids, texts) if g]


def _analyze_args(cases: list[Case]) -> list[str]:
    args = ["analyze"]
    for c in cases:
        args += c.cli_args()
    return args + [str(c.audio) for c in cases]


@pytest.fixture(scope="module")
def analyzed(corpus, tmp_path_factory) -> dict[str, tuple[Outcome, dict | None, bool]]:
    """case name -> (the invocation that analysed it, its JSON record, several files?)."""
    work = tmp_path_factory.mktemp("analyze")
    groups = _groups(corpus)
    outcomes = run_invocations(
        [_analyze_args(g) for g in groups],
        work / "grouped",
        timeout_each=[60.0 + SECONDS_PER_FILE * len(g) for g in groups],
    )
    result: dict[str, tuple[Outcome, dict | None, bool]] = {}
    retry: list[Case] = []
    for cases, outcome in zip(groups, outcomes):
        records = {_key(r["file"]): r for r in outcome.records() if "file" in r}
        for c in cases:
            rec = records.get(_key(c.audio))
            if rec is None or outcome.exception or outcome.hung:
                retry.append(c)  # attribute the failure to the right case
            else:
                result[c.name] = (outcome, rec, len(cases) > 1)
    if retry:
        singles = run_invocations([_analyze_args([c]) for c in retry], work / "single")
        for c, outcome in zip(retry, singles):
            recs = outcome.records()
            result[c.name] = (outcome, recs[0] if recs else None, False)
    return result


def check_outcome(case: Case, outcome: Outcome, record: dict | None, *, multi: bool) -> None:
    """Assert what the corpus contract asks of one analysed case."""
    assert not outcome.hung, f"{case.name}: hung (> time limit)\n{outcome.stderr[-2000:]}"
    assert outcome.exception is None, f"{case.name}: exception escaped\n{outcome.exception}"
    assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
    if record is None:
        # Only a usage error (exit 2, e.g. an empty --transcript) may print nothing.
        assert case.group == "transcript" and outcome.exit_code == 2, (
            f"{case.name}: no JSON record (exit {outcome.exit_code})\n{outcome.stderr[-2000:]}"
        )
        assert outcome.stderr.strip() and "Traceback" not in outcome.stderr
        return
    if "error" in record:
        assert case.expect != ANALYSES, f"{case.name} must be analysed: {record['error']}"
        message = record["error"].get("message", "")
        assert message and "\n" not in message, record
        assert record["error"].get("type"), record
        assert message in outcome.stderr, "the reason must also be on stderr"
        assert outcome.exit_code == 1
        return
    assert record.get("verdict") in VERDICTS, record
    assert isinstance(record.get("reason"), str) and record["reason"].strip(), record
    if not multi:
        assert outcome.exit_code == 0, outcome.stderr[-2000:]
    assert case.expect != REFUSE, f"{case.name} must be refused, got {record['verdict']}"
    if case.warns:  # a container finding reaches the report
        assert any(case.warns in w for w in record["warnings"]), record["warnings"]
    if case.expect == NOT_CONFIDENT:
        assert record["verdict"] == "inconclusive", (
            f"{case.name}: confident verdict {record['verdict']!r} (score {record.get('score')}) "
            f"on input that must not give one: {record['reason']}"
        )
        assert record.get("score") is None or 0.0 <= record["score"] <= 1.0


@pytest.mark.slow
@needs_analyze
@pytest.mark.parametrize("name", ALL_CASES)
def test_analyze_each_corpus_case(corpus, analyzed, name):
    case = require(corpus, name)
    outcome, record, multi = analyzed[name]
    check_outcome(case, outcome, record, multi=multi)


@needs_analyze
def test_analyze_exit_code_reflects_failures_in_a_mixed_run(corpus, tmp_path):
    """Good and bad files together: every file gets a line, exit 1, no traceback."""
    names = ["zero_byte", "random_bytes_wav", "rate_10_mhz", "silence_10_min", "nan_inf_float"]
    names += [n for n in ("textgrid_valid",) if n in corpus]
    files = [str(corpus[n].audio) for n in names]
    grids = []  # one alignment per file; the refused files never get to read it
    if "textgrid_valid" in corpus:
        for _ in files:
            grids += ["--textgrid", str(corpus["textgrid_valid"].textgrid)]
    proc = subprocess.run(
        [sys.executable, "-m", "vtract", "analyze", *files, *grids],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    outcome = Outcome(["analyze", *files], proc.returncode, proc.stdout, proc.stderr, None, 0.0)
    records = {_key(r["file"]): r for r in outcome.records()}
    assert set(records) == {_key(f) for f in files}
    assert proc.returncode == 1
    for n, f in zip(names, files):
        assert ("error" in records[_key(f)]) == (corpus[n].expect == REFUSE), n
    error_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("vtract: error:")]
    assert len(error_lines) == sum(corpus[n].expect == REFUSE for n in names)


# ------------------------------------------------------------------ batch


def _manifest(cases: list[Case], path: Path) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "transcript", "textgrid"])
        for c in cases:
            w.writerow([c.audio, c.transcript or "", c.textgrid or ""])
    return path


@pytest.fixture(scope="module")
def batched(corpus, tmp_path_factory) -> tuple[Outcome, pd.DataFrame | None]:
    work = tmp_path_factory.mktemp("batch")
    manifest = _manifest(list(corpus.values()), work / "manifest ü.csv")
    out = work / "results.csv"
    args = ["batch", str(manifest), "--out", str(out), "--backend", "loky", "--jobs", "2", "-q"]
    (outcome,) = run_invocations(
        [args], work / "run", timeout_each=60.0 + SECONDS_PER_FILE * len(corpus)
    )
    table = pd.read_csv(out, keep_default_na=False) if out.exists() else None
    return outcome, table


@pytest.mark.slow
@needs_batch
@pytest.mark.parametrize("name", ALL_CASES)
def test_batch_each_corpus_case(corpus, batched, name):
    case = require(corpus, name)
    outcome, table = batched
    assert not outcome.hung and outcome.exception is None, outcome.exception or outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert table is not None, f"no results table (exit {outcome.exit_code}): {outcome.stderr}"
    rows = table[[_key(p) == _key(case.audio) for p in table["path"]]]
    if case.textgrid is not None:
        rows = rows[[_key(p) == _key(case.textgrid) for p in rows["alignment_file"]]]
    elif case.group == "transcript":
        want = " ".join((case.transcript or "").split())
        rows = rows[rows["transcript"] == want]
    if len(rows) == 0:
        # the same bytes with the same transcript/alignment elsewhere in the run: one row for both
        sha = hashlib.sha256(case.audio.read_bytes()).hexdigest()
        twins = table[(table["sha256"] == sha) & (table["alignment_file"] == "")]
        want = " ".join((case.transcript or "").split())
        rows = twins[twins["transcript"] == want] if case.textgrid is None else twins[:0]
    assert len(rows) == 1, f"{name}: {len(rows)} rows"
    row = rows.iloc[0]
    if row["error_type"]:
        assert case.expect != ANALYSES, f"{name} must be analysed: {row['error_message']}"
        assert row["error_message"] and "\n" not in row["error_message"]
        assert row["verdict"] == ""
        return
    assert row["verdict"] in VERDICTS and row["reason"].strip()
    assert case.expect != REFUSE, f"{name} must be refused, got {row['verdict']}"
    if case.warns:  # a container finding reaches the table
        assert case.warns in row["warnings"], row["warnings"]
    # An empty manifest cell means "no transcript" (recognition), not an empty one.
    if case.expect == NOT_CONFIDENT and case.name != "transcript_empty":
        assert row["verdict"] == "inconclusive", (
            f"{name}: confident verdict {row['verdict']!r} on input that must not give one"
        )


@needs_batch
def test_batch_exit_code_is_1_when_any_file_failed(corpus, batched):
    outcome, table = batched
    assert table is not None
    failed = (table["error_type"] != "").any()
    assert outcome.exit_code == (1 if failed else 0)


@needs_batch
def test_batch_manifest_with_missing_file_and_odd_paths(corpus, tmp_path):
    """Missing files are named in one line; spaces and non-ASCII paths are fine."""
    folder = tmp_path / "dossier à vérifier 名"
    folder.mkdir()
    good = folder / "pièce n° 1.wav"
    good.write_bytes(corpus["clipped_square"].audio.read_bytes())
    manifest = folder / "manifest.csv"
    manifest.write_text("path\npièce n° 1.wav\nmissing file ✗.wav\n", encoding="utf-8")
    out = tmp_path / "out folder" / "résultats.csv"
    out.parent.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "vtract", "batch", str(manifest), "--out", str(out),
         "--backend", "serial", "-q"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1
    if out.exists():  # the missing file became an error row
        table = pd.read_csv(out, keep_default_na=False)
        bad = table[table["path"].str.contains("missing file")]
        assert len(bad) == 1 and bad.iloc[0]["error_type"]
    else:  # or the whole manifest was refused up front, naming the file
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert any("missing file ✗.wav" in ln for ln in lines), proc.stderr
        assert len(lines) == 1, proc.stderr
