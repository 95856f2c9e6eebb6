"""Recognition benchmark: what word recognition gets right, what it costs, and decoder settings.

Run: ``python benchmarks/bench_recognition.py [--quick] [--jobs 2]`` -> prints figures and
writes ``benchmarks/results/recognition.json``.

Without a transcript ``vtract.align`` recognises words with pocketsphinx's
en-us trigram model and then force-aligns them; the detector then works on
the bigrams of that alignment. This benchmark measures that path on every
transcribed recording of ``../shared/data`` (bench_alignment's coverage
corpus: LJSpeech, MFA, ARCTIC, the ESPnet LJSpeech/LibriTTS real and
synthetic sets, Piper, festival) and on 30 s of music without speech
(``tests/hardening/corpus.music``), for pocketsphinx's default search
options and a few cheaper ones, each on the same files in the same process,
one after another (so a drifting machine affects them alike):

1. Word error rate of the recognised words against the normalised
   transcript (``normalize_transcript``; Levenshtein over words, pooled:
   total edits / total reference words), per group (organic / synthetic).
2. Bigram recall and precision: the within-word phone bigrams of the
   recording force-aligned with the recognised words, against those of the
   recording force-aligned with its transcript; a bigram counts as found when
   the same phone pair has its boundary within 20 ms of the reference
   boundary. These are the bigrams the detector measures.
3. CPU time of recognition alone (decoding; ``time.process_time`` of this
   single-threaded process), as a real-time factor over all speech files,
   and on the music clip (which recognition searches far longer than speech).

A setting is a dict of pocketsphinx decoder options over its defaults, on
the ``words`` decoder of ``vtract.alignment.sphinx`` (same model, LM,
dictionary and beams). The setting equal to ``WORD_RECOGNITION_OPTIONS`` is
marked ``shipped``; on every tenth file ``vtract.align``'s own recognition is
compared with each setting's words (``identical_to_vtract_align``), so the
shipped setting must show all of them identical.

Session 17 chose ``WORD_RECOGNITION_OPTIONS`` with this benchmark, by a rule
written before the full run (smallest CPU time among the settings whose word
error rate and bigram recall/precision were within 0.005 of the defaults',
pooled and on organic speech, and at least 1.25x faster).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

import vtract
from vtract.alignment import align
from vtract.alignment.align import _decode, _pcm16, _recognized_words
from vtract.alignment.sphinx import SAMPLE_RATE, WORD_RECOGNITION_OPTIONS, decoder
from vtract.alignment.transcript import normalize_transcript
from vtract.errors import VtractError
from vtract.evidence import Evidence
from vtract.provenance import provenance
from vtract.windows import bigram_pairs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_alignment import DATA, OOV_PRONUNCIATIONS, _corpus  # noqa: E402
from hardening.corpus import music  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "recognition.json"
TOLERANCE_S = 0.020
MUSIC_SECONDS = 30.0

#: Decoder options tried, each on top of pocketsphinx's defaults (the
#: ``words`` decoder before session 17); the shipped ones are
#: ``WORD_RECOGNITION_OPTIONS``.
SETTINGS: dict[str, dict[str, Any]] = {
    "pocketsphinx_defaults": {},
    "maxhmmpf_10000": {"maxhmmpf": 10000},
    "maxhmmpf_3000": {"maxhmmpf": 3000},
    "no_fwdflat": {"fwdflat": False},
    "no_fwdflat_maxhmmpf_10000": {"fwdflat": False, "maxhmmpf": 10000},
    "no_fwdflat_maxhmmpf_3000": {"fwdflat": False, "maxhmmpf": 3000},
}


def recognise(dec: Any, pcm: bytes) -> tuple[list[str], float]:
    """Recognised words (as ``vtract.align`` keeps them) and CPU seconds of decoding."""
    c0 = time.process_time()
    dec.reinit_feat()
    _decode(dec, pcm)
    cpu = time.process_time() - c0
    return _recognized_words(dec)[0], cpu


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two word sequences."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


def within_word_bigrams(aln: Any) -> list[tuple[str, float]]:
    """(``"P1-P2"``, boundary time) of the within-word bigrams the detector cuts
    windows at (:func:`vtract.windows.bigram_pairs`)."""
    pairs = bigram_pairs(aln)
    return list(zip(pairs["bigram"].tolist(), pairs["boundary"].astype(float).tolist()))


def bigram_matches(ref: list[tuple[str, float]], hyp: list[tuple[str, float]]) -> int:
    """Reference bigrams with a same-label hypothesis bigram within 20 ms (each used once)."""
    used = [False] * len(hyp)
    n = 0
    for label, t in ref:
        best = None
        for j, (hl, ht) in enumerate(hyp):
            if not used[j] and hl == label and abs(ht - t) <= TOLERANCE_S:
                if best is None or abs(ht - t) < abs(hyp[best][1] - t):
                    best = j
        if best is not None:
            used[best] = True
            n += 1
    return n


def _align_or_none(ev: Evidence, text: str) -> Any:
    try:
        return align(ev, text, pronunciations=OOV_PRONUNCIATIONS)
    except VtractError:
        return None


@functools.cache
def _decoder(name: str) -> Any:
    """This process's ``words`` decoder for setting ``name`` (built once, reused for every
    file; the sphinx module's own cache may evict it while alignments build theirs)."""
    return decoder("words", options=SETTINGS[name])


