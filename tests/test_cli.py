"""The command-line frame: version, help, exit codes, no tracebacks."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from click.testing import CliRunner

import vtract
from vtract.cli import COMMANDS, cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtract", *args], capture_output=True, text=True, check=False
    )


def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert vtract.__version__ in proc.stdout


def test_help_lists_available_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "inspect" in result.output
    assert "Exit codes" in result.output
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        assert name in COMMANDS


def test_usage_error_exit_code_2():
    assert run("no-such-command").returncode == 2
    assert run("inspect").returncode == 2  # missing FILES


def test_inspect_json_and_exit_codes(tmp_path):
    good = tmp_path / "ok tone é.wav"  # space and non-ASCII in the path
    t = np.arange(16000) / 16000
    sf.write(good, 0.3 * np.sin(2 * np.pi * 200 * t), 16000)
    proc = run("inspect", str(good))
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["sha256"] == vtract.load(good).sha256
    assert record["duration"] == 1.0

    missing = run("inspect", str(tmp_path / "missing.wav"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("vtract: error: no such file")
    assert "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert json.loads(missing.stdout)["error"]["type"] == "InputFileError"


def test_analyze_a_steady_tone_gives_an_inconclusive_report_not_a_traceback(tmp_path):
    """A 3 s, 200 Hz tone whose period divides the 10 ms hop: every frame has the same
    level, so the level decay has no fall to measure (it raised IndexError and the CLI
    printed a traceback: the probe's F4). Now it is not measured, and the report says why."""
    tone = tmp_path / "tone200.wav"
    sf.write(tone, np.tile(0.3 * np.sin(2 * np.pi * np.arange(80) / 80), 600), 16000, "FLOAT")
    proc = run("analyze", str(tone), "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "inconclusive" and report["score"] is None and report["reason"]
    assert report["provenance"]["parameters"]["steepest_decay_db"] is None


def test_analyze_empty_textgrid_holds_the_place_of_a_file_without_one():
    """``--textgrid ''`` in a multi-file run: that file's phones are recognised, the others'
    alignments still pair up with their files in order."""
    from vtract.demo import example_recordings

    rec = next(r for r in example_recordings() if r.alignment is not None)
    res = CliRunner().invoke(
        cli,
        [
            "analyze",
            str(rec.path),
            str(rec.path),
            "--textgrid",
            "",
            "--textgrid",
            str(rec.alignment),
        ],
    )
    assert res.exit_code == 0, res.stderr
    first, second = (json.loads(x) for x in res.stdout.strip().splitlines())
    assert first["alignment"]["source"] == "pocketsphinx-recognize"
    assert first["alignment"]["low_confidence"] is True
    assert second["alignment"]["low_confidence"] is False
    assert second["provenance"]["inputs"]["alignment"] == (
        hashlib.sha256(rec.alignment.read_bytes()).hexdigest()
    )


def test_a_folder_among_the_files_is_an_error_record_not_a_usage_error(tmp_path):
    """A folder made the whole run a usage error (exit 2, no JSON, the good files' results
    lost); it is one more file that cannot be analysed, like a missing one."""
    from vtract.demo import example_recordings

    rec = next(r for r in example_recordings() if r.alignment is not None)
    res = CliRunner().invoke(
        cli,
        ["analyze", str(rec.path), str(tmp_path), "--textgrid", str(rec.alignment),
         "--textgrid", ""],
    )  # fmt: skip
    assert res.exit_code == 1, res.stderr
    good, folder = (json.loads(x) for x in res.stdout.strip().splitlines())
    assert good["verdict"] in ("organic", "synthetic", "inconclusive") and "error" not in good
    assert folder["file"] == str(tmp_path.resolve()) and folder["error"]["type"] == "InputFileError"
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_analyze_channel_option_reaches_channels_that_cancel_out(tmp_path):
    from vtract.demo import example_recordings

    rec = next(r for r in example_recordings() if r.alignment is not None)
    x, sr = sf.read(rec.path)
    stereo = tmp_path / "antiphase.wav"
    sf.write(stereo, np.column_stack([x, -x]), sr, subtype="FLOAT")
    runner = CliRunner()
    mixed = runner.invoke(cli, ["analyze", str(stereo), "--textgrid", str(rec.alignment)])
    assert mixed.exit_code == 1
    assert "after averaging its 2 channels" in mixed.stderr and "--channel" in mixed.stderr
    picked = runner.invoke(
        cli, ["analyze", str(stereo), "--textgrid", str(rec.alignment), "--channel", "0"]
    )
    assert picked.exit_code == 0, picked.stderr
    record = json.loads(picked.stdout)
    assert record["evidence"]["channel"] == 0 and record["evidence"]["channels"] == 2
    # the hash is of the file as given, whichever channel was analysed
    assert record["sha256"] == hashlib.sha256(stereo.read_bytes()).hexdigest()
    # the Python API: the same channel, and no second pick on decoded evidence
    report = vtract.analyze(stereo, alignment=rec.alignment, channel=0)
    assert report.score == pytest.approx(record["score"])
    with pytest.raises(vtract.VtractError, match="already decoded"):
        vtract.analyze(vtract.load(stereo, channel=0), alignment=rec.alignment, channel=0)
    # batch takes the same option (a manifest supplies the alignment)
    manifest = tmp_path / "list.csv"
    manifest.write_text(f"path,textgrid\n{stereo},{rec.alignment}\n", encoding="utf-8")
    out = tmp_path / "t.csv"
    base = ["batch", str(manifest), "--out", str(out), "--backend", "serial", "-q"]
    mixed = runner.invoke(cli, base)
    assert mixed.exit_code == 1
    assert "SilentAudioError" in pd.read_csv(out)["error_type"].tolist()
    refused = runner.invoke(cli, [*base, "--channel", "0"])  # the table holds other settings
    assert refused.exit_code == 1 and "other analysis settings" in refused.stderr
    assert "options.channel: (default) -> 0" in refused.stderr
    picked = runner.invoke(cli, [*base, "--channel", "0", "--no-resume"])
    assert picked.exit_code == 0, picked.stderr
    row = pd.read_csv(out).iloc[0]
    assert (row["verdict"], row["reason"]) == (record["verdict"], record["reason"])
    # (the articulatory example is inconclusive, its level never falls as steeply as close
    # speech: no score, which the table holds as NaN)
    score = math.nan if record["score"] is None else record["score"]
    assert row["score"] == pytest.approx(score, nan_ok=True)
    assert json.loads(row["analysis_settings"])["options"] == {"channel": 0}


def test_analyze_html_decodes_the_file_once_and_draws_the_analysed_channel(tmp_path, monkeypatch):
    """``--html`` analyses and draws one decoding of the file (it used to decode it twice),
    with the channel picked once; the JSON record is the one the run without HTML gives."""
    import vtract.analysis
    import vtract.evidence
    from vtract.demo import example_recordings

    rec = next(r for r in example_recordings() if r.alignment is not None)
    x, sr = sf.read(rec.path)
    stereo = tmp_path / "antiphase.wav"
    sf.write(stereo, np.column_stack([x, -x]), sr, subtype="FLOAT")
    args = ["analyze", str(stereo), "--textgrid", str(rec.alignment), "--channel", "1"]
    runner = CliRunner()
    plain = runner.invoke(cli, args)
    assert plain.exit_code == 0, plain.stderr

    decoded: list[int | None] = []
    real_load = vtract.evidence.load

    def counting_load(path, **kwargs):
        decoded.append(kwargs.get("channel"))
        return real_load(path, **kwargs)

    monkeypatch.setattr(vtract.evidence, "load", counting_load)
    monkeypatch.setattr(vtract.analysis, "load", counting_load)
    page = tmp_path / "report.html"
    with_html = runner.invoke(cli, [*args, "--html", str(page)])
    assert with_html.exit_code == 0, with_html.stderr
    assert decoded == [1]
    assert page.stat().st_size > 10_000
    a, b = json.loads(plain.stdout), json.loads(with_html.stdout)
    for key in ("sha256", "score", "verdict", "reason", "n_bigrams"):
        assert a[key] == b[key], key
    assert b["evidence"]["channel"] == 1


def test_method_is_a_choice_wherever_it_is_taken():
    runner = CliRunner()
    for command in ("analyze", "batch", "estimate"):
        res = runner.invoke(cli, [command, "x.wav", "--method", "lpc-refind"])
        assert res.exit_code == 2, command  # a typo is a usage error, not a failed analysis
        assert "'lpc-refind' is not one of" in res.output, command


def test_both_spellings_of_recognise_are_accepted(tmp_path):
    runner = CliRunner()
    missing = str(tmp_path / "missing.wav")
    for spelling in ("--recognize", "--recognise"):
        res = runner.invoke(cli, ["align", missing, spelling, "words", "--out", "x.TextGrid"])
        assert res.exit_code == 1 and "no such file" in res.stderr, spelling  # parsed, then failed
        res = runner.invoke(cli, ["reference", "build", missing, "--out", "x.vtref", spelling])
        assert res.exit_code == 2 and "does not exist" in res.stderr  # click checks the input
        assert "no such option" not in res.stderr.lower()


def test_inspect_names_a_file_that_is_not_utf8_as_the_other_outputs_do(tmp_path):
    from _shared import non_utf8_copy
    from vtract.provenance import path_text

    tone = tmp_path / "tone.wav"
    sf.write(tone, 0.3 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000), 16000)
    odd = non_utf8_copy(tone, tmp_path / "odd")
    res = CliRunner().invoke(cli, ["inspect", str(odd)])
    assert res.exit_code == 0, res.output
    record = json.loads(res.stdout)
    assert record["file"] == record["path"] == path_text(odd)
    assert record["file"].endswith("bad\\xff_good.wav")


def test_ctrl_c_exits_130_not_the_input_error_code(monkeypatch):
    """Ctrl-C exited 1 ("Aborted!"), the code of an input that could not be analysed."""
    import vtract.analysis

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vtract.analysis, "analyze", interrupted)
    res = CliRunner().invoke(cli, ["analyze", "x.wav"])
    assert res.exit_code == 130 and "interrupted" in res.stderr


