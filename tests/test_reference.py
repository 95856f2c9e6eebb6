"""Reference: statistics against numpy, back-off, save/load, corrupt files."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vtract.errors import ReferenceError_
from vtract.features import FEATURE_DTYPES
from vtract.provenance import file_sha256
from vtract.reference import FORMAT_VERSION, STAT_COLUMNS, Reference

N_SECTIONS = 5
CLASSES = {"AH": "vowel", "N": "nasal", "T": "stop", "IY": "vowel", "S": "fricative", "M": "nasal"}
IPA = {"AH": "ʌ", "N": "n", "T": "t", "IY": "i", "S": "s", "M": "m"}


def synthetic_table(counts: dict[str, int], speakers=("a", "b", "c"), seed=0) -> pd.DataFrame:
    """Feature table with ``counts[bigram]`` windows per speaker, lognormal areas."""
    rng = np.random.default_rng(seed)
    parts = []
    for spk_i, spk in enumerate(speakers):
        scale = 1.0 + 0.5 * spk_i
        for bigram, n in counts.items():
            p1, p2 = bigram.split("-")
            areas = scale * np.exp(rng.normal(0.5, 0.4, (n, N_SECTIONS)))
            length = 15.0 + rng.normal(0, 1, n)
            w = np.repeat(np.arange(n, dtype=np.float64), N_SECTIONS)
            rows = n * N_SECTIONS
            parts.append(
                pd.DataFrame(
                    {
                        "file": f"{spk}.wav",
                        "sha256": hashlib.sha256(spk.encode()).hexdigest(),
                        "speaker": spk,
                        "label": "organic",
                        "bigram": bigram,
                        "bigram_ipa": f"{IPA[p1]}-{IPA[p2]}",
                        "phone1": p1,
                        "phone2": p2,
                        "class1": CLASSES[p1],
                        "class2": CLASSES[p2],
                        "word": "w",
                        "boundary_s": w,
                        "window_index": np.zeros(rows, dtype=np.int64),
                        "offset_s": 0.0,
                        "window_start_s": w - 0.0176,
                        "window_end_s": w + 0.0177,
                        "section": np.tile(np.arange(N_SECTIONS), n),
                        "n_sections": N_SECTIONS,
                        "n_sections_native": N_SECTIONS + 2,
                        "area_cm2": areas.ravel(),
                        "length_cm": np.repeat(length, N_SECTIONS),
                        "fit_error_db": 2.0,
                        "f1_hz": 500.0 + 10 * w,
                        "f2_hz": 1500.0,
                        "f3_hz": np.nan,
                        "method": "lpc",
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)[list(FEATURE_DTYPES)].astype(FEATURE_DTYPES)


@pytest.fixture(scope="module")
def table():
    return synthetic_table({"AH-N": 20, "T-IY": 2, "S-AH": 6})


@pytest.fixture(scope="module")
def ref(table):
    return Reference.fit(
        table,
        name="unit",
        corpus_info={"corpora": ["synthetic unit data"]},
        estimator={"order": np.int64(18)},
    )


def test_bigram_stats_equal_numpy(ref, table):
    stats, level = ref.lookup("AH-N", N_SECTIONS)
    assert level == "bigram" and stats.attrs["key"] == "AH-N"
    assert list(stats.index) == list(range(N_SECTIONS))
    for s in range(N_SECTIONS):
        x = table[(table["bigram"] == "AH-N") & (table["section"] == s)]["area_cm2"].to_numpy()
        row = stats.loc[s]
        assert row["count"] == x.size == 60 and row["n_files"] == 3 and row["n_speakers"] == 3
        assert row["min"] == x.min() and row["max"] == x.max()  # published organic range
        q = np.quantile(x, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
        np.testing.assert_allclose(
            row[["q01", "q05", "q25", "median", "q75", "q95", "q99"]], q, rtol=1e-12
        )
        np.testing.assert_allclose(row["mad"], np.median(np.abs(x - np.median(x))), rtol=1e-12)
        np.testing.assert_allclose(row["std"], x.std(ddof=1), rtol=1e-12)


def test_speaker_normalised_and_window_variables(ref, table):
    stats, _ = ref.lookup("AH-N", N_SECTIONS, variable="area_norm")
    med = table.groupby("speaker")["area_cm2"].transform("median")
    norm = table["area_cm2"] / med
    x = norm[(table["bigram"] == "AH-N") & (table["section"] == 2)].to_numpy()
    np.testing.assert_allclose(stats.loc[2, "median"], np.median(x), rtol=1e-12)
    length, level = ref.lookup("AH-N", N_SECTIONS, variable="length_cm")
    assert level == "bigram" and list(length.index) == [-1]
    lx = table[(table["bigram"] == "AH-N") & (table["section"] == 0)]["length_cm"].to_numpy()
    assert length.loc[-1, "count"] == 60 and length.loc[-1, "max"] == lx.max()
    # all-NaN variables get no statistics at all -> lookup fails clearly
    with pytest.raises(ReferenceError_, match="no statistics"):
        ref.lookup("AH-N", N_SECTIONS, variable="f3_hz")


def test_back_off_levels(ref, table):
    # T-IY: only 6 windows (< min_count 10) -> phone level "*-IY" is absent, "T-*" has 6 too,
    # class "stop-vowel" also 6 -> global
    stats, level = ref.lookup("T-IY", N_SECTIONS)
    assert level == "global" and stats.attrs["key"] == "*"
    assert stats.loc[0, "count"] == len(table) // N_SECTIONS
    # with a lower threshold the bigram itself is used
    assert ref.lookup("T-IY", N_SECTIONS, min_count=6)[1] == "bigram"
    # unseen bigram: S-N shares "S-*" (18 windows) and "*-N" (60 windows) -> the larger
    stats, level = ref.lookup("S-N", N_SECTIONS)
    assert level == "phone" and stats.attrs["key"] == "*-N"
    x = table[(table["phone2"] == "N") & (table["section"] == 1)]["area_cm2"].to_numpy()
    assert stats.loc[1, "max"] == x.max()
    # unseen phones with a known class pair: M-AH is nasal-vowel, nothing; Z-IY fricative-vowel = S-AH
    stats, level = ref.lookup("Z-IY", N_SECTIONS, levels=("bigram", "class", "global"))
    assert level == "class" and stats.attrs["key"] == "fricative-vowel"
    # restricted levels that cannot be met
    with pytest.raises(ReferenceError_, match="no statistics"):
        ref.lookup("T-IY", N_SECTIONS, levels=("bigram",))
    with pytest.raises(ReferenceError_, match="n_sections"):
        ref.lookup("AH-N", 7)
    with pytest.raises(ReferenceError_, match="bigram must look like"):
        ref.lookup("AHN", N_SECTIONS)
    with pytest.raises(ReferenceError_, match="unknown reference variable"):
        ref.lookup("AH-N", N_SECTIONS, variable="volume")


def test_a_section_without_finite_values_backs_off_like_a_thin_one():
    """Session 31 probe F3: with 3 finite values in a section the lookup backed off; with
    none, the section had no row and the bigram level was used without it (the detector
    then failed on the missing section)."""
    import warnings

    table = synthetic_table({"AH-N": 20, "S-AH": 6})
    at = (table["bigram"] == "AH-N") & (table["section"] == 2)
    for finite in (3, 0):
        edited = table.copy()
        idx = edited.index[at]
        edited.loc[idx[finite:], "area_cm2"] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = Reference.fit(edited, name="t", estimator={"method": "lpc"})
        stats, level = ref.lookup("AH-N", N_SECTIONS)
        assert level != "bigram", finite
        assert list(stats.index) == list(range(N_SECTIONS))
        # the bigram level is still used for a window variable every window has
        assert ref.lookup("AH-N", N_SECTIONS, variable="length_cm")[1] == "bigram"


def test_fit_refuses_rows_and_recordings_it_would_count_twice(table):
    """Session 31 probe F5, F6: a table concatenated twice doubled every count (a bigram of
    6 windows passed min_count and left the global level), one recording under two names
    counted as two files, and a file with a null sha256 vanished from meta["files"]."""
    with pytest.raises(ReferenceError_, match=r"\d+ row\(s\) repeating another's"):
        Reference.fit(pd.concat([table, table], ignore_index=True), name="t")
    copy = table[table["file"] == "b.wav"].assign(file="b_copy.wav")
    with pytest.raises(ReferenceError_, match=r"under more than one file name .*b.wav, b_copy"):
        Reference.fit(pd.concat([table, copy], ignore_index=True), name="t")
    nohash = table.copy()
    nohash.loc[nohash["file"] == "b.wav", "sha256"] = None
    with pytest.raises(ReferenceError_, match="without a 'sha256'"):
        Reference.fit(nohash, name="t")
    # "" is a table made without hashes (features_from_estimates' default): not one recording
    unhashed = Reference.fit(table.assign(sha256=""), name="t")
    assert unhashed.meta["n_files"] == 3


def test_metadata_records_inputs(ref):
    files = ref.files
    assert list(files["file"]) == ["a.wav", "b.wav", "c.wav"]
    assert list(files["n_windows"]) == [28, 28, 28]
    assert ref.meta["estimator"] == {"method": "lpc", "order": 18}
    assert ref.meta["n_speakers"] == 3 and ref.meta["n_windows"] == 84
    assert ref.method == "lpc" and ref.bigrams == ["AH-N", "S-AH", "T-IY"]
    assert ref.meta["provenance"]["tool"] == "vtract"


def test_save_load_round_trip_bit_identical(tmp_path, ref):
    p1 = ref.save(tmp_path / "a.vtref")
    back = Reference.load(p1)
    pd.testing.assert_frame_equal(back.stats, ref.stats)
    assert back.meta == ref.meta
    p2 = back.save(tmp_path / "b.vtref")
    assert p1.read_bytes() == p2.read_bytes()
    assert back.sha256 == ref.sha256 == file_sha256(p1)
    cal = back.with_calibration({"threshold": 0.5})
    again = Reference.load(cal.save(tmp_path / "c.vtref"))
    assert again.calibration == {"threshold": 0.5} and again.sha256 != ref.sha256


def test_hash_is_computed_once_and_the_reference_cannot_be_reassigned(tmp_path, table, monkeypatch):
    fresh = Reference.fit(table, name="t", estimator={"method": "lpc", "order": 18})
    calls = []
    real = Reference.to_bytes
    monkeypatch.setattr(Reference, "to_bytes", lambda self: calls.append(1) or real(self))
    first = fresh.sha256
    assert fresh.sha256 == first and len(calls) == 1  # kept, not re-serialised
    monkeypatch.undo()
    assert first == file_sha256(fresh.save(tmp_path / "t.vtref"))
    with pytest.raises(AttributeError):
        fresh.stats = fresh.stats.iloc[:1]
    with pytest.raises(AttributeError):
        fresh.meta = {}
    assert fresh.with_calibration({"threshold": 0.5}).sha256 != first


def _rezip(data: bytes, edit) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    edit(members)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return buf.getvalue()


def test_a_loaded_reference_is_named_by_the_hash_of_the_bytes_read(ref):
    """Another writer's zip of the same members (other timestamps, no compression) is still a
    valid reference; its hash is that of its own bytes, not of what save() would write."""
    data = ref.to_bytes()
    other = _rezip(data, lambda members: None)  # same members, zipped afresh
    assert other != data
    back = Reference.from_bytes(other)
    assert back.sha256 == hashlib.sha256(other).hexdigest() != ref.sha256
    assert hashlib.sha256(back.to_bytes()).hexdigest() == ref.sha256


def test_format_1_files_are_read_with_the_renamed_estimators(tmp_path, table):
    # format 1 (before 26 Nov 2026) called the LPC-pole estimator "default"
    old = Reference.fit(table.assign(method="default"), name="old")

    def to_format_1(m):
        meta = json.loads(m["meta.json"])
        assert meta["estimator"]["method"] == "default"
        meta["format_version"] = 1
        meta["settings"] = {"extract_features": {"method": "default", "window": 565}}
        m["meta.json"] = json.dumps(meta).encode()

    data = _rezip(old.to_bytes(), to_format_1)
    ref = Reference.from_bytes(data)
    assert ref.method == "lpc-refined" and ref.meta["upgraded_from_format"] == 1
    assert ref.meta["settings"]["extract_features"]["method"] == "lpc-refined"
    pd.testing.assert_frame_equal(ref.stats, old.stats)
    again = Reference.load(ref.save(tmp_path / "upgraded.vtref"))
    assert again.meta["format_version"] == FORMAT_VERSION and again.method == "lpc-refined"
    # today's files keep "default" (now the formant-pole estimator) as it is
    assert Reference.from_bytes(old.to_bytes()).method == "default"


def test_format_2_files_record_that_they_were_measured_without_the_high_pass(table):
    """Before format 3 the feature extraction had no analysis high-pass: a file that records
    its extraction settings is read with ``highpass_hz = 0``, so an analysis measures
    evidence the way the reference was measured; today's files keep what they say."""
    from vtract.analysis import _extract_settings

    built = Reference.fit(
        table, name="old", settings={"extract_features": {"window": 565, "sections": 15}}
    )

    def to_format_2(m):
        meta = json.loads(m["meta.json"])
        meta["format_version"] = 2
        m["meta.json"] = json.dumps(meta).encode()

    old = Reference.from_bytes(_rezip(built.to_bytes(), to_format_2))
    assert old.meta["upgraded_from_format"] == 2
    assert old.meta["settings"]["extract_features"] == {
        "window": 565,
        "sections": 15,
        "highpass_hz": 0.0,
    }
    assert _extract_settings(old, None)["highpass_hz"] == 0.0
    # a format-3 file without the key: the method's default cutoff, recorded
    assert "highpass_hz" not in built.meta["settings"]["extract_features"]
    assert _extract_settings(built, None)["highpass_hz"] == 80.0
    # a file that records no extraction settings gains none
    bare = Reference.fit(table, name="bare")

    def bare_to_format_2(m):
        meta = json.loads(m["meta.json"])
        meta["format_version"] = 2
        meta.pop("settings", None)
        m["meta.json"] = json.dumps(meta).encode()

    read = Reference.from_bytes(_rezip(bare.to_bytes(), bare_to_format_2))
    assert not (read.meta.get("settings") or {}).get("extract_features")