def measure_file(path: Path, text: str, check_align: bool) -> dict[str, Any]:
    """Counts of one recording for every setting (all settings run here, one after another)."""
    label = "organic" if {"organic", "ground_truth"} & set(path.parts) else "synthetic"
    ev = vtract.load(path)
    ref_aln = _align_or_none(ev, text)
    if ref_aln is None:
        return {"skipped": f"{path.relative_to(DATA)}: transcript does not align"}
    ref_words = normalize_transcript(text)
    ref_bigrams = within_word_bigrams(ref_aln)
    pcm, _ = _pcm16(ev)
    out: dict[str, Any] = {"label": label, "settings": {}, "hyps": {}}
    for name in SETTINGS:
        words, cpu = recognise(_decoder(name), pcm)
        out["hyps"][name] = words
        c = {
            "cpu_s": cpu,
            "audio_s": ev.duration,
            "files": 1,
            "edits": edit_distance(ref_words, words),
            "ref_words": len(ref_words),
            "ref_bigrams": len(ref_bigrams),
            "hyp_bigrams": 0,
            "found": 0,
            "no_words": 0,
        }
        hyp_aln = _align_or_none(ev, " ".join(words)) if words else None
        if hyp_aln is None:
            c["no_words"] = 1
        else:
            hyp_bigrams = within_word_bigrams(hyp_aln)
            c["hyp_bigrams"] = len(hyp_bigrams)
            c["found"] = bigram_matches(ref_bigrams, hyp_bigrams)
        out["settings"][name] = c
    if check_align:
        # vtract.align's own recognition; must equal the shipped setting's
        out["align_words"] = align(ev).words["label"].tolist()
    return out


def main(argv: list[str] | None = None) -> int:
    from joblib import Parallel, delayed

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="every fifth file only")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (each times its own CPU)")
    args = ap.parse_args(argv)

    corpus = _corpus()
    if args.quick:
        corpus = corpus[::5]
    t0 = time.time()
    per_file = Parallel(n_jobs=args.jobs, verbose=5)(
        delayed(measure_file)(path, text, k % 10 == 0)
        for k, (_g, path, text, _p) in enumerate(corpus)
    )
    keys = (
        "edits",
        "ref_words",
        "ref_bigrams",
        "hyp_bigrams",
        "found",
        "cpu_s",
        "audio_s",
        "files",
        "no_words",
    )
    totals = {
        name: {g: dict.fromkeys(keys, 0) for g in ("organic", "synthetic")} for name in SETTINGS
    }
    identical = dict.fromkeys(SETTINGS, 0)
    checked = 0
    skipped = [f["skipped"] for f in per_file if "skipped" in f]
    for f in per_file:
        if "skipped" in f:
            continue
        for name, c in f["settings"].items():
            for key in keys:
                totals[name][f["label"]][key] += c[key]
        if "align_words" in f:
            checked += 1
            for name in SETTINGS:
                identical[name] += int(f["align_words"] == f["hyps"][name])
    print(f"  {len(per_file)} files in {time.time() - t0:.0f} s", flush=True)

    # music: recognition time on 30 s without speech
    x = music(SAMPLE_RATE, MUSIC_SECONDS)
    mpcm, _ = _pcm16(Evidence.from_array(x, SAMPLE_RATE))
    music_res = {}
    for name in SETTINGS:
        words, cpu = recognise(_decoder(name), mpcm)
        music_res[name] = {
            "cpu_s": round(cpu, 2),
            "rtf_cpu_x": round(MUSIC_SECONDS / cpu, 2),
            "n_words": len(words),
        }

    results: dict[str, Any] = {}
    for name in SETTINGS:
        r: dict[str, Any] = {
            "options": SETTINGS[name],
            "shipped": SETTINGS[name] == WORD_RECOGNITION_OPTIONS,
        }
        for g in ("organic", "synthetic", "all"):
            parts = [totals[name][x] for x in (("organic", "synthetic") if g == "all" else (g,))]
            s = {key: sum(p[key] for p in parts) for key in parts[0]}
            if not s["files"]:
                continue
            r[g] = {
                "files": s["files"],
                "wer": round(s["edits"] / s["ref_words"], 4),
                "bigram_recall": round(s["found"] / max(s["ref_bigrams"], 1), 4),
                "bigram_precision": round(s["found"] / max(s["hyp_bigrams"], 1), 4),
                "recognition_rtf_cpu_x": round(s["audio_s"] / s["cpu_s"], 2),
                "cpu_s": round(s["cpu_s"], 2),
                "audio_s": round(s["audio_s"], 1),
                "no_usable_words": s["no_words"],
            }
        r["music_30s"] = music_res[name]
        r["identical_to_vtract_align"] = f"{identical[name]}/{checked}"
        results[name] = r
        a = r["all"]
        print(
            f"{name:<28} WER {a['wer']:.3f}  bigram recall {a['bigram_recall']:.3f} "
            f"precision {a['bigram_precision']:.3f}  recognition {a['recognition_rtf_cpu_x']:.1f}x "
            f"real time  music {music_res[name]['cpu_s']:.1f} s CPU  "
            f"same as align(): {r['identical_to_vtract_align']}",
            flush=True,
        )
    out = {
        "benchmark": "recognition",
        "quick": bool(args.quick),
        "files": len(corpus),
        "skipped": skipped,
        "tolerance_s": TOLERANCE_S,
        "settings": results,
        "provenance": provenance(
            {
                "settings": SETTINGS,
                "tolerance_s": TOLERANCE_S,
                "music_seconds": MUSIC_SECONDS,
                "quick": bool(args.quick),
            }
        ),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_name(OUT.stem + ("_quick" if args.quick else "") + ".json").write_text(
        json.dumps(out, indent=1), encoding="utf-8"
    )
    print(f"wrote {OUT.name} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    # run the importable module, not __main__, so worker processes find
    # measure_file and its per-process decoder cache by reference
    import bench_recognition

    raise SystemExit(bench_recognition.main())
