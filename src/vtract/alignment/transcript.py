"""Transcript normalisation for the aligner: text -> lowercase dictionary words.

Steps: annotation tags in angle brackets (``<VOCNOISE>``, ``<laugh>``) and
non-speech events marked in brackets, parentheses, braces, asterisks or plus
signs (``[noise]``, ``(laughs)``, ``*cough*``, ``+breath+``; the words of
:data:`NON_SPEECH_EVENTS`) are removed; square brackets around any other word
(``[adif]``, a cut-off word in MFA transcripts) are dropped, keeping the word
(until session 30 ``[noise]`` and ``(laughs)`` were aligned as the spoken words
"noise" and "laughs"); Unicode quotes and dashes to ASCII, and the acute
accent, grave accent and prime typed for an apostrophe ("don´t") read as one
(until session 30 they split "don´t" into the words "don" and "t"); accents
removed ("café" -> "cafe"); ``&`` -> "and", ``%`` -> "percent";
numbers to words, each number read whole (sign, currency symbol, thousands
commas, decimals and suffix together):

- integers in cardinal form (:func:`number_to_words`), with thousands commas
  up to 999,999,999,999,999 ("1,000,000,000,000" -> "one trillion"; a larger
  one is refused with :class:`~vtract.errors.AlignmentError`), without commas
  up to 12 digits; a longer digit string, or one with a leading zero, is read
  digit by digit ("007" -> "zero zero seven");
- four-digit numbers 1100-2099 not written with a thousands separator read as
  years ("1984" -> "nineteen eighty four", "2005" -> "two thousand five");
- ordinals "1st", "22nd", "2,000th" -> "first", "twenty second", "two thousandth";
- decimals "3.5", "1,234.5", ".5" -> "three point five", "one thousand two
  hundred thirty four point five", "point five";
- money with ``$``, ``£``, ``€``: "$1" -> "one dollar", "$3.50" -> "three
  dollars and fifty cents" (two decimals are cents or pence), "$2.125" -> "two
  point one two five dollars", "$1.5 million" -> "one point five million dollars";
- a plural "s" or an "'s" applies to the last word: "1990s", "'90s", "6s"
  -> "nineteen nineties", "nineties", "sixes"; "1984's" -> "nineteen eighty
  four's" (the aligner derives "four's" from "four", as for any possessive);
- a minus sign before a number ("-5", "−5") -> "minus five";
- thousands grouped with a no-break or thin space ("10 000") as with commas;
  plain spaces are not (" 1 000" is two numbers);
- a hyphen or en dash between two numbers that go up is a range: "1990-1995",
  "1990-95", "5-10%" -> "nineteen ninety to nineteen ninety five", "nineteen
  ninety to ninety five", "five to ten percent" (not "3-2", "2020-01-15" or a
  longer chain, which are read number by number);
- a North American telephone number is read digit by digit: "555-123-4567",
  "(555) 123-4567", "call 555-1234" -> "five five five one two three four
  ...", "1-800-555-1234" -> "one eight hundred five five five ..."; seven
  digits written NNN-NNNN without an area code count as one only after a
  word that says so ("call", "phone", "tel", "fax", "dial", "number") or
  when they cannot be a range (the four-digit part is the smaller:
  "555-0199"), so "476-1453", "700-1066 AD" and a bare "555-1234" or
  "867-5309" are read as ranges;
- clock times H:MM: "10:30", "10:05", "10:00", "14:00", "9:00 pm" -> "ten
  thirty", "ten oh five", "ten o'clock", "fourteen hundred", "nine pm";
- Unicode fractions: "½", "3½", "2¾" -> "one half", "three and a half", "two
  and three quarters" (a fraction typed with "/" is read as two numbers);

then lowercase and drop punctuation except word-internal apostrophes and
hyphens (hyphenated words are split). Signs a reader says aloud that are not
read above ("40°", "#1", "2 + 2 = 4", "me@example.com", "5 €", "¥500",
"5 * 3") are refused with :class:`~vtract.errors.AlignmentError`, as words
spelled outside English are: dropping them would squeeze the words around
them into their audio (until session 30 they were dropped silently).
Anything else a reader would say differently (dates, Roman numerals) is
left as written: the aligner then reports a word it does not know as out of
vocabulary, and a pronunciation can be supplied. An abbreviation is read as
the word it is spelled as: "Mr." and "etc." have dictionary entries and are
aligned as "mister" and "et cetera"; "No." and "Nos." before a number are
read "number(s)" ("No. 5" -> "number five"; until session 31 "no five"), but
"Jan." is the dictionary's "jan": write such abbreviations out. Symbols
("№", "™", "℃", "㎏", emoji) and numbers that are not digits ("x²", "H₂O")
are refused like the signs above (until session 31 emoji and "‰" were
dropped and "™" was spelled into the word before it: "Acme™" -> "acmetm");
music notes ("♪ la la ♪", subtitles' mark of a sung line) are removed.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import AlignmentError

__all__ = [
    "NON_SPEECH_EVENTS",
    "normalize_transcript",
    "number_to_words",
    "ordinal_to_words",
    "year_to_words",
]

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = (
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1000, "thousand"),
    (100, "hundred"),
)
_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip
_MAX_NUMBER = 10**15


def number_to_words(n: int) -> str:
    """Cardinal English words for a non-negative integer below 10**15.

    Parameters
    ----------
    n : int
        The number, 0 .. 10**15 - 1 (up to "nine hundred ninety nine trillion ...").

    Returns
    -------
    str
        Space-separated lowercase words, without "and".

    Raises
    ------
    ValueError
        `n` is negative or 10**15 or more.

    Examples
    --------
    >>> number_to_words(0), number_to_words(115), number_to_words(2024)
    ('zero', 'one hundred fifteen', 'two thousand twenty four')
    """
    if n < 0 or n >= _MAX_NUMBER:
        raise ValueError(f"number {n} outside 0 .. 10**15 - 1")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            words = f"{number_to_words(head)} {name}"
            return words if rest == 0 else f"{words} {number_to_words(rest)}"
    raise AssertionError("unreachable")  # pragma: no cover


def year_to_words(n: int) -> str:
    """A year the way it is read: 1984 -> "nineteen eighty four", 1900 -> "nineteen hundred",
    2005 -> "two thousand five", 2019 -> "twenty nineteen"."""
    if 2000 <= n <= 2009:
        return number_to_words(n)
    head, tail = divmod(n, 100)
    if tail == 0:
        return f"{number_to_words(head)} hundred"
    if tail < 10:
        return f"{number_to_words(head)} oh {number_to_words(tail)}"
    return f"{number_to_words(head)} {number_to_words(tail)}"


def ordinal_to_words(n: int) -> str:
    """Ordinal words: 1 -> "first", 22 -> "twenty second", 100 -> "one hundredth"."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        words[-1] = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