def test_corrupt_and_incompatible_files(tmp_path, ref):
    good = ref.to_bytes()
    cases = {
        "missing.vtref": None,
        "text.vtref": b"hello",
        "truncated.vtref": good[: len(good) // 2],
    }

    def newer(m):
        meta = json.loads(m["meta.json"])
        meta["format_version"] = FORMAT_VERSION + 1
        m["meta.json"] = json.dumps(meta).encode()

    def tampered(m):
        m["stats.parquet"] = m["stats.parquet"][:-8] + b"\0" * 8

    def foreign(m):
        m["meta.json"] = b'{"format": "something-else"}'

    def nometa(m):
        del m["meta.json"]

    cases["newer.vtref"] = _rezip(good, newer)
    cases["tampered.vtref"] = _rezip(good, tampered)
    cases["foreign.vtref"] = _rezip(good, foreign)
    cases["nometa.vtref"] = _rezip(good, nometa)
    expected = {
        "missing.vtref": "not found",
        "text.vtref": "not a readable ZIP",
        "truncated.vtref": "is damaged: it starts as a ZIP archive",
        "newer.vtref": "format version",
        "tampered.vtref": "does not match",
        "foreign.vtref": "not a vtract reference",
        "nometa.vtref": "are required",
    }
    for name, data in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(ReferenceError_, match=expected[name]):
            Reference.load(path)


def test_fit_refuses_bad_tables(table):
    with pytest.raises(ReferenceError_, match="organic speech only"):
        Reference.fit(table.assign(label="synthetic"), name="x")
    with pytest.raises(ReferenceError_, match="several estimator methods"):
        t = table.copy()
        t.loc[t.index[:5], "method"] = "paper"
        Reference.fit(t, name="x")
    with pytest.raises(ReferenceError_, match="empty"):
        Reference.fit(table.iloc[0:0], name="x")
    with pytest.raises(ReferenceError_, match="lacks columns"):
        Reference.fit(table.drop(columns=["area_cm2"]), name="x")


def test_edited_metadata_is_refused_at_load_naming_the_field(ref):
    """meta.json is outside the statistics hash: a field of the wrong type must fail
    at load with its name, not later inside .method, .lookup() or repr()."""
    good = ref.to_bytes()

    def edit(**fields):
        def change(m):
            meta = json.loads(m["meta.json"])
            meta.update(fields)
            m["meta.json"] = json.dumps(meta).encode()

        return _rezip(good, change)

    cases = [
        (edit(estimator="lpc"), "field 'estimator' is \"lpc\", expected a JSON object"),
        (edit(min_count=None), "field 'min_count' is null, expected a JSON integer"),
        (edit(min_count=0), "min_count 0 is below 1"),
        (edit(min_count=True), "field 'min_count' is true"),
        (edit(calibration="x"), "field 'calibration'"),
        (edit(files="abc"), "field 'files'"),
        (edit(files=[1]), "file list holds non-objects"),
        (edit(corpus=[1]), "field 'corpus'"),
        (edit(provenance="x"), "field 'provenance'"),
        (edit(n_sections=[15.5]), "n_sections holds"),
        (edit(format_version=True), "format version True"),
        (edit(format_version=1, settings={"extract_features": [1]}), "extract_features"),
    ]
    for data, message in cases:
        with pytest.raises(ReferenceError_, match=message):
            Reference.from_bytes(data)

    def not_an_object(m):
        m["meta.json"] = b"[]"

    with pytest.raises(ReferenceError_, match=r"meta.json holds \[\], not an object"):
        Reference.from_bytes(_rezip(good, not_an_object))


def test_fit_handles_missing_values(table):
    # an unknown (null) speaker is the file, as an empty one is
    nulls = table.assign(speaker=None)
    empty = table.assign(speaker="")
    a, b = Reference.fit(nulls, name="x"), Reference.fit(empty, name="x")
    assert a.meta["n_speakers"] == b.meta["n_speakers"] == table["file"].nunique() == 3
    pd.testing.assert_frame_equal(a.stats, b.stats)
    assert {f["speaker"] for f in a.meta["files"]} == {""}
    partly = table.copy()
    partly.loc[partly["speaker"] == "a", "speaker"] = None
    assert Reference.fit(partly, name="x").meta["n_speakers"] == 3
    # rows that cannot be placed are refused with the column named
    no_bigram = table.copy()
    no_bigram.loc[no_bigram["bigram"] == "T-IY", "bigram"] = None
    with pytest.raises(ReferenceError_, match="without a 'bigram'"):
        Reference.fit(no_bigram, name="x")
    with pytest.raises(ReferenceError_, match="n_sections is missing"):
        Reference.fit(table.assign(n_sections=np.nan), name="x")
    for bad in (np.nan, 0, True, "10", 2.5):
        with pytest.raises(ReferenceError_, match="min_count must be an integer"):
            Reference.fit(table, name="x", min_count=bad)
    with pytest.raises(ReferenceError_, match="estimator must be a mapping"):
        Reference.fit(table, name="x", estimator=["x"])


def test_lookup_refuses_counts_that_are_not_whole(ref):
    assert ref.lookup("AH-N", 5.0)[1] == ref.lookup("AH-N", 5)[1]
    for bad in (15.7, np.nan, True):
        with pytest.raises(ReferenceError_, match="n_sections must be a positive integer"):
            ref.lookup("AH-N", bad)
    with pytest.raises(ReferenceError_, match="min_count must be an integer"):
        ref.lookup("AH-N", 5, min_count=np.nan)


def test_stat_columns_present(ref):
    assert set(STAT_COLUMNS) <= set(ref.stats.columns)
    assert set(ref.stats["level"]) == {"bigram", "phone", "class", "global"}


# ------------------------------------------------------------- corpus and CLI
from _shared import SHARED_DATA, needs_shared, non_utf8_copy  # noqa: E402


@needs_shared
def test_find_recordings_and_manifest(tmp_path):
    from vtract.corpus import find_recordings

    recs = {r.audio.name: r for r in find_recordings([SHARED_DATA / "organic/praatio"])}
    assert sorted(recs) == ["bobby.wav", "damon_set_test.wav", "mary.wav"]
    assert [p.name for p in recs["bobby.wav"].alignments] == ["bobby_phones.TextGrid"]
    arctic = {r.audio.name: r for r in find_recordings([SHARED_DATA / "organic/arctic"])}
    assert [p.name for p in arctic["arctic_a0009.wav"].alignments] == ["arctic_a0009_phone.lab"]
    assert (
        arctic["arctic_a0007.wav"].alignments == ()
        and arctic["arctic_a0007.wav"].transcript is None
    )
    lj = find_recordings([SHARED_DATA / "organic/ljspeech/LJ001-0002.flac"])
    assert lj[0].transcript == "in being comparatively modern."
    manifest = tmp_path / "m.csv"
    mary = SHARED_DATA / "organic/praatio/mary.wav"
    manifest.write_text(f"path,alignment,speaker\n{mary},{mary.with_suffix('.TextGrid')},spk1\n")
    (rec,) = find_recordings([manifest])
    assert rec.speaker == "spk1" and rec.alignments == (mary.with_suffix(".TextGrid"),)


@needs_shared
def test_a_file_name_that_is_not_utf8_reaches_the_feature_table(tmp_path):
    """A name with the byte 0xFF crashed the text columns (session 25 probe): the file and
    the speaker taken from its name are written with a visible ``\\xff``."""
    from vtract.corpus import corpus_features, find_recordings
    from vtract.features import read_features, write_features

    arctic = SHARED_DATA / "organic/arctic"
    odd = non_utf8_copy(arctic / "arctic_a0009.wav", tmp_path / "in", b"bad\xff-a0009")
    non_utf8_copy(arctic / "arctic_a0009_phone.lab", tmp_path / "in", b"bad\xff-a0009_phone")
    (rec,) = find_recordings([tmp_path / "in"], speaker_from="prefix")
    assert rec.audio == odd  # opened by its real name
    df, (record,) = corpus_features([rec], sections=12)
    shown = str(tmp_path / "in" / "bad\\xff-a0009.wav")
    assert record["file"] == shown and not record["skipped"] and record["n_bigrams"] >= 20
    assert set(df["file"]) == {shown} and set(df["speaker"]) == {"bad\\xff"}
    assert set(df["sha256"]) == {file_sha256(arctic / "arctic_a0009.wav")}
    write_features(df, tmp_path / "f.parquet")
    assert set(read_features(tmp_path / "f.parquet")["file"]) == {shown}


@needs_shared
@pytest.mark.slow
def test_cli_build_and_info(tmp_path):
    from click.testing import CliRunner

    from vtract.cli import cli

    out = tmp_path / "p.vtref"
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "reference",
            "build",
            str(SHARED_DATA / "organic/praatio"),
            "--out",
            str(out),
            "--min-count",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output.strip().splitlines()[-1])
    ref = Reference.load(out)
    assert summary["sha256"] == ref.sha256 == file_sha256(out)
    assert summary["used"] == 3 and ref.meta["n_files"] == 3 and ref.method == "lpc-refined"
    assert ref.meta["settings"]["extract_features"]["window"] == 565 and ref.meta["min_count"] == 2
    # three recordings are too few voices for organic ranges: said on stderr and in the summary
    (few,) = summary["warnings"]
    assert f"come from {ref.meta['n_speakers']} speaker(s)" in few and few in res.stderr
    from vtract.reference import estimator_fingerprint

    assert ref.meta["estimator"]["code_sha256"] == estimator_fingerprint()
    recs = {Path(r["file"]).name: r for r in ref.meta["corpus"]["recordings"]}
    assert recs["bobby.wav"]["phones_from"] == "alignment file bobby_phones.TextGrid"
    info = runner.invoke(cli, ["reference", "info", str(out), "--files"])
    assert info.exit_code == 0
    data = json.loads(info.output)
    assert data["sha256"] == ref.sha256 and len(data["files"]) == 3
    assert data["estimator_code_sha256"] == estimator_fingerprint()
    assert data["estimator_code_matches"] is True
    # a corrupt file is a one-line error with exit code 1
    bad = tmp_path / "bad.vtref"
    bad.write_bytes(b"junk")
    res = runner.invoke(cli, ["reference", "info", str(bad)])
    assert res.exit_code == 1 and "not a vtract reference" in res.output


