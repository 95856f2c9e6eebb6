"""Group-wise statistics in NumPy (vtract.detect.grouped) against pandas groupby,
and the detectors' pooled tables against their pandas formulations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _detect import TableReference, make_features
from vtract.detect.deviation import bigram_deviations, row_deviations
from vtract.detect.dynamics import (
    interquartile_range,
    recording_descriptors,
    window_log_areas,
)
from vtract.detect.grouped import (
    group_codes,
    group_count,
    group_first,
    group_mean,
    group_quantile,
    group_std,
)
from vtract.errors import ReferenceError_


def random_table(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    """Unsorted rows with string and float keys, missing keys and missing values."""
    key_a = rng.choice(np.array(["b", "a", "c", "d e"], dtype=object), n)
    key_b = rng.choice([0.1, 0.3, 0.2, np.nan], n, p=[0.3, 0.3, 0.3, 0.1])
    value = rng.normal(size=n)
    value[rng.random(n) < 0.2] = np.nan
    word = rng.choice(np.array(["x", "y", None], dtype=object), n)
    return pd.DataFrame(
        {"a": pd.array(key_a, dtype="str"), "b": key_b, "value": value, "word": word}
    )


def pandas_groups(df: pd.DataFrame) -> pd.core.groupby.DataFrameGroupBy:
    return df.groupby(["a", "b"], sort=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_statistics_equal_pandas_groupby(seed: int) -> None:
    df = random_table(np.random.default_rng(seed))
    codes, n_groups, first_row = group_codes([df["a"], df["b"].to_numpy()])
    g = pandas_groups(df)
    # groups numbered in sorted key order, rows with a missing key in none
    want_keys = list(g.groups.keys())
    got_keys = [(df["a"].iloc[i], df["b"].iloc[i]) for i in first_row]
    assert got_keys == want_keys
    assert n_groups == len(want_keys)
    assert np.array_equal(codes < 0, df["b"].isna().to_numpy())
    assert np.array_equal(first_row, [min(ix) for ix in g.indices.values()])

    v = df["value"].to_numpy()
    assert np.array_equal(group_count(codes, n_groups, v), g["value"].count().to_numpy())
    for got, want in (
        (group_mean(codes, n_groups, v), g["value"].mean()),
        (group_std(codes, n_groups, v), g["value"].std(ddof=1)),
        (group_quantile(codes, n_groups, v, 0.5), g["value"].median()),
        (group_quantile(codes, n_groups, v, 0.25), g["value"].quantile(0.25)),
        (group_quantile(codes, n_groups, v, 0.9), g["value"].quantile(0.9)),
        (group_quantile(codes, n_groups, v, 0.0), g["value"].min()),
        (group_quantile(codes, n_groups, v, 1.0), g["value"].max()),
        (group_first(codes, n_groups, v), g["value"].first()),
    ):
        np.testing.assert_allclose(got, want.to_numpy(np.float64), rtol=1e-12, atol=0)
    words = group_first(codes, n_groups, df["word"])
    want_words = g["word"].first()
    assert [None if pd.isna(w) else w for w in want_words] == list(words)


def test_group_statistics_of_empty_and_all_missing_groups() -> None:
    codes = np.array([0, 0, 1, 2, -1])
    v = np.array([1.0, 3.0, np.nan, 5.0, 7.0])  # group 1 has no value, row 4 no group
    assert group_mean(codes, 4, v).tolist()[:3] == [2.0, pytest.approx(np.nan, nan_ok=True), 5.0]
    assert np.isnan(group_mean(codes, 4, v)[3])  # a group without rows
    assert np.isnan(group_std(codes, 4, v)[2])  # one value: no sample deviation
    assert group_std(codes, 4, v)[0] == pytest.approx(np.sqrt(2.0))
    assert group_quantile(codes, 4, v, 0.5)[0] == 2.0
    assert np.isnan(group_quantile(codes, 4, v, 0.5)[1])
    assert group_count(codes, 4, v).tolist() == [2, 0, 1, 0]
    with pytest.raises(ValueError, match="quantile"):
        group_quantile(codes, 4, v, 1.5)
    with pytest.raises(ValueError, match="key"):
        group_codes([])


def pandas_descriptors(features: pd.DataFrame) -> pd.DataFrame:
    """The four descriptors computed with pandas groupby (vtract's implementation
    until session 16, kept as the independent formulation)."""
    df = features[np.isfinite(features["area_cm2"].to_numpy(np.float64))]
    df = df.assign(file=df["file"].astype(str), log_area=np.log(df["area_cm2"]))
    keys = ["file", "boundary_s", "window_index"]
    win = df.groupby(keys, sort=True).agg(length=("length_cm", "first"), f1=("f1_hz", "first"))
    per_file = win.groupby(level="file")
    out = pd.DataFrame(index=pd.Index(sorted(set(df["file"])), name="file"))
    out["n_windows"] = per_file.size().astype(np.float64)
    out["length_spread"] = interquartile_range(per_file["length"])
    out["f1_spread"] = interquartile_range(per_file["f1"])
    shapes = window_log_areas(df)
    out["shape_spread"] = shapes.groupby(level="file").std(ddof=1).median(axis=1, skipna=True)
    steps = shapes.groupby(level=["file", "boundary_s"]).diff().abs().mean(axis=1, skipna=False)
    out["shape_jitter"] = steps.groupby(level="file").median()
    return out


def messy_recordings(rng: np.random.Generator) -> pd.DataFrame:
    """Three recordings on one 5-section grid, shuffled, with a failed window (nan
    areas), a window missing a section, a duplicated row and a few off-grid windows."""
    bigrams = ["AH-N", "T-IY", "S-T", "IH-NG", "DH-AH"]
    parts = []
    for i, name in enumerate(["b.wav", "a.wav", "c.wav"]):
        df = make_features(name, bigrams, rng=rng, spread=0.1 + 0.2 * i, n_sections=5)
        keys = df[["boundary_s", "window_index"]].drop_duplicates()
        per_window = pd.DataFrame(
            {
                "length_cm": rng.uniform(14, 18, len(keys)),
                "f1_hz": rng.uniform(300, 800, len(keys)),
            },
            index=pd.MultiIndex.from_frame(keys),
        )
        idx = pd.MultiIndex.from_frame(df[["boundary_s", "window_index"]])
        parts.append(df.assign(**{c: per_window[c].reindex(idx).to_numpy() for c in per_window}))
    df = pd.concat(parts, ignore_index=True)

    def window(file: str, boundary: float, index: int) -> pd.Series:
        return (
            (df["file"] == file)
            & np.isclose(df["boundary_s"], boundary)
            & (df["window_index"] == index)
        )

    failed = window("a.wav", 0.1, 0)
    assert failed.sum() == 5
    df.loc[failed, "area_cm2"] = np.nan
    gap = window("b.wav", 0.3, 1) & (df["section"] == 2)
    assert gap.sum() == 1
    df = df.drop(df.index[gap])
    df = pd.concat([df, df.iloc[[7]]], ignore_index=True)
    off_grid = make_features("c.wav", ["K-AE"], rng=rng, n_sections=7).assign(
        boundary_s=9.0, length_cm=16.0, f1_hz=500.0
    )
    df = pd.concat([df, off_grid], ignore_index=True)
    return df.sample(frac=1.0, random_state=4).reset_index(drop=True)


def test_recording_descriptors_equal_the_pandas_formulation() -> None:
    df = messy_recordings(np.random.default_rng(5))
    got = recording_descriptors(df)
    want = pandas_descriptors(df)
    assert list(got.index) == ["a.wav", "b.wav", "c.wav"]
    for c in want.columns:
        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, err_msg=c)
    # the window with a missing section makes its steps undefined, not the recording's
    assert np.isfinite(got["shape_jitter"]).all()
    # the failed window is not counted; the off-grid one is counted but not in the shapes
    assert got["n_windows"].tolist() == [14.0, 15.0, 18.0]


def pandas_bigram_deviations(rows: pd.DataFrame) -> pd.DataFrame:
    """Per-occurrence pooling with pandas groupby (vtract's implementation until session 16)."""
    keys = ["file", "bigram", "boundary_s"]
    df = rows.assign(exceed=rows["exceed"].astype(np.float64))
    out = (
        df.groupby(keys, sort=True)
        .agg(
            word=("word", "first"),
            level=("level", "first"),
            weight=("weight", "first"),
            deviation=("z", "mean"),
            exceed_share=("exceed", "mean"),
            n_windows=("window_index", "nunique"),
            off_min=("offset_s", "min"),
            off_max=("offset_s", "max"),
            length_cm=("length_cm", "median"),
        )
        .reset_index()
    )
    absw = df["window_index"].abs()
    nearest = absw == absw.groupby([df[k] for k in keys]).transform("min")
    centre = df[nearest].groupby([*keys, "section"], sort=True)["area_cm2"].median()
    shapes = centre.groupby(level=keys, sort=True).agg(lambda a: [float(v) for v in a])
    return out.merge(shapes.rename("areas_cm2").reset_index(), on=keys, how="left")


def test_bigram_deviations_equal_the_pandas_formulation() -> None:
    rng = np.random.default_rng(6)
    organic = pd.concat(
        [make_features(f"o{i}", ["AH-N", "T-IY", "S-T"], rng=rng) for i in range(4)],
        ignore_index=True,
    )
    ref = TableReference(organic)
    test = pd.concat(
        [make_features(f, ["AH-N", "T-IY", "ER-Z", "AH-N"], rng=rng) for f in ("y", "x")],
        ignore_index=True,
    )
    test = test.assign(
        word=np.where(test["bigram"] == "T-IY", "tea", "an"),
        offset_s=test["window_index"] * 0.028,
        length_cm=rng.uniform(14, 18, len(test)),
    ).sample(frac=1.0, random_state=1)
    rows = row_deviations(test, ref)
    got = bigram_deviations(rows)
    want = pandas_bigram_deviations(rows)
    assert len(got) == len(want) == 8  # the repeated AH-N is a second occurrence
    for c in ("file", "bigram", "word", "level"):
        assert got[c].tolist() == want[c].tolist(), c
    for c in ("boundary_s", "weight", "deviation", "exceed_share", "n_windows", "length_cm"):
        np.testing.assert_allclose(got[c], want[c], rtol=1e-12, err_msg=c)
    np.testing.assert_allclose(got["start_s"] - got["boundary_s"], want["off_min"] - 565 / 32000)
    np.testing.assert_allclose(got["end_s"] - got["boundary_s"], want["off_max"] + 565 / 32000)
    for a, b in zip(got["areas_cm2"], want["areas_cm2"], strict=True):
        assert a == pytest.approx(b, rel=1e-12)
    # an unseen bigram is scored against the backed-off statistics, with their weight
    assert set(got.loc[got["bigram"] == "ER-Z", "level"]) == {"global"}


def test_row_deviations_refuse_a_reference_without_a_section() -> None:
    rng = np.random.default_rng(7)
    organic = make_features("o", ["AH-N"], rng=rng, n_sections=4)
    ref = TableReference(organic)
    wider = make_features("t", ["AH-N"], rng=rng, n_sections=4)
    wider = pd.concat([wider, wider.iloc[[0]].assign(section=9)], ignore_index=True)
    with pytest.raises(ReferenceError_, match=r"no statistics .*'section': 9"):
        row_deviations(wider, ref)

    class Doubled(TableReference):
        def lookup(self, bigram, n_sections, **kw):
            stats, level = super().lookup(bigram, n_sections, **kw)
            return pd.concat([stats, stats.iloc[[0]]]), level

    with pytest.raises(ReferenceError_, match="twice"):
        row_deviations(make_features("t", ["AH-N"], rng=rng, n_sections=4), Doubled(organic))
