"""The labelled detection corpus in ``../shared/data`` and its cached alignments/features.

Every audio file is listed with its label (organic / synthetic), speaker,
generator family and generator, and how it is aligned: a given alignment
(TextGrid, HTS labels, festival segments), a known transcript (forced
alignment), or word recognition (low confidence) when no text is known.

Alignments are the slow part (recognition runs at about real time), so they
are cached per file (keyed by the file's SHA-256, the alignment source and
transcript, and :func:`aligner_version`) in ``$VTRACT_BENCH_CACHE`` (default
``/tmp/vtract-bench-cache``); feature tables are cached under the
alignment's key plus the feature-settings hash and :func:`code_version`.
Delete the folder to start from scratch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import vtract
from vtract.alignment.model import Alignment
from vtract.errors import AlignmentError, VtractError
from vtract.provenance import file_sha256
from vtract.reverberation import steepest_decay_db

SHARED = Path(
    os.environ.get("VTRACT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
CACHE = Path(os.environ.get("VTRACT_BENCH_CACHE", "/tmp/vtract-bench-cache"))

PIPER_TEXT = {
    "joe_0": "She had your dark suit in greasy wash water all year.",
    "joe_1": "Don't ask me to carry an oily rag like that.",
    "joe_2": "Author of the danger trail, Philip Steels, etc.",
}
#: Organic recordings of the mfa folder by voice quality (the FPR target covers them).
MFA_VOICE = re.compile(r"(creaky|breathy|whisper|falsetto|laughter|registershift|exaggerated)")


@dataclass(frozen=True)
class Item:
    """One labelled recording of the corpus."""

    path: Path
    label: str  # "organic" / "synthetic"
    speaker: str
    family: str  # data source / generator family
    generator: str  # finer generator name ("" for organic)
    transcript: str | None = None
    alignment: Path | None = None
    subset: str = ""

    @property
    def key(self) -> str:
        if self.path.is_relative_to(SHARED):
            return str(self.path.relative_to(SHARED))
        return f"{self.subset or 'other'}/{self.path.name}"  # e.g. generated fakes


def _ljspeech_texts() -> dict[str, str]:
    out = {}
    for line in (SHARED / "organic/ljspeech/transcripts.psv").read_text("utf-8").splitlines():
        if "|" in line:
            k, t = line.split("|", 1)
            out[k.strip()] = t.strip()
    return out


def _espnet_lj_texts() -> dict[str, str]:
    out = {}
    for line in (
        (SHARED / "mixed/espnet/ljspeech/tacotron2.v1/text/text").read_text("utf-8").splitlines()
    ):
        if line.strip():
            k, t = line.split(" ", 1)
            out[k] = t.strip()
    return out


def corpus_items(*, librispeech_per_subset: int | None = None) -> list[Item]:
    """All labelled recordings, in a fixed order.

    Parameters
    ----------
    librispeech_per_subset : int, optional
        Keep only the first N LibriSpeech files (sorted) of each subset (they
        need recognition, the slow part).
    """
    items: list[Item] = []
    lj = _ljspeech_texts()
    for p in sorted((SHARED / "organic/ljspeech").glob("*.flac")):
        items.append(Item(p, "organic", "ljspeech-LJ", "ljspeech", "", transcript=lj.get(p.stem)))
    for subset in ("test-other", "train-clean-100"):
        files = sorted((SHARED / "organic/librispeech" / subset).rglob("*.flac"))
        if librispeech_per_subset is not None:
            # a fixed pseudo-random order (CRC-32 of the name): smaller subsets are
            # prefixes of larger ones, spread over speakers
            files = sorted(files, key=lambda f: zlib.crc32(f.name.encode()))[
                :librispeech_per_subset
            ]
            files.sort()
        for p in files:
            items.append(
                Item(
                    p, "organic", "libri-" + p.stem.split("-")[0], "librispeech", "", subset=subset
                )
            )
    arctic = SHARED / "organic/arctic"
    items.append(
        Item(
            arctic / "arctic_a0009.wav",
            "organic",
            "arctic-slt",
            "arctic",
            "",
            alignment=arctic / "arctic_a0009_phone.lab",
        )
    )
    items.append(Item(arctic / "arctic_a0007.wav", "organic", "arctic-slt", "arctic", ""))
    mfa = SHARED / "organic/mfa"
    for p in sorted(mfa.iterdir()):
        if p.suffix.lower() not in (".wav", ".flac", ".mp3"):
            continue
        stem = p.stem
        base = "cold_corpus" if stem.startswith("cold_corpus") and stem != "cold_corpus3" else stem
        tg = mfa / f"{base}.TextGrid"
        lab = mfa / f"{base}.lab"
        voice = MFA_VOICE.search(stem)
        subset = voice.group(1) if voice else "plain"
        speaker = "mfa-" + ("cold_corpus" if stem.startswith("cold_corpus") else stem)
        text = lab.read_text("utf-8").strip() if lab.exists() else None
        if tg.exists() and base != "michaelandsickmichael":
            items.append(
                Item(p, "organic", speaker, "mfa", "", alignment=tg, transcript=text, subset=subset)
            )
        elif lab.exists():
            items.append(
                Item(
                    p,
                    "organic",
                    speaker,
                    "mfa",
                    "",
                    transcript=lab.read_text("utf-8").strip(),
                    subset=subset,
                )
            )
        else:
            items.append(Item(p, "organic", speaker, "mfa", "", subset=subset))
    pr = SHARED / "organic/praatio"
    items.append(
        Item(
            pr / "bobby.wav",
            "organic",
            "praatio-bobby",
            "praatio",
            "",
            alignment=pr / "bobby_phones.TextGrid",
        )
    )
    items.append(
        Item(
            pr / "mary.wav",
            "organic",
            "praatio-mary",
            "praatio",
            "",
            alignment=pr / "mary.TextGrid",
        )
    )
    items.append(
        Item(
            pr / "damon_set_test.wav",
            "organic",
            "praatio-damon",
            "praatio",
            "",
            alignment=pr / "damon_set_test.TextGrid",
        )
    )
    # ESPnet LJSpeech: ground truth (organic) and the same sentences synthesised
    esp = SHARED / "mixed/espnet/ljspeech"
    etext = _espnet_lj_texts()
    for p in sorted((esp / "ground_truth/wav").glob("*.wav")):
        items.append(
            Item(
                p, "organic", "ljspeech-LJ", "espnet-ground-truth", "", transcript=etext.get(p.stem)
            )
        )
    for model_dir in sorted(
        d for d in esp.iterdir() if d.is_dir() and d.name not in ("ground_truth", "info")
    ):
        for voc in sorted(
            d for d in model_dir.iterdir() if d.is_dir() and d.name.startswith("wav")
        ):
            for p in sorted(voc.glob("*.wav")):
                family = model_dir.name.split(".")[0]
                items.append(
                    Item(
                        p,
                        "synthetic",
                        "ljspeech-LJ",
                        family,
                        f"{model_dir.name}/{voc.name}",
                        transcript=etext.get(p.stem.removesuffix("_gen")),
                    )
                )
    lt = SHARED / "mixed/espnet/libritts"
    for sub in sorted(d for d in (lt / "audio").iterdir() if d.is_dir()):
        for p in sorted(sub.glob("*.wav")):
            txt = lt / "info/lab" / f"{p.stem}.normalized.txt"
            text = txt.read_text("utf-8").strip() if txt.exists() else None
            spk = "libri-" + p.stem.split("_")[0]  # LibriTTS speakers are LibriSpeech readers
            if sub.name == "ground_truth":
                items.append(Item(p, "organic", spk, "espnet-ground-truth", "", transcript=text))
            else:
                items.append(
                    Item(
                        p,
                        "synthetic",
                        spk,
                        sub.name.split(".")[0],
                        f"libritts/{sub.name}",
                        transcript=text,
                    )
                )
    for p in sorted((SHARED / "synthetic/piper").glob("*.wav")):
        items.append(
            Item(
                p,
                "synthetic",
                "piper-joe",
                "vits-piper",
                "piper/joe",
                transcript=PIPER_TEXT.get(p.stem),
            )
        )
    cl = SHARED / "synthetic/classic"
    for p in sorted(cl.glob("*.wav")):
        family = p.stem.split("_")[0]  # espeakng / flite / festival
        segs = cl / f"{p.stem}.segs"
        items.append(
            Item(
                p,
                "synthetic",
                f"{family}-{p.stem}",
                family,
                p.stem,
                alignment=segs if segs.exists() else None,
            )
        )
    return items


def _align_source(item: Item) -> str:
    if item.alignment is not None:
        return "file"
    return "transcript" if item.transcript else "recognize"


def _cache_path(kind: str, digest: str, suffix: str) -> Path:
    p = CACHE / kind / f"{digest}{suffix}"
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


@functools.cache
def aligner_version() -> str:
    """Hash of the aligner's source and the pocketsphinx version (alignments change with them).

    Until session 14 the alignment cache was keyed by file and transcript only, so a
    cache built over several sessions mixed alignments of older aligner code: remade
    from scratch on a new machine, two ESPnet recordings were force-aligned that the
    old cache held as recognised, and the leave-one-generator-out AUC moved by 0.003.
    """
    import pocketsphinx

    import vtract as _v

    root = Path(_v.__file__).resolve().parent / "alignment"
    h = hashlib.sha256(str(getattr(pocketsphinx, "__version__", "?")).encode())
    return _files_digest(h, sorted(root.glob("*.py")))


def _files_digest(h: Any, files: list[Path]) -> str:
    """``h`` updated with each file's name and bytes, in order; first 16 hex digits."""
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _alignment_digest(item: Item) -> str:
    key = f"{file_sha256(item.path)}|{_align_source(item)}|{item.transcript}|{aligner_version()}"
    return hashlib.sha256(key.encode()).hexdigest()


