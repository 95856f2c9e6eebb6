"""Read Praat TextGrids (long and short text formats) into an :class:`Alignment`.

The bytes are decoded here (UTF-8, UTF-8 with BOM, UTF-16 LE/BE with BOM,
UTF-16 without BOM, then Latin-1 as a last resort) and parsed by praatio's
TextGrid parser, which understands both Praat text formats. Montreal Forced
Aligner output (``words`` / ``phones`` tiers, also ``<speaker> - words``),
praatio-style ``phone`` / ``word`` tiers and other common tier names are
found automatically; pass ``phone_tier`` / ``word_tier`` otherwise.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Any

from ..errors import AlignmentError
from .model import Alignment

__all__ = ["PHONE_TIER_NAMES", "WORD_TIER_NAMES", "decode_text", "read_textgrid"]

#: Tier names recognised as phones (case-insensitive, also ``<speaker> - <name>``).
PHONE_TIER_NAMES = (
    "phones",
    "phone",
    "phons",
    "phonemes",
    "phoneme",
    "segments",
    "segment",
    "mau",
    "phn",
)
#: Tier names recognised as words.
WORD_TIER_NAMES = ("words", "word", "ort-mau", "orthography", "wrd")


def decode_text(raw: bytes, name: str) -> str:
    """Decode a text file's bytes: BOM first, then UTF-16 sniffing, UTF-8, Latin-1.

    Parameters
    ----------
    raw : bytes
        File content.
    name : str
        File name for error messages.
    """
    try:
        if raw.startswith(codecs.BOM_UTF8):
            return raw[len(codecs.BOM_UTF8) :].decode("utf-8")
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return raw.decode("utf-16")
        if len(raw) >= 4 and raw[1:4:2] == b"\x00\x00" and raw[0] != 0:
            return raw.decode("utf-16-le")
        if len(raw) >= 4 and raw[0:4:2] == b"\x00\x00" and raw[1] != 0:
            return raw.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise AlignmentError(
            f"{name}: not valid {exc.encoding} text although it starts like it "
            f"(byte {exc.start}: {exc.reason}); expected UTF-8 or UTF-16 text"
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _find_tier(names: list[str], wanted: tuple[str, ...]) -> str | None:
    for cand in wanted:
        for n in names:
            low = n.strip().lower()
            if low == cand or low.endswith(f" - {cand}"):
                return n
    return None


def read_textgrid(
    path: str | os.PathLike[str],
    *,
    phone_tier: str | None = None,
    word_tier: str | None = None,
    scheme: str = "auto",
) -> Alignment:
    """Read a Praat TextGrid.

    Parameters
    ----------
    path : str or os.PathLike
        ``.TextGrid`` file, long or short text format, UTF-8 (with or without
        BOM) or UTF-16.
    phone_tier, word_tier : str, optional
        Tier names; found automatically from :data:`PHONE_TIER_NAMES` and
        :data:`WORD_TIER_NAMES` when omitted. A missing word tier is allowed.
    scheme : str, default "auto"
        Phone labelling scheme (``arpabet``, ``timit``, ``ipa``, ``sampa``).

    Returns
    -------
    Alignment
        ``source="textgrid"``; ``meta`` holds ``path``, ``phone_tier``,
        ``word_tier``, ``tiers``, ``duration`` and ``flavour`` (``"mfa"`` for
        ``words``/``phones`` tiers with ARPAbet stress digits or MFA IPA).
        Empty intervals are gaps, not phones.

    Raises
    ------
    AlignmentError
        The file cannot be parsed, or no phone tier is found.
    """
    from praatio.utilities import textgrid_io

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise AlignmentError(f"cannot read TextGrid {str(p)!r}: {exc.strerror}") from None
    text = decode_text(raw, p.name)
    try:
        tg: dict[str, Any] = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=False)
    except Exception as exc:  # praatio raises bare exceptions on malformed text
        raise AlignmentError(
            f"{p.name}: not a readable Praat TextGrid (long or short text format): {exc}"
        ) from None
    tiers = {t["name"]: t for t in tg["tiers"] if t["class"] == "IntervalTier"}
    names = list(tiers)
    p_name = phone_tier if phone_tier is not None else _find_tier(names, PHONE_TIER_NAMES)
    if p_name is None or p_name not in tiers:
        raise AlignmentError(
            f"{p.name}: no phone tier {'named ' + repr(phone_tier) if phone_tier else 'found'}; "
            f"interval tiers are {names}; pass phone_tier= (expected one of {PHONE_TIER_NAMES})"
        )
    w_name = word_tier if word_tier is not None else _find_tier(names, WORD_TIER_NAMES)
    if w_name is not None and w_name not in tiers:
        raise AlignmentError(f"{p.name}: no word tier named {w_name!r}; interval tiers are {names}")
    try:
        phones = [(float(s), float(e), str(lab)) for s, e, lab in tiers[p_name]["entries"]]
        words = (
            [(float(s), float(e), str(lab)) for s, e, lab in tiers[w_name]["entries"]]
            if w_name
            else []
        )
    except (TypeError, ValueError) as exc:
        raise AlignmentError(f"{p.name}: an interval time is not a number: {exc}") from None
    flavour = "praat"
    if (
        w_name is not None
        and w_name.lower().endswith("words")
        and p_name.lower().endswith("phones")
    ):
        flavour = "mfa"
    return Alignment.from_intervals(
        phones,
        words,
        source="textgrid",
        scheme=scheme,
        meta={
            "path": str(p),
            "format": "textgrid",
            "flavour": flavour,
            "phone_tier": p_name,
            "word_tier": w_name,
            "tiers": names,
            "duration": float(tg["xmax"]),
        },
    )