_TRANSLATE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201b": "'",
        # typed for an apostrophe on many keyboards: acute accent, grave accent, prime
        "\u00b4": "'",
        "`": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": " ",
        "\u2014": " ",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_TAG = re.compile(r"<[^<>]*>")
# "No. 5", "Nos. 3 and 4": the abbreviation of "number(s)" before a number.
_NUMERO = re.compile(r"\bNo(s?)\.\s*(?=\d)")
#: Non-speech events that transcripts mark in brackets, parentheses, braces, asterisks or
#: plus signs ("[noise]", "(laughs)", "{cough}", "*sigh*", "+breath+"; compared lower-case,
#: with "_" and "-" as spaces). They are removed with their marks, as angle-bracket tags
#: are; any other bracketed word ("[adif]", a cut-off word in MFA transcripts) is kept.
NON_SPEECH_EVENTS = frozenset(
    {
        "noise", "noises", "background noise", "vocalized noise", "vocnoise", "static",
        "laughter", "laugh", "laughs", "laughing", "cough", "coughs", "coughing",
        "breath", "breaths", "breathing", "breathes", "inhale", "inhales", "inhaling",
        "exhale", "exhales", "exhaling", "sigh", "sighs", "sighing", "sniff", "sniffs",
        "sniffing", "sneeze", "sneezes", "throat clear", "clears throat", "clearing throat",
        "lipsmack", "lip smack", "smack", "click", "clicks", "tongue click", "music",
        "applause", "beep", "silence", "pause", "long pause", "inaudible", "unintelligible",
        "indistinct", "crosstalk", "cross talk", "overlapping", "sil", "spn", "unk",
        "garbage",
    }
)  # fmt: skip
_MARKED = re.compile(r"\[([^\[\]]*)\]|\(([^()]*)\)|\{([^{}]*)\}|\*([^*]*)\*|\+\+?([^+]*?)\+\+?")
#: Signs a reader says aloud ("40°", "#1", "me@example.com", "5 ‰"), besides every
#: currency sign and mathematical symbol but "|" (Unicode categories Sc and Sm: "5 €",
#: "¥500", "2 + 2 = 4", "3 × 4", "~5"), every other symbol (So: "№ 5", "℃", "㎏", "I ❤ NY",
#: emoji) and every number that is not a digit (No: "x²", "H₂O", "①"); currency signs
#: before a number ($, £, €) and vulgar fractions ("½") are read, above. The symbol and
#: number checks run before compatibility decomposition, which would spell "™" as "TM",
#: "№" as "No" and "x²" as "x2".
_SPOKEN_SIGNS = frozenset("°#@§©®™^\u2030\u2031")
#: Music notes mark sung lines in subtitles ("♪ la la ♪"); nobody says them: removed.
_MUSIC_NOTES = str.maketrans(dict.fromkeys("\u2669\u266a\u266b\u266c", " "))
# "*" between two numbers ("5 * 3"), said "times"
_TIMES_STAR = re.compile(r"\d\s*\*\s*(?=[\d.])")
# Unicode vulgar fractions (NFKD would make "3½" "31⁄2"), after an optional digit.
_VULGAR = re.compile(r"(\d?)([\u00bc-\u00be\u2150-\u215e\u2189])")
# Thousands grouped with a no-break or thin space: "10 000" -> "10,000".
_SPACE_GROUP = re.compile(r"(?<=\d)[\u00a0\u2009\u202f](?=\d{3}(?!\d))")
# Two numbers joined by a hyphen or en dash, not part of a longer chain ("1990-1995").
_RANGE_PART = r"[$\u00a3\u20ac]?(\d[\d,]*)(?:\.\d+)?(?:st|nd|rd|th|s)?"
_RANGE = re.compile(
    rf"(?<![\w.,\-\u2013/:]){_RANGE_PART}(-|\s?\u2013\s?)(?={_RANGE_PART}(?![\w\-\u2013/:]|[.,]\d))",
    re.IGNORECASE,
)
# A North American telephone number: optional "1-" / "+1 ", optional area code
# ("555-", "(555) "), then exchange-line NNN-NNNN.
_PHONE_NUMBER = re.compile(
    r"(?<![\w.,\-\u2013/:$\u00a3\u20ac(])"
    r"(?P<country>\+?1[-\s])?"
    r"(?:(?P<area>\([2-9]\d{2}\)\s?|[2-9]\d{2}-))?"
    r"(?P<exchange>\d{3})-(?P<line>\d{4})"
    r"(?![\w\-\u2013/:]|[.,]\d)"
)
# Words that say a telephone number follows (within a few characters).
_PHONE_CUE = re.compile(
    r"\b(?:call|calling|phone|telephone|tel|fax|dial|number|no)\b[\s.:#]*(?:is\s+)?$", re.I
)
# A clock time: "10:30", "9:05 pm" (hours 0-23, two-digit minutes).
_TIME = re.compile(
    r"(?<![\w:.,])([01]?\d|2[0-3]):([0-5]\d)(?![\w:]|[.,]\d)(\s*[ap]\.?\s?m\b)?", re.I
)
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*'?")
# Any run of letters or digits, in any script (to find words the tokens would drop).
_WORD = re.compile(r"[^\W_]+")
# One pass reads a whole number token: sign, currency symbol, integer (grouped
# with commas or not) or leading-point decimal, decimals, then a suffix
# (ordinal, plural, 's), then for money a scale word ("$1.5 million").
_NUMBER = re.compile(
    r"(?<!\w)"
    r"(?P<sign>-(?=[$\u00a3\u20ac]?\.?\d))?"
    r"(?P<cur>[$\u00a3\u20ac])?"
    r"(?:(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(?P<frac>\d+))?|\.(?P<frac0>\d+))"
    r"(?P<suffix>st|nd|rd|th|'s|s)?"
    r"(?!\w)"
    r"(?P<scale>\s+(?:hundred|thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)
_ORDINAL_SUFFIXES = ("st", "nd", "rd", "th")
#: Currency symbol -> unit (singular, plural) and hundredth (singular, plural).
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "\u00a3": ("pound", "pounds", "penny", "pence"),
    "\u20ac": ("euro", "euros", "cent", "cents"),
}
#: Longest digit string read as one number (ungrouped); longer ones are read digit by digit.
_MAX_CARDINAL_DIGITS = 12