def is_alignment_cached(item: Item) -> bool:
    """Whether :func:`cached_alignment` would answer from the cache."""
    return (CACHE / "alignments" / f"{_alignment_digest(item)}.json").exists()


def cached_alignment(item: Item, ev: vtract.Evidence | None = None) -> Alignment | None:
    """Alignment of ``item`` (``None`` when recognition found no words); cached."""
    source = _align_source(item)
    digest = _alignment_digest(item)
    meta_p = _cache_path("alignments", digest, ".json")
    if meta_p.exists():
        meta = json.loads(meta_p.read_text())
        if meta.get("none"):
            return None
        phones = pd.read_parquet(_cache_path("alignments", digest, ".phones.parquet"))
        words = pd.read_parquet(_cache_path("alignments", digest, ".words.parquet"))
        return Alignment(
            phones,
            words,
            meta["source"],
            bool(meta["low_confidence"]),
            tuple(meta.get("unknown_labels", ())),
            {"cached": True},
        )
    aln: Alignment | None = None
    if source == "file":
        try:
            aln = vtract.read_alignment(item.alignment)  # type: ignore[arg-type]
        except AlignmentError:
            source = "transcript" if item.transcript else "recognize"
    if aln is None:
        ev = ev if ev is not None else vtract.load(item.path)
        try:
            aln = vtract.align(ev, item.transcript if source == "transcript" else None)
        except AlignmentError:
            aln = None
            if source == "transcript":
                try:
                    aln = vtract.align(ev, None)
                except AlignmentError:
                    aln = None
    if aln is None:
        meta_p.write_text(json.dumps({"none": True}))
        return None
    aln.phones.to_parquet(_cache_path("alignments", digest, ".phones.parquet"))
    aln.words.to_parquet(_cache_path("alignments", digest, ".words.parquet"))
    meta_p.write_text(
        json.dumps(
            {
                "source": aln.source,
                "low_confidence": bool(aln.low_confidence),
                "unknown_labels": list(aln.unknown_labels),
            }
        )
    )
    return aln


