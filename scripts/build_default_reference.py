#!/usr/bin/env python
"""Build the organic reference shipped with vtract (``src/vtract/data/reference/default.vtref``).

Reproducible: the corpus, the subsets and every setting are fixed here and
recorded in the reference metadata together with the SHA-256 of every input
file, how its phones were obtained and the vtract version. Only derived
statistics go into the package, never audio.

Corpora (all organic, under ``../shared/data`` or ``--data``):

- LJ Speech (public domain): ``organic/ljspeech`` (transcripts.psv holds 8
  of the 32 clips; the others are recognised) and the 5 real utterances of
  ``mixed/espnet/ljspeech/ground_truth`` (same speaker; transcripts from the
  ESPnet ``text`` files). A transcript with words outside CMUdict falls back
  to recognition (recorded per file).
- CMU ARCTIC slt: ``organic/arctic`` (a0009 with HTS phone labels; a0007
  has no transcript: recognition).
- MFA test recordings (MIT; Common Voice clips CC0): ``organic/mfa``: TextGrid
  or ``.lab`` transcript where present, otherwise recognition.
- praatio examples (MIT): ``organic/praatio`` phone TextGrids.
- LibriTTS (CC BY 4.0): the 5 real utterances of
  ``mixed/espnet/libritts/audio/ground_truth`` (transcripts in ``info/lab``).
- LibriSpeech (CC BY 4.0): no transcripts, so phones come from word
  recognition followed by forced alignment (``vtract.align(ev,
  transcript=None)``, marked low-confidence). To keep the build to a few
  minutes on two cores only a subset is used: the first ``--libri-test-other``
  speakers of test-other and ``--libri-train`` speakers of train-clean-100
  (every k-th in sorted order), one utterance each (the first in sorted
  order).

Usage::

    python scripts/build_default_reference.py [--data ../shared/data] [--jobs 2]
        [--out src/vtract/data/reference/default.vtref] [--features-out F.parquet]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from vtract.corpus import (  # noqa: E402
    Recording,
    corpus_features,
    extraction_settings,
    find_recordings,
)
from vtract.features import DEFAULT_SECTIONS, DETECTION_METHOD, write_features  # noqa: E402
from vtract.reference import Reference, estimator_fingerprint  # noqa: E402

METHOD = DETECTION_METHOD
ATTRIBUTION = {
    "LJ Speech": "LJ Speech Dataset, Keith Ito and Linda Johnson, 2017 (public domain)",
    "LibriSpeech": (
        "LibriSpeech ASR corpus, Panayotov, Chen, Povey, Khudanpur, ICASSP 2015, CC BY 4.0 "
        "(derived statistics only)"
    ),
    "LibriTTS": "LibriTTS, Zen et al., Interspeech 2019, CC BY 4.0 (via ESPnet TTS demo samples)",
    "CMU ARCTIC": "CMU ARCTIC databases, John Kominek and Alan W Black, CMU (free use licence)",
    "MFA test data": "Montreal Forced Aligner test recordings (MIT licence); Common Voice clips CC0",
    "praatio": "praatio example files (MIT licence)",
}


def _rel(path: Path, data: Path) -> str:
    return str(path.resolve().relative_to(data.resolve()))


def _named(rec: Recording, data: Path, speaker: str | None = None, **changes: object) -> Recording:
    from dataclasses import replace

    return replace(
        rec,
        name=_rel(rec.audio, data),
        speaker=rec.speaker if speaker is None else speaker,
        **changes,  # type: ignore[arg-type]
    )


def _espnet_texts(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            key, _, text = line.partition(" ")
            out[key] = text.strip()
    return out


def recordings(
    data: Path, libri_test_other: int, libri_train: int, lj: int = 32, mfa_recognise: bool = True
) -> tuple[list[Recording], dict]:
    """The fixed list of organic recordings and a description of the selection."""
    recs: list[Recording] = []
    notes: dict[str, str] = {}

    for r in find_recordings([data / "organic/ljspeech"], recognise=True)[:lj]:
        recs.append(_named(r, data, "ljspeech-LJ"))
    gt = data / "mixed/espnet/ljspeech/ground_truth/wav"
    texts = _espnet_texts(data / "mixed/espnet/ljspeech/tacotron2.v1/text/text")
    for f in sorted(gt.glob("*.wav")):
        recs.append(
            Recording(
                audio=f,
                speaker="ljspeech-LJ",
                transcript=texts[f.stem],
                recognise=True,
                name=_rel(f, data),
            )
        )
    notes["ljspeech"] = (
        f"the first {lj} of the 32 clips (sorted) + 5 ESPnet ground-truth clips (same speaker); "
        "transcripts.psv covers only the first 8 clips: others, and clips whose transcript has "
        "words outside CMUdict, use recognition"
    )

    for r in find_recordings([data / "organic/arctic"], recognise=True):
        recs.append(_named(r, data, "arctic-slt"))
    notes["arctic"] = "slt a0009 (HTS labels) and a0007 (recognition: no transcript)"

    for r in find_recordings([data / "organic/mfa"], recognise=mfa_recognise):
        if mfa_recognise or r.alignments or r.transcript:
            recs.append(_named(r, data, ""))
    notes["mfa"] = (
        "all files; TextGrid or .lab transcript where present, else recognition; speakers unknown"
        if mfa_recognise
        else "only files with a usable TextGrid or .lab transcript (no recognition); speakers unknown"
    )

    for r in find_recordings([data / "organic/praatio"]):
        recs.append(_named(r, data, ""))
    notes["praatio"] = "3 files with phone TextGrids; speakers unknown"

    lt = data / "mixed/espnet/libritts"
    for f in sorted((lt / "audio/ground_truth").glob("*.wav")):
        text = (lt / "info/lab" / f"{f.stem}.normalized.txt").read_text(encoding="utf-8").strip()
        spk = "libri-" + f.stem.split("_")[0]
        recs.append(
            Recording(audio=f, speaker=spk, transcript=text, recognise=True, name=_rel(f, data))
        )
    notes["libritts"] = "5 ESPnet ground-truth clips with their transcripts"

    ls = data / "organic/librispeech"
    chosen = []
    speakers = sorted({f.stem.split("-")[0] for f in (ls / "test-other").rglob("*.flac")}, key=int)
    for spk in speakers[:libri_test_other]:
        chosen.append(sorted((ls / "test-other").rglob(f"{spk}-*.flac"))[0])
    train = sorted((ls / "train-clean-100").glob("*.flac"), key=lambda f: int(f.stem.split("-")[0]))
    if libri_train > 0 and train:
        step = max(1, len(train) // libri_train)
        chosen += train[::step][:libri_train]
    for f in chosen:
        recs.append(
            Recording(
                audio=f, speaker="libri-" + f.stem.split("-")[0], recognise=True, name=_rel(f, data)
            )
        )
    notes["librispeech"] = (
        f"subset: first utterance of the first {libri_test_other} test-other speakers and "
        f"{libri_train} train-clean-100 speakers (every k-th in speaker-id order); no transcripts, "
        "phones from word recognition + forced alignment (low confidence)"
    )
    return recs, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "src/vtract/data/reference/default.vtref")
    ap.add_argument(
        "--features-out", type=Path, default=None, help="also write the organic feature table"
    )
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--libri-test-other", type=int, default=10, help="test-other speakers (1 utterance each)"
    )
    ap.add_argument(
        "--libri-train", type=int, default=10, help="train-clean-100 speakers (1 utterance each)"
    )
    ap.add_argument("--lj", type=int, default=32, help="first N LJ Speech clips (sorted)")
    ap.add_argument(
        "--no-mfa-recognise",
        dest="mfa_recognise",
        action="store_false",
        help="leave out MFA recordings that have neither TextGrid nor transcript",
    )
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"data folder not found: {args.data}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    code_before = estimator_fingerprint()
    recs, notes = recordings(
        args.data, args.libri_test_other, args.libri_train, args.lj, args.mfa_recognise
    )
    table, records = corpus_features(
        recs, method=METHOD, sections=DEFAULT_SECTIONS, jobs=args.jobs, progress=True
    )
    elapsed = time.perf_counter() - t0
    if estimator_fingerprint() != code_before:
        print("the estimator's source changed during the build; run it again", file=sys.stderr)
        return 1
    if args.features_out:
        write_features(table, args.features_out)
    ref = Reference.fit(
        table,
        name="vtract-default-organic",
        corpus_info={
            "description": "organic speech shipped with vtract; see notes and recordings for exact inputs",
            "data_root": "../shared/data (paths below are relative to it)",
            "attribution": ATTRIBUTION,
            "selection": notes,
            "recordings": records,
            "build_script": "scripts/build_default_reference.py",
            "build_seconds": round(elapsed, 1),
            "jobs": args.jobs,
            "command": "python scripts/build_default_reference.py "
            + " ".join(argv or sys.argv[1:]),
        },
        estimator={"method": METHOD, "code_sha256": code_before},
        settings={"extract_features": extraction_settings(METHOD, DEFAULT_SECTIONS, False)},
    )
    ref.save(args.out)
    skipped = [(r["file"], r["skipped"]) for r in records if r["skipped"]]
    by_source: dict[str, int] = {}
    for r in records:
        key = r["phones_from"].split(" ")[0] if r["phones_from"] else "skipped"
        by_source[key] = by_source.get(key, 0) + 1
    print(
        json.dumps(
            {
                "out": str(args.out),
                "sha256": ref.sha256,
                "recordings": len(records),
                "skipped": skipped,
                "phones_from": by_source,
                "n_windows": ref.meta["n_windows"],
                "n_bigrams": ref.meta["n_bigrams"],
                "n_speakers": ref.meta["n_speakers"],
                "seconds": round(elapsed, 1),
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