def _without_event(m: re.Match[str]) -> str:
    """A marked non-speech event ("[noise]", "(laughs)") -> " "; any other mark as it was."""
    inner = next(g for g in m.groups() if g is not None)
    key = " ".join(inner.lower().replace("_", " ").replace("-", " ").split())
    return " " if key in NON_SPEECH_EVENTS else m.group(0)


def _fraction(m: re.Match[str]) -> str:
    """ "½" -> "one half", "¾" -> "three quarters", "3½" -> "three and a half"."""
    num, _, den = unicodedata.normalize("NFKD", m.group(2)).partition("\u2044")
    n, d = int(num), int(den)
    if d == 2:
        part = "half" if n == 1 else "halves"
    elif d == 4:
        part = "quarter" if n == 1 else "quarters"
    else:
        part = ordinal_to_words(d) + ("" if n == 1 else "s")
    if not m.group(1):
        return f" {number_to_words(n)} {part} "
    if n == 1:
        return f"{m.group(1)} and {'an' if part[0] in 'aeiou' else 'a'} {part} "
    return f"{m.group(1)} and {number_to_words(n)} {part} "


def _range(m: re.Match[str]) -> str:
    """ "1990-1995" -> "1990 to 1995" when the numbers go up; "1990-95" and
    "1960s-70s" (the second number's leading digits left out) count as going up."""
    first, second = m.group(1).replace(",", ""), m.group(3).replace(",", "")
    if len(first) > 15 or len(second) > 15:
        return m.group(0)
    if 2 <= len(second) < len(first):
        second = first[: len(first) - len(second)] + second
    if int(first) >= int(second):
        return m.group(0)
    return m.group(0)[: -len(m.group(2))] + " to "


