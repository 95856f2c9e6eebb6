"""Labelled calibration inputs: one label per recording, copies counted once, measured like
the reference (session 27 probe: F2, F4, F8)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from _detect import BIGRAMS, TableReference, make_features
from _shared import SHARED_DATA, needs_shared
from vtract.detect.calibration import Calibration
from vtract.detect.fitting import fit_thresholds
from vtract.detect.labelled import (
    LabelConflictError,
    check_labels,
    check_measured_like,
    combine_tables,
    drop_duplicate_recordings,
)
from vtract.errors import ReferenceError_


def labelled(n_org: int = 10, n_syn: int = 0, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = [
        make_features(f"o{i}", BIGRAMS, rng=rng, label="organic").assign(sha256=f"{i:064x}")
        for i in range(n_org)
    ]
    parts += [
        make_features(f"x{i}", BIGRAMS, rng=rng, label="synthetic", scale=2.0).assign(
            sha256=f"{100 + i:064x}"
        )
        for i in range(n_syn)
    ]
    return pd.concat(parts, ignore_index=True)


def copies(table: pd.DataFrame, of: str, n: int) -> pd.DataFrame:
    """``n`` byte-identical copies of file ``of`` under other names (same SHA-256)."""
    rows = table[table["file"] == of]
    return pd.concat([rows.assign(file=f"copy{k}") for k in range(1, n + 1)], ignore_index=True)


def test_copies_of_a_recording_count_once():
    """Five copies of one recording made 5 distinct organic recordings 10 and its FPR bound
    0.091 instead of 1/6 (F4)."""
    table = labelled(5)
    ref = TableReference(table)
    with_copies = pd.concat([table, copies(table, "o1", 5)], ignore_index=True)
    cal, summary = fit_thresholds(
        ref, with_copies, target_fpr=0.1, statistic="deviation", threshold_by="recording"
    )
    assert summary["n_organic_files"] == 5
    assert [d["file"] for d in summary["duplicates_left_out"]] == [f"copy{k}" for k in range(1, 6)]
    assert "same content (SHA-256 " in summary["duplicates_left_out"][0]["reason"]
    assert summary["duplicates_left_out"][0]["reason"].endswith("as o1")
    stored = Calibration.from_dict(cal["default"])
    assert stored.metrics["fpr_bound"] == pytest.approx(1 / 6)
    assert stored.target_fpr_warning is not None and "5 organic recordings" in (
        stored.target_fpr_warning
    )
    # speakers unknown: each copy would have been its own "speaker"
    cal, _ = fit_thresholds(
        ref, with_copies.assign(speaker=""), target_fpr=0.1, statistic="deviation"
    )
    assert cal["default"]["metrics"]["n_speakers"] == 5
    # files without a hash are not merged
    kept, dropped = drop_duplicate_recordings(with_copies.assign(sha256=""))
    assert dropped == [] and kept["file"].nunique() == 10


def test_a_recording_with_two_labels_is_refused():
    """A Piper fake labelled organic in one row and synthetic in another was calibrated with
    whichever label came first (F8)."""
    table = labelled(6, 3)
    ref = TableReference(table[table["label"] == "organic"])
    fake = table[table["file"] == "x0"]
    both = pd.concat([fake.assign(label="organic"), table], ignore_index=True)
    with pytest.raises(LabelConflictError, match=r"1 recording\(s\) are labelled both .*'x0'"):
        fit_thresholds(ref, both, statistic="deviation")
    # the other row order is refused the same way
    with pytest.raises(LabelConflictError, match="'x0'"):
        check_labels(pd.concat([table, fake.assign(label="organic")], ignore_index=True))
    # the same recording under another name with the other label
    renamed = pd.concat([table, fake.assign(file="x0-copy", label="organic")], ignore_index=True)
    with pytest.raises(LabelConflictError, match=r"'x0', 'x0-copy' hold the same recording"):
        fit_thresholds(ref, renamed, statistic="deviation")
    # one file given in two inputs: taken once, or refused when the labels differ
    first, second = table[table["file"].isin(["o0", "o1"])], table[table["file"] == "o1"]
    combined, dropped = combine_tables([first, second])
    assert len(combined) == len(first) and dropped == [
        {"file": "o1", "reason": "given again in another input"}
    ]
    with pytest.raises(LabelConflictError, match="'o1' is labelled 'organic' in one input"):
        combine_tables([first, second.assign(label="synthetic")])


def test_a_table_measured_otherwise_than_the_reference_is_refused(tmp_path):
    """A paper-method reference was calibrated on an lpc-refined table, and a reference with
    another estimator fingerprint was calibrated without a word (F2)."""
    from click.testing import CliRunner

    from vtract.cli import cli
    from vtract.features import FEATURE_DTYPES, write_features
    from vtract.reference import Reference, estimator_fingerprint

    table = labelled(12)
    table = table.assign(
        window_start_s=0.0, window_end_s=0.0, n_sections_native=4, class1="vowel", class2="nasal"
    )[list(FEATURE_DTYPES)]
    ours = {"method": "test", "code_sha256": estimator_fingerprint()}
    ref = Reference.fit(table, name="t", estimator=ours)
    assert check_measured_like(ref, table) == []
    with pytest.raises(ReferenceError_, match=r"measured with the estimator \['lpc-refined'\] but"):
        fit_thresholds(ref, table.assign(method="lpc-refined"), statistic="deviation")
    with pytest.raises(ReferenceError_, match=r"have \[5\] tube sections per window but the re"):
        check_measured_like(ref, table.assign(n_sections=5))
    foreign = Reference.fit(table, name="t", estimator={**ours, "code_sha256": "0" * 64})
    with pytest.raises(ReferenceError_, match="measured with other tract-estimator code"):
        fit_thresholds(foreign, table, statistic="deviation")
    unknown = Reference.fit(table, name="t")
    _, summary = fit_thresholds(unknown, table, statistic="deviation", target_fpr=0.2)
    assert summary["warnings"] == [
        "the reference does not record the estimator code that measured it, so that its "
        "statistics fit this vtract's estimator could not be checked"
    ]
    # the command line refuses the same, before writing anything
    foreign.save(tmp_path / "foreign.vtref")
    write_features(table.assign(method="test"), tmp_path / "t.parquet")
    out = tmp_path / "out.vtref"
    base = ["calibrate", str(tmp_path / "t.parquet"), "--out", str(out), "--statistic", "deviation"]
    res = CliRunner().invoke(cli, [*base, "--reference", str(tmp_path / "foreign.vtref")])
    assert res.exit_code == 1 and "other tract-estimator code" in res.output and not out.exists()
    unknown.save(tmp_path / "unknown.vtref")
    res = CliRunner().invoke(
        cli, [*base, "--reference", str(tmp_path / "unknown.vtref"), "--fpr", "0.2"]
    )
    assert res.exit_code == 0, res.output
    assert "warning: the reference does not record the estimator code" in res.stderr
    assert json.loads(res.stdout)["n_organic_files"] == 12


def test_a_manifest_listing_a_recording_twice(tmp_path):
    """One path listed twice in calibrate manifests: measured once with a note, or refused
    before anything is measured when the labels differ (F4, F8)."""
    import soundfile as sf
    from click.testing import CliRunner

    from vtract.cli import cli

    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(1600), 16000)
    one = tmp_path / "one.csv"
    one.write_text(f"path,transcript,label\n{wav},hello,organic\n")
    two = tmp_path / "two.csv"
    two.write_text(f"path,transcript,label\n{wav},hello,synthetic\n")
    out = ["--out", str(tmp_path / "o.vtref")]
    res = CliRunner().invoke(cli, ["calibrate", str(one), str(two), *out])
    assert res.exit_code == 1
    assert f"{str(wav)!r} is labelled 'organic' in {one} and 'synthetic' in {two}" in res.output
    res = CliRunner().invoke(cli, ["calibrate", str(one), str(one), *out])
    assert f"note: left out {str(wav)!r}: listed again (measured once)" in res.stderr
    assert res.stderr.count("skipped") == 1  # measured (and skipped: silence) once


@needs_shared
def test_a_calibrate_manifest_alignment_of_another_recording_is_refused(tmp_path):
    """calibrate's manifest path cut a 3.1 s ARCTIC alignment over a 1.87 s recording (F9)."""
    from click.testing import CliRunner

    from vtract.cli import cli

    m = tmp_path / "m.csv"
    m.write_text(
        "path,textgrid,label\n"
        f"{SHARED_DATA / 'organic/praatio/mary.wav'},"
        f"{SHARED_DATA / 'organic/arctic/arctic_a0009_phone.lab'},organic\n"
    )
    res = CliRunner().invoke(cli, ["calibrate", str(m), "--out", str(tmp_path / "o.vtref")])
    assert res.exit_code == 1 and "nothing to calibrate" in res.output
    assert "skipped" in res.stderr and "it belongs to another recording" in res.stderr


