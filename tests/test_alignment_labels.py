"""Label normaliser and transcript normalisation (no audio, no decoder)."""

from __future__ import annotations

import re

import pytest

from vtract.alignment import labels as L
from vtract.alignment.labels import (
    ARPABET,
    detect_scheme,
    normalize_label,
    normalize_labels,
    phone_class,
    scheme_warning,
    to_ipa,
)
from vtract.alignment.transcript import (
    normalize_transcript,
    number_to_words,
    ordinal_to_words,
    year_to_words,
)
from vtract.errors import LabelError

# CMUdict's phone list (cmudict.phones), written out independently of the module.
CMUDICT_PHONES = """AA vowel AE vowel AH vowel AO vowel AW vowel AY vowel B stop CH affricate
D stop DH fricative EH vowel ER vowel EY vowel F fricative G stop HH aspirate IH vowel IY vowel
JH affricate K stop L liquid M nasal N nasal NG nasal OW vowel OY vowel P stop R liquid S fricative
SH fricative T stop TH fricative UH vowel UW vowel V fricative W semivowel Y semivowel Z fricative
ZH fricative""".split()


def test_inventory_is_cmudict_39():
    phones = dict(zip(CMUDICT_PHONES[::2], CMUDICT_PHONES[1::2]))
    assert sorted(ARPABET) == sorted(phones)
    assert len(ARPABET) == 39
    # classes agree with cmudict.phones where it is specific
    for ph, cls in phones.items():
        ours = phone_class(ph)
        if cls in ("stop", "affricate", "nasal", "fricative"):
            assert ours == cls, ph
        elif cls in ("liquid", "semivowel"):
            assert ours == "liquid_glide", ph
        elif cls == "aspirate":
            assert ours == "fricative"
        else:
            assert ours in ("vowel", "diphthong"), ph


@pytest.mark.parametrize("ph", ["AW", "AY", "EY", "OW", "OY"])
def test_diphthongs(ph):
    assert phone_class(ph) == "diphthong"
    assert phone_class(ph.lower() + "1") == "diphthong"


def test_silence_noise_unknown_classes():
    assert phone_class("sil") == "silence"
    assert phone_class("spn") == "silence"
    assert phone_class("PT") == "unknown"
    with pytest.raises(LabelError, match="PT"):
        to_ipa("PT")


def test_ipa_round_trip_through_normaliser():
    # every phone's IPA maps back to the same phone with the ipa scheme
    for ph in ARPABET:
        assert normalize_label(to_ipa(ph), "ipa") == ph, ph


@pytest.mark.parametrize(
    ("raw", "scheme", "expected"),
    [
        ("AH0", "arpabet", "AH"),
        ("er1", "arpabet", "ER"),
        ("ax", "timit", "AH"),
        ("ix", "timit", "IH"),
        ("axr", "timit", "ER"),
        ("ux", "timit", "UW"),
        ("en", "timit", "N"),
        ("eng", "timit", "NG"),
        ("hv", "timit", "HH"),
        ("dx", "timit", "D"),
        ("h#", "timit", "sil"),
        ("pau", "timit", "sil"),
        ("epi", "timit", "sil"),
        ("q", "timit", "sil"),
        ("tcl", "timit", "T"),
        ("tʲ", "ipa", "T"),
        ("kʰ", "ipa", "K"),
        ("iː", "ipa", "IY"),
        ("n̩", "ipa", "N"),
        ("ɚ", "ipa", "ER"),
        ("aj", "ipa", "AY"),
        ("dʒ", "ipa", "JH"),
        ("ɾ", "ipa", "D"),
        ("@", "sampa", "AH"),
        ("eI", "sampa", "EY"),
        ("D", "sampa", "DH"),
        ("D", "arpabet", "D"),
        ("{", "sampa", "AE"),
        ("", "arpabet", "sil"),
        ("sp", "arpabet", "sil"),
        ("spn", "ipa", "spn"),
        ("<unk>", "arpabet", "spn"),
        ("+BREATH+", "arpabet", "spn"),
        ("PT", "arpabet", None),
    ],
)
def test_normalize_label(raw, scheme, expected):
    assert normalize_label(raw, scheme) == expected


def test_unknown_scheme_rejected():
    with pytest.raises(LabelError, match="klingon"):
        normalize_label("AA", "klingon")


def test_detect_scheme():
    assert detect_scheme(["AH0", "B", "sil"]) == "arpabet"
    assert detect_scheme(["h#", "sh", "iy"]) == "timit"
    assert detect_scheme(["m", "ə", "r"]) == "ipa"
    assert detect_scheme(["aj", "f", "i"]) == "ipa"
    assert detect_scheme(["d", "eI", "D", "V"]) == "sampa"


