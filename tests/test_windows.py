"""Bigram windows: counts, positions and centring computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vtract.alignment.model import Alignment
from vtract.evidence import Evidence
from vtract.windows import bigram_pairs, bigram_windows, window_geometry


def make_alignment(phones, words=None) -> Alignment:
    """phones: (start, end, label, word); words: (start, end, label)."""
    ph = pd.DataFrame(
        [
            {"start": s, "end": e, "label": lab, "word": w, "raw_label": lab, "confidence": np.nan}
            for s, e, lab, w in phones
        ]
    )
    wd = pd.DataFrame(
        [{"start": s, "end": e, "label": lab, "confidence": np.nan} for s, e, lab in (words or [])],
        columns=["start", "end", "label", "confidence"],
    )
    return Alignment(phones=ph, words=wd, source="test")


CAT = make_alignment(
    [
        (0.0, 0.1, "sil", ""),
        (0.1, 0.16, "K", "cat"),
        (0.16, 0.30, "AE", "cat"),
        (0.30, 0.36, "T", "cat"),
        (0.36, 0.5, "sil", ""),
    ],
    [(0.1, 0.36, "cat")],
)


def ramp(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


def test_published_geometry_and_scaling():
    assert window_geometry(16000) == (565, 450)
    # 565 * 22050/16000 = 778.6 -> 779; 115 * 1.378125 = 158.5 -> 158
    assert window_geometry(22050) == (779, 779 - 158)
    assert window_geometry(8000) == (282, 282 - 58)  # 282.5 -> 282 (banker's), 57.5 -> 58


def test_cat_windows_by_hand():
    bws = bigram_windows(ramp(8000), 16000, CAT)
    assert [b.bigram for b in bws] == ["K-AE", "AE-T"]
    ka, aet = bws
    # K-AE: phone1 starts at 1600, boundary 2560, phone2 ends 4800.
    # centred window starts at 2560 - 282 = 2278; hop 450.
    np.testing.assert_array_equal(ka.window_index, [-1, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(ka.start_samples, [1828, 2278, 2728, 3178, 3628, 4078])
    # AE-T: phone1 starts 2560, boundary 4800, phone2 ends 5760.
    np.testing.assert_array_equal(aet.window_index, [-4, -3, -2, -1, 0, 1])
    np.testing.assert_array_equal(aet.start_samples, [2718, 3168, 3618, 4068, 4518, 4968])
    for b in bws:
        assert b.frames.shape == (b.n_windows, 565)
        assert b.frames.flags.c_contiguous and b.frames.dtype == np.float64
        centre = b.frames[b.window_index == 0][0]
        assert centre[282] == round(b.boundary_s * 16000)  # middle sample is the boundary
        np.testing.assert_allclose(b.offsets_s, b.window_index * 450 / 16000, atol=1e-12)
        assert b.word == "cat"
    # published policy agrees when the phones are long enough
    pub = bigram_windows(ramp(8000), 16000, CAT, policy="published")
    for a, b in zip(bws, pub):
        np.testing.assert_array_equal(a.window_index, b.window_index)


def its(t_end: float, s_end: float) -> Alignment:
    return make_alignment(
        [(0.1, 0.2, "IH", "its"), (0.2, t_end, "T", "its"), (t_end, s_end, "S", "its")],
        [(0.1, s_end, "its")],
    )


def test_short_first_phone_published_drops_boundary_window():
    # T lasts 160 samples (< 282): boundary 3360, centred start 3078 < T start 3200
    ali = its(0.21, 0.30)
    pub = {b.bigram: b for b in bigram_windows(ramp(8000), 16000, ali, policy="published")}
    fix = {b.bigram: b for b in bigram_windows(ramp(8000), 16000, ali)}
    np.testing.assert_array_equal(pub["T-S"].window_index, [1, 2])
    np.testing.assert_array_equal(pub["T-S"].start_samples, [3528, 3978])
    np.testing.assert_array_equal(fix["T-S"].window_index, [0, 1, 2])
    assert fix["T-S"].start_samples[0] == 3078


def test_both_phones_short_published_gives_nothing_centred_gives_one():
    ali = its(0.21, 0.24)
    pub = [b.bigram for b in bigram_windows(ramp(8000), 16000, ali, policy="published")]
    fix = {b.bigram: b for b in bigram_windows(ramp(8000), 16000, ali)}
    assert "T-S" not in pub
    np.testing.assert_array_equal(fix["T-S"].window_index, [0])


def test_published_boundary_window_may_overrun_second_phone():
    # S is only 100 samples; the boundary window (ends boundary + 283) runs past it
    ali = its(0.25, 0.25625)
    pub = {b.bigram: b for b in bigram_windows(ramp(8000), 16000, ali, policy="published")}
    ts = pub["T-S"]
    assert ts.start_samples[ts.window_index == 0][0] + 565 == 4000 + 283 > 0.25625 * 16000
    fix = {b.bigram: b for b in bigram_windows(ramp(8000), 16000, ali)}
    np.testing.assert_array_equal(fix["T-S"].window_index, [-1, 0])  # k=-1 lies inside T-S


def test_windows_never_leave_the_audio():
    ali = make_alignment([(0.0, 0.01, "HH", "hi"), (0.01, 0.2, "AY", "hi")], [(0.0, 0.2, "hi")])
    # boundary at 160: the centred window would start at -122
    (hay,) = bigram_windows(ramp(3200), 16000, ali)
    np.testing.assert_array_equal(hay.window_index, [1, 2, 3, 4, 5, 6])
    assert hay.start_samples[0] == 160 - 282 + 450
    assert hay.start_samples[-1] + 565 <= 3200
    # audio ends at the boundary window: nothing after it fits
    assert bigram_windows(ramp(600), 16000, ali) == []


def test_silence_noise_and_gaps_are_skipped():
    ali = make_alignment(
        [
            (0.0, 0.1, "B", "bob"),
            (0.1, 0.2, "sil", "bob"),
            (0.2, 0.3, "AA", "bob"),
            (0.32, 0.4, "B", "bob"),  # 20 ms gap: not adjacent
            (0.4, 0.5, "spn", ""),
        ],
        [(0.0, 0.4, "bob")],
    )
    assert len(bigram_pairs(ali)) == 0


def test_word_membership_and_cross_word():
    ali = make_alignment(
        [
            (0.0, 0.1, "DH", "that"),
            (0.1, 0.2, "AE", "that"),
            (0.2, 0.3, "T", "that"),
            (0.3, 0.4, "DH", "that"),
            (0.4, 0.5, "AE", "that"),
            (0.5, 0.6, "T", "that"),
        ],
        [(0.0, 0.3, "that"), (0.3, 0.6, "that")],
    )
    inword = bigram_pairs(ali)
    assert list(inword["bigram"]) == ["DH-AE", "AE-T", "DH-AE", "AE-T"]
    both = bigram_pairs(ali, cross_word=True)
    assert list(both["bigram"]) == ["DH-AE", "AE-T", "T-DH", "DH-AE", "AE-T"]
    assert both.loc[2, "word"] == "" and bool(both.loc[2, "cross_word"])
    # without word intervals the 'word' text decides (repeats merge)
    no_words = Alignment(phones=ali.phones, words=ali.words.iloc[0:0], source="test")
    assert list(bigram_pairs(no_words)["bigram"]) == ["DH-AE", "AE-T", "T-DH", "DH-AE", "AE-T"]


def test_pairs_with_a_zero_length_phone_are_left_out_and_counted():
    """One real boundary (M|IY at 0.40 s) with five zero-length phones at it, as the probe
    of session 28 built it (F3): they made six bigrams, M-EH ... D-IY, all cut from the
    window at that boundary. None of them is a sound; M-AA at 0.70 s is kept: a phone of one
    sample (1/16000 s, a little less after the rounding of its times) is long enough."""
    from vtract.windows import MIN_PHONE_SECONDS, pair_census

    ali = Alignment.from_intervals(
        [
            (0.32, 0.40, "M"),
            *[(0.40, 0.40, lab) for lab in ("EH", "R", "AA", "L", "D")],
            (0.40, 0.55, "IY"),
            (0.55, 0.60, "sil"),
            (0.60, 0.70, "M"),
            (0.70, 0.70 + 1 / 16000, "AA"),
        ],
        [(0.32, 0.55, "mary"), (0.60, 0.71, "ma")],
        source="test",
    )
    assert MIN_PHONE_SECONDS == 0.5 / 16000
    census = pair_census(ali)
    assert list(census.pairs["bigram"]) == ["M-AA"]
    assert list(bigram_pairs(ali)["bigram"]) == ["M-AA"]
    assert census.short_phone == 6 and census.not_speech == 2
    assert (census.n_phones, census.n_speech_phones, census.n_unknown_phones) == (10, 9, 0)
    frames = bigram_windows(ramp(16000), 16000, ali)
    assert [bw.bigram for bw in frames] == ["M-AA"]


def test_pair_census_counts_each_pair_under_the_first_rule_it_breaks():
    from vtract.windows import no_pair_reason, pair_census, short_phone_warning

    ali = Alignment.from_intervals(
        [
            (0.0, 0.1, "B"),
            (0.1, 0.2, "XQ"),  # not understood
            (0.2, 0.3, "AA"),
            (0.32, 0.4, "T"),  # 20 ms gap
            (0.4, 0.5, "IY"),  # next word
            (0.5, 0.5, "N"),  # zero length
        ],
        [(0.0, 0.4, "bat"), (0.4, 0.6, "in")],
        source="test",
    )
    census = pair_census(ali)
    assert census.n_unknown_phones == 1 and census.not_speech == 2
    assert census.not_adjacent == 1 and census.across_words == 1 and census.short_phone == 1
    assert len(census.pairs) == 0
    crossing = pair_census(ali, cross_word=True)
    assert list(crossing.pairs["bigram"]) == ["T-IY"] and crossing.across_words == 0
    warning = short_phone_warning(census)
    assert warning is not None and warning.startswith("1 phone pair(s) of the alignment")
    assert short_phone_warning(crossing) is not None
    assert short_phone_warning(pair_census(CAT)) is None
    assert no_pair_reason(census) == (
        "all 5 consecutive phone pair(s) were left out: 2 with a phone that is silence, noise "
        "or a label not understood, 1 not adjacent (more than 5 ms apart), 1 spanning two "
        "words (bigrams are taken within words unless cross_word is set), 1 with a phone that "
        "lasts no sample"
    )


def test_evidence_is_resampled_to_the_working_rate():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(22050)).astype(np.float32)
    ev = Evidence.from_array(x, 22050)
    at16 = bigram_windows(ev, 16000, CAT)
    native = bigram_windows(ev, None, CAT)
    assert at16[0].frames.shape[1] == 565 and at16[0].sr == 16000
    assert native[0].frames.shape[1] == 779 and native[0].sr == 22050
    # same grid in seconds, up to the rounding of the hop to whole samples (< 1 sample per hop)
    np.testing.assert_array_equal(at16[0].window_index, native[0].window_index)
    drift = np.abs(at16[0].offsets_s - native[0].offsets_s)
    assert np.all(drift <= (np.abs(at16[0].window_index) + 1) / 22050)


def test_bad_policy_and_missing_rate():
    with pytest.raises(ValueError, match="policy"):
        bigram_windows(ramp(8000), 16000, CAT, policy="paper")  # type: ignore[arg-type]
    from vtract.errors import SampleRateError

    with pytest.raises(SampleRateError):
        bigram_windows(ramp(8000), None, CAT)


def test_silence_word_intervals_do_not_join_phones():
    # a "<sil>"/"sp" word interval is not a word: phones inside it do not pair
    ali = make_alignment(
        [(0.0, 0.1, "AH", ""), (0.1, 0.2, "N", "")],
        [(0.0, 0.2, "sp")],
    )
    assert len(bigram_pairs(ali)) == 0
    assert list(bigram_pairs(ali, cross_word=True)["bigram"]) == ["AH-N"]


def test_phone_only_alignment_pairs_all_adjacent_phones():
    ali = make_alignment(
        [
            (0.0, 0.1, "B", ""),
            (0.1, 0.2, "AA", ""),
            (0.2, 0.3, "sil", ""),
            (0.3, 0.4, "B", ""),
            (0.4, 0.5, "IY", ""),
        ]
    )
    pairs = bigram_pairs(ali)
    assert list(pairs["bigram"]) == ["B-AA", "B-IY"]
    assert set(pairs["word"]) == {""}


def test_iter_bigram_windows_cuts_the_same_frames_one_bigram_at_a_time():
    from vtract.windows import iter_bigram_windows

    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal(8000)).astype(np.float32)
    ev = Evidence.from_array(x, 16000)
    lazy = iter_bigram_windows(ev, 16000, CAT)
    assert not isinstance(lazy, list)
    got = list(lazy)
    # reference: the float64 signal cut directly at the hand-computed starts
    x64 = x.astype(np.float64)
    assert [b.bigram for b in got] == [b.bigram for b in bigram_windows(x64, 16000, CAT)]
    for bw in got:
        assert bw.frames.dtype == np.float64 and bw.frames.flags.c_contiguous
        want = np.stack([x64[s : s + 565] for s in bw.start_samples])
        np.testing.assert_array_equal(bw.frames, want)
    with pytest.raises(ValueError, match="policy"):
        iter_bigram_windows(ev, 16000, CAT, policy="paper")  # type: ignore[arg-type]


def _window_starts_stepwise(*, b, s1, e2, n, hop, total, policy):
    """The hop-by-hop loops the range computation replaced (plain reference)."""
    c0 = b - n // 2
    inside = lambda s: s >= 0 and s + n <= total  # noqa: E731
    before, after = [], []
    if policy == "published":
        k, s = 0, c0
        while s1 < s:
            if inside(s):
                before.append((k, s))
            k, s = k - 1, s - hop
        k, s = 1, c0 + hop
        while e2 - n > s:
            if inside(s):
                after.append((k, s))
            k, s = k + 1, s + hop
    else:
        if inside(c0):
            before.append((0, c0))
        k, s = -1, c0 - hop
        while s >= s1:
            if inside(s) and s + n <= e2:
                before.append((k, s))
            k, s = k - 1, s - hop
        k, s = 1, c0 + hop
        while s + n <= e2:
            if inside(s) and s >= s1:
                after.append((k, s))
            k, s = k + 1, s + hop
    return before[::-1] + after


@pytest.mark.parametrize("policy", ["centred", "published"])
def test_window_ranges_equal_the_stepwise_loops(policy):
    from vtract.windows import _window_starts

    rng = np.random.default_rng(7)
    for _ in range(4000):
        n = int(rng.integers(20, 120))
        hop = int(rng.integers(5, n))
        total = int(rng.integers(0, 2000))
        s1 = int(rng.integers(0, 2200))
        b = s1 + int(rng.integers(0, 400))
        e2 = b + int(rng.integers(0, 900))
        args = {"b": b, "s1": s1, "e2": e2, "n": n, "hop": hop, "total": total, "policy": policy}
        assert _window_starts(**args) == _window_starts_stepwise(**args), args


def test_a_phone_ending_far_past_the_audio_costs_nothing():
    """A phone ending at 1e12 s (an alignment in 100 ns units) made the loop step hop
    by hop to it: minutes. The windows are those inside the audio, at once."""
    far = make_alignment([(0.0, 0.1, "K", "cat"), (0.1, 1e12, "AE", "cat")], [(0.0, 1e12, "cat")])
    x = np.random.default_rng(0).standard_normal(16000)
    (bw,) = bigram_windows(x, 16000, far)
    assert bw.start_samples[-1] + 565 <= x.size
    assert bw.start_samples.size == 1 + (x.size - 565 - bw.start_samples[0]) // 450


def test_a_stray_label_does_not_hide_the_phones_its_text_spells():
    """Session-30 probe F7: in an X-SAMPA tier a stray "AA" (not X-SAMPA) made the four
    real AA phones (X-SAMPA "A") unknown too: 7 pairs kept instead of 15."""
    from vtract.windows import pair_census

    labels = ["D", "@", "s", "I", "z", "{", "t", "A", "p", "A", "t", "S", "A", "p", "A", "t"]
    phones = [(0.1 * i, 0.1 * (i + 1), lab) for i, lab in enumerate(labels)]
    clean = Alignment.from_intervals(phones, [], source="test")
    stray = Alignment.from_intervals([*phones, (1.6, 1.7, "AA")], [], source="test")
    assert stray.meta["label_scheme"] == "sampa" and stray.unknown_labels == ("AA",)
    assert stray.unknown_phones().tolist() == [False] * 16 + [True]
    census = pair_census(stray, cross_word=True)
    assert census.n_unknown_phones == 1
    assert (
        census.pairs["bigram"].tolist()
        == pair_census(clean, cross_word=True).pairs["bigram"].tolist()
    )
    assert len(census.pairs) == 15


def test_the_words_silence_noise_and_garbage_are_words():
    """Session-30 probe F4: word labels were judged by the phone-label normaliser, whose
    silence and noise tokens include "silence", "noise" and "garbage", so the bigrams of
    those spoken words were never taken."""
    from vtract.alignment.model import is_word_label
    from vtract.windows import pair_census

    words = [(0.0, 0.4, "silence"), (0.4, 0.7, "noise"), (0.7, 1.0, "<unk>")]
    phones = [
        (0.0, 0.1, "S"), (0.1, 0.2, "AY"), (0.2, 0.3, "L"), (0.3, 0.4, "N"),
        (0.4, 0.5, "N"), (0.5, 0.6, "OY"), (0.6, 0.7, "Z"),
        (0.7, 0.85, "AH"), (0.85, 1.0, "N"),
    ]  # fmt: skip
    census = pair_census(Alignment.from_intervals(phones, words, source="test"))
    assert census.pairs["bigram"].tolist() == ["S-AY", "AY-L", "L-N", "N-OY", "OY-Z"]
    assert census.across_words == 3  # N-N between the words, Z-AH and AH-N: not a word
    for mark in ("", "sil", "<sil>", "sp", "<unk>", "[noise]", "+breath+", "spn", "and(2)"):
        assert is_word_label(mark) is (mark == "and(2)"), mark
    for word in ("silence", "Noise", "garbage", "the"):
        assert is_word_label(word), word


def test_every_marker_token_in_the_aligner_dictionary_is_a_mark_or_a_known_word():
    """The English-word exceptions are exactly the alphabetic silence/noise tokens that the
    aligner's pronouncing dictionary holds, except the silence mark "sil"."""
    import os

    import pocketsphinx

    from vtract.alignment import labels
    from vtract.alignment.model import ENGLISH_MARKER_WORDS, clean_word

    path = os.path.join(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")
    with open(path, encoding="utf-8") as f:
        dictionary = {line.split()[0].lower() for line in f if line.strip()}
    tokens = labels._SILENCE_TOKENS | labels._NOISE_TOKENS
    in_dictionary = {t for t in tokens if t.isalpha() and t in dictionary}
    assert {t for t in in_dictionary if clean_word(t)} == ENGLISH_MARKER_WORDS