def test_default_reference_ships_with_provenance():
    from vtract.reference import default_reference, default_reference_path

    ref = default_reference()
    assert ref is default_reference()  # cached
    assert ref.sha256 == file_sha256(default_reference_path())
    assert ref.method == ref.meta["estimator"]["method"] == "lpc-refined"
    assert ref.meta["format_version"] == FORMAT_VERSION and "upgraded_from_format" not in ref.meta
    assert ref.meta["settings"]["extract_features"]["sections"] == 15

    files = ref.files
    assert len(files) == ref.meta["n_files"] > 20
    assert files["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert not files["file"].str.startswith("/").any()  # relative to the data folder
    corpus = ref.meta["corpus"]
    assert "CC BY 4.0" in corpus["attribution"]["LibriSpeech"]
    libri = [r for r in corpus["recordings"] if r["file"].startswith("organic/librispeech")]
    assert libri and all(r["phones_from"] == "recognition" for r in libri if not r["skipped"])
    # only derived statistics in the package: no audio next to the reference
    shipped = sorted(p.name for p in default_reference_path().parent.iterdir())
    assert shipped == ["README.md", "default.vtref"]
    stats, level = ref.lookup("AH-N", 15)
    assert level == "bigram" and (stats["count"] >= ref.min_count).all()
    # `vtract reference info` without a file describes this one
    from click.testing import CliRunner

    from vtract.cli import cli

    res = CliRunner().invoke(cli, ["reference", "info"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["sha256"] == ref.sha256 and info["shipped_default"] is True
    assert info["path"] == str(default_reference_path()) and info["calibrated"] is True


def test_default_reference_ships_the_four_descriptor_calibration_only():
    """The packaged calibration is the four tract descriptors, without the dry-voice model:
    session 21 scored that model in bench_detection's shipping protocol and it missed the 1 %
    false-positive target (docs/DETECTION.md, "Session 21"). Shipping it must change the
    documentation with this test."""
    from vtract.detect.calibration import Calibration
    from vtract.detect.default import DRY_VOICE, DefaultDetector
    from vtract.detect.dynamics import DESCRIPTORS
    from vtract.reference import default_reference

    ref = default_reference()
    four = Calibration.from_dict(ref.calibration["default"])
    assert four.statistic == "dynamics" and four.model["names"] == list(DESCRIPTORS)
    assert four.keeps_target_fpr
    assert DRY_VOICE not in ref.calibration
    assert DefaultDetector(ref).resolved_voice_calibration() is None


def test_default_reference_threshold_counts_speakers():
    """Since session 22 the packaged threshold's 1 % guarantee is for a new speaker's
    recording: each of the calibration's organic speakers weighs one
    (docs/DETECTION.md, "Session 22"), and there are enough of them to give it."""
    from vtract.detect.calibration import Calibration
    from vtract.reference import default_reference

    four = Calibration.from_dict(default_reference().calibration["default"])
    assert four.metrics["threshold_rule"] == "conformal-by-speaker"
    assert four.metrics["n_speakers"] >= 1 / four.target_fpr - 1
    assert four.metrics["n_speakers"] < four.metrics["n_organic"]
    assert four.metrics["fpr_bound"] <= four.target_fpr


def test_default_reference_matches_the_estimator_code():
    """Fails when vtract/tract changed after the shipped reference was built: rebuild it
    (scripts/build_default_reference.py, see src/vtract/data/reference/README.md)."""
    from vtract.reference import default_reference, estimator_fingerprint

    assert default_reference().meta["estimator"].get("code_sha256") == estimator_fingerprint()
    assert default_reference().info()["estimator_code_matches"] is True


def test_estimator_fingerprint_ignores_line_endings_but_not_code(tmp_path):
    """A checkout with Windows line endings has the same fingerprint; any code change not."""
    from importlib import resources

    from vtract.reference import _source_fingerprint, estimator_fingerprint

    tract = resources.files("vtract").joinpath("tract")
    sources = sorted(p for p in tract.iterdir() if p.name.endswith(".py"))
    assert len(sources) >= 10
    crlf = tmp_path / "crlf"
    crlf.mkdir()
    for src in sources:
        (crlf / src.name).write_bytes(src.read_bytes().replace(b"\n", b"\r\n"))
    (crlf / "notes.txt").write_text("not code")
    assert _source_fingerprint(crlf) == estimator_fingerprint()
    edited = crlf / sources[0].name
    edited.write_bytes(edited.read_bytes() + b"# a comment\r\n")
    assert _source_fingerprint(crlf) != estimator_fingerprint()


def test_duplicate_recordings_are_left_out_with_a_note(tmp_path):
    """The same path twice, or the same bytes under another name, is one recording."""
    from vtract.corpus import Recording, drop_duplicate_recordings

    a = tmp_path / "a.wav"
    a.write_bytes(b"RIFF one")
    copy = tmp_path / "sub" / "copy.wav"
    copy.parent.mkdir()
    copy.write_bytes(b"RIFF one")
    other = tmp_path / "b.wav"
    other.write_bytes(b"RIFF two")
    link = tmp_path / "link.wav"
    link.symlink_to(other)
    missing = tmp_path / "missing.wav"  # unreadable: kept, its processing says why
    recs = [Recording(audio=p) for p in (a, other, a, copy, link, missing)]
    kept, dropped = drop_duplicate_recordings(recs)
    assert [r.audio for r in kept] == [a, other, missing]
    sha = hashlib.sha256(b"RIFF one").hexdigest()
    assert dropped == [
        {"file": str(a), "reason": f"same file as {a}"},
        {"file": str(copy), "reason": f"same content (SHA-256 {sha[:16]}...) as {a}"},
        {"file": str(link), "reason": f"same file as {other}"},
    ]


@needs_shared
@pytest.mark.slow
def test_cli_build_counts_one_recording_once(tmp_path):
    import shutil

    from click.testing import CliRunner

    from vtract.cli import cli

    arctic = SHARED_DATA / "organic/arctic"
    c = tmp_path / "c"
    c.mkdir()
    for i in (1, 2, 3):
        shutil.copy(arctic / "arctic_a0009.wav", c / f"c{i}.wav")
        shutil.copy(arctic / "arctic_a0009_phone.lab", c / f"c{i}_phone.lab")
    res = CliRunner().invoke(
        cli, ["reference", "build", str(c), str(c / "c1.wav"), "--out", str(tmp_path / "r.vtref")]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output.strip().splitlines()[-1])
    assert summary["recordings"] == 1 and summary["n_speakers"] == 1
    assert [d["file"] for d in summary["duplicates_left_out"]] == [
        str(c / "c2.wav"),
        str(c / "c3.wav"),
        str(c / "c1.wav"),
    ]
    assert "1 speaker(s)" in summary["warnings"][0]
    assert "left out" in res.stderr
    ref = Reference.load(tmp_path / "r.vtref")
    assert ref.meta["n_files"] == 1
    assert len(ref.meta["corpus"]["duplicates_left_out"]) == 3


def test_reference_manifest_may_start_with_a_bom(tmp_path):
    """As for 'vtract batch' manifests (F14): a spreadsheet's UTF-8 BOM is not part of 'path'."""
    from vtract.corpus import read_manifest

    (tmp_path / "a.wav").write_bytes(b"RIFF")
    m = tmp_path / "m.csv"
    m.write_bytes("\ufeffpath,speaker\na.wav,s1\n".encode())
    (rec,) = read_manifest(m)
    assert rec.audio == tmp_path / "a.wav" and rec.speaker == "s1"


# ------------------------------------------------- session 27 probe (reference surface)
def test_calibration_is_a_deep_copy_and_meta_is_read_only():
    """Editing ``default_reference().calibration`` changed the cached shipped reference, so
    later analyses used the edited threshold while reports kept the shipped hash (F6)."""
    import copy
    import pickle

    from vtract.reference import default_reference

    shipped = default_reference()
    threshold = shipped.calibration["default"]["threshold"]
    speakers = shipped.calibration["default"]["metrics"]["n_speakers"]
    edited = shipped.calibration
    edited["default"]["threshold"] = -100.0
    edited["default"]["metrics"]["n_speakers"] = 1
    assert shipped.calibration["default"]["threshold"] == threshold > 1.0
    assert default_reference().calibration["default"]["metrics"]["n_speakers"] == speakers > 1
    with pytest.raises(TypeError, match="read-only"):
        shipped.meta["calibration"]["default"]["threshold"] = -100.0
    with pytest.raises(TypeError, match="read-only"):
        shipped.meta["files"].append({})
    with pytest.raises(TypeError, match="read-only"):
        shipped.meta.update(name="x")
    assert shipped.meta["calibration"]["default"]["threshold"] == threshold
    # still a dict for every reader, and an editable copy on request
    assert isinstance(shipped.meta, dict) and isinstance(shipped.meta["files"], list)
    free = copy.deepcopy(shipped.meta)
    free["name"] = "x"
    assert type(free) is dict and shipped.name != "x"
    again = pickle.loads(pickle.dumps(shipped))
    assert again.meta == shipped.meta and again.sha256 == shipped.sha256
    with pytest.raises(TypeError, match="read-only"):
        again.meta["name"] = "x"


def test_editing_stats_changes_neither_lookups_nor_the_saved_file(tmp_path, table):
    """``Reference.stats`` was the reference's own DataFrame: editing it in place changed
    what ``save`` wrote under the hash every report records (s27 left this)."""
    ref = Reference.fit(table, name="t")
    before, _ = ref.lookup("AH-N", N_SECTIONS)
    saved = ref.save(tmp_path / "a.vtref").read_bytes()
    original = ref.stats.copy(deep=True)
    edited = ref.stats
    edited.loc[:, "median"] = -1.0
    edited.iloc[0, edited.columns.get_loc("count")] = 0
    assert (edited["median"] == -1.0).all() and edited["count"].iloc[0] == 0
    pd.testing.assert_frame_equal(ref.stats, original)
    # a real copy, also where pandas does not copy on write (before 3.0): no shared arrays
    assert not np.shares_memory(ref.stats["median"].to_numpy(), ref._stats["median"].to_numpy())
    after, _ = ref.lookup("AH-N", N_SECTIONS)
    pd.testing.assert_frame_equal(before, after)
    assert ref.save(tmp_path / "b.vtref").read_bytes() == saved
    assert (
        Reference.load(tmp_path / "b.vtref").sha256 == Reference.load(tmp_path / "a.vtref").sha256
    )


def _meta_edit(data: bytes, **fields) -> bytes:
    def change(m):
        meta = json.loads(m["meta.json"])
        meta.update(fields)
        m["meta.json"] = json.dumps(meta).encode()

    return _rezip(data, change)


def test_damaged_or_edited_files_are_refused_naming_the_field(ref):
    """A flipped byte in the deflated meta.json, calibration records and extraction settings
    of the wrong shape crashed analyze with zlib/TypeError/ValueError tracebacks (F7)."""
    good = ref.to_bytes()
    # meta.json's deflated data (the first member, after its 30-byte header and name)
    # starting with a reserved block type: zlib cannot decompress it
    flipped = bytearray(good)
    flipped[30 + len("meta.json")] = 0xFF
    with pytest.raises(ReferenceError_, match="is damaged: a member cannot be decompressed"):
        Reference.from_bytes(bytes(flipped))
    with pytest.raises(ReferenceError_, match="is damaged: it starts as a ZIP archive"):
        Reference.from_bytes(good[:-10])
    with pytest.raises(ReferenceError_, match="not a vtract reference"):
        Reference.from_bytes(b"RIFF" + good[4:])
    cases = [
        ({"calibration": {"default": [1, 2]}}, "calibration.default is a JSON array"),
        ({"calibration": {"default": {"threshold": "q", "slope": 1}}}, "calibration.default"),
        (
            {"calibration": {"default": {"threshold": 1, "slope": 1, "statistic": "dynamics"}}},
            "calibration.default: .*descriptor model",
        ),
        (
            {"calibration": {"paper": {"sentence_threshold": "x"}}},
            "calibration.paper.sentence_threshold is 'x'",
        ),
        ({"calibration": {"paper": {"sentence_threshold": None}}}, "sentence_threshold is None"),
        ({"calibration": {"paper": {"ideal": [{"foo": 1}]}}}, r"calibration.paper.ideal\[0\]"),
        (
            {"calibration": {"paper": {"ideal": [{"bigram": "AH-N", "threshold": "q"}]}}},
            r"calibration.paper.ideal\[0\]",
        ),
        (
            {"settings": {"extract_features": {"sections": "x"}}},
            'extract_features.sections is "x"',
        ),
        ({"settings": {"extract_features": {"window": -5}}}, "extract_features.window is -5"),
        (
            {"settings": {"extract_features": {"window": 100, "overlap": 100}}},
            "overlap 100 is not below its window 100",
        ),
        ({"settings": {"extract_features": {"hop": 3}}}, r"unknown key\(s\) \['hop'\]"),
        # session 31 probe F8: unknown estimator or solver names were refused only by
        # each analysis
        (
            {"settings": {"extract_features": {"method": "bogus"}}},
            'extract_features.method is "bogus", expected an estimator name',
        ),
        (
            {"settings": {"extract_features": {"solver": "bogus"}}},
            'extract_features.solver is "bogus", expected a solver name',
        ),
    ]
    for fields, message in cases:
        with pytest.raises(ReferenceError_, match=message):
            Reference.from_bytes(_meta_edit(good, **fields))
    # a calibration given in memory is checked the same way
    with pytest.raises(ReferenceError_, match=r"calibration\.default is a JSON array"):
        ref.with_calibration({"default": [1, 2]})
    # the recorded settings of real references still load (estimator options included)
    kept = {
        "window": 565,
        "overlap": 115,
        "sections": 15,
        "n_sections": 12,
        "highpass_hz": 0,
        "method": "paper",
        "solver": "published",
    }
    loaded = Reference.from_bytes(_meta_edit(good, settings={"extract_features": kept}))
    assert loaded.meta["settings"]["extract_features"] == kept


def test_a_file_in_an_older_format_is_named_by_its_own_hash(table):
    """A format-2 file's reports recorded the hash of a format-3 re-serialisation that exists
    nowhere on disk (F14): the hash is the file's own, and reports say it was upgraded."""
    from vtract.analysis import _reference_summary

    built = Reference.fit(table, name="old")

    def to_format_2(m):
        meta = json.loads(m["meta.json"])
        meta["format_version"] = 2
        m["meta.json"] = json.dumps(meta).encode()

    data = _rezip(built.to_bytes(), to_format_2)
    old = Reference.from_bytes(data)
    assert old.sha256 == hashlib.sha256(data).hexdigest()
    assert old.sha256 != hashlib.sha256(old.to_bytes()).hexdigest()
    summary = _reference_summary(old, old.sha256)
    assert summary["sha256"] == hashlib.sha256(data).hexdigest()
    assert summary["version"] == "2" and summary["upgraded_from_format"] == 2
    assert "upgraded_from_format" not in _reference_summary(built, built.sha256)


def test_a_reference_of_few_speakers_warns_when_fitted(table):
    """Reference.fit made a one-speaker reference without a word (F16)."""
    from vtract.reference import SmallReferenceWarning, default_reference, few_speakers_warning

    with pytest.warns(SmallReferenceWarning, match=r"come from 1 speaker\(s\) \(fewer than 10"):
        one = Reference.fit(table[table["speaker"] == "a"], name="one")
    assert "come from 1 speaker(s)" in few_speakers_warning(one)
    assert few_speakers_warning(default_reference()) is None


def test_reference_manifest_reads_a_labelled_calibrate_manifest(tmp_path):
    """``reference build`` ignored a calibrate/batch manifest's 'textgrid' and 'label' columns,
    refused 'file'/'audio'/'Path' headers and aligned a transcript file's *name* (F3)."""
    from vtract.corpus import CorpusError, organic_recordings, read_manifest

    for name in ("a.wav", "b.wav", "c.wav", "a.TextGrid"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "b.txt").write_text("the words  of b\n")
    m = tmp_path / "m.csv"
    m.write_text(
        "Audio,TextGrid,Transcript,Speaker,Label,Notes\n"
        "a.wav,a.TextGrid,,s1,organic,fine\n"
        "b.wav,,b.txt,s2,Organic,\n"
        "c.wav,,words of c,s3,synthetic,\n"
    )
    notes: list[str] = []
    a, b, c = read_manifest(m, notes=notes)
    assert a.audio == tmp_path / "a.wav" and a.alignments == (tmp_path / "a.TextGrid",)
    assert b.transcript == "the words of b" and b.transcript_file == tmp_path / "b.txt"
    assert c.transcript == "words of c" and [r.label for r in (a, b, c)] == [
        "organic",
        "organic",
        "synthetic",
    ]
    (note,) = notes
    assert "column(s) ['Notes'] not used by a reference build" in note
    kept, left_out = organic_recordings([a, b, c])
    assert kept == [a, b]
    assert left_out == [
        {"file": str(tmp_path / "c.wav"), "reason": "labelled synthetic (a reference is organic)"}
    ]
    # the path column's synonyms, and a transcript file that is missing or holds timed labels
    (tmp_path / "t.lab").write_text("0 100000 sil\n100000 200000 a\n")
    m.write_text("file,transcript\na.wav,missing.txt\nb.wav,t.lab\n")
    first, second = read_manifest(m)
    assert first.transcript is None and "missing.txt not found" in first.notes[0]
    assert second.transcript is None and "holds timed labels" in second.notes[0]
    m.write_text("path,label\na.wav,fake\n")
    with pytest.raises(CorpusError, match="line 2: label 'fake' is not 'organic', 'synthetic'"):
        read_manifest(m)


@needs_shared
def test_reference_build_leaves_out_labelled_fakes_and_reads_textgrids(tmp_path):
    """The probe's labelled manifest built an "organic" reference from two Piper fakes only
    (F3); a wrong alignment was cut over another recording without a note (F9)."""
    from click.testing import CliRunner

    from vtract.cli import cli
    from vtract.corpus import Recording, recording_features

    praatio, piper = SHARED_DATA / "organic/praatio", SHARED_DATA / "synthetic/piper"
    m = tmp_path / "m.csv"
    m.write_text(
        "path,transcript,textgrid,speaker,label\n"
        f"{praatio / 'bobby.wav'},,{praatio / 'bobby_phones.TextGrid'},bobby,organic\n"
        f"{praatio / 'mary.wav'},,{praatio / 'mary.TextGrid'},mary,organic\n"
        f"{piper / 'joe_0.wav'},She had your dark suit in greasy wash water all year.,,joe,synthetic\n"
    )
    out = tmp_path / "r.vtref"
    res = CliRunner().invoke(
        cli, ["reference", "build", str(m), "--out", str(out), "--min-count", "2"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["used"] == 2 and summary["skipped"] == []
    assert summary["labelled_synthetic_left_out"] == [
        {"file": str(piper / "joe_0.wav"), "reason": "labelled synthetic (a reference is organic)"}
    ]
    assert "left out" in res.stderr and "labelled synthetic" in res.stderr
    assert sorted(Path(f).name for f in Reference.load(out).files["file"]) == [
        "bobby.wav",
        "mary.wav",
    ]
    # an alignment of another (longer) recording is refused, as analyze refuses it
    wrong = Recording(
        audio=praatio / "mary.wav",
        alignments=(SHARED_DATA / "organic/arctic/arctic_a0009_phone.lab",),
    )
    table, record = recording_features(wrong)
    assert table.empty and record["skipped"] == "no usable alignment, transcript or recognition"
    assert "it belongs to another recording" in record["notes"][0]


# ------------------------------------------------- session 28: what a folder search leaves out
def _folder_with_entries_left_out(root: Path) -> Path:
    """``root/ev``: two recordings (one inside a folder named like audio), a broken link, a
    FIFO named like audio and a link to a folder outside ``ev`` holding a third recording."""
    import os

    ev, other = root / "ev", root / "other"
    (ev / "x.wav").mkdir(parents=True)
    other.mkdir()
    for path, content in ((ev / "a.wav", b"RIFF a"), (ev / "x.wav" / "in.wav", b"RIFF in")):
        path.write_bytes(content)
    (other / "o.wav").write_bytes(b"RIFF o")
    (ev / "gone.wav").symlink_to(root / "nowhere.wav")
    os.mkfifo(ev / "pipe.wav")
    (ev / "linked").symlink_to(other, target_is_directory=True)
    return ev


def test_find_recordings_says_what_a_searched_folder_leaves_out(tmp_path):
    """Session 28: reference build had its own folder search, which skipped a broken link,
    a FIFO named like audio and a link to a folder without a word. It now uses the folder
    search of 'vtract batch', which names each one."""
    from vtract.corpus import find_recordings

    ev = _folder_with_entries_left_out(tmp_path)
    left: list = []
    recs = find_recordings([ev], left_out=left)
    assert [r.audio for r in recs] == [ev / "a.wav", ev / "x.wav" / "in.wav"]
    assert [(e.path, e.reason, e.source) for e in left] == [
        (ev / "gone.wav", "a broken symbolic link", str(ev)),
        (ev / "linked", "a link to a folder (not followed)", str(ev)),
        (ev / "pipe.wav", "not a regular file (a FIFO, socket or device)", str(ev)),
    ]


def test_reference_build_reports_what_a_searched_folder_leaves_out(tmp_path, monkeypatch):
    """Session 28: the entries reference build leaves out of a searched folder are named on
    stderr, in its JSON summary and in the reference's corpus record, as 'vtract batch'
    names them (the measuring is replaced by a synthetic feature table: not what is tested)."""
    from click.testing import CliRunner

    import vtract.corpus
    from vtract.cli import cli

    ev = _folder_with_entries_left_out(tmp_path)
    measured: list = []

    def fake_corpus_features(recordings, **kwargs):
        measured.extend(r.audio for r in recordings)
        records = [
            {"file": str(r.audio), "skipped": "", "n_windows": 1, "n_bigrams": 1}
            for r in recordings
        ]
        table = synthetic_table({"AH-N": 20, "T-IY": 2, "S-AH": 6})
        return table.assign(method=kwargs["method"]), records

    monkeypatch.setattr(vtract.corpus, "corpus_features", fake_corpus_features)
    out = tmp_path / "r.vtref"
    args = ["reference", "build", str(ev), "--out", str(out), "--sections", str(N_SECTIONS)]
    res = CliRunner().invoke(cli, [*args, "--min-count", "2"])
    assert res.exit_code == 0, res.output
    assert measured == [ev / "a.wav", ev / "x.wav" / "in.wav"]
    expected = [
        {"path": str(ev / "gone.wav"), "reason": "a broken symbolic link"},
        {"path": str(ev / "linked"), "reason": "a link to a folder (not followed)"},
        {"path": str(ev / "pipe.wav"), "reason": "not a regular file (a FIFO, socket or device)"},
    ]
    assert json.loads(res.stdout)["left_out"] == expected
    for entry in expected:
        assert f"vtract: note: left out {entry['path']!a}: {entry['reason']}, not used" in (
            res.stderr
        )
    assert Reference.load(out).meta["corpus"]["left_out"] == expected
    # a folder holding nothing usable says what it left out
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "gone.wav").symlink_to(tmp_path / "nowhere.wav")
    res = CliRunner().invoke(cli, ["reference", "build", str(tmp_path / "only"), "--out", str(out)])
    assert res.exit_code != 0
    assert "no audio found" in res.output and "1 entry left out" in res.output
    assert "a broken symbolic link" in res.stderr


def test_nan_or_infinity_in_meta_is_refused_at_load(ref):
    """Session 31 probe F7: json.loads read NaN/Infinity (never written by save), so a NaN
    in a stored descriptor model loaded, every analysis was inconclusive ("undefined
    statistic") with no hint why, and saving the reference again failed with a ValueError."""
    for token in ("NaN", "Infinity", "-Infinity"):

        def change(m, token=token):
            meta = json.loads(m["meta.json"])
            meta["n_windows"] = "@"
            m["meta.json"] = json.dumps(meta).replace('"@"', token).encode()

        edited = _rezip(ref.to_bytes(), change)
        with pytest.raises(ReferenceError_, match=f"holds {token}, which is not JSON"):
            Reference.from_bytes(edited)


def test_a_descriptor_model_with_a_non_finite_number_is_refused():
    from vtract.detect.dynamics import DESCRIPTORS, DescriptorModel
    from vtract.errors import VtractError

    k = len(DESCRIPTORS)
    good = {
        "kind": "discriminative",
        "names": list(DESCRIPTORS),
        "center": [1.0] * k,
        "scale": [1.0] * k,
        "weights": [0.5] * k,
        "bias": 0.0,
    }
    assert DescriptorModel.from_dict(good).statistic({n: 1.0 for n in DESCRIPTORS})[0] == 0.0
    for field, value in (
        ("center", [float("nan")] + [1.0] * (k - 1)),
        ("scale", [float("inf")] + [1.0] * (k - 1)),
        ("weights", [0.5] * (k - 1) + [float("nan")]),
        ("bias", float("-inf")),
    ):
        with pytest.raises(VtractError, match=f"descriptor model {field} is not finite"):
            DescriptorModel.from_dict({**good, field: value})