def test_unknown_labels_kept_and_reported():
    out, unknown, scheme = normalize_labels(["B", "PT", "AA1", "PT", "XX"])
    assert out == ["B", "PT", "AA", "PT", "XX"]
    assert unknown == ("PT", "XX")
    assert scheme == "arpabet"


def test_module_exports_names_other_modules_import():
    assert callable(L.phone_class) and callable(L.to_ipa)


# --- transcript normalisation -------------------------------------------------


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (115, "one hundred fifteen"),
        (1000, "one thousand"),
        (2024, "two thousand twenty four"),
        (9999, "nine thousand nine hundred ninety nine"),
        (1_000_001, "one million one"),
        (
            10**15 - 1,
            "nine hundred ninety nine trillion nine hundred ninety nine billion "
            "nine hundred ninety nine million nine hundred ninety nine thousand "
            "nine hundred ninety nine",
        ),
    ],
)
def test_number_to_words(n, words):
    assert number_to_words(n) == words


def test_years_and_ordinals():
    assert year_to_words(1984) == "nineteen eighty four"
    assert year_to_words(1900) == "nineteen hundred"
    assert year_to_words(2005) == "two thousand five"
    assert year_to_words(2019) == "twenty nineteen"
    assert year_to_words(1906) == "nineteen oh six"
    assert [ordinal_to_words(i) for i in (1, 2, 3, 5, 12, 20, 22, 100)] == [
        "first",
        "second",
        "third",
        "fifth",
        "twelfth",
        "twentieth",
        "twenty second",
        "one hundredth",
    ]


def test_normalize_transcript():
    assert normalize_transcript("Don't ask me to carry an oily rag like that.") == [
        "don't", "ask", "me", "to", "carry", "an", "oily", "rag", "like", "that",
    ]  # fmt: skip
    assert (
        normalize_transcript("In 1984, 1,250 people paid $3 for the 2nd, 3.5 %")
        == (
            "in nineteen eighty four one thousand two hundred fifty people paid three dollars "
            "for the second three point five percent"
        ).split()
    )
    assert normalize_transcript("THE COMMISSION — ALSO “RECOMMENDS” <VOCNOISE> [adif]") == [
        "the", "commission", "also", "recommends", "adif",
    ]  # fmt: skip
    assert normalize_transcript("  ...  ") == []


@pytest.mark.parametrize("odd", ["?", "@", "3", "{", "4", "5"])
def test_one_sampa_symbol_does_not_turn_an_arpabet_tier_into_sampa(odd):
    # one SAMPA-only label switched the whole tier: D -> DH, S -> SH, T -> TH, N -> NG
    raw = ["sil", "D", "AH0", odd, "S", "T", "N", "Z", "IY1"]
    assert detect_scheme(raw) == "arpabet"
    out, unknown, scheme = normalize_labels(raw)
    assert scheme == "arpabet"
    assert out == ["sil", "D", "AH", odd, "S", "T", "N", "Z", "IY"]
    assert unknown == (odd,)
    warning = scheme_warning(raw)
    assert warning is not None
    # ARPAbet maps all but the odd label; X-SAMPA maps D, odd, S, T, N, Z (not AH0, IY1)
    assert "read as arpabet (7 of 8 phone labels map as arpabet, 6 as X-SAMPA)" in warning
    assert repr(odd) in warning


def test_sampa_tier_is_still_sampa_and_a_close_call_is_reported():
    the_cat_sits = ["sil", "D", "@", "k", "{", "t", "s", "I", "t", "s", "sil"]
    assert detect_scheme(the_cat_sits) == "sampa"
    out, unknown, _ = normalize_labels(the_cat_sits)
    assert out == ["sil", "DH", "AH", "K", "AE", "T", "S", "IH", "T", "S", "sil"]
    assert unknown == ()
    assert scheme_warning(the_cat_sits) is None  # 9 of 9 as X-SAMPA, 6 as ARPAbet
    close = ["D", "@", "S", "T", "N"]  # 5 as X-SAMPA, 4 as ARPAbet
    assert detect_scheme(close) == "sampa"
    warning = scheme_warning(close)
    assert warning is not None and "read as X-SAMPA" in warning and "'@'" in warning
    assert scheme_warning(["AH0", "B", "sil"]) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # grouped numbers with decimals, ordinals and currency read as one number
        ("1,234.5", "one thousand two hundred thirty four point five"),
        ("2,000th", "two thousandth"),
        ("1,000,000th", "one millionth"),
        ("the 1,001st night", "the one thousand first night"),
        ("$1,000.50", "one thousand dollars and fifty cents"),
        ("1,000,000,000,000", "one trillion"),
        ("1,500,000,000,000.25", "one trillion five hundred billion point two five"),
        # money: dollars and cents, singular, scale words after the amount
        ("$3.50", "three dollars and fifty cents"),
        ("$1", "one dollar"),
        ("$1.01", "one dollar and one cent"),
        ("$0.50 or $.75", "fifty cents or seventy five cents"),
        ("$2.00", "two dollars"),
        ("$1.5 million", "one point five million dollars"),
        ("$2 Billion", "two billion dollars"),
        ("$2.125", "two point one two five dollars"),
        ("\u00a32.50 and \u20ac1", "two pounds and fifty pence and one euro"),
        # plural and possessive numbers: the suffix goes on the last word
        ("1984's", "nineteen eighty four's"),
        ("the 1990s and '60s", "the nineteen nineties and sixties"),
        ("THE 1900S", "the nineteen hundreds"),
        ("in 6s and 2s", "in sixes and twos"),
        ("2,000's", "two thousand's"),
        # a minus sign
        ("-5 or \u22123.5 but x-5", "minus five or minus three point five but x five"),
        # a decimal without a leading digit
        (".5 of it", "point five of it"),
    ],
)
def test_normalize_transcript_numbers(text, words):
    assert normalize_transcript(text) == words.split()


