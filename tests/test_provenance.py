"""Provenance blocks: complete, deterministic apart from the timestamp."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from pathlib import Path

import vtract
from vtract.provenance import (
    dependency_versions,
    file_sha256,
    path_from_text,
    path_text,
    provenance,
    visible_text,
)


def test_provenance_fields_and_versions():
    block = provenance({"method": "lpc", "order": 18}, {"evidence": "ab" * 32})
    assert block["tool"] == "vtract"
    assert block["version"] == vtract.__version__
    assert block["parameters"] == {"method": "lpc", "order": 18}
    assert block["inputs"] == {"evidence": "ab" * 32}
    assert block["dependencies"]["numpy"] == metadata.version("numpy")
    assert block["dependencies"]["praat-parselmouth"] == metadata.version("praat-parselmouth")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", block["created_utc"])
    assert block["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", block["git_commit"])
    json.dumps(block)  # serialisable


def test_provenance_without_timestamp_is_reproducible():
    a = provenance({"x": 1}, timestamp=False)
    b = provenance({"x": 1}, timestamp=False)
    assert "created_utc" not in a
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_parameters_are_copied_not_shared():
    params = {"a": 1}
    block = provenance(params)
    params["a"] = 2
    assert block["parameters"] == {"a": 1}


def test_file_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "blob.bin"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert file_sha256(path, chunk=1000) == hashlib.sha256(data).hexdigest()


def test_libsndfile_version_recorded():
    assert dependency_versions()["libsndfile"]


def test_path_text_writes_bytes_that_are_not_utf8_as_visible_escapes():
    name = "/data/bad\udcff_good.wav"  # how Python hands over the byte 0xFF of a name
    assert path_text(name) == path_text(b"/data/bad\xff_good.wav") == "/data/bad\\xff_good.wav"
    assert path_text(Path(name)) == "/data/bad\\xff_good.wav"
    for text in (path_text(name), path_text("x\ud800.wav")):  # even a surrogate no name holds
        text.encode("utf-8")  # valid text for Parquet, CSV, JSON and HTML
    assert path_text("x\ud800.wav") == "x\\ud800.wav"
    assert path_text("/data/café tone.wav") == "/data/café tone.wav"  # UTF-8 names unchanged


def test_path_from_text_gives_back_the_name_path_text_escaped(tmp_path):
    """Reports keep the evidence name as path_text; the real name is needed to guard the file."""
    import os

    raw = os.path.join(os.fsencode(tmp_path), b"bad\xff\xfename.flac")
    real = os.fsdecode(raw)
    shown = path_text(real)
    assert shown.endswith("bad\\xff\\xfename.flac")
    assert path_from_text(shown) == real
    assert os.fsencode(path_from_text(shown)) == raw
    # valid UTF-8 (and escapes of ASCII bytes, which path_text never writes) pass through
    assert path_from_text("caf\u00e9/take\\x41.wav") == "caf\u00e9/take\\x41.wav"
    assert path_from_text(path_text("/a/caf\u00e9.wav")) == "/a/caf\u00e9.wav"


def test_visible_text_shows_characters_that_disguise_a_name():
    """U+202E made suspect_<RLO>calf.wav display as suspect_vaw.flac in the HTML report."""
    assert visible_text("suspect_\u202ecalf.wav") == "suspect_\\u202ecalf.wav"
    assert visible_text("a\u200bb\u2066c\x07d\U000e0001") == "a\\u200bb\\u2066c\\x07d\\U000e0001"
    assert visible_text("line one\nline\ttwo, caf\u00e9 \u5f55\u97f3 \u05e9") == (
        "line one\nline\ttwo, caf\u00e9 \u5f55\u97f3 \u05e9"
    )
    # a character the output cannot draw is escaped too
    assert visible_text("\u5f55a", lambda c: c.isascii()) == "\\u5f55a"