def test_calibrate_stores_its_provenance(tmp_path):
    """A reference written by `vtract calibrate` carried no record of when, with what or from
    what its thresholds were set (session 27 probe, F13)."""
    from click.testing import CliRunner

    from vtract import __version__
    from vtract.cli import cli
    from vtract.features import FEATURE_DTYPES, write_features
    from vtract.provenance import file_sha256
    from vtract.reference import Reference, estimator_fingerprint

    table = labelled(10, 4).assign(
        window_start_s=0.0, window_end_s=0.0, n_sections_native=4, class1="vowel", class2="nasal"
    )[list(FEATURE_DTYPES)]
    ref = Reference.fit(
        table[table["file"].isin(["o0", "o1"])],
        name="t",
        estimator={"method": "test", "code_sha256": estimator_fingerprint()},
    )
    ref.save(tmp_path / "r.vtref")
    write_features(table, tmp_path / "t.parquet")
    out = tmp_path / "cal.vtref"
    args = ["calibrate", str(tmp_path / "t.parquet"), "--reference", str(tmp_path / "r.vtref")]
    res = CliRunner().invoke(
        cli, [*args, "--out", str(out), "--statistic", "deviation", "--no-flags", "--fpr", "0.2"]
    )
    assert res.exit_code == 0, res.output
    calibrated = Reference.load(out)
    metrics = calibrated.calibration["default"]["metrics"]
    block = metrics["provenance"]
    assert block["version"] == __version__ and block["created_utc"]
    assert block["parameters"] == {
        "command": "vtract calibrate",
        "fpr": 0.2,
        "statistic": "deviation",
        "use_flags": False,
        "threshold_by": "speaker",
        "with_shimmer": False,
        "fakes": True,
    }
    assert block["inputs"] == {
        "reference": ref.sha256,
        f"input:{tmp_path / 't.parquet'}": file_sha256(tmp_path / "t.parquet"),
    }
    assert metrics["calibration_files"] == {
        "organic": [f"o{i}" for i in range(10)],
        "synthetic": [f"x{i}" for i in range(4)],
    }
    assert metrics["calibration_file_sha256"]["x3"] == f"{103:064x}"
    assert metrics["in_reference"] == 2 and metrics["duplicates_left_out"] == []
    paper = calibrated.calibration["paper"]
    assert paper["provenance"]["created_utc"] == block["created_utc"]
    info = calibrated.info()
    assert info["calibrated_utc"] == {
        "default": block["created_utc"],
        "paper": block["created_utc"],
    }


