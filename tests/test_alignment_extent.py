"""An alignment must belong to the recording it is used with (session 25 probe).

A TextGrid of another recording, a TIMIT file whose sample counts are at
another rate, or times in other units gave confident verdicts from the wrong
sounds. Uses the bundled example and its own TextGrid (no shared data needed).
"""

from __future__ import annotations

from importlib import resources

import pytest

import vtract
from vtract.alignment.model import Alignment
from vtract.analysis import (
    ALIGNMENT_MIN_COVERAGE,
    ALIGNMENT_OVERRUN_S,
    analyze,
    check_alignment,
)
from vtract.errors import AlignmentError

EXAMPLES = resources.files("vtract") / "data" / "examples"


@pytest.fixture(scope="module")
def example():
    audio = EXAMPLES / "vtl_articulatory.flac"
    aln = vtract.read_alignment(EXAMPLES / "vtl_articulatory.TextGrid")
    return vtract.load(audio), aln


def _scaled(aln: Alignment, factor: float, shift: float = 0.0) -> Alignment:
    def rows(df):
        return [
            (s * factor + shift, e * factor + shift, lab)
            for s, e, lab in zip(df["start"], df["end"], df["label"])
        ]

    return Alignment.from_intervals(rows(aln.phones), rows(aln.words), source="test")


def test_its_own_alignment_passes(example):
    ev, aln = example
    assert check_alignment(aln, ev.duration) == []


@pytest.mark.parametrize(("factor", "shift"), [(3.0, 0.0), (2.76, 0.0), (1.0, 10.0)])
def test_an_alignment_running_past_the_audio_is_refused(example, factor, shift):
    """Stretched 3x (another recording), TIMIT counts at 44.1 kHz read at 16 kHz
    (x2.76), or lying wholly after the audio: an error naming both lengths."""
    ev, aln = example
    wrong = _scaled(aln, factor, shift)
    with pytest.raises(AlignmentError, match=f"audio lasts {ev.duration:.3f} s"):
        check_alignment(wrong, ev.duration)
    with pytest.raises(AlignmentError, match="another recording"):
        analyze(ev, alignment=wrong)


def test_a_small_overrun_is_accepted(example):
    ev, aln = example
    end = aln.phones["end"].max()
    factor = (ev.duration + 0.9 * ALIGNMENT_OVERRUN_S) / end
    assert check_alignment(_scaled(aln, factor), ev.duration) == []


def test_an_alignment_covering_little_of_the_audio_is_reported(example):
    """TIMIT counts at 8 kHz read against 16 kHz audio: the times are halved. Legitimate
    for a partial annotation, so a warning, not an error."""
    ev, aln = example
    half = _scaled(aln, 0.45)
    (warning,) = check_alignment(half, ev.duration)
    assert "cover" in warning and f"of the {ev.duration:.2f} s recording" in warning
    assert ALIGNMENT_MIN_COVERAGE == 0.5
    assert warning in analyze(ev, alignment=half).warnings
