"""Bundled example audio and the ``vtract demo`` command."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import vtract
from _reports import FakeReference, make_report
from vtract.cli import cli
from vtract.demo import MAIN_EXAMPLE, example_recordings, run_demo
from vtract.errors import ReferenceError_
from vtract.report import strip_timestamps, validate_report_dict

EXAMPLES = Path(vtract.__file__).parent / "data" / "examples"


def test_examples_are_small_16k_flac_with_matching_hashes_and_transcripts():
    recs = example_recordings()
    assert {r.name for r in recs} == {"piper_joe", "espeak_en_us", "vtl_articulatory"}
    total = 0
    for rec in recs:
        raw = rec.path.read_bytes()
        total += len(raw)
        assert hashlib.sha256(raw).hexdigest() == rec.sha256
        info = sf.info(rec.path)
        assert (info.format, info.subtype, info.samplerate, info.channels) == (
            "FLAC", "PCM_16", 16000, 1,
        )  # fmt: skip
        assert 1.5 < info.duration < 5.0
        x, _ = sf.read(rec.path)
        assert 0.45 < np.max(np.abs(x)) <= 0.51  # peak-normalised to -6 dBFS
        txt = rec.path.with_suffix(".txt").read_text("utf-8").strip()
        assert txt == rec.transcript and len(txt.split()) >= 3
    assert total < 300_000


def test_examples_readme_gives_licence_and_honest_labels():
    readme = (EXAMPLES / "README.md").read_text("utf-8")
    manifest = json.loads((EXAMPLES / "manifest.json").read_text("utf-8"))
    for entry in manifest:
        assert entry["file"] in readme and entry["sha256"] in readme
        assert "CC0" in entry["licence"]
    vtl = next(e for e in manifest if e["name"] == "vtl_articulatory")
    assert "NOT human" in vtl["kind"] and "articulatory" in vtl["kind"]
    assert "no organic speech" in readme


def test_vtl_alignment_matches_its_transcript_and_audio():
    rec = next(r for r in example_recordings() if r.name == "vtl_articulatory")
    aln = vtract.read_alignment(rec.alignment)
    assert list(aln.words["label"]) == ["nina", "lena", "mona"]
    assert list(aln.phones["label"][aln.phones["word"] == "lena"]) == ["L", "EY", "N", "AH"]
    assert aln.duration <= sf.info(rec.path).duration + 1e-6


@pytest.fixture
def fake_pipeline(monkeypatch):
    """Replace the analysis by a hand-built report (the demo's own logic is under test)."""
    calls = []

    def fake_analyze(path, *, transcript=None, alignment=None, reference=None, detector="default"):
        calls.append({"path": Path(path), "transcript": transcript, "alignment": alignment})
        return make_report(file=str(path), pcm_sha256=vtract.load(path).pcm_sha256)

    monkeypatch.setattr(vtract, "analyze", fake_analyze, raising=False)
    # figures are tested in test_report_render; skip drawing them here to stay fast
    monkeypatch.setattr("vtract.plot.figures.report_figures", lambda *a, **k: [])
    monkeypatch.setattr("vtract.reference.default_reference", lambda: FakeReference())
    return calls


def test_run_demo_writes_reports_for_every_example(tmp_path, fake_pipeline):
    result = run_demo(tmp_path / "out")
    names = [r.name for r in example_recordings()]
    assert sorted(result.reports) == sorted(names)
    for call in fake_pipeline:  # the VTL file uses its TextGrid, the others their transcript
        if call["path"].stem == "vtl_articulatory":
            assert call["alignment"].suffix == ".TextGrid" and call["transcript"] is None
        else:
            assert call["transcript"].endswith(".") and call["alignment"] is None
    assert result.main_html == tmp_path / "out" / "report.html"
    main_json = json.loads(result.main_json.read_text("utf-8"))
    validate_report_dict(main_json)
    assert main_json["file"].endswith(f"{MAIN_EXAMPLE}.flac")
    assert result.main_html.read_bytes() == (tmp_path / "out" / f"{MAIN_EXAMPLE}.html").read_bytes()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert [s["name"] for s in summary] == names
    index = result.index_html.read_text("utf-8")
    assert all(f"href='{n}.html'" in index for n in names)


def test_demo_command_prints_where_the_reports_are(tmp_path, fake_pipeline):
    res = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d"), "--pdf"])
    assert res.exit_code == 0, res.output
    assert f"report: {(tmp_path / 'd' / 'report.html').resolve()}" in res.output
    assert f"pdf:    {(tmp_path / 'd' / 'report.pdf').resolve()}" in res.output
    assert (tmp_path / "d" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "synthetic" in res.output  # verdict of each example is listed
    lines = [ln for ln in res.output.splitlines() if " truth " in ln]
    assert [ln.split()[2] for ln in lines] == ["synthetic", "synthetic", "articulatory"]
    # the fake pipeline calls every example synthetic, which is right for all three
    assert all(ln.rstrip().endswith("correct") for ln in lines), lines
    assert "3 of 3 verdicts are right" in res.output


def test_demo_command_reports_a_missing_reference_in_one_line(tmp_path, monkeypatch):
    def missing():
        raise ReferenceError_("the default reference is not installed")

    monkeypatch.setattr("vtract.reference.default_reference", missing)
    res = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d")])
    assert res.exit_code == 1
    assert "default reference is not installed" in res.output


@pytest.mark.slow
def test_demo_end_to_end_and_reproducible(tmp_path):
    """Real pipeline on the bundled audio, with a smoke reference fitted to one example.

    The reference is circular (fitted on the VTL example) so the verdicts mean
    nothing; this checks that every stage runs and that JSON reproduces.
    """
    from vtract.features import extract_features
    from vtract.reference import Reference

    rec = next(r for r in example_recordings() if r.name == "vtl_articulatory")
    ev, aln = vtract.load(rec.path), vtract.read_alignment(rec.alignment)
    ref = Reference.fit(extract_features(ev, aln, label="organic"), name="smoke")
    result = run_demo(tmp_path, reference=ref)
    for name, files in result.files.items():
        data = json.loads(files["json"].read_text("utf-8"))
        validate_report_dict(data)
        assert data["n_bigrams"] > 0, name
        assert files["html"].stat().st_size > 50_000
    again = vtract.analyze(rec.path, alignment=rec.alignment, reference=ref)
    first = json.loads(result.files[rec.name]["json"].read_text("utf-8"))
    assert strip_timestamps(json.loads(again.to_json())) == strip_timestamps(first)


def _make_examples_module():
    from _scripts import load_script

    return load_script("scripts/make_examples.py")


def _pcm16(x):
    return np.round(np.asarray(x, dtype=np.float64) * 32767).astype(np.int64)


@pytest.mark.parametrize(
    "name", ["espeak_en_us", pytest.param("vtl_articulatory", marks=pytest.mark.slow)]
)
def test_deterministic_examples_are_reproduced_by_the_script(name, tmp_path):
    """The script regenerates the shipped audio sample for sample (same generator version)."""
    entry = next(
        e for e in json.loads((EXAMPLES / "manifest.json").read_text()) if e["name"] == name
    )
    mk = _make_examples_module()
    try:
        if name == "espeak_en_us":
            audio, info = mk.make_espeak()
        else:
            audio, info = mk.make_vtl(tmp_path)
    except (SystemExit, ImportError) as exc:
        pytest.skip(f"{name} generator unavailable: {exc}")
    if info["versions"] != entry["versions"]:
        pytest.skip(f"generator version {info['versions']} differs from {entry['versions']}")
    shipped, _ = sf.read(EXAMPLES / entry["file"], dtype="float64")
    assert np.abs(_pcm16(audio) - np.round(shipped * 32768)).max() <= 1


def test_demo_command_says_when_a_synthetic_example_is_missed(tmp_path, fake_pipeline, monkeypatch):
    import dataclasses

    def organic_analyze(path, **kwargs):
        report = make_report(file=str(path), pcm_sha256=vtract.load(path).pcm_sha256)
        return dataclasses.replace(report, verdict="organic", score=0.1)

    monkeypatch.setattr(vtract, "analyze", organic_analyze, raising=False)
    res = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if " truth " in ln]
    assert len(lines) == 3 and all(ln.rstrip().endswith("MISSED") for ln in lines), lines
    assert "0 of 3 verdicts are right" in res.output


def test_demo_says_what_a_paper_score_is_and_claims_no_miss_it_did_not_make(
    tmp_path, fake_pipeline, monkeypatch
):
    """`vtract demo --detector paper` said "it misses clean synthetic speech like these
    examples" after catching both, and showed "synthetic" beside "score 0.08" with no word
    that the paper score's threshold is 0.05 (session 27 probe, F17.3)."""
    import dataclasses

    def paper_analyze(path, **kwargs):
        report = make_report(file=str(path), pcm_sha256=vtract.load(path).pcm_sha256)
        return dataclasses.replace(
            report,
            verdict="synthetic",
            score=0.08,
            detector="paper",
            thresholds={"sentence_threshold": 0.05, "score_synthetic_above": 0.05},
        )

    monkeypatch.setattr(vtract, "analyze", paper_analyze, raising=False)
    res = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d"), "--detector", "paper"])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if " truth " in ln]
    assert all("score  0.08 (synthetic above 0.05)" in ln for ln in lines), lines
    assert "the share of area values outside the organic ranges" in res.output
    assert "3 of 3 verdicts are right" in res.output and "misses" not in res.output
    assert "A few examples do not measure a detector" in res.output
    index = (tmp_path / "d" / "index.html").read_text("utf-8")
    assert "0.08 (synthetic above 0.05)" in index and "published statistic itself" in index
    assert json.loads((tmp_path / "d" / "summary.json").read_text())[0]["synthetic_above"] == 0.05

    # a miss is named
    def missed_analyze(path, **kwargs):
        report = paper_analyze(path)
        return dataclasses.replace(report, verdict="organic", score=0.01)

    monkeypatch.setattr(vtract, "analyze", missed_analyze, raising=False)
    res = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "e"), "--detector", "paper"])
    assert "It missed piper_joe, espeak_en_us, vtl_articulatory: the detector misses" in res.output


def test_a_modified_bundled_example_is_refused(tmp_path, monkeypatch):
    """example_recordings() read each example's SHA-256 but never checked it (F17.4)."""
    import shutil

    from vtract.errors import VtractError

    root = tmp_path / "vtract"
    shutil.copytree(EXAMPLES, root / "data" / "examples")
    monkeypatch.setattr("vtract.demo.resources.files", lambda package: root)
    assert [r.name for r in example_recordings()] == [
        e["name"] for e in json.loads((EXAMPLES / "manifest.json").read_text())
    ]
    target = root / "data" / "examples" / "piper_joe.flac"
    target.write_bytes(target.read_bytes()[:-1] + b"\0")
    with pytest.raises(VtractError, match=r"piper_joe.flac has SHA-256 .* but its manifest"):
        example_recordings()
