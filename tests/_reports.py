"""Hand-built reports, estimates and evidence for the rendering tests.

Values are chosen to exercise the renderers (flags, hostile names, NaN areas),
not to be realistic detector output.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from vtract.evidence import Evidence
from vtract.provenance import provenance
from vtract.report import BigramEvidence, Flag, Report
from vtract.tract.result import TractEstimate

HOSTILE_NAME = '<script>alert("x")</script>&evil.wav'

SR = 16000


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_estimate(
    areas: list[float] | np.ndarray, *, section_length_cm: float = 35000 / 32000
) -> TractEstimate:
    """A TractEstimate whose reflection coefficients follow from its areas (+ open lips)."""
    a = np.asarray(areas, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (a[1:] - a[:-1]) / (a[1:] + a[:-1]) if a.size > 1 else np.zeros(0)
    r = np.nan_to_num(r)
    r = np.append(r, 0.9)  # lips: nearly an open end
    return TractEstimate(
        areas=a,
        section_length_cm=section_length_cm,
        length_cm=a.size * section_length_cm,
        reflection=r,
        formants_hz=np.array([500.0, 1500.0, 2500.0]),
        bandwidths_hz=np.array([60.0, 90.0, 120.0]),
        fit_error_db=1.5,
        method="test",
    )


def make_evidence(seconds: float = 1.2, seed: int = 0) -> Evidence:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * 140 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    x += 0.01 * rng.standard_normal(t.size)
    return Evidence.from_array(x.astype(np.float32), SR)


def alignment_dict() -> dict:
    return {
        "source": "textgrid",
        "low_confidence": False,
        "transcript": "a nun",
        "words": [
            {"start": 0.0, "end": 0.2, "label": ""},
            {"start": 0.2, "end": 0.5, "label": "a"},
            {"start": 0.5, "end": 1.1, "label": "nun"},
        ],
        "phones": [
            {"start": 0.0, "end": 0.2, "label": "sil", "word": ""},
            {"start": 0.2, "end": 0.5, "label": "AH", "word": "a"},
            {"start": 0.5, "end": 0.7, "label": "N", "word": "nun"},
            {"start": 0.7, "end": 0.9, "label": "AH", "word": "nun"},
            {"start": 0.9, "end": 1.1, "label": "N", "word": "nun"},
        ],
        "meta": {
            "aligner": {
                "engine": "pocketsphinx",
                "version": "5.1.1",
                "files": {"en-us/mdef": sha("mdef"), "cmudict-en-us.dict": sha("dict")},
            }
        },
    }


def make_report(
    *,
    file: str | None = HOSTILE_NAME,
    empty: bool = False,
    timestamp: bool = True,
    pcm_sha256: str | None = None,
) -> Report:
    """A report about :func:`make_evidence` (or about ``pcm_sha256``)."""
    bigrams = (
        []
        if empty
        else [
            BigramEvidence(
                "N-AH",
                "nʌ",
                "nun",
                0.7,
                0.65,
                0.75,
                [2.0, 1.5, 3.0, 4.0, 2.5],
                16.4,
                0.4,
                0.2,
                "bigram",
                [],
            ),
            BigramEvidence(
                "AH-N",
                "ʌn",
                "nun",
                0.9,
                0.85,
                0.95,
                [2.0, 80.0, 3.0, 0.01, 2.5],
                16.4,
                3.7,
                0.93,
                "phone",
                ["area_out_of_range"],
            ),
            BigramEvidence(
                "AH-N",
                "ʌn",
                "",
                0.5,
                0.45,
                0.55,
                [1.0, float("nan"), 2.0, 2.0, 1.0],
                16.4,
                float("nan"),
                0.6,
                "class",
                [],
            ),
        ]
    )
    flags = (
        []
        if empty
        else [
            Flag(
                "area_out_of_range",
                "Section 2 is 80 cm² <b>wide</b>; no human tract is.",
                measured=80.0,
                expected_min=0.1,
                expected_max=15.0,
                unit="cm²",
                source="Story et al. 1996",
                severity="critical",
                bigram="AH-N",
                start=0.85,
                end=0.95,
            ),
        ]
    )
    sha_file = sha("file")
    pcm = pcm_sha256 or make_evidence().pcm_sha256
    return Report(
        file=file,
        sha256=sha_file,
        pcm_sha256=pcm,
        score=None if empty else 0.81,
        verdict="inconclusive" if empty else "synthetic",
        reason="No bigram could be analysed."
        if empty
        else "Areas outside human range in 1 of 3 bigrams.",
        detector="default",
        thresholds={"score_synthetic_above": 0.7, "score_organic_below": 0.3, "flag_baseline": 0.5},
        flags=flags,
        bigrams=bigrams,
        evidence={
            "path": file,
            "sha256": sha_file,
            "pcm_sha256": pcm,
            "format": "FLAC",
            "subtype": "PCM_16",
            "original_sr": 16000,
            "sr": 16000,
            "channels": 1,
            "channel": None,
            "duration": 1.2,
            "warnings": [],
        },
        alignment=alignment_dict(),
        reference={"name": "test-ref", "version": "1", "sha256": sha("ref")},
        provenance=provenance(
            {"method": "default", "window": 565}, {"evidence": sha_file}, timestamp=timestamp
        ),
        warnings=[] if empty else ["Alignment from a <TextGrid> supplied by the examiner."],
    )


def reference_stats(n_sections: int = 5) -> pd.DataFrame:
    """A per-section statistics table shaped like Reference.lookup output."""
    base = np.linspace(1.0, 3.0, n_sections)
    return pd.DataFrame(
        {
            "min": base * 0.3,
            "q05": base * 0.5,
            "q25": base * 0.8,
            "median": base,
            "q75": base * 1.2,
            "q95": base * 1.6,
            "max": base * 2.5,
            "count": 40,
        },
        index=pd.RangeIndex(n_sections, name="section"),
    )


class FakeReference:
    """Minimal object with the Reference.lookup interface, and the hash that
    :func:`make_report` records as its reference (renderers check it)."""

    def __init__(self, level: str = "phone", sha256: str | None = None) -> None:
        self.level = level
        self.sha256 = sha("ref") if sha256 is None else sha256
        self.calls: list[tuple[str, int]] = []

    def lookup(self, bigram: str, n_sections: int):
        self.calls.append((bigram, n_sections))
        return reference_stats(n_sections), self.level
