"""Feature table layout, normalisation and Parquet round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _shared import SHARED_DATA, needs_shared
from test_windows import CAT, ramp
from vtract.errors import InputFileError
from vtract.features import (
    FEATURE_COLUMNS,
    FEATURE_DTYPES,
    FeatureTableError,
    empty_features,
    features_from_estimates,
    normalise_by_speaker,
    read_features,
    resample_areas,
    write_features,
)
from vtract.tract.result import TractEstimate
from vtract.windows import bigram_windows


def estimate(
    areas, formants=(500.0, 1500.0), length=17.5, err=1.25, method="test"
) -> TractEstimate:
    a = np.asarray(areas, dtype=np.float64)
    f = np.asarray(formants, dtype=np.float64)
    return TractEstimate(
        areas=a,
        section_length_cm=length / a.size,
        length_cm=length,
        reflection=np.zeros(a.size - 1),
        formants_hz=f,
        bandwidths_hz=np.full(f.size, 80.0),
        fit_error_db=err,
        method=method,
    )


@pytest.fixture(scope="module")
def cat_table():
    bws = bigram_windows(ramp(8000), 16000, CAT)
    ests = [
        [
            estimate(np.arange(1, 5) * (w + 1.0), formants=(400.0 + w, 1400.0))
            for w in range(b.n_windows)
        ]
        for b in bws
    ]
    df = features_from_estimates(
        bws, ests, file="cat.wav", sha256="ab" * 32, speaker="s1", label="organic", sections=None
    )
    return bws, ests, df


def test_one_row_per_window_and_section(cat_table):
    bws, _, df = cat_table
    assert list(df.columns) == list(FEATURE_COLUMNS)
    assert len(df) == sum(b.n_windows for b in bws) * 4
    ka = df[df["bigram"] == "K-AE"]
    assert set(ka["bigram_ipa"]) == {"k-æ"}
    assert set(ka["class1"]) == {"stop"} and set(ka["class2"]) == {"vowel"}
    # the window centred on the boundary (index 0 is the second window of K-AE)
    row0 = ka[(ka["window_index"] == 0)].sort_values("section")
    np.testing.assert_array_equal(row0["section"], [0, 1, 2, 3])
    np.testing.assert_array_equal(row0["area_cm2"], np.arange(1, 5) * 2.0)
    assert set(row0["f1_hz"]) == {401.0} and row0["f3_hz"].isna().all()
    assert set(row0["offset_s"]) == {0.0}
    assert set(row0["boundary_s"]) == {0.16}
    assert set(df["n_sections"]) == {4} and set(df["method"]) == {"test"}
    assert set(df["n_sections_native"]) == {4}
    assert df["window_index"].dtype == np.int64 and df["area_cm2"].dtype == np.float64


def test_speaker_normalisation_by_hand(cat_table):
    _, _, df = cat_table
    two = pd.concat([df, df.assign(speaker="", file="other.wav", area_cm2=df["area_cm2"] * 3.0)])
    out = normalise_by_speaker(two.reset_index(drop=True))
    s1 = out[out["speaker"] == "s1"]
    med = np.median(df["area_cm2"].to_numpy())
    np.testing.assert_allclose(s1["area_norm"], df["area_cm2"].to_numpy() / med)
    # the unknown speaker is normalised by its own file: same normalised shape
    np.testing.assert_allclose(
        out[out["speaker"] == ""]["area_norm"].to_numpy(), s1["area_norm"].to_numpy()
    )
    np.testing.assert_allclose(out["log_area_norm"], np.log(out["area_norm"]))
    np.testing.assert_allclose(s1["length_norm"], 1.0)


def test_parquet_round_trip(tmp_path, cat_table):
    _, _, df = cat_table
    path = write_features(df, tmp_path / "sub" / "f.parquet")
    back = read_features(path)
    pd.testing.assert_frame_equal(back, df.reset_index(drop=True))
    assert not list((tmp_path / "sub").glob(".*tmp"))


def test_the_optional_recording_column_survives_a_round_trip(tmp_path, cat_table):
    _, _, df = cat_table
    with_shimmer = df.assign(shimmer_local=0.12)
    back = read_features(write_features(with_shimmer, tmp_path / "s.parquet"))
    assert back["shimmer_local"].tolist() == [0.12] * len(df)
    assert "shimmer_local" not in df.columns  # older tables lack it and still read (above)


def test_bad_tables_and_files(tmp_path):
    with pytest.raises(FeatureTableError, match="lacks columns"):
        write_features(pd.DataFrame({"file": ["x"]}), tmp_path / "x.parquet")
    with pytest.raises(InputFileError):
        read_features(tmp_path / "missing.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(FeatureTableError, match="cannot read"):
        read_features(tmp_path / "junk.parquet")
    assert list(empty_features().columns) == list(FEATURE_COLUMNS) and len(empty_features()) == 0


def test_estimates_must_match_windows(cat_table):
    bws, ests, _ = cat_table
    with pytest.raises(FeatureTableError, match="windows but"):
        features_from_estimates(bws, [e[:-1] for e in ests])
    with pytest.raises(FeatureTableError, match="label"):
        features_from_estimates(bws, ests, label="fake")


def test_resample_areas_by_hand():
    # identity when the counts match
    a = np.array([1.0, 2.0, 4.0])
    np.testing.assert_array_equal(resample_areas(a, 3), a)
    # 2 -> 4 sections: each input section covers two outputs
    np.testing.assert_allclose(resample_areas(np.array([1.0, 4.0]), 4), [1.0, 1.0, 4.0, 4.0])
    # 3 -> 2: output 0 = [0, 1/2] = 2/3 of section 0 + 1/3 of section 1 (geometric)
    out = resample_areas(a, 2)
    np.testing.assert_allclose(
        out, [np.exp((2 * np.log(1) + np.log(2)) / 3), np.exp((np.log(2) + 2 * np.log(4)) / 3)]
    )
    # a uniform tube stays uniform at any resolution
    np.testing.assert_allclose(resample_areas(np.full(17, 3.5), 15), 3.5)


def test_sections_are_resampled_in_the_table():
    bws = bigram_windows(ramp(8000), 16000, CAT)
    ests = [[estimate([1.0, 4.0]) for _ in range(b.n_windows)] for b in bws]
    ests[0][0] = None  # a refused window is left out and counted
    df = features_from_estimates(bws, ests, sections=4)
    assert df.attrs["failed_windows"] == 1
    assert len(df) == (sum(b.n_windows for b in bws) - 1) * 4
    assert set(df["n_sections"]) == {4} and set(df["n_sections_native"]) == {2}
    np.testing.assert_allclose(
        df["area_cm2"].to_numpy().reshape(-1, 4), [[1.0, 1.0, 4.0, 4.0]] * (len(df) // 4)
    )


@needs_shared
def test_extract_features_on_a_real_recording():
    import vtract
    from vtract.features import extract_features
    from vtract.provenance import file_sha256
    from vtract.windows import bigram_pairs

    wav = SHARED_DATA / "organic/praatio/mary.wav"
    ev = vtract.load(wav)
    ali = vtract.read_alignment(SHARED_DATA / "organic/praatio/mary.TextGrid")
    df = extract_features(ev, ali, method="lpc", speaker="mary", voice_source=True)
    windows = bigram_windows(ev, 16000, ali)
    n_windows = sum(b.n_windows for b in windows) - df.attrs["failed_windows"]
    assert len(df) == n_windows * 15 and set(df["n_sections"]) == {15}
    assert set(df["bigram"]) <= set(bigram_pairs(ali)["bigram"])
    assert set(df["sha256"]) == {file_sha256(wav)} and set(df["method"]) == {"lpc"}
    assert set(df["file"]) == {str(wav.resolve())}
    assert (df["area_cm2"] > 0).all() and df["length_cm"].between(5, 30).all()
    # the recording's shimmer, measured on the evidence as loaded, on every row
    from vtract.voice_source import voice_perturbation

    want = voice_perturbation(ev.samples, ev.sr).shimmer_local
    assert set(df["shimmer_local"]) == {want} and 0.02 < want < 0.3
    plain = extract_features(ev, ali, method="lpc", speaker="mary")  # the default: no shimmer
    assert "shimmer_local" not in plain.columns
    pd.testing.assert_frame_equal(plain, df.drop(columns=["shimmer_local"]))
    # the centred window of each bigram sits on its boundary
    centred = df[(df["section"] == 0) & (df["window_index"] == 0)]
    np.testing.assert_allclose(centred["offset_s"], 0.0, atol=1 / 16000)


def test_table_equals_the_per_row_layout_with_failed_windows():
    """The compact table builder gives exactly the rows of ``window_rows`` (the per-row form)."""
    from vtract.features import window_rows

    bws = bigram_windows(ramp(8000), 16000, CAT)
    ests = [
        [
            None if (i + w) % 3 == 1 else estimate(np.arange(1, 4 + w) * (w + 1.0), (500.0 + w,))
            for w in range(b.n_windows)
        ]
        for i, b in enumerate(bws)
    ]
    df = features_from_estimates(bws, ests, file="f.wav", sha256="cd" * 32, sections=None)
    parts = [window_rows(b, e, sections=None) for b, e in zip(bws, ests)]
    want = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    want.insert(0, "file", "f.wav")
    want.insert(1, "sha256", "cd" * 32)
    want.insert(2, "speaker", "")
    want.insert(3, "label", "")
    want = want[list(FEATURE_COLUMNS)].astype(FEATURE_DTYPES)
    pd.testing.assert_frame_equal(df, want, check_exact=True)
    assert df.attrs["failed_windows"] == sum(e is None for row in ests for e in row) > 0
    assert df["n_sections"].nunique() > 1  # variable section counts are laid out too


@pytest.mark.parametrize("silent_bigram", [None, 1])
def test_bigrams_estimated_together_equal_one_at_a_time(silent_bigram: int | None) -> None:
    """estimate_windows estimates several bigrams in one call; the estimates are those of
    one call per bigram, and a refused (silent) window falls back to bigram by bigram."""
    from vtract.errors import EstimationError
    from vtract.features import estimate_windows
    from vtract.tract import estimate_tracts

    rng = np.random.default_rng(0)
    signal = rng.standard_normal(8000)
    bws = bigram_windows(signal, 16000, CAT)
    assert len(bws) == 2
    if silent_bigram is not None:
        frames = bws[silent_bigram].frames
        frames[0] = 0.0  # a silent window: the estimator refuses it
        with pytest.raises(EstimationError):
            estimate_tracts(frames, 16000, method="lpc-refined")
    together = estimate_windows(bws, method="lpc-refined")
    alone = [estimate_windows([bw], method="lpc-refined")[0] for bw in bws]
    assert [len(r) for r in together] == [bw.n_windows for bw in bws]
    for row_t, row_a in zip(together, alone, strict=True):
        for e_t, e_a in zip(row_t, row_a, strict=True):
            assert (e_t is None) == (e_a is None)
            if e_t is not None:
                np.testing.assert_array_equal(e_t.areas, e_a.areas)
                assert e_t.length_cm == e_a.length_cm
    n_refused = sum(e is None for row in together for e in row)
    assert n_refused == (0 if silent_bigram is None else 1)