def _phone_number(m: re.Match[str]) -> str:
    """ "call 555-1234" -> "call five five five one two three four", "1-800-..." -> "one
    eight hundred ...". Without an area or country code, NNN-NNNN is a telephone number
    only after a word that says so ("call", "phone", "tel", "fax", "dial", "number") or
    when it cannot be a range (the numbers do not go up: "555-0199"); otherwise it is
    left to the range rule ("476-1453", "700-1066 AD", "pages 250-1999")."""
    exchange, line = m.group("exchange"), m.group("line")
    if not (m.group("area") or m.group("country")):
        told = _PHONE_CUE.search(m.string[max(0, m.start() - 24) : m.start()])
        if told is None and (exchange[0] in "01" or int(exchange) < int(line)):
            return m.group(0)
    words = []
    if m.group("country"):
        words.append("one")
    area = "".join(c for c in (m.group("area") or "") if c.isdigit())
    if area:  # toll-free "800" is said "eight hundred"; other area codes digit by digit
        words.append("eight hundred" if area == "800" else _digits(area))
    words.append(_digits(exchange + line))
    return f" {' '.join(words)} "


def _time(m: re.Match[str]) -> str:
    """ "10:30" -> "ten thirty", "10:05" -> "ten oh five", "10:00" -> "ten o'clock",
    "14:00" -> "fourteen hundred", "9:00 pm" -> "nine pm"."""
    hour, minute = int(m.group(1)), int(m.group(2))
    words = number_to_words(hour)
    if minute == 0:
        if not m.group(3):
            words += " o'clock" if 1 <= hour <= 12 else " hundred"
    elif minute < 10:
        words += f" oh {number_to_words(minute)}"
    else:
        words += f" {number_to_words(minute)}"
    return f" {words}{m.group(3) or ''} "