def test_analyze_html_keeps_every_record_when_one_page_fails(tmp_path, monkeypatch):
    """A page that could not be drawn ('$$' in a word label raised matplotlib's ValueError)
    aborted the run with a traceback: the JSON already written for the other files was
    discarded and later files were never analysed (session-26 report probe, F1). Now the
    failed page is that record's html_error, the other records are complete, and the
    records validate against the schema and reload with the same custody block (F6)."""
    import shutil

    from vtract.demo import example_recordings
    from vtract.report import Report, validate_report_dict

    rec = next(r for r in example_recordings() if r.alignment is not None)
    first, second = tmp_path / "one.flac", tmp_path / "two.flac"
    shutil.copy(rec.path, first)
    x, sr = sf.read(rec.path)
    sf.write(second, 0.5 * x, sr, subtype="PCM_24")  # another recording of the same speech
    real_to_html = Report.to_html

    def to_html(self, path, **kwargs):
        if self.file.endswith("one.flac"):
            raise ValueError("$$ ^ ParseException: Expected end of text, found '$'")
        return real_to_html(self, path, **kwargs)

    monkeypatch.setattr(Report, "to_html", to_html)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(
        cli,
        ["analyze", "one.flac", "two.flac", "--textgrid", str(rec.alignment),
         "--textgrid", str(rec.alignment), "--html", "pages", "--json", str(out)],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "one.flac: HTML page not written (an error in vtract's renderer): $$" in res.stderr
    one, two = (json.loads(line) for line in out.read_text().splitlines())
    assert one["html_error"] == {
        "type": "ValueError",
        "message": "HTML page not written (an error in vtract's renderer): "
        "$$ ^ ParseException: Expected end of text, found '$'",
    }
    assert "html" not in one and one["verdict"] in ("organic", "synthetic", "inconclusive")
    assert (tmp_path / two["html"]).stat().st_size > 10_000
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == [Path(two["html"]).name]
    for record, name in ((one, first), (two, second)):
        # one spelling of the file: absolute, as in evidence.path and the custody block
        assert record["file"] == str(name.resolve()) == record["evidence"]["path"]
        assert record["chain_of_custody"]["evidence"]["file"] == record["file"]
        validate_report_dict(record)
        again = Report.from_dict(record).to_dict()
        assert again["chain_of_custody"] == record["chain_of_custody"]
        assert again == {k: v for k, v in record.items() if k not in ("html", "html_error")}