def recording_decay(item: Item) -> tuple[str, float]:
    """``(key, steepest level decay)`` of one recording, as ``vtract.analyze`` measures it.

    :func:`vtract.reverberation.steepest_decay_db` of the recording decoded
    at 16 kHz (``vtract.analyze``'s rate): the measure that sends a
    recording to the dry-voice model (:data:`vtract.reverberation.DRY_DECAY_DB`).
    Not cached (a fraction of a second per recording).
    """
    ev = vtract.load(item.path)
    return item.key, steepest_decay_db(np.asarray(ev.samples, dtype=np.float64), ev.sr)


@functools.cache
def code_version() -> str:
    """Hash of the source that turns audio + alignment into features (estimators change)."""
    import vtract as _v

    root = Path(_v.__file__).resolve().parent
    files = [
        *sorted((root / "tract").glob("*.py")),
        root / "features.py",
        root / "windows.py",
        root / "voice_source.py",
    ]
    return _files_digest(hashlib.sha256(), files)


def item_features(
    item: Item, ev: vtract.Evidence, aln: Alignment, settings: dict[str, Any]
) -> pd.DataFrame:
    """Feature table of ``ev`` (``item``'s audio, possibly altered) cut at ``aln``.

    Bigrams cross word boundaries when the alignment has no words (HTS labels,
    phone recognition); a recording the extraction refuses gives an empty table.
    """
    from vtract.features import empty_features, extract_features

    s = dict(settings)
    if len(aln.words) == 0:
        s["cross_word"] = True
    try:
        return extract_features(
            ev, aln, speaker=item.speaker, label=item.label, file=item.key, voice_source=True, **s
        )
    except VtractError:
        return empty_features()