def test_normalize_transcript_refuses_only_with_alignment_error():
    from vtract.errors import AlignmentError

    # grouped numbers beyond the trillions: a clear error naming the number (cut short)
    big = "1" + ",000" * 5
    with pytest.raises(AlignmentError, match=r"number '1,000,000,000,000,000' .*too large"):
        normalize_transcript(f"about {big} stars")
    with pytest.raises(AlignmentError, match="too large"):
        normalize_transcript(big + "th")
    huge = "1" + ",000" * 5000
    with pytest.raises(AlignmentError) as info:
        normalize_transcript(huge)
    assert len(str(info.value)) < 200
    # long digit strings (beyond Python's int-conversion limit too) are read digit by digit
    assert normalize_transcript("1" * 5000) == ["one"] * 5000
    assert normalize_transcript("0" * 5000 + "7th") == ["seventh"]
    assert normalize_transcript("1234567890123") == (
        "one two three four five six seven eight nine zero one two three".split()
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # Unicode fractions, alone and after a whole number (NFKD made "3½" "31/2")
        ("\u00bd", "one half"),
        ("3\u00bd cups", "three and a half cups"),
        ("2\u00be miles", "two and three quarters miles"),
        ("1\u215b inch", "one and an eighth inch"),
        ("\u2154 of them", "two thirds of them"),
        # clock times
        ("at 10:30", "at ten thirty"),
        ("at 10:05", "at ten oh five"),
        ("at 10:00", "at ten o'clock"),
        ("at 14:00", "at fourteen hundred"),
        ("9:00 p.m.", "nine p m"),
        # ranges: a hyphen or en dash between numbers that go up reads "to"
        ("1990-1995", "nineteen ninety to nineteen ninety five"),
        ("1990\u20131995", "nineteen ninety to nineteen ninety five"),
        ("1990-95", "nineteen ninety to ninety five"),
        ("the 1960s\u201370s", "the nineteen sixties to seventies"),
        ("5-10%", "five to ten percent"),
        ("$5-$10", "five dollars to ten dollars"),
        ("21st-23rd", "twenty first to twenty third"),
        # ... not a score, a chain or a date
        ("won 3-2", "won three two"),
        ("2020-01-15", "twenty twenty zero one fifteen"),
        # telephone numbers, digit by digit (a range when they could be one)
        ("call 555-1234", "call five five five one two three four"),
        ("phone: 555-1200", "phone five five five one two zero zero"),
        ("555-0199", "five five five zero one nine nine"),  # 199 < 555: not a range
        ("867-5309", "eight hundred sixty seven to five thousand three hundred nine"),
        ("555-123-4567", "five five five one two three four five six seven"),
        ("(555) 123-4567.", "five five five one two three four five six seven"),
        ("1-800-555-1234", "one eight hundred five five five one two three four"),
        ("+1 202-555-0100", "one two zero two five five five zero one zero zero"),
        ("200-1000 people", "two hundred to one thousand people"),
        ("300-1500", "three hundred to fifteen hundred"),
        ("123-4567", "one hundred twenty three to four thousand five hundred sixty seven"),
        ("the years 476-1453", "the years four hundred seventy six to fourteen fifty three"),
        ("in 700-1066 AD", "in seven hundred to one thousand sixty six ad"),
        ("pages 250-1999", "pages two hundred fifty to nineteen ninety nine"),
        # thousands grouped with a no-break or thin space
        ("10\u00a0000 people", "ten thousand people"),
        ("5\u202f000\u202f000", "five million"),
        ("2\u2009500.5", "two thousand five hundred point five"),
        # ordinals
        (
            "21st 22nd 23rd 101st 111th 112th",
            (
                "twenty first twenty second twenty third one hundred first one hundred eleventh "
                "one hundred twelfth"
            ),
        ),
    ],
)
def test_normalize_transcript_fractions_times_ranges(text, words):
    assert normalize_transcript(text) == words.split()


