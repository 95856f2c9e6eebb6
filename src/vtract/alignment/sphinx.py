"""pocketsphinx decoders: one per configuration, per process and per thread.

Decoders are expensive to create (~0.1-0.3 s), cannot be pickled and must
never be shared between threads, so :func:`decoder` keeps a small
module-level cache keyed by (process id, thread id, configuration,
added pronunciations). A worker process (joblib/loky, Dask) therefore builds
its own decoders on first use and reuses them for every file it aligns.
Added pronunciations are part of the key so a word added for one call can
never make a later call without it succeed: results never depend on history.

The model is the one inside the ``pocketsphinx`` wheel (en-us acoustic
model, CMUdict, phone language model); nothing is downloaded.
:func:`aligner_model_info` hashes its files for a report's chain of custody.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ..errors import AlignmentError

__all__ = [
    "ALIGN_BEAMS",
    "DEFAULT_BEAMS",
    "SAMPLE_RATE",
    "WIDEST_BEAMS",
    "WIDE_BEAMS",
    "WORD_RECOGNITION_OPTIONS",
    "aligner_model_info",
    "decoder",
    "model_dir",
]

#: Sample rate the en-us acoustic model expects (Hz).
SAMPLE_RATE = 16000
#: Frames per second of pocketsphinx's front end.
FRAME_RATE = 100
#: pocketsphinx's default beams, tried first.
DEFAULT_BEAMS: dict[str, float] = {"beam": 1e-48, "pbeam": 1e-48, "wbeam": 7e-29}
#: Wide beams used when the default ones return no hypothesis (DESIGN.md).
WIDE_BEAMS: dict[str, float] = {"beam": 1e-80, "pbeam": 1e-80, "wbeam": 1e-60}
#: Last resort for long recordings with long pauses (measured: MFA's 26 s
#: ``cold_corpus`` needs it); slower, and a wrong transcript still fails.
WIDEST_BEAMS: dict[str, float] = {"beam": 1e-120, "pbeam": 1e-120, "wbeam": 1e-100}
#: Beam settings tried, in order, by forced alignment.
ALIGN_BEAMS: tuple[dict[str, float], ...] = (DEFAULT_BEAMS, WIDE_BEAMS, WIDEST_BEAMS)

#: Search options of the word-recognition decoder (``kind="words"``) beyond
#: pocketsphinx's defaults: no second flat-lexicon pass (``fwdflat``) and at
#: most 10,000 active HMMs per frame (default 30,000). Chosen in session 17
#: by ``benchmarks/bench_recognition.py`` under a rule written before the full
#: run: on the 121 transcribed recordings of ``../shared/data`` the word error
#: rate fell from 0.259 to 0.250 (organic 0.43 -> 0.40), within-word bigram
#: recall rose from 0.856 to 0.862 (precision 0.894 -> 0.896), recognition ran
#: 1.33x faster (organic 1.46x), and 30 s of music took 25 instead of 36 s CPU.
WORD_RECOGNITION_OPTIONS: dict[str, Any] = {"fwdflat": False, "maxhmmpf": 10000}

_CACHE_SIZE = 6
_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()

_MODEL_FILES = (
    "en-us/feat.params",
    "en-us/mdef",
    "en-us/means",
    "en-us/variances",
    "en-us/sendump",
    "en-us/transition_matrices",
    "en-us/noisedict",
    "cmudict-en-us.dict",
    "en-us-phone.lm.bin",
    "en-us.lm.bin",
)


def model_dir() -> Path:
    """Directory of the en-us model inside the installed pocketsphinx wheel."""
    try:
        from pocketsphinx import get_model_path
    except ImportError as exc:  # pragma: no cover - hard dependency
        raise AlignmentError(
            f"pocketsphinx is not installed ({exc}); it is needed for alignment"
        ) from None
    path = Path(get_model_path()) / "en-us"
    if not (path / "en-us" / "mdef").is_file():
        raise AlignmentError(f"pocketsphinx en-us model not found under {path}")
    return path


@functools.cache
def aligner_model_info() -> dict[str, Any]:
    """Where the aligner's model is and the SHA-256 of each of its files.

    Returns
    -------
    dict
        ``engine`` ("pocketsphinx"), ``version``, ``model_dir``,
        ``sample_rate`` and ``files``: relative file name -> SHA-256 (hex) of
        the acoustic model files (``en-us/...``), the pronunciation dictionary
        (``cmudict-en-us.dict``) and the language models used for recognition.
    """
    from importlib import metadata

    root = model_dir()
    files: dict[str, str] = {}
    for rel in _MODEL_FILES:
        f = root / rel
        if f.is_file():
            h = hashlib.sha256()
            with open(f, "rb") as fh:
                while block := fh.read(1 << 20):
                    h.update(block)
            files[rel] = h.hexdigest()
    try:
        version: str | None = metadata.version("pocketsphinx")
    except metadata.PackageNotFoundError:  # pragma: no cover
        version = None
    return {
        "engine": "pocketsphinx",
        "version": version,
        "model_dir": str(root),
        "sample_rate": SAMPLE_RATE,
        "files": files,
    }


def _build(
    kind: str,
    beams: dict[str, float],
    pronunciations: tuple[tuple[str, str], ...],
    options: tuple[tuple[str, Any], ...],
) -> Any:
    from pocketsphinx import Decoder

    root = model_dir()
    common: dict[str, Any] = {
        "hmm": str(root / "en-us"),
        "dict": str(root / "cmudict-en-us.dict"),
        "samprate": SAMPLE_RATE,
        "loglevel": "FATAL",
        **beams,
    }
    if kind == "align":
        dec = Decoder(lm=None, bestpath=False, **common)
    elif kind == "words":
        dec = Decoder(lm=str(root / "en-us.lm.bin"), bestpath=True, **dict(options), **common)
    elif kind == "allphone":
        dec = Decoder(allphone=str(root / "en-us-phone.lm.bin"), lm=None, bestpath=False, **common)
    else:  # pragma: no cover - internal
        raise ValueError(kind)
    for word, phones in pronunciations:
        dec.add_word(word, phones, True)
    return dec


def decoder(
    kind: str,
    *,
    beams: dict[str, float] | None = None,
    pronunciations: tuple[tuple[str, str], ...] = (),
    options: dict[str, Any] | None = None,
) -> Any:
    """The cached decoder of this process and thread for one configuration.

    Parameters
    ----------
    kind : {"align", "words", "allphone"}
        Forced alignment (``lm=None, bestpath=False``), word recognition with
        the en-us trigram LM (and :data:`WORD_RECOGNITION_OPTIONS`), or
        allphone recognition with the phone LM.
    beams : dict, optional
        ``beam``, ``pbeam``, ``wbeam``; default :data:`DEFAULT_BEAMS`.
    pronunciations : tuple of (word, phones)
        Dictionary entries to add (already validated, in a fixed order).
    options : dict, optional
        Search options of the ``words`` decoder over pocketsphinx's defaults;
        default :data:`WORD_RECOGNITION_OPTIONS` (``{}``: pocketsphinx's own
        defaults, as before session 17). Only for ``kind="words"``.

    Returns
    -------
    pocketsphinx.Decoder
        Never share it with another thread.
    """
    if kind not in ("align", "words", "allphone"):
        raise AlignmentError(f"decoder kind {kind!r}; expected 'align', 'words' or 'allphone'")
    if options is not None and kind != "words":
        raise AlignmentError(f"search options are for the 'words' decoder, not {kind!r}")
    b = dict(DEFAULT_BEAMS if beams is None else beams)
    opts: tuple[tuple[str, Any], ...] = ()
    if kind == "words":
        opts = tuple(sorted((WORD_RECOGNITION_OPTIONS if options is None else options).items()))
    key = (os.getpid(), threading.get_ident(), kind, tuple(sorted(b.items())), pronunciations, opts)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    dec = _build(kind, b, pronunciations, opts)
    with _lock:
        _cache[key] = dec
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return dec
