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
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AlignmentError
from ..provenance import path_text
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


_NUMERIC_FIELD = re.compile(
    r"^\s*(?:intervals:\s*|points:\s*)?(xmin|xmax|size|number)\s*=\s*(.*?)\s*$"
)
_TIME_FIELD = re.compile(r"^(\s*(?:xmin|xmax|number)\s*=\s*)(\S*?)(\s*)$")
_PLAIN_NUMBER = re.compile(r"^\d+(?:\.\d*)?$|^\.\d+$")
_ITEM = re.compile(r"^\s*item\s*\[(\d+)\]\s*:\s*$")
_INTERVAL = re.compile(r"^\s*(?:intervals|points)\s*\[(\d+)\]\s*:?\s*$")
_COUNT = re.compile(r"^\s*(?:intervals|points):\s*size\s*=\s*(\d+)\s*$")
_TIER_COUNT = re.compile(r"^\s*size\s*=\s*(\d+)\s*$")


def _malformed_reason(lines: list[str]) -> str:
    """Why a TextGrid whose header is right cannot be parsed, as precisely as can be said.

    Checks (long text format) every numeric field, then the declared tier
    and interval counts against what the file holds; else a general reason
    for a file cut short or with a field missing.
    """
    for number, line in enumerate(lines, 1):
        field = _NUMERIC_FIELD.match(line)
        if field is not None:
            name, value = field.groups()
            try:
                float(value)
            except ValueError:
                return f"line {number}: {name} = {value[:20]!r} is not a number"
    return _count_mismatch(lines) or "the file is cut short, or a field is missing or malformed"


def is_long_format(text: str) -> bool:
    """True when praatio parses ``text`` as a long-format TextGrid (as its parser decides)."""
    return "ooTextFile short" not in text and "item [" in text


def plain_time(value: float) -> str:
    """A time written as praatio's long-format parser reads it: digits, no sign or exponent.

    Parameters
    ----------
    value : float
        A finite time >= 0 (s).

    Returns
    -------
    str
        The shortest decimal that reads back as the same float
        (``6.25e-05`` -> ``"0.0000625"``, ``1.0`` -> ``"1"``).
    """
    return np.format_float_positional(float(value) + 0.0, trim="-")


def _plain_time_fields(lines: list[str], file_name: str) -> list[str]:
    """Check the times of a long-format TextGrid and write each as praatio can parse it.

    praatio reads a long-format time with the pattern ``-?[\\d.]+``: it drops a
    minus sign and refuses exponent notation (``6.25e-05``, which Praat itself
    writes). Every ``xmin`` / ``xmax`` / ``number`` value is therefore parsed
    here and rewritten in plain decimal form.

    Raises
    ------
    AlignmentError
        A value is not a number (naming the line and field), not finite, or
        negative (the value as written).
    """
    out = list(lines)
    for number, line in enumerate(lines, 1):
        field = _TIME_FIELD.match(line)
        if field is None:
            continue
        before, value, after = field.groups()
        if _PLAIN_NUMBER.match(value):
            continue
        name = before.split("=")[0].strip()
        unreadable = f"{file_name}: not a readable Praat TextGrid: line {number}: {name} ="
        try:
            time = float(value)
        except ValueError:
            raise AlignmentError(f"{unreadable} {value[:20]!r} is not a number") from None
        if not math.isfinite(time):
            raise AlignmentError(f"{unreadable} {value[:20]!r} is not a finite number")
        if time < 0:
            raise AlignmentError(
                f"{file_name}: line {number}: {name} = {value[:20]} is a negative time; "
                "TextGrid times must be 0 s or later"
            )
        out[number - 1] = before + plain_time(time) + after
    return out


def _header_problem(lines: list[str]) -> str | None:
    """What is wrong with a TextGrid's two header lines (``None`` when they are right).

    Praat text files start with ``File type = "ooTextFile"`` (``"ooTextFile
    short"`` in old short-format files) and ``Object class = "TextGrid"``.
    """
    if not "".join(lines).strip():
        return "the file is empty"
    first = lines[0].strip()
    if "ooBinaryFile" in first:
        return "it is a binary TextGrid; save it from Praat as a text file"
    if not first.replace(" ", "").startswith('Filetype="ooTextFile'):
        return f"line 1 is {first[:40]!r}, expected 'File type = \"ooTextFile\"'"
    second = lines[1].strip() if len(lines) > 1 else ""
    if not second.replace(" ", "").startswith('Objectclass="TextGrid'):
        return f"line 2 is {second[:40]!r}, expected 'Object class = \"TextGrid\"'"
    return None