def test_words_in_other_scripts_are_refused_not_dropped():
    """'Straße' became 'stra e' and 'привет world' became 'world': the dropped words'
    audio was squeezed into the others'. Accents still fold (café -> cafe)."""
    from vtract.errors import AlignmentError

    assert normalize_transcript("Café naïve résumé") == ["cafe", "naive", "resume"]
    for text, word in [("Straße", "straße"), ("привет world", "привет"), ("东京 Tokyo", "东京")]:
        with pytest.raises(AlignmentError, match=f"outside English: '{word}'"):
            normalize_transcript(text)


@pytest.mark.parametrize("mark", ["\u00b4", "`", "\u2032", "\u2019"])
def test_apostrophe_look_alikes_are_apostrophes(mark):
    """Session-30 probe F1: "don´t" became the dictionary words "don" and "t" (T IY), so
    the aligner looked for sounds nobody made, with nothing reported."""
    assert normalize_transcript(f"I don{mark}t know what it{mark}s for") == [
        "i", "don't", "know", "what", "it's", "for",
    ]  # fmt: skip


def test_marked_non_speech_events_are_removed_other_bracketed_words_kept():
    """Session-30 probe F2: "[noise]" and "(laughs)" were aligned as the words "noise" and
    "laughs", squeezing the next word into 60 ms."""
    text = "degrees [noise] in (laughs) the *cough* shade {Sigh} +breath+ [vocalized-noise] now"
    assert normalize_transcript(text) == ["degrees", "in", "the", "shade", "now"]
    # a cut-off word in brackets and spoken words in parentheses stay
    assert normalize_transcript("the [adif] man (who was tall) *really* left") == [
        "the", "adif", "man", "who", "was", "tall", "really", "left",
    ]  # fmt: skip
    # the bare words are words
    assert normalize_transcript("the noise and the silence") == [
        "the", "noise", "and", "the", "silence",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "signs"),
    [
        ("It was 40\u00b0 in the shade", "'\u00b0'"),
        ("it cost 5 \u20ac", "'\u20ac'"),
        ("it cost 5$", "'$'"),
        ("\u00a5500", "'\u00a5'"),
        ("#1 hit", "'#'"),
        ("2 + 2 = 4", "'+', '='"),
        ("3 \u00d7 4", "'\u00d7'"),
        ("me@example.com", "'@'"),
        ("\u00b13 dB", "'\u00b1'"),
        ("5 * 3", "'*'"),
        # session 31: dropped ("\u2030", emoji) or spelled as letters by NFKD ("Acme\u2122"
        # -> "acmetm", "x\u00b2" -> "x2", "\u2116 5" -> "no five")
        ("a 5 \u2030 rate", "'\u2030'"),
        ("Acme\u2122 rocks", "'\u2122'"),
        ("\u2116 5", "'\u2116'"),
        ("x\u00b2 plus y", "'\u00b2'"),
        ("H\u2082O", "'\u2082'"),
        ("3 \u338f", "'\u338f'"),
        ("I \u2764 NY", "'\u2764'"),
        ("good \U0001f44d job", "'\U0001f44d'"),
    ],
)
def test_signs_said_aloud_are_refused_not_dropped(text, signs):
    """Session-30 probe F3: they were dropped silently ("40°" -> "forty"), so the words
    around them were aligned into their audio."""
    from vtract.errors import AlignmentError

    with pytest.raises(AlignmentError, match=f"says aloud: {re.escape(signs)};"):
        normalize_transcript(text)


def test_numero_abbreviation_before_a_number_is_read_as_number():
    """Session 31: "No. 5" was aligned as "no five"."""
    assert normalize_transcript("No. 5 and Nos. 3 and 4") == [
        "number", "five", "and", "numbers", "three", "and", "four",
    ]  # fmt: skip
    # not before a number, or not capitalised (a sentence's "no."), it stays "no"
    assert normalize_transcript("No. I said no. 5 left") == [
        "no", "i", "said", "no", "five", "left",
    ]  # fmt: skip


def test_music_notes_marking_sung_lines_are_removed():
    assert normalize_transcript("\u266a la la \u266b") == ["la", "la"]


def test_signs_that_are_read_or_silent_still_pass():
    assert normalize_transcript("$5, \u00a33 & 10% -- a|b *yes* (ok)") == [
        "five", "dollars", "three", "pounds", "and", "ten", "percent", "a", "b", "yes", "ok",
    ]  # fmt: skip