def cached_features(item: Item, settings: dict[str, Any]) -> pd.DataFrame:
    """Feature table of ``item`` with extraction ``settings``; cached.

    Adds the columns ``family``, ``generator``, ``subset`` and
    ``low_confidence``. Returns an empty table when nothing could be aligned.
    """
    from vtract.features import empty_features

    # keyed by the alignment's own key (file, source, transcript, aligner code), so
    # features cut at an alignment of older aligner code are never reused (until
    # session 17 only the file and the alignment source were part of this key)
    key = json.dumps(settings, sort_keys=True) + code_version()
    digest = hashlib.sha256(f"{_alignment_digest(item)}|{key}".encode()).hexdigest()
    p = _cache_path("features", digest, ".parquet")
    if p.exists():
        df = pd.read_parquet(p)
    else:
        ev = vtract.load(item.path)
        aln = cached_alignment(item, ev)
        if aln is None:
            df = empty_features()
            low = True
        else:
            df = item_features(item, ev, aln, settings)
            low = bool(aln.low_confidence)
        df = df.assign(low_confidence=low)
        df.to_parquet(p)
    return df.assign(
        speaker=item.speaker,
        label=item.label,
        family=item.family,
        generator=item.generator,
        subset=item.subset,
    )


def calibration_recordings(
    reference: vtract.Reference, items: list[Item], *, flags: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features and file statistics of ``items`` as the packaged calibration takes them.

    Features with the reference's extraction settings (cached), finite areas
    only; statistics (:func:`vtract.detect.default.file_statistics`, with the
    plausibility flags when ``flags``) of the files with at least
    :data:`~vtract.detect.default.MIN_BIGRAMS` bigram occurrences, reference
    weight :data:`~vtract.detect.default.MIN_REFERENCE_WEIGHT` and a finite
    statistic. Used by ``scripts/calibrate_default_reference.py`` and
    ``bench_threshold_stability.py``.
    """
    from vtract.detect.default import MIN_BIGRAMS, MIN_REFERENCE_WEIGHT, file_statistics
    from vtract.detect.fitting import flags_by_file
    from vtract.features import DETECTION_METHOD

    settings = dict(reference.meta.get("settings", {}).get("extract_features", {}))
    settings["method"] = reference.method or DETECTION_METHOD
    tables = [t for t in (cached_features(it, settings) for it in items) if len(t)]
    feats = pd.concat(tables, ignore_index=True)
    feats = feats[np.isfinite(feats["area_cm2"])]
    stats = file_statistics(feats, reference, flags_by_file(feats) if flags else None)
    ok = (stats["n_bigrams"] >= MIN_BIGRAMS) & (stats["weight_sum"] >= MIN_REFERENCE_WEIGHT)
    return feats, stats[ok & np.isfinite(stats["statistic"])]
