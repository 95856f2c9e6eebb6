"""Transcript normalisation for the aligner: text -> lowercase dictionary words.

Steps: annotation tags in angle brackets (``<VOCNOISE>``, ``<laugh>``) are
removed and square brackets around a word (``[adif]``, a cut-off word in MFA
transcripts) are dropped, keeping the word; Unicode quotes and dashes to ASCII,
accents removed ("café" -> "cafe"); ``&`` -> "and", ``%`` -> "percent";
``$N`` -> "N dollars"; numbers to words (:func:`number_to_words`): integers
0-999,999,999 in cardinal form, four-digit numbers 1100-2099 not written with
a thousands separator read as years ("1984" -> "nineteen eighty four",
"2005" -> "two thousand five"), ordinals "1st", "22nd" -> "first",
"twenty second", decimals "3.5" -> "three point five"; then lowercase and
drop punctuation except word-internal apostrophes and hyphens (hyphenated
words are split). Anything else a reader would say differently (dates,
abbreviations such as "etc.", Roman numerals) is left as written: the aligner
then reports it as out of vocabulary, and a pronunciation can be supplied.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_transcript", "number_to_words", "ordinal_to_words", "year_to_words"]

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip


def number_to_words(n: int) -> str:
    """Cardinal English words for a non-negative integer below 10**12.

    Examples
    --------
    >>> number_to_words(0), number_to_words(115), number_to_words(2024)
    ('zero', 'one hundred fifteen', 'two thousand twenty four')
    """
    if n < 0 or n >= 10**12:
        raise ValueError(f"number {n} outside 0 .. 10**12 - 1")
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
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": " ",
        "\u2014": " ",
        "\u00a0": " ",
    }
)
_MONEY = re.compile(r"\$(\d[\d,]*(?:\.\d+)?)")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_DECIMAL = re.compile(r"\b(\d+)\.(\d+)\b")
_GROUPED = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")
_INTEGER = re.compile(r"\b\d+\b")
_TAG = re.compile(r"<[^<>]*>")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*'?")


def _integer(text: str, *, as_year: bool) -> str:
    n = int(text)
    if n >= 10**12:
        return " ".join(_ONES[int(d)] for d in text)
    if as_year and len(text) == 4 and 1100 <= n <= 2099 and n % 1000 != 0:
        return year_to_words(n)
    if len(text) > 1 and text.startswith("0"):
        return " ".join(_ONES[int(d)] for d in text)
    return number_to_words(n)


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

    Examples
    --------
    >>> normalize_transcript("Don't ask me to carry an oily rag like that.")
    ['don't', 'ask', 'me', 'to', 'carry', 'an', 'oily', 'rag', 'like', 'that']
    >>> normalize_transcript("In 1984, the 2nd of 3 cost $5.")
    ['in', 'nineteen', 'eighty', 'four', 'the', 'second', 'of', 'three', 'cost', 'five', 'dollars']
    """
    t = _TAG.sub(" ", str(text)).replace("[", " ").replace("]", " ")
    t = t.translate(_TRANSLATE)
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = t.replace("&", " and ").replace("%", " percent ")
    t = _MONEY.sub(lambda m: f" {m.group(1)} dollars ", t)
    t = _ORDINAL.sub(lambda m: f" {ordinal_to_words(int(m.group(1)))} ", t)
    t = _GROUPED.sub(lambda m: f" {number_to_words(int(m.group(0).replace(',', '')))} ", t)
    t = _DECIMAL.sub(
        lambda m: (
            f" {_integer(m.group(1), as_year=False)} point "
            + " ".join(_ONES[int(d)] for d in m.group(2))
            + " "
        ),
        t,
    )
    t = _INTEGER.sub(lambda m: f" {_integer(m.group(0), as_year=True)} ", t)
    t = t.lower().replace("-", " ")
    words = []
    for tok in _TOKEN.findall(t):
        tok = tok.strip("'") if not tok.endswith("s'") else tok
        if tok:
            words.append(tok)
    return words
