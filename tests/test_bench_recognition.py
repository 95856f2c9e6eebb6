"""The recognition benchmark's scoring: word edit distance, within-word bigrams, bigram matching."""

from __future__ import annotations

import itertools

import pytest

from _scripts import load_script
from vtract.alignment.model import Alignment


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/bench_recognition.py")


def _brute_force_distance(ref: list[str], hyp: list[str]) -> int:
    """Smallest edit count by trying every alignment path (tiny inputs only)."""

    def walk(i: int, j: int) -> int:
        if i == len(ref):
            return len(hyp) - j
        if j == len(hyp):
            return len(ref) - i
        return min(
            walk(i + 1, j) + 1,
            walk(i, j + 1) + 1,
            walk(i + 1, j + 1) + (ref[i] != hyp[j]),
        )

    return walk(0, 0)


def test_edit_distance_known_values(bench) -> None:
    assert bench.edit_distance(list("kitten"), list("sitting")) == 3
    assert bench.edit_distance([], ["a", "b"]) == 2
    assert bench.edit_distance(["a", "b"], []) == 2
    assert bench.edit_distance(["the", "cat", "sat"], ["the", "cat", "sat"]) == 0
    assert bench.edit_distance(["the", "cat", "sat"], ["a", "cat", "sat", "down"]) == 2


def test_edit_distance_equals_exhaustive_search(bench) -> None:
    words = ["a", "b", "c"]
    for n, m in [(3, 2), (2, 4), (4, 4)]:
        for ref in itertools.islice(itertools.product(words, repeat=n), 0, None, 7):
            for hyp in itertools.islice(itertools.product(words, repeat=m), 0, None, 5):
                assert bench.edit_distance(list(ref), list(hyp)) == _brute_force_distance(
                    list(ref), list(hyp)
                )


def test_within_word_bigrams_stop_at_word_boundaries(bench) -> None:
    aln = Alignment.from_intervals(
        phones=[
            (0.0, 0.1, "sil"),
            (0.1, 0.2, "K"),
            (0.2, 0.3, "AE"),
            (0.3, 0.4, "T"),
            (0.4, 0.5, "S"),
            (0.5, 0.6, "AE"),
            (0.6, 0.7, "T"),
        ],
        words=[(0.1, 0.4, "cat"), (0.4, 0.7, "cat")],
        source="test",
    )
    got = bench.within_word_bigrams(aln)
    # two words with the same label stay two words: no T-S bigram across them
    assert [b for b, _ in got] == ["K-AE", "AE-T", "S-AE", "AE-T"]
    assert [t for _, t in got] == pytest.approx([0.2, 0.3, 0.5, 0.6])


def test_bigram_matches_needs_label_and_time_and_uses_each_once(bench) -> None:
    ref = [("K-AE", 0.200), ("AE-T", 0.300), ("AE-T", 0.310)]
    # same label 15 ms off: found; a second reference may not reuse it
    assert bench.bigram_matches(ref, [("AE-T", 0.305)]) == 1
    # 25 ms off is outside the 20 ms tolerance
    assert bench.bigram_matches(ref, [("K-AE", 0.225)]) == 0
    # right time, wrong label
    assert bench.bigram_matches(ref, [("G-AE", 0.200)]) == 0
    # the closest free hypothesis is taken, leaving the other for the next reference
    assert bench.bigram_matches(ref, [("AE-T", 0.312), ("AE-T", 0.299), ("K-AE", 0.19)]) == 3
