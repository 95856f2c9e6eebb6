"""Rebuilding tract estimates from a feature table (vectorised vs a naive groupby)."""

from __future__ import annotations

import numpy as np

from _detect import BIGRAMS, make_features
from vtract.detect.estimates import occurrences_from_features


def test_occurrences_match_naive_groupby():
    rng = np.random.default_rng(0)
    feats = make_features("x", BIGRAMS, rng=rng, n_windows=3)
    feats = feats.sample(frac=1.0, random_state=1)  # order must not matter
    occ = occurrences_from_features(feats)
    naive = []
    for (bigram, boundary), g in feats.groupby(["bigram", "boundary_s"]):
        wins = sorted(g.groupby("window_index"), key=lambda kv: kv[0])
        naive.append(
            (
                boundary,
                bigram,
                [w.sort_values("section")["area_cm2"].to_numpy() for _, w in wins],
                [boundary + w["offset_s"].iloc[0] for _, w in wins],
            )
        )
    naive.sort(key=lambda t: t[0])
    assert [(o.boundary_s, o.bigram) for o in occ] == [(b, g) for b, g, _, _ in naive]
    for o, (_, bigram, areas, times) in zip(occ, naive):
        assert len(o.estimates) == len(areas)
        for e, a in zip(o.estimates, areas):
            np.testing.assert_array_equal(e.areas, a)
            np.testing.assert_allclose(e.reflection, (a[1:] - a[:-1]) / (a[1:] + a[:-1]))
            assert e.length_cm == 16.0 and e.section_length_cm == 4.0
            np.testing.assert_array_equal(e.formants_hz, [500.0, 1500.0, 2500.0])
        np.testing.assert_allclose(o.times, times)
        p1, p2 = bigram.split("-")
        assert o.phones == [p1 if t < o.boundary_s else p2 for t in o.times]


def test_empty_table_gives_no_occurrence():
    rng = np.random.default_rng(0)
    assert occurrences_from_features(make_features("x", BIGRAMS, rng=rng).iloc[0:0]) == []
