"""The one phone-label normaliser: every source maps to ARPAbet without stress.

Target inventory: the 39 phones of CMUdict (ARPAbet, stress digits removed)
plus ``sil`` (silence, pauses) and ``spn`` (spoken noise, laughter, breath,
anything non-phonetic). Source labelling schemes understood:

``arpabet``
    CMUdict / MFA ``english_us_arpa`` labels, any case, stress digits 0-2
    (``AH0`` -> ``AH``).
``timit``
    TIMIT's 61 labels and festival / HTS lower-case ARPAbet (``ax``,
    ``pau``). Folding: ``ax``, ``ax-h`` -> AH; ``ix`` -> IH; ``axr`` -> ER;
    ``ux`` -> UW; ``el`` -> L; ``em`` -> M; ``en``, ``nx`` -> N; ``eng`` -> NG;
    ``hv`` -> HH; ``dx`` (flap) -> D; ``q`` (glottal stop) -> ``sil``;
    ``h#``, ``pau``, ``epi`` -> ``sil``. A stop closure (``bcl``, ``dcl``,
    ``gcl``, ``pcl``, ``tcl``, ``kcl``) maps to its stop; the TIMIT reader
    merges a closure with the release that follows it (see
    :mod:`vtract.alignment.timit`).
``ipa``
    IPA as written by MFA's ``english_us_mfa`` model and hand labellers:
    diacritics (aspiration, palatalisation, length, syllabicity, stress marks)
    are removed before lookup, so ``tʲ`` -> T, ``iː`` -> IY, ``n̩`` -> N.
    Flap ``ɾ`` -> D and glottal stop ``ʔ`` -> ``sil`` as for TIMIT.
``sampa``
    X-SAMPA for English (``@`` -> AH, ``eI`` -> EY, ``D`` -> DH, ``{`` -> AE).

Upper-case ARPAbet ``D`` and X-SAMPA ``D`` differ (d vs ð), so a tier's
scheme is detected once from all its labels (:func:`detect_scheme`) rather
than label by label (ambiguous tiers are reported by :func:`scheme_warning`). A label that does not map is kept unchanged and reported
by :func:`normalize_labels`; it is never dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal, NamedTuple

from ..errors import LabelError

__all__ = [
    "ARPABET",
    "CLASS_AFFRICATE",
    "CLASS_DIPHTHONG",
    "CLASS_FRICATIVE",
    "CLASS_LIQUID_GLIDE",
    "CLASS_NASAL",
    "CLASS_SILENCE",
    "CLASS_STOP",
    "CLASS_UNKNOWN",
    "CLASS_VOWEL",
    "NOISE",
    "PHONE_CLASSES",
    "SCHEMES",
    "SILENCE",
    "Scheme",
    "clean_label",
    "detect_scheme",
    "is_known",
    "normalize_label",
    "normalize_labels",
    "phone_class",
    "scheme_warning",
    "to_ipa",
]

Scheme = Literal["arpabet", "timit", "ipa", "sampa"]
SCHEMES: tuple[str, ...] = ("arpabet", "timit", "ipa", "sampa")

SILENCE = "sil"
NOISE = "spn"

CLASS_VOWEL = "vowel"
CLASS_DIPHTHONG = "diphthong"
CLASS_STOP = "stop"
CLASS_FRICATIVE = "fricative"
CLASS_AFFRICATE = "affricate"
CLASS_NASAL = "nasal"
CLASS_LIQUID_GLIDE = "liquid_glide"
CLASS_SILENCE = "silence"
CLASS_UNKNOWN = "unknown"

#: Normalised label -> (phone class, IPA). The 39 CMUdict phones plus sil/spn.
_INVENTORY: dict[str, tuple[str, str]] = {
    "AA": (CLASS_VOWEL, "ɑ"),
    "AE": (CLASS_VOWEL, "æ"),
    "AH": (CLASS_VOWEL, "ʌ"),
    "AO": (CLASS_VOWEL, "ɔ"),
    "EH": (CLASS_VOWEL, "ɛ"),
    "ER": (CLASS_VOWEL, "ɝ"),
    "IH": (CLASS_VOWEL, "ɪ"),
    "IY": (CLASS_VOWEL, "i"),
    "UH": (CLASS_VOWEL, "ʊ"),
    "UW": (CLASS_VOWEL, "u"),
    "AW": (CLASS_DIPHTHONG, "aʊ"),
    "AY": (CLASS_DIPHTHONG, "aɪ"),
    "EY": (CLASS_DIPHTHONG, "eɪ"),
    "OW": (CLASS_DIPHTHONG, "oʊ"),
    "OY": (CLASS_DIPHTHONG, "ɔɪ"),
    "B": (CLASS_STOP, "b"),
    "D": (CLASS_STOP, "d"),
    "G": (CLASS_STOP, "ɡ"),
    "K": (CLASS_STOP, "k"),
    "P": (CLASS_STOP, "p"),
    "T": (CLASS_STOP, "t"),
    "DH": (CLASS_FRICATIVE, "ð"),
    "F": (CLASS_FRICATIVE, "f"),
    "HH": (CLASS_FRICATIVE, "h"),
    "S": (CLASS_FRICATIVE, "s"),
    "SH": (CLASS_FRICATIVE, "ʃ"),
    "TH": (CLASS_FRICATIVE, "θ"),
    "V": (CLASS_FRICATIVE, "v"),
    "Z": (CLASS_FRICATIVE, "z"),
    "ZH": (CLASS_FRICATIVE, "ʒ"),
    "CH": (CLASS_AFFRICATE, "tʃ"),
    "JH": (CLASS_AFFRICATE, "dʒ"),
    "M": (CLASS_NASAL, "m"),
    "N": (CLASS_NASAL, "n"),
    "NG": (CLASS_NASAL, "ŋ"),
    "L": (CLASS_LIQUID_GLIDE, "l"),
    "R": (CLASS_LIQUID_GLIDE, "ɹ"),
    "W": (CLASS_LIQUID_GLIDE, "w"),
    "Y": (CLASS_LIQUID_GLIDE, "j"),
    SILENCE: (CLASS_SILENCE, SILENCE),
    NOISE: (CLASS_SILENCE, NOISE),
}

#: The 39 CMUdict phones (ARPAbet, no stress).
ARPABET: tuple[str, ...] = tuple(k for k in _INVENTORY if k not in (SILENCE, NOISE))

#: Phone classes in a fixed order.
PHONE_CLASSES: tuple[str, ...] = (
    CLASS_VOWEL,
    CLASS_DIPHTHONG,
    CLASS_STOP,
    CLASS_FRICATIVE,
    CLASS_AFFRICATE,
    CLASS_NASAL,
    CLASS_LIQUID_GLIDE,
    CLASS_SILENCE,
)

# Silence and noise tokens of every source (compared lower-case).
_SILENCE_TOKENS = frozenset(
    {
        "",
        "sil",
        "sp",
        "pau",
        "h#",
        "#",
        "<sil>",
        "silence",
        "<p:>",
        "_",
        "sil0",
        "epi",
        "<s>",
        "</s>",
    }
)
_NOISE_TOKENS = frozenset(
    {
        "spn", "<unk>", "unk", "noise", "+noise+", "[noise]", "ns", "nsn", "+breath+",
        "<vocnoise>", "[laughter]", "lg", "<laugh>", "+laugh+", "+um+", "+uh+", "+cough+",
        "+smack+", "[breath]", "<noise>", "gbg", "garbage", "[unk]", "++garbage++",
    }
)  # fmt: skip

_TIMIT: dict[str, str] = {
    "ax": "AH", "ax-h": "AH", "ix": "IH", "axr": "ER", "ux": "UW", "el": "L", "em": "M",
    "en": "N", "nx": "N", "eng": "NG", "hv": "HH", "dx": "D", "q": SILENCE,
    "bcl": "B", "dcl": "D", "gcl": "G", "pcl": "P", "tcl": "T", "kcl": "K",
}  # fmt: skip

_IPA: dict[str, str] = {
    "ɑ": "AA", "ɒ": "AA", "a": "AA", "ɑ̃": "AA", "æ": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH",
    "ɔ": "AO", "ɛ": "EH", "e": "EY", "ɝ": "ER", "ɚ": "ER", "ɜ": "ER", "ɜɹ": "ER", "əɹ": "ER",
    "ɪ": "IH", "ɨ": "IH", "ᵻ": "IH", "i": "IY", "ʊ": "UH", "u": "UW", "ʉ": "UW",
    "aʊ": "AW", "aw": "AW", "aɪ": "AY", "aj": "AY", "eɪ": "EY", "ej": "EY", "oʊ": "OW",
    "ow": "OW", "o": "OW", "əʊ": "OW", "ɔɪ": "OY", "ɔj": "OY",
    "b": "B", "d": "D", "ɡ": "G", "g": "G", "k": "K", "p": "P", "t": "T", "c": "K", "ɟ": "G",
    "ð": "DH", "f": "F", "h": "HH", "ç": "HH", "x": "HH", "s": "S", "ʃ": "SH", "θ": "TH",
    "v": "V", "z": "Z", "ʒ": "ZH", "tʃ": "CH", "ʧ": "CH", "dʒ": "JH", "ʤ": "JH",
    "m": "M", "ɱ": "M", "n": "N", "ɲ": "N", "ŋ": "NG", "l": "L", "ɫ": "L", "ʎ": "L",
    "ɹ": "R", "r": "R", "ɻ": "R", "w": "W", "ʍ": "W", "j": "Y", "ɾ": "D", "ʔ": SILENCE,
}  # fmt: skip

_SAMPA: dict[str, str] = {
    "A": "AA", "Q": "AA", "{": "AE", "V": "AH", "@": "AH", "O": "AO", "E": "EH",
    "3`": "ER", "@`": "ER", "3": "ER", "I": "IH", "i": "IY", "U": "UH", "u": "UW",
    "aU": "AW", "aI": "AY", "eI": "EY", "e": "EY", "@U": "OW", "oU": "OW", "o": "OW",
    "OI": "OY", "b": "B", "d": "D", "g": "G", "k": "K", "p": "P", "t": "T", "D": "DH",
    "f": "F", "h": "HH", "s": "S", "S": "SH", "T": "TH", "v": "V", "z": "Z", "Z": "ZH",
    "tS": "CH", "dZ": "JH", "m": "M", "n": "N", "N": "NG", "l": "L", "5": "L", "r": "R",
    "r\\": "R", "w": "W", "j": "Y", "4": "D", "?": SILENCE, "i:": "IY", "u:": "UW",
    "A:": "AA", "O:": "AO", "3:": "ER",
}  # fmt: skip

# Diacritics and modifiers removed from IPA before lookup.
_IPA_STRIP = "ʰʲʷˠˤ̃ːˑ̩̯̥̬̚ˈˌ̪̟̠͡‿̝̞̈"
_STRESS = re.compile(r"^([A-Za-z]+)[012]$")
# Tokens that exist only in TIMIT / festival labelling (not in upper-case ARPAbet).
_TIMIT_ONLY = frozenset(_TIMIT) | {"h#", "pau", "epi"}
_SAMPA_ONLY = frozenset(
    k for k in _SAMPA if not k.isalpha() or k in {"aU", "aI", "eI", "oU", "OI", "tS", "dZ"}
)


def clean_label(label: str) -> str:
    """A raw label as the normaliser compares it: NFC, surrounding spaces removed.

    :attr:`vtract.alignment.model.Alignment.unknown_labels` lists labels in this form.
    """
    return unicodedata.normalize("NFC", str(label)).strip()


def _special(label: str) -> str | None:
    low = label.lower()
    if low in _SILENCE_TOKENS:
        return SILENCE
    if low in _NOISE_TOKENS or (low.startswith("<") and low.endswith(">")):
        return NOISE
    if len(low) > 2 and low[0] in "[+" and low[-1] in "]+":
        return NOISE
    return None


def _arpabet(label: str) -> str | None:
    up = label.upper()
    m = _STRESS.match(up)
    if m:
        up = m.group(1)
    return up if up in _INVENTORY and up not in (SILENCE.upper(), NOISE.upper()) else None


def _ipa(label: str) -> str | None:
    base = "".join(ch for ch in unicodedata.normalize("NFD", label) if ch not in _IPA_STRIP)
    base = unicodedata.normalize("NFC", base)
    if base in _IPA:
        return _IPA[base]
    return _IPA.get(label)


def _mapped(items: list[str], scheme: str) -> int:
    """How many of ``items`` (special tokens removed) ``scheme`` maps to a phone."""
    return sum(normalize_label(x, scheme) is not None for x in items)


class _Choice(NamedTuple):
    """How :func:`detect_scheme` chose: the scheme, the best one other than X-SAMPA,
    the X-SAMPA-only labels, how many phone labels there are and how many each of
    the two schemes maps (the counts only when X-SAMPA-only labels exist, else 0)."""

    scheme: Scheme
    other: Scheme
    sampa_only: list[str]
    n_labels: int
    n_sampa: int
    n_other: int


def _choose(labels: Iterable[str]) -> _Choice:
    """The scheme of a tier and what the choice rested on."""
    every = [clean_label(x) for x in labels]
    items = [x for x in every if _special(x) is None]
    if any(not x.isascii() for x in items):
        return _Choice("ipa", "ipa", [], len(items), 0, 0)
    other: Scheme = "arpabet"
    if any(x.lower() in _TIMIT_ONLY for x in every):
        other = "timit"
    elif any(_arpabet(x) is None and x in _IPA for x in items):
        other = "ipa"
    sampa_only = list(dict.fromkeys(x for x in items if x in _SAMPA_ONLY))
    if not sampa_only:
        return _Choice(other, other, [], len(items), 0, 0)
    n_sampa, n_other = _mapped(items, "sampa"), _mapped(items, other)
    scheme: Scheme = "sampa" if n_sampa > n_other else other
    return _Choice(scheme, other, sampa_only, len(items), n_sampa, n_other)


def detect_scheme(labels: Iterable[str]) -> Scheme:
    """Guess the labelling scheme of one tier or file from all its labels.

    Parameters
    ----------
    labels : iterable of str
        Raw labels of one tier.

    Returns
    -------
    {"arpabet", "timit", "ipa", "sampa"}
        ``ipa`` when any label has a non-ASCII character. Otherwise ``timit``
        when a TIMIT / festival token appears (``h#``, ``pau``, ``ax``,
        closures), ``ipa`` when an ASCII label is IPA-only (``aj``, ``i``),
        else ``arpabet``; but ``sampa`` instead when a SAMPA-only token
        appears (``@``, ``eI``, ``{`` ...) AND X-SAMPA maps more of the labels
        to phones than that scheme does. One ``?`` (an annotator's "unsure")
        in an ARPAbet tier therefore does not turn ``D``, ``S``, ``T`` into
        X-SAMPA's DH, SH, TH: the tier stays ARPAbet and ``?`` is unknown
        (:func:`scheme_warning` says so).

    Examples
    --------
    >>> detect_scheme(["sil", "D", "AH0", "?", "S", "T"])
    'arpabet'
    >>> detect_scheme(["d", "eI", "D", "V"])
    'sampa'
    """
    return _choose(labels).scheme


def scheme_warning(labels: Iterable[str]) -> str | None:
    """A warning when :func:`detect_scheme` had to choose between X-SAMPA and another scheme.

    Parameters
    ----------
    labels : iterable of str
        Raw labels of one tier.

    Returns
    -------
    str or None
        ``None`` when no label is X-SAMPA-only, or when X-SAMPA maps clearly
        more labels (at least 2, and at least 10 % of them) than the other
        scheme; else a
        sentence naming the X-SAMPA-only labels, the scheme chosen and how
        many labels each scheme maps.
    """
    used, other, sampa_only, n_labels, n_sampa, n_other = _choose(labels)
    if not sampa_only:
        return None
    shown = ", ".join(repr(x) for x in sampa_only[:5]) + (", ..." if len(sampa_only) > 5 else "")
    counts = f"{n_other} of {n_labels} phone labels map as {other}, {n_sampa} as X-SAMPA"
    if used != "sampa":
        return (
            f"ambiguous phone labelling: the tier was read as {other} ({counts}), so the "
            f"X-SAMPA symbol(s) {shown} are unknown labels; pass scheme= if the tier is X-SAMPA"
        )
    if n_sampa - n_other < max(2, 0.1 * n_labels):
        return (
            f"ambiguous phone labelling: the tier was read as X-SAMPA ({counts}; X-SAMPA "
            f"symbols {shown}), which maps D, S, T, Z, N to DH, SH, TH, ZH, NG; pass scheme= "
            f"if the tier is {other}"
        )
    return None


def normalize_label(label: str, scheme: Scheme | str = "arpabet") -> str | None:
    """Map one source label to ARPAbet without stress, ``sil`` or ``spn``.

    Parameters
    ----------
    label : str
        Label as written in the source.
    scheme : {"arpabet", "timit", "ipa", "sampa"}, default "arpabet"
        Labelling scheme of the source (see :func:`detect_scheme`).

    Returns
    -------
    str or None
        The normalised label, or ``None`` when the label is unknown.

    Raises
    ------
    LabelError
        ``scheme`` is not one of :data:`SCHEMES`.
    """
    if scheme not in SCHEMES:
        raise LabelError(f"label scheme {scheme!r} is not one of {', '.join(SCHEMES)}")
    raw = clean_label(label)
    special = _special(raw)
    if special is not None:
        return special
    if scheme == "sampa":
        return _SAMPA.get(raw) or _SAMPA.get(raw.rstrip("012"))
    if scheme == "ipa":
        return _ipa(raw) or _arpabet(raw)
    if scheme == "timit":
        return _TIMIT.get(raw.lower()) or _arpabet(raw)
    return _arpabet(raw)


def normalize_labels(
    labels: Iterable[str], scheme: Scheme | str = "auto"
) -> tuple[list[str], tuple[str, ...], str]:
    """Normalise all labels of one tier, keeping and reporting unknown ones.

    Parameters
    ----------
    labels : iterable of str
        Raw labels.
    scheme : {"auto", "arpabet", "timit", "ipa", "sampa"}, default "auto"
        ``"auto"`` calls :func:`detect_scheme` on the labels.

    Returns
    -------
    normalised : list of str
        One label per input; an unknown label is kept as written (stripped).
    unknown : tuple of str
        Distinct unknown raw labels in order of first appearance.
    scheme : str
        The scheme used.
    """
    items = [clean_label(x) for x in labels]
    used = detect_scheme(items) if scheme == "auto" else scheme
    out: list[str] = []
    unknown: list[str] = []
    for raw in items:
        norm = normalize_label(raw, used)
        if norm is None:
            out.append(raw)
            if raw not in unknown:
                unknown.append(raw)
        else:
            out.append(norm)
    return out, tuple(unknown), used


def _canonical(label: str) -> str | None:
    raw = clean_label(label)
    if raw in (SILENCE, NOISE):
        return raw
    return _arpabet(raw)


def is_known(label: str) -> bool:
    """True when ``label`` is one of the 39 ARPAbet phones (any case/stress), ``sil`` or ``spn``."""
    return _canonical(label) is not None


def phone_class(label: str) -> str:
    """Phone class of a normalised label.

    Parameters
    ----------
    label : str
        ARPAbet label (case and stress digits ignored), ``sil`` or ``spn``.

    Returns
    -------
    str
        One of :data:`PHONE_CLASSES` (``"vowel"``, ``"diphthong"``,
        ``"stop"``, ``"fricative"``, ``"affricate"``, ``"nasal"``,
        ``"liquid_glide"``, ``"silence"``), or ``"unknown"`` for a label the
        normaliser could not map (such labels stay in alignments, reported in
        :attr:`Alignment.unknown_labels`). ``sil`` and ``spn`` are
        ``"silence"``. EY and OW count as diphthongs, ER as a vowel.

    Examples
    --------
    >>> phone_class("AH0"), phone_class("ay"), phone_class("sil")
    ('vowel', 'diphthong', 'silence')
    """
    canon = _canonical(label)
    return CLASS_UNKNOWN if canon is None else _INVENTORY[canon][0]


def to_ipa(label: str) -> str:
    """IPA for a normalised ARPAbet label.

    Parameters
    ----------
    label : str
        ARPAbet label (case and stress digits ignored), ``sil`` or ``spn``.

    Returns
    -------
    str
        Broad IPA (``"SH"`` -> ``"ʃ"``, ``"AH"`` -> ``"ʌ"``); ``sil`` and
        ``spn`` are returned unchanged (IPA has no symbol for them).

    Raises
    ------
    LabelError
        ``label`` is not a known phone (check with :func:`is_known` or
        ``phone_class(label) != "unknown"``).
    """
    canon = _canonical(label)
    if canon is None:
        raise LabelError(
            f"no IPA for phone label {label!r}: expected one of the 39 ARPAbet phones, 'sil' or 'spn'"
        )
    return _INVENTORY[canon][1]