def shorten(text: str, limit: int = 40) -> str:
    """A word or text quoted in an error message, cut to `limit` characters.

    Parameters
    ----------
    text : str
        What to quote (a transcript word can be a megabyte long).
    limit : int, optional
        Characters kept.

    Returns
    -------
    str
        `text` itself when short enough, else its first `limit` characters and "...".
    """
    return text if len(text) <= limit else text[:limit] + "..."


def shortened_list(words: list[str], most: int, *, quote: bool = False) -> str:
    """Words for an error message: at most `most`, each cut by :func:`shorten`.

    Parameters
    ----------
    words : list of str
        The words to name (a transcript can hold thousands, each megabytes long).
    most : int
        How many to list; the rest are counted ("and 3 more").
    quote : bool, default False
        Quote each word (``repr``).

    Returns
    -------
    str
        The words joined by ", ".
    """
    listed = ", ".join(repr(shorten(w)) if quote else shorten(w) for w in words[:most])
    return listed + (f" and {len(words) - most} more" if len(words) > most else "")


def _refuse_too_large(digits: str, text: str, what: str) -> None:
    """Refuse a number above :func:`number_to_words`' range (``digits``: no commas)."""
    if len(digits.lstrip("0")) > len(str(_MAX_NUMBER - 1)):
        raise AlignmentError(
            f"{what} {shorten(text)!r} in the transcript is too large to read as words "
            "(the limit is 999,999,999,999,999); write it in words"
        )


def _digits(text: str) -> str:
    return " ".join(_ONES[int(d)] for d in text)


def _whole(text: str, *, as_year: bool) -> str:
    """Words for a string of digits, with or without thousands commas."""
    if "," in text:
        digits = text.replace(",", "")
        _refuse_too_large(digits, text, "number")
        return number_to_words(int(digits))
    if len(text) > 1 and text.startswith("0"):
        return _digits(text)
    if len(text) > _MAX_CARDINAL_DIGITS:
        return _digits(text)
    n = int(text)
    if as_year and len(text) == 4 and 1100 <= n <= 2099 and n % 1000 != 0:
        return year_to_words(n)
    return number_to_words(n)


def _ordinal(text: str) -> str:
    digits = text.replace(",", "").lstrip("0") or "0"
    _refuse_too_large(digits, text, "ordinal")
    return ordinal_to_words(int(digits))


def _plural(words: str) -> str:
    """Plural of the last word: "nineteen ninety" -> "nineteen nineties", "six" -> "sixes"."""
    head, _, last = words.rpartition(" ")
    if last.endswith("y"):
        last = last[:-1] + "ies"
    elif last.endswith("x"):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def _money(symbol: str, integer: str | None, frac: str | None, words: str, scale: str) -> str:
    """An amount the way it is said: "$1.5 million" -> "one point five million dollars",
    "$3.50" -> "three dollars and fifty cents", "$1" -> "one dollar"."""
    one, many, sub_one, sub_many = _CURRENCIES[symbol]
    units = (integer or "").replace(",", "").lstrip("0")
    if scale:
        return f"{words} {scale} {many}"
    if frac is not None and len(frac) == 2:
        cents = int(frac)
        parts = []
        if units or not cents:
            parts.append(f"{_whole(integer or '0', as_year=False)} {one if units == '1' else many}")
        if cents:
            parts.append(f"{number_to_words(cents)} {sub_one if cents == 1 else sub_many}")
        return " and ".join(parts)
    return f"{words} {one if units == '1' and not frac else many}"