def test_a_table_measured_with_another_highpass_is_refused(tmp_path):
    """A table's ``extraction`` record is compared with the reference's settings: another
    high-pass (or window) is refused, a table measured two ways is refused, cross-word
    bigrams are not (analyze takes them for wordless alignments), and a table without a
    record gets a warning (s27 left this: a table did not record its high-pass)."""
    from click.testing import CliRunner

    from vtract.cli import cli
    from vtract.corpus import extraction_settings
    from vtract.features import FEATURE_DTYPES, write_features
    from vtract.reference import Reference, estimator_fingerprint

    settings = extraction_settings("test", 15, False)
    record = json.dumps(settings, sort_keys=True)
    table = labelled(12)
    table = table.assign(
        window_start_s=0.0, window_end_s=0.0, n_sections_native=4, class1="vowel", class2="nasal"
    )[list(FEATURE_DTYPES)]
    ours = {"method": "test", "code_sha256": estimator_fingerprint()}
    ref = Reference.fit(
        table.assign(extraction=record),
        name="t",
        estimator=ours,
        settings={"extract_features": settings},
    )
    assert check_measured_like(ref, table.assign(extraction=record)) == []
    wordless = json.dumps({**settings, "cross_word": True}, sort_keys=True)
    assert check_measured_like(ref, table.assign(extraction=wordless)) == []
    unfiltered = json.dumps({**settings, "highpass_hz": 0.0}, sort_keys=True)
    with pytest.raises(
        ReferenceError_, match=r"measured with highpass_hz=0\.0 but the reference with highpass"
    ):
        fit_thresholds(ref, table.assign(extraction=unfiltered), statistic="deviation")
    longer = json.dumps({**settings, "window": 800}, sort_keys=True)
    with pytest.raises(ReferenceError_, match=r"window=800 but the reference with window=565"):
        check_measured_like(ref, table.assign(extraction=longer))
    mixed = table.assign(extraction=np.where(table["file"] == "o3", unfiltered, record))
    with pytest.raises(ReferenceError_, match="measured in 2 different ways"):
        check_measured_like(ref, mixed)
    with pytest.raises(ReferenceError_, match="not readable"):
        check_measured_like(ref, table.assign(extraction="{80 Hz"))
    # an older table (no record): checked as far as it can be, with a warning
    warned = check_measured_like(ref, table)
    assert warned == [
        "12 recording(s) of the feature tables do not record how they were measured (the "
        "extraction column, written since 28 Nov 2026), so their rate, windows and high-pass "
        "could not be checked against the reference's"
    ]
    # a reference cannot record settings its own tables contradict
    with pytest.raises(ReferenceError_, match=r"highpass_hz=0\.0 but the settings given with"):
        Reference.fit(
            table.assign(extraction=unfiltered),
            name="t",
            estimator=ours,
            settings={"extract_features": settings},
        )
    # the command line refuses before writing anything
    ref.save(tmp_path / "r.vtref")
    write_features(table.assign(extraction=unfiltered), tmp_path / "t.parquet")
    out = tmp_path / "out.vtref"
    args = ["calibrate", str(tmp_path / "t.parquet"), "--out", str(out)]
    args += ["--statistic", "deviation", "--reference", str(tmp_path / "r.vtref")]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1 and "highpass_hz=0.0" in res.output and not out.exists()