def _count_mismatch(lines: list[str]) -> str | None:
    """Declared tier or interval counts that differ from what a long-format TextGrid holds.

    Returns
    -------
    str or None
        The first mismatch (``None`` when the counts agree, or for the short
        text format, which has no item headers to count).
    """
    declared_tiers: int | None = None
    items = 0
    tier_sizes: list[tuple[int, int]] = []  # (declared, found) per tier
    for line in lines:
        tier_count = _TIER_COUNT.match(line) if declared_tiers is None else None
        if tier_count is not None:
            declared_tiers = int(tier_count.group(1))
        if _ITEM.match(line):
            items += 1
        count = _COUNT.match(line)
        if count is not None:
            tier_sizes.append((int(count.group(1)), 0))
        elif _INTERVAL.match(line) and tier_sizes:
            declared, found = tier_sizes[-1]
            tier_sizes[-1] = (declared, found + 1)
    long_format = any("tiers?" in line for line in lines[:8])
    if long_format and declared_tiers is not None and declared_tiers != items:
        return f"it declares {declared_tiers} tier(s) but holds {items} (cut short?)"
    for tier, (declared, found) in enumerate(tier_sizes, 1):
        if declared != found:
            return f"tier {tier} declares {declared} interval(s) but holds {found} (cut short?)"
    return None


_SHORT_TOKEN = re.compile(r'"(?:[^"]|"")*"|\S+')
_TIER_CLASSES = ('"IntervalTier"', '"TextTier"')