def _number(m: re.Match[str]) -> str:
    """Words for one :data:`_NUMBER` match."""
    integer, frac = m.group("int"), m.group("frac") or m.group("frac0")
    suffix = (m.group("suffix") or "").lower()
    scale = (m.group("scale") or "").strip().lower()
    plain = not (m.group("sign") or m.group("cur") or frac)
    if suffix in _ORDINAL_SUFFIXES and integer is not None and not frac:
        words, suffix = _ordinal(integer), ""
    else:
        words = _whole(integer, as_year=plain) if integer is not None else ""
        if frac:
            words = f"{words} point {_digits(frac)}".strip()
    if suffix == "s" and not frac:
        words, suffix = _plural(words), ""
    elif suffix == "'s":
        words, suffix = words + "'s", ""
    if m.group("cur"):
        words, scale = _money(m.group("cur"), integer, frac, words, scale), ""
    if m.group("sign"):
        words = "minus " + words
    return f" {words} {suffix} {scale} "


def normalize_transcript(text: str) -> list[str]:
    """Turn a transcript into the lowercase word list the aligner expects.

    Parameters
    ----------
    text : str
        Free text: any case, punctuation, digits.

    Returns
    -------
    list of str
        Words in order (lowercase, apostrophes kept: "don't", "steels'").

    Raises
    ------
    vtract.errors.AlignmentError
        A number with thousands separators too large to read as words
        (10**15 or more), or a word with letters outside English spelling
        after accents are removed (``Straße``, ``привет``): the English
        dictionary cannot align it, and leaving it out (as before session 25)
        squeezed the other words into its audio; or a sign a reader says
        aloud that is not read as words ("40°", "#1", "2 + 2"), another
        symbol or an emoji ("№", "❤"), or a number that is not a digit ("x²").

    Examples
    --------
    >>> normalize_transcript("Don't ask me to carry an oily rag like that.")
    ["don't", 'ask', 'me', 'to', 'carry', 'an', 'oily', 'rag', 'like', 'that']
    >>> normalize_transcript("In 1984, the 2nd of 3 cost $5.")
    ['in', 'nineteen', 'eighty', 'four', 'the', 'second', 'of', 'three', 'cost', 'five', 'dollars']
    """
    t = _MARKED.sub(_without_event, _TAG.sub(" ", str(text)))
    t = _NUMERO.sub(lambda m: f" number{m.group(1)} ", t)
    t = t.replace("[", " ").replace("]", " ")
    t = _VULGAR.sub(_fraction, t)
    t = _SPACE_GROUP.sub(",", t)
    t = _PHONE_NUMBER.sub(_phone_number, t)
    t = _RANGE.sub(_range, t)
    t = t.translate(_TRANSLATE).translate(_MUSIC_NOTES)
    # symbols and non-digit numbers, before NFKD rewrites them as letters or digits
    decomposed_signs = [c for c in t if unicodedata.category(c) in ("So", "No")]
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = t.replace("&", " and ").replace("%", " percent ")
    times_star = _TIMES_STAR.search(t) is not None  # before the numbers become words
    t = _TIME.sub(_time, t)
    t = _NUMBER.sub(_number, t)
    t = t.lower().replace("-", " ")
    spoken = list(
        dict.fromkeys(
            decomposed_signs
            + [
                c
                for c in t
                if c in _SPOKEN_SIGNS or (unicodedata.category(c) in ("Sc", "Sm") and c != "|")
            ]
            + (["*"] if times_star else [])
        )
    )
    if spoken:
        raise AlignmentError(
            f"transcript sign(s) a reader says aloud: {', '.join(repr(c) for c in spoken)}; "
            "dropping them would squeeze the words around them into their audio: write them "
            "as words (e.g. '40°' as '40 degrees', '#1' as 'number 1', '2 + 2' as '2 plus 2'), "
            "or delete them if they were not spoken (an emoji, a footnote sign)"
        )
    foreign = list(dict.fromkeys(w for w in _WORD.findall(t) if not w.isascii()))
    if foreign:
        raise AlignmentError(
            "transcript word(s) spelled with letters outside English: "
            f"{shortened_list(foreign, 10, quote=True)}; the "
            "aligner's dictionary is English, and dropping them would squeeze the other words "
            "into their audio: rewrite them in English letters (with --pronunciation if needed)"
        )
    words = []
    for tok in _TOKEN.findall(t):
        tok = tok.strip("'") if not tok.endswith("s'") else tok
        if tok:
            words.append(tok)
    return words
