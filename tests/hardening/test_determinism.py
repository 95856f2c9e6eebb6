"""Determinism: the same input and settings give byte-identical JSON.

Only timestamps and per-run bookkeeping (wall time, worker name, worker
memory) may differ -- across repeated files in one process (no decoder
history), across processes with different hash seeds and thread counts, and
across the serial, loky and Dask batch backends.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import vtract
from hardening.cli_runner import has_subcommand, run_invocations
from hardening.corpus import SPEECH_TEXT, require

#: Keys whose values legitimately change from run to run.
VOLATILE = {"created_utc", "elapsed_s", "cpu_s", "worker", "worker_maxrss_mb", "table_id"}

#: Two very different process set-ups that must not change a result.
ENVIRONMENTS = (
    {"PYTHONHASHSEED": "0", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    {"PYTHONHASHSEED": "4242", "NUMBA_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"},
)

needs_analyze = pytest.mark.skipif(not has_subcommand("analyze"), reason="no `vtract analyze` yet")
needs_batch = pytest.mark.skipif(not has_subcommand("batch"), reason="no `vtract batch` yet")


def stable(obj):
    """``obj`` without :data:`VOLATILE` keys, at any depth."""
    if isinstance(obj, dict):
        return {k: stable(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [stable(v) for v in obj]
    return obj


def canonical(record: dict) -> str:
    return json.dumps(stable(record), sort_keys=True)


def first_difference(a, b, path="") -> str:
    """Where two JSON values first differ (for a readable failure)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return first_difference(a.get(k), b.get(k), f"{path}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {str(a)[:200]} != {str(b)[:200]}"


@pytest.fixture(scope="module")
def runs(corpus, tmp_path_factory):
    """The same three invocations under both environments: {env index: [records...]}."""
    speech = require(corpus, "textgrid_valid")
    noise = corpus["music_no_speech"].audio
    s, g = str(speech.audio), str(speech.textgrid)
    work = tmp_path_factory.mktemp("determinism")
    invocations = [
        ["analyze", s, str(noise), s, "--textgrid", g, "--textgrid", g, "--textgrid", g],
        ["analyze", s, "--transcript", SPEECH_TEXT],
        ["analyze", s, str(noise), s],  # phone recognition, decoder reused
    ]
    try:  # the same speech as AAC in an M4A: the FFmpeg decoder (vtract[av])
        from _encoded_audio import encode

        original = vtract.load(speech.audio, sr=None)
        m4a = encode(work / "speech.m4a", original.samples, original.sr)
        invocations.append(["analyze", str(m4a), "--textgrid", g])
    except ImportError:
        pass
    out = {}
    for i, env in enumerate(ENVIRONMENTS):
        outcomes = run_invocations(
            invocations, work / f"env{i}", env={**env, "VTRACT_GIT_COMMIT": "0" * 40}
        )
        for o in outcomes:
            assert o.exception is None and not o.hung, o.exception or o.stderr
        out[i] = [o.records() for o in outcomes]
    return out


@needs_analyze
@pytest.mark.slow
@pytest.mark.parametrize("which", ["textgrid", "transcript", "recognition", "m4a"])
def test_same_json_across_processes_hash_seeds_and_threads(runs, which):
    k = ["textgrid", "transcript", "recognition", "m4a"].index(which)
    if k >= len(runs[0]):
        pytest.skip("PyAV (vtract[av]) is not installed")
    a, b = runs[0][k], runs[1][k]
    assert len(a) == len(b) > 0
    assert any("verdict" in r for r in a), f"nothing was analysed: {a}"
    for x, y in zip(a, b):
        assert canonical(x) == canonical(y), first_difference(stable(x), stable(y))


@needs_analyze
@pytest.mark.slow
@pytest.mark.parametrize("which", ["textgrid", "recognition"])
def test_a_file_analysed_again_in_the_same_process_gives_the_same_json(runs, which):
    """Analysing another file in between must leave no trace (decoder, caches)."""
    records = runs[0][0 if which == "textgrid" else 2]
    assert len(records) == 3
    assert "verdict" in records[0], records[0]
    assert canonical(records[0]) == canonical(records[2]), first_difference(
        stable(records[0]), stable(records[2])
    )


# ------------------------------------------------------------------ batch backends


@pytest.fixture(scope="module")
def backend_tables(corpus, tmp_path_factory):
    speech = require(corpus, "textgrid_valid")
    spoken = require(corpus, "transcript_matching").audio  # another copy of the speech
    noise = corpus["music_no_speech"].audio
    work = tmp_path_factory.mktemp("backends")
    manifest = work / "m.csv"
    pd.DataFrame(
        {
            "path": [speech.audio, spoken, noise, corpus["zero_byte"].audio],
            "textgrid": [speech.textgrid, "", "", ""],
            "transcript": ["", SPEECH_TEXT, "", ""],
        }
    ).to_csv(manifest, index=False)
    invocations = []
    for backend in ("serial", "loky", "dask"):
        invocations.append(
            ["batch", str(manifest), "--out", str(work / f"{backend}.csv"), "--backend", backend,
             "--jobs", "1" if backend == "serial" else "2", "--reports",
             str(work / f"reports_{backend}"), "-q", "--no-resume"]
        )  # fmt: skip
    outcomes = run_invocations(invocations, work / "run", timeout_each=600)
    for o in outcomes:
        assert o.exception is None and not o.hung, o.exception or o.stderr
        assert "Traceback" not in o.stderr, o.stderr
    tables = {}
    for backend in ("serial", "loky", "dask"):
        table = pd.read_csv(work / f"{backend}.csv", keep_default_na=False)
        reports = sorted((work / f"reports_{backend}").glob("*.json"))
        tables[backend] = (table, {p.name: json.loads(p.read_text()) for p in reports})
    return tables


@needs_batch
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["loky", "dask"])
def test_batch_backends_give_identical_results(backend_tables, backend):
    serial, serial_reports = backend_tables["serial"]
    other, other_reports = backend_tables[backend]
    cols = [c for c in serial.columns if c not in VOLATILE]
    assert (serial["verdict"] != "").any(), "nothing was analysed"
    pd.testing.assert_frame_equal(
        serial[cols].sort_values(["path", "transcript"]).reset_index(drop=True),
        other[cols].sort_values(["path", "transcript"]).reset_index(drop=True),
    )
    assert serial_reports.keys() == other_reports.keys() and serial_reports
    for name in serial_reports:
        a, b = serial_reports[name], other_reports[name]
        assert canonical(a) == canonical(b), first_difference(stable(a), stable(b))