def _is_count(token: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts superscripts (``'²'``), which
    ``int`` refuses (atheris found it)."""
    return token.isascii() and token.isdigit()


def _short_count_mismatch(lines: list[str]) -> str | None:
    """Declared tier or interval counts that differ from what a short-format TextGrid holds.

    The short text format is a sequence of values (numbers, quoted texts,
    ``<exists>``) after the two header lines: the file's xmin and xmax,
    ``<exists>``, the tier count, then per tier its class, name, xmin, xmax,
    interval count and three values per interval (two per point).

    Returns
    -------
    str or None
        The first mismatch, ``None`` when the counts agree.
    """
    tokens = _SHORT_TOKEN.findall("\n".join(lines[2:]))
    if len(tokens) < 3 or tokens[2] == "<absent>":
        return None
    if len(tokens) < 4 or not _is_count(tokens[3]):
        return "the tier count is missing (cut short?)"
    declared_tiers, pos, tier = int(tokens[3]), 4, 0
    while pos < len(tokens):
        if tokens[pos] not in _TIER_CLASSES:
            return (
                f"it declares {declared_tiers} tier(s) but value {tokens[pos][:20]!r} follows "
                f"tier {tier} where a tier class was expected"
            )
        tier += 1
        size = tokens[pos + 4] if pos + 4 < len(tokens) else ""
        if not _is_count(size):
            return f"tier {tier} has no interval count (cut short?)"
        per = 3 if tokens[pos] == '"IntervalTier"' else 2
        start = pos = pos + 5
        while pos < len(tokens) and tokens[pos] not in _TIER_CLASSES:
            pos += per
        found, partial = divmod(min(pos, len(tokens)) - start, per)
        if found != int(size) or partial:
            cut = f" and {partial} value(s) of another" if partial else ""
            short = " (cut short?)" if found < int(size) else ""
            return f"tier {tier} declares {size} interval(s) but holds {found}{cut}{short}"
    if tier != declared_tiers:
        return f"it declares {declared_tiers} tier(s) but holds {tier} (cut short?)"
    return None


def _matching_tiers(names: list[str], wanted: tuple[str, ...]) -> list[str]:
    """Tier names that are one of ``wanted`` or ``<speaker> - <wanted>`` (MFA), in the order
    of ``wanted`` (best kind first), then of the file."""
    found: list[str] = []
    for cand in wanted:
        for n in names:
            low = n.strip().lower()
            if (low == cand or low.endswith(f" - {cand}")) and n not in found:
                found.append(n)
    return found


def _speaker(tier: str) -> str | None:
    """The speaker prefix of an MFA tier name ("A - phones" -> "A"), else ``None``."""
    head, sep, _ = tier.rpartition(" - ")
    return head if sep else None


def _word_tier_for(names: list[str], phone_tier: str) -> str | None:
    """The word tier that goes with ``phone_tier``: the same speaker's when it has one."""
    candidates = _matching_tiers(names, WORD_TIER_NAMES)
    speaker = _speaker(phone_tier)
    same = [c for c in candidates if _speaker(c) == speaker]
    unprefixed = [c for c in candidates if _speaker(c) is None]
    return next(iter(same + unprefixed), None)


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
        :data:`WORD_TIER_NAMES` (also as MFA's ``<speaker> - phones``) when
        omitted, the word tier of the phone tier's speaker. A missing word
        tier is allowed. When phone tiers of several speakers are found, the
        first is read and ``meta["warnings"]`` names the others (until session
        30 they were dropped without a word); two interval tiers with the name
        chosen are refused.
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
        The file cannot be parsed, no phone tier is found, the phone or word
        tier's name is that of more than one interval tier, or the phone tier
        holds no labelled interval (no phones).
    """
    from praatio.utilities import textgrid_io

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise AlignmentError(f"cannot read TextGrid {str(p)!r}: {exc.strerror}") from None
    # praatio splits on "\n" only: old Mac files end their lines with a bare "\r"
    text = decode_text(raw, p.name).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    header = _header_problem(lines)
    if header is not None:
        raise AlignmentError(f"{p.name}: not a readable Praat TextGrid: {header}")
    if is_long_format(text):
        lines = _plain_time_fields(lines, p.name)
        text = "\n".join(lines)
    try:
        tg: dict[str, Any] = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=False)
    except Exception:  # praatio raises bare exceptions (IndexError...) on malformed text
        raise AlignmentError(
            f"{p.name}: not a readable Praat TextGrid: {_malformed_reason(lines)}"
        ) from None
    # praatio may stop early without failing
    mismatch = _count_mismatch(lines) if is_long_format(text) else _short_count_mismatch(lines)
    if mismatch is not None:
        raise AlignmentError(f"{p.name}: not a readable Praat TextGrid: {mismatch}")
    interval_tiers = [t for t in tg["tiers"] if t["class"] == "IntervalTier"]
    tiers = {t["name"]: t for t in interval_tiers}
    names = list(tiers)
    phone_tiers = _matching_tiers(names, PHONE_TIER_NAMES)
    p_name = phone_tier if phone_tier is not None else next(iter(phone_tiers), None)
    if p_name is None or p_name not in tiers:
        raise AlignmentError(
            f"{p.name}: no phone tier {'named ' + repr(phone_tier) if phone_tier else 'found'}; "
            f"interval tiers are {names}; pass phone_tier= (expected one of {PHONE_TIER_NAMES})"
        )
    w_name = word_tier if word_tier is not None else _word_tier_for(names, p_name)
    if w_name is not None and w_name not in tiers:
        raise AlignmentError(f"{p.name}: no word tier named {w_name!r}; interval tiers are {names}")
    for chosen in (p_name, w_name):
        count = sum(t["name"] == chosen for t in interval_tiers)
        if chosen is not None and count > 1:
            raise AlignmentError(
                f"{p.name}: {count} interval tiers are named {chosen!r}; which one holds the "
                "alignment is ambiguous: rename them"
            )
    warnings = []
    others = [n for n in phone_tiers if n != p_name and _speaker(n) != _speaker(p_name)]
    if phone_tier is None and others:
        warnings.append(
            f"the TextGrid holds phone tiers of more than one speaker; only {p_name!r} was read "
            f"(not {', '.join(repr(n) for n in others)}): pass phone_tier= and word_tier= to "
            "read another speaker"
        )
    try:
        phones = [(float(s), float(e), str(lab)) for s, e, lab in tiers[p_name]["entries"]]
        words = (
            [(float(s), float(e), str(lab)) for s, e, lab in tiers[w_name]["entries"]]
            if w_name
            else []
        )
    except (TypeError, ValueError) as exc:
        raise AlignmentError(f"{p.name}: an interval time is not a number: {exc}") from None
    if not phones:
        raise AlignmentError(
            f"{p.name}: no phones: the phone tier {p_name!r} holds no labelled interval"
        )
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
            "path": path_text(p),
            "format": "textgrid",
            "flavour": flavour,
            "phone_tier": p_name,
            "word_tier": w_name,
            "tiers": names,
            "duration": float(tg["xmax"]),
            **({"warnings": warnings} if warnings else {}),
        },
    )
