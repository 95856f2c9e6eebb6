#!/usr/bin/env python
"""Does forced alignment flag a transcript that leaves speech out?

Every transcribed recording of ``../shared/data`` (the detection corpus'
listing, organic and synthetic) is aligned three times: with its transcript,
with the first half of its words, and with its first word only. For each
alignment the script records which of ``vtract.align``'s fit checks fired:

- ``score``: the mean acoustic score per frame (``MISMATCH_SCORE_PER_FRAME``);
- ``silence_score``: the frames aligned to silence fit the silence model badly;
- ``loud_silence`` (session 25): at least ``MIN_LOUD_SILENCE_S`` aligned to
  silence within ``LOUD_SILENCE_WITHIN_DB`` of the speech level, checked when
  the speech is at least ``MIN_SPEECH_CONTRAST_DB`` above the recording's floor.

Figures: the share of right transcripts flagged (false alarms) and of the
truncated ones flagged (caught), with and without the loudness check.
The thresholds were fixed before this run (after one look at MFA's
``cold_corpus``, whose pauses are 6 dB below its speech).

Run: ``python benchmarks/bench_transcript_coverage.py [--no-json]``
(about 5 minutes on one core).
"""

from __future__ import annotations

import argparse
import warnings

import vtract
from _detection_corpus import corpus_items
from _harness import emit_result
from vtract.alignment.align import (
    LOUD_SILENCE_WITHIN_DB,
    MIN_LOUD_SILENCE_S,
    MIN_SPEECH_CONTRAST_DB,
    MISMATCH_SCORE_PER_FRAME,
)
from vtract.errors import VtractError

KINDS = ("right", "first_half", "first_word")


def _transcripts(text: str) -> dict[str, str]:
    words = text.split()
    return {
        "right": text,
        "first_half": " ".join(words[: max(1, len(words) // 2)]),
        "first_word": words[0],
    }


def _checks(aln: vtract.Alignment) -> dict[str, bool]:
    found = list(aln.meta.get("warnings", ()))
    return {
        "score": any("may not match" in w for w in found),
        "silence_score": any("fit the silence model badly" in w for w in found),
        "loud_silence": any("as loud as the speech" in w for w in found),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-json", action="store_true", help="print only")
    args = ap.parse_args()
    items = [it for it in corpus_items() if it.transcript]
    rows = []
    for it in items:
        try:
            ev = vtract.load(it.path)
        except VtractError:
            continue
        for kind, text in _transcripts(str(it.transcript)).items():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    aln = vtract.align(ev, text)
            except VtractError as exc:
                rows.append({"key": it.key, "kind": kind, "error": type(exc).__name__})
                continue
            rows.append(
                {
                    "key": it.key,
                    "label": it.label,
                    "kind": kind,
                    **_checks(aln),
                    "loud_silence_s": aln.meta.get("loud_silence_seconds"),
                    "speech_contrast_db": aln.meta.get("speech_contrast_db"),
                }
            )
    figures: dict[str, object] = {"recordings": len(items)}
    for kind in KINDS:
        done = [r for r in rows if r["kind"] == kind and "error" not in r]
        before = sum(r["score"] or r["silence_score"] for r in done)
        after = sum(r["score"] or r["silence_score"] or r["loud_silence"] for r in done)
        figures[kind] = {
            "aligned": len(done),
            "errors": sum(r["kind"] == kind and "error" in r for r in rows),
            "flagged_without_loudness": before,
            "flagged": after,
            "flagged_by_loudness_only": after - before,
        }
    figures["right_flagged_by_loudness"] = [
        r["key"] for r in rows if r["kind"] == "right" and r.get("loud_silence")
    ]
    emit_result(
        "transcript_coverage",
        figures,
        {
            "loud_silence_within_db": LOUD_SILENCE_WITHIN_DB,
            "min_loud_silence_s": MIN_LOUD_SILENCE_S,
            "min_speech_contrast_db": MIN_SPEECH_CONTRAST_DB,
            "mismatch_score_per_frame": MISMATCH_SCORE_PER_FRAME,
        },
        write=not args.no_json,
    )


if __name__ == "__main__":
    main()
