"""Report rendering: JSON schema, custody block, determinism, HTML, PDF, browser."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from html.parser import HTMLParser

import jsonschema
import numpy as np
import pytest

from _reports import FakeReference, make_evidence, make_report
from vtract.errors import VtractError
from vtract.report import (
    CLI_RECORD_KEYS,
    SCHEMA_VERSION,
    Report,
    report_schema,
    strip_timestamps,
    validate_report_dict,
)

# --- JSON schema -------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12_and_versioned():
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION


@pytest.mark.parametrize("empty", [False, True])
def test_reports_validate_against_schema(empty):
    data = json.loads(make_report(empty=empty).to_json())
    validate_report_dict(data)
    assert data["n_bigrams"] == len(data["bigrams"]) == (0 if empty else 3)


def test_non_finite_values_become_null_and_still_validate():
    data = json.loads(make_report().to_json())
    third = data["bigrams"][2]
    assert third["areas_cm2"][1] is None and third["deviation"] is None


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(verdict="maybe"), "maybe"),
        (lambda d: d.update(sha256="not-a-hash"), "not-a-hash"),
        (lambda d: d.pop("chain_of_custody"), "chain_of_custody"),
        (lambda d: d["flags"][0].update(severity="fatal"), "fatal"),
        (lambda d: d.update(score=1.5), "1.5"),
        (lambda d: d.update(surprise=1), "surprise"),
    ],
)
def test_schema_rejects_broken_reports(mutate, message):
    data = json.loads(make_report().to_json())
    mutate(data)
    with pytest.raises(jsonschema.ValidationError, match=message):
        validate_report_dict(data)


def test_schema_documents_every_field_to_dict_writes():
    data = make_report().to_dict()
    props = report_schema()["properties"]
    assert set(data) == set(props) - set(CLI_RECORD_KEYS)  # html*: vtract analyze's own keys
    for key, _spec in report_schema()["$defs"]["bigram"]["properties"].items():
        assert key in data["bigrams"][0], key


# --- chain of custody / determinism ------------------------------------------------------


def test_custody_block_carries_hashes_versions_parameters_and_time():
    rep = make_report()
    custody = rep.to_dict()["chain_of_custody"]
    assert custody["evidence"]["sha256"] == rep.sha256
    assert custody["evidence"]["pcm_sha256"] == rep.pcm_sha256
    assert custody["software"]["version"] == rep.provenance["version"]
    assert custody["software"]["dependencies"]["numpy"] == np.__version__
    assert custody["aligner"]["model_files"] == rep.alignment["meta"]["aligner"]["files"]
    assert custody["aligner"]["engine"] == "pocketsphinx"
    assert custody["reference"]["sha256"] == rep.reference["sha256"]
    assert custody["parameters"] == {"method": "default", "window": 565}
    assert custody["created_utc"] == rep.provenance["created_utc"]
    assert custody["created_utc"].endswith("Z")
    assert custody["platform"]["python"]


def test_same_input_gives_same_json_apart_from_timestamps():
    a = json.loads(make_report().to_json())
    b = make_report()
    b.provenance["created_utc"] = "1999-01-01T00:00:00Z"
    b = json.loads(b.to_json())
    assert a != b  # only the timestamps differ ...
    assert strip_timestamps(a) == strip_timestamps(b)  # ... and nothing else
    changed = copy.deepcopy(b)
    changed["bigrams"][0]["score"] = 0.21
    assert strip_timestamps(a) != strip_timestamps(changed)


@pytest.mark.parametrize("empty", [False, True])
def test_json_round_trips_through_from_json(empty):
    text = make_report(empty=empty).to_json()
    again = Report.from_json(text)
    assert again.to_json() == text
    assert np.isnan(again.bigrams[2].deviation) if not empty else again.bigrams == []


def test_from_dict_refuses_other_versions_and_junk():
    data = json.loads(make_report().to_json())
    with pytest.raises(VtractError, match="schema_version"):
        Report.from_dict({**data, "schema_version": "0.1"})
    del data["sha256"]
    with pytest.raises(VtractError, match="not a vtract report"):
        Report.from_dict(data)


def test_to_json_is_sorted_and_stable():
    text = make_report(timestamp=False).to_json()
    assert text == make_report(timestamp=False).to_json()
    keys = list(json.loads(text))
    assert keys == sorted(keys)


# --- HTML --------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self._in_script: dict | None = None
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in ("meta", "img", "br"):
            self._stack.append(tag)
        if tag == "script":
            self._in_script = attrs
            self.scripts.append((attrs, ""))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("href", "src"):
            if tag != "img" and key in attrs:
                self.links.append(attrs[key])

    def handle_endtag(self, tag):
        assert self._stack and self._stack[-1] == tag, (self._stack[-5:], tag)
        self._stack.pop()
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


@pytest.fixture(scope="module")
def html_report(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "report.html"
    rep = make_report()
    text = rep.to_html(path, evidence=make_evidence(), reference=FakeReference())
    return rep, path, text


def test_html_is_one_self_contained_well_formed_file(html_report):
    rep, path, text = html_report
    assert path.read_text("utf-8") == text
    parser = _Collector()
    parser.feed(text)
    parser.close()
    assert parser._stack == []
    assert parser.links == []  # no external stylesheet, script or link
    assert len(parser.images) == 6  # overview, timeline, areas, tube, 2 distributions
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)
    # the only script is the embedded JSON, and it round-trips
    ((attrs, payload),) = parser.scripts
    assert attrs["type"] == "application/json"
    assert json.loads(payload) == json.loads(rep.to_json())


def test_html_escapes_hostile_text(html_report):
    _, _, text = html_report
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;evil.wav" in text
    assert "<b>wide</b>" not in text and "&lt;b&gt;wide&lt;/b&gt;" in text
    assert "&lt;TextGrid&gt;" in text


def test_html_puts_verdict_and_uncertainty_first(html_report):
    rep, _, text = html_report
    assert text.count('<div class="thr"') == 2  # the two score_* thresholds on the gauge
    order = [
        text.index(">synthetic</div>"),
        text.index("score 0.81"),
        text.index("Uncertainty:"),
        text.index("Evidence (3 bigrams)"),
        text.index("<h2>Plots"),
        text.index("Chain of custody"),
        text.index("What this method can and cannot show"),
    ]
    assert order == sorted(order)
    for value in (
        rep.sha256,
        rep.pcm_sha256,
        rep.reference["sha256"],
        *rep.alignment["meta"]["aligner"]["files"].values(),
    ):
        assert value in text


def test_html_states_the_calibrated_false_positive_rate():
    rep = make_report()
    assert "calibrated to call" not in rep.to_html()
    rep.thresholds["target_fpr"] = 0.01
    # an old calibration (no conformal bound) kept the rate on its own recordings
    assert "calibrated to call at most 1% of the organic calibration recordings" in rep.to_html()
    rep.thresholds["fpr_bound"] = 3 / 308
    html = rep.to_html()
    assert "set for a false-positive rate of 1%" in html
    assert "called synthetic with probability at most 0.974%" in html
    assert "calibrated to call" not in html
    # a threshold that counts speakers says whose recording the bound is for
    rep.thresholds["fpr_bound_speakers"] = 330.0
    html = rep.to_html()
    assert "counted over 330 organic calibration speakers rather than their recordings" in html
    assert "a recording of a new speaker" in html and "at most 0.974%" in html


def test_html_header_points_to_container_findings():
    """The banner called every container finding a disagreement ("truncated, altered or
    never finalised"), also a note that tags follow a FLAC stream (session-27 review):
    it counts the findings and says how many of them are a cut."""
    rep = make_report()
    assert "container has" not in rep.to_html()
    rep.warnings.insert(0, "container: an APEv2 tag follows the FLAC stream: written by a tool")
    header = rep.to_html()[: rep.to_html().index("</header>")]
    assert "The file&#x27;s container has 1 finding(s) under Warnings: where" in header
    assert "cut short" not in header
    rep.warnings.insert(0, "container: truncated: the WAV data chunk declares 3.000 s of audio")
    html = rep.to_html()
    header = html[html.index("<header") : html.index("</header>")]
    assert "has 2 finding(s) under Warnings, 1 saying the file was cut short" in header
    assert "container: truncated: the WAV data chunk declares 3.000 s" in html


def test_html_warns_that_an_organic_verdict_does_not_clear_a_recording():
    text = make_report().to_html()
    start = text.index("What this method can and cannot show")
    assert "An &#x27;organic&#x27; verdict does not clear a recording" in text[start:]
    assert "Piper VITS and espeak-ng" in text[start:]
    assert "six-talker babble added at 20 dB SNR" in text[start:]  # noise the checks miss


def test_html_of_empty_report_and_without_extras(tmp_path):
    text = make_report(empty=True, file=None).to_html(tmp_path / "e.html")
    assert "inconclusive" in text and "No bigram could be analysed" in text
    assert "(in-memory audio)" in text
    assert text.count("data:image/png;base64,") == 1  # overview only


def test_evidence_of_another_recording_is_refused(tmp_path):
    other = make_evidence(seed=5)
    with pytest.raises(VtractError, match="not the recording this report is about"):
        make_report().to_html(tmp_path / "x.html", evidence=other)
    with pytest.raises(VtractError, match="not the recording"):
        make_report().to_pdf(tmp_path / "x.pdf", evidence=other)
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("spelling", ["same", "other_spelling", "symlink", "evidence_object"])
@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_report_is_never_written_over_its_evidence(tmp_path, kind, spelling):
    """Report.to_html(evidence path) replaced the evidence with HTML (session 25 probe)."""
    from vtract.output_files import OutputOverInputError

    folder = tmp_path / "ev"
    folder.mkdir()
    audio = folder / "call.wav"
    audio.write_bytes(b"RIFF evidence bytes")
    rep = make_report(file=None if spelling == "evidence_object" else str(audio))
    evidence = None
    if spelling == "evidence_object":  # the report does not know its file; the Evidence does
        evidence = make_evidence()
        object.__setattr__(evidence, "path", audio)
    out = {
        "same": audio,
        "other_spelling": folder / ".." / "ev" / "call.wav",
        "symlink": tmp_path / "report.html",
        "evidence_object": audio,
    }[spelling]
    if spelling == "symlink":
        out.symlink_to(audio)
    write = rep.to_html if kind == "html" else rep.to_pdf
    with pytest.raises(OutputOverInputError, match="refusing to overwrite evidence"):
        write(out, evidence=evidence)
    assert audio.read_bytes() == b"RIFF evidence bytes"
    assert sorted(p.name for p in folder.iterdir()) == ["call.wav"]


def test_pdf_is_written_atomically(tmp_path, monkeypatch):
    """to_pdf wrote straight into the destination: a failure left half a PDF over the old one."""
    import vtract.report_pdf as report_pdf

    out = tmp_path / "r.pdf"
    out.write_bytes(b"previous report")

    def failing(report, path, **kwargs):
        path.write_bytes(b"%PDF half")
        raise KeyboardInterrupt

    monkeypatch.setattr(report_pdf, "write_pdf", failing)
    with pytest.raises(KeyboardInterrupt):
        make_report().to_pdf(out)
    assert out.read_bytes() == b"previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf"]


def test_pdf_has_summary_and_figure_pages(tmp_path):
    out = make_report().to_pdf(tmp_path / "r.pdf")
    raw = out.read_bytes()
    assert raw.startswith(b"%PDF")
    # summary + 3 figures + limitations
    assert raw.count(b"/Type /Page\n") + raw.count(b"/Type /Page ") >= 5


def test_report_plot_kinds():
    rep = make_report()
    # the points are per-bigram atypicality, not a synthetic score (session 31 probe F2)
    assert rep.plot().get_ylabel() == "bigram atypicality;\nrecording score"
    assert len(rep.plot(kind="areas").patches) >= 3
    with pytest.raises(ValueError, match="kind"):
        rep.plot(kind="pie")


# --- real browser ------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_html_renders_in_headless_chromium(html_report, tmp_path):
    _, path, _ = html_report
    png = tmp_path / "shot.png"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
        "--window-size=1200,2000", path.resolve().as_uri(),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[:2] == (2000, 1200)
    rgb = img[..., :3]
    assert rgb.std() > 0.05  # not a blank page
    # the red verdict badge (#b3261e) is on screen near the top
    top = rgb[:400]
    red = (np.abs(top[..., 0] - 0xB3 / 255) < 0.03) & (np.abs(top[..., 1] - 0x26 / 255) < 0.03)
    assert red.sum() > 2000


def test_html_shows_the_tract_dynamics_against_the_organic_range():
    rep = make_report()
    assert "Recording-level tract dynamics" not in rep.to_html()
    params = rep.provenance["parameters"]
    params["descriptors"] = {"shape_spread": 1.9, "f1_spread": 250.0}
    params["descriptor_organic_ranges"] = {
        "shape_spread": [0.8, 1.1, 1.5],
        "f1_spread": [150.0, 300.0, 600.0],
    }
    text = rep.to_html()
    assert "Recording-level tract dynamics" in text
    # outside the organic 5-95 % range -> bold; inside -> plain
    assert "<b>1.9</b>" in text and "<b>250</b>" not in text
    assert "0.8 – 1.5" in text and "150 – 600" in text
    # the heading names the voice shimmer only when the model uses it
    assert "and voice shimmer</h2>" not in text
    params["descriptors"]["log_shimmer"] = -2.0
    assert "Recording-level tract dynamics and voice shimmer</h2>" in rep.to_html()


def test_html_keeps_flag_codes_and_bigrams_whole(html_report):
    rep, _, text = html_report
    style = text[text.index("<style>") : text.index("</style>")]
    code_rule = style[style.index(".code{") :]
    code_rule = code_rule[: code_rule.index("}")]
    assert "break-all" not in code_rule and "keep-all" in code_rule  # hashes may break, codes not
    for flag in rep.flags:
        assert f"<td class='code'>{flag.code}</td>" in text
    for b in rep.bigrams:
        assert f"<td class='code'>{b.bigram}</td>" in text


def _conditions_rows(text: str) -> list[list[str]]:
    """The cells of the 'Conditions for a verdict' table, row by row (tags removed)."""
    import html
    import re

    section = text[text.index("Conditions for a verdict") :]
    section = section[section.index("<tbody>") : section.index("</tbody>")]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell))
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", section)
    ]


def test_html_lists_the_conditions_for_a_verdict_with_their_values():
    """Rate, high band, spectral edge, noise, room and estimator code, as vtract.analyze judged them."""
    rep = make_report()
    rows = _conditions_rows(rep.to_html())  # a report without the measurements
    assert [r[3] for r in rows] == ["met"] + ["not measured"] * 5
    assert rows[0][1:3] == ["16000 Hz", "≥ 16000 Hz"]

    params = rep.provenance["parameters"]
    params.update(
        high_band_level_db=-47.2,
        spectral_edge_hz=6250.0,
        spectral_edge_drop_db=41.3,
        speech_to_floor_db=41.0,
        steepest_decay_db=24.5,
        estimator_code_sha256="a" * 64,
    )
    rep.reference["estimator_code_sha256"] = "b" * 64
    rows = _conditions_rows(rep.to_html())
    assert [r[3] for r in rows] == ["met", "met", "not met", "met", "met", "not met"]
    # long-term; quieter frames (a report of an older vtract has no quieter-frame values)
    assert rows[1][1:3] == ["-47.2 dB; –", "≥ -55 dB; ≥ -45 dB"]
    assert rows[2][1:3] == ["41.3 dB near 6.25 kHz; –", "< 25 dB; < 22 dB"]
    params.update(
        quiet_high_band_level_db=-71.5,
        quiet_spectral_edge_hz=4500.0,
        quiet_spectral_edge_drop_db=12.0,
    )
    rows = _conditions_rows(rep.to_html())
    assert [r[3] for r in rows] == ["met", "not met", "not met", "met", "met", "not met"]
    assert rows[1][1] == "-47.2 dB; -71.5 dB"
    assert rows[2][1] == "41.3 dB near 6.25 kHz; 12 dB near 4.5 kHz"
    for key in (
        "quiet_high_band_level_db",
        "quiet_spectral_edge_hz",
        "quiet_spectral_edge_drop_db",
    ):
        del params[key]
    # floor; valley floor (session 29; a report of an older vtract has no valley value)
    assert rows[3][1:3] == ["41 dB; –", "≥ 32 dB; ≥ 38.5 dB"]
    assert rows[4][1:3] == ["24.5 dB", "≥ 13 dB"]
    assert rows[5][1] == "reference bbbbbbbbbbbb…, this vtract aaaaaaaaaaaa…"
    rep.reference["estimator_code_sha256"] = "a" * 64
    rep.evidence["original_sr"] = 8000
    params["speech_to_floor_db"] = 12.4
    params["steepest_decay_db"] = 8.25
    rows = _conditions_rows(rep.to_html())
    assert [r[3] for r in rows] == ["not met", "met", "not met", "not met", "not met", "met"]
    assert rows[3][1] == "12.4 dB; –"
    assert rows[4][1] == "8.25 dB"
    assert rows[5][1] == "the same"
    # the shares of digital silence the noise and room measures left out (session 28)
    params.update(digital_silence_share=0.2404, digital_silence_between_sounds_share=0.0512)
    rows = _conditions_rows(rep.to_html())
    left_out = "; digital silence left out: 24 % of the frames, 5 % of those between the first "
    assert rows[3][1] == f"12.4 dB; –{left_out}and last sound"
    assert rows[4][1] == f"8.25 dB{left_out}and last sound"
    # noise under the speech with quiet-looking pauses (session 29): the floor passes, the
    # valley floor does not
    params.update(speech_to_floor_db=61.2, speech_to_valley_floor_db=27.44)
    rows = _conditions_rows(rep.to_html())
    assert rows[3][1] == f"61.2 dB; 27.4 dB{left_out}and last sound"
    assert rows[3][3] == "not met"


def test_conditions_and_warning_say_what_digital_silence_was_left_out():
    """Session 28 (probe F2): the noise and room measures leave digital silence out; the
    reasons say how much, and gated pauses (5 % of the frames between sounds) get a warning."""
    from vtract.verdict_conditions import (
        gated_pauses_warning,
        verdict_conditions,
        verdict_thresholds,
    )

    conditions = verdict_conditions(
        16000,
        None,
        None,
        speech_to_floor_db=20.0,
        steepest_decay_db=6.0,
        digital_silence_share=0.3,
        digital_silence_between_sounds_share=0.2,
    )
    by_key = {c.key: c for c in conditions}
    assert by_key["noise_floor"].reason.endswith(
        "so an organic verdict would say little (measured without the 30 % of the frames "
        "that are digital silence)"
    )
    assert by_key["reverberation"].reason.endswith("that are digital silence)")
    clean = verdict_conditions(16000, None, None, speech_to_floor_db=20.0)
    assert "digital silence" not in next(c for c in clean if c.key == "noise_floor").reason
    # the rule is part of what a batch table records, so a table measured before is not resumed
    assert verdict_thresholds()["digital_silence_db"] == 100.0
    assert verdict_thresholds()["zero_run_seconds"] == 0.002
    assert gated_pauses_warning(0.049) is None and gated_pauses_warning(None) is None
    warning = gated_pauses_warning(0.05)
    assert warning is not None and warning.startswith(
        "5 % of the 20 ms frames between the first and last sound of the evidence are digital "
        "silence"
    )


# --- session-26 report probe -------------------------------------------------------------


def _non_utf8_evidence(tmp_path):
    from _shared import non_utf8_copy

    audio = tmp_path / "src.flac"
    audio.write_bytes(b"fLaC evidence bytes")
    return non_utf8_copy(audio, tmp_path / "case")


@pytest.mark.parametrize("reloaded", [False, True])
@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_evidence_whose_name_is_not_utf8_is_never_overwritten(tmp_path, kind, reloaded):
    """The guard compared the output with the report's display name ('bad\\xff...'), not
    the file's name, so to_pdf(evidence) replaced the evidence with a PDF (probe F2)."""
    from vtract.output_files import OutputOverInputError
    from vtract.provenance import path_text

    odd = _non_utf8_evidence(tmp_path)
    rep = make_report(file=path_text(odd.resolve()))
    assert rep.file.endswith("bad\\xff_good.flac")
    if reloaded:  # a report read back from its JSON knows only the text
        rep = Report.from_json(rep.to_json())
    write = rep.to_html if kind == "html" else rep.to_pdf
    link = tmp_path / "link.out"
    link.symlink_to(odd)
    for out in (odd, str(odd), tmp_path / "case" / ".." / "case" / odd.name, link):
        with pytest.raises(OutputOverInputError, match="refusing to overwrite evidence"):
            write(out)
    assert odd.read_bytes() == b"fLaC evidence bytes"
    assert sorted(p.name for p in (tmp_path / "case").iterdir()) == [odd.name]


def test_output_named_like_the_evidence_text_is_refused(tmp_path):
    """A name that really holds the four characters '\\xff' reads like the escaped byte:
    the report cannot tell which file it means, so neither is written over."""
    from vtract.output_files import OutputOverInputError
    from vtract.provenance import path_text

    odd = _non_utf8_evidence(tmp_path)
    rep = make_report(file=path_text(odd.resolve()))
    literal = tmp_path / "case" / "bad\\xff_good.flac"  # backslash, x, f, f
    with pytest.raises(OutputOverInputError, match="refusing to overwrite evidence"):
        rep.to_html(literal)
    assert not literal.exists()
    rep.to_html(tmp_path / "case" / "report.html")  # any other name is written


@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_reference_other_than_the_analysed_one_is_refused(tmp_path, kind):
    """Figures of another reference were drawn under a custody block naming the one the
    report was analysed with (probe F3)."""
    rep = make_report()
    write = rep.to_html if kind == "html" else rep.to_pdf
    other = FakeReference(sha256="ab" * 32)
    with pytest.raises(VtractError, match=f"reference given \\(sha256 {'ab' * 32}\\) is not"):
        write(tmp_path / f"r.{kind}", reference=other)
    no_hash = FakeReference()
    del no_hash.sha256
    with pytest.raises(VtractError, match="reference given has no sha256"):
        write(tmp_path / f"r.{kind}", reference=no_hash)
    assert not (tmp_path / f"r.{kind}").exists()
    write(tmp_path / f"r.{kind}", reference=FakeReference())  # the analysed reference draws


def _long_report():
    rep = make_report()
    rep.file = "/evidence/" + "/".join(f"folder{i:03d}" for i in range(40)) + "/call.wav"
    rep.thresholds = {
        "score_synthetic_above": 0.5,
        "score_organic_below": 0.3,
        "target_fpr": 0.01,
        "fpr_bound": 0.009504641419535036,
        "slope": 0.902287409948849,
        "threshold": 1.5129216401617835,
        **{f"extra_setting_{i}": float(i) for i in range(20)},
    }
    unknown = [f"UNK{i:03d}_verylonglabel" for i in range(400)]
    rep.warnings = [
        f"alignment labels not understood and skipped: {unknown}",
        "second warning: the channel is band-limited",
    ]
    return rep


def test_pdf_summary_wraps_every_line_and_continues_on_further_pages():
    """The summary was one unwrapped block on one page: the thresholds line ran off the
    right edge (the decision threshold was never visible), and a long warning pushed
    the other warnings and the custody lines off the bottom (probe F4)."""
    from vtract.report_pdf import LINE_WIDTH, LINES_PER_PAGE, paginate, summary_lines

    rep = _long_report()
    lines = summary_lines(rep)
    assert max(len(ln) for ln in lines) <= LINE_WIDTH
    flat = "".join("".join(ln.split()) for ln in lines)  # the text without the wrapping
    custody = rep.custody()
    for must in [
        f"File:{rep.file}",
        *[f"{k}:{v}" for k, v in rep.thresholds.items()],
        *["Warning:" + "".join(w.split()) for w in rep.warnings],
        f"(commit{custody['software']['git_commit']})",
        f"Referencesha256:{rep.reference['sha256']}",
        f"Analysed:{custody['created_utc']}",
        f"Platform:{custody['platform']['platform']}",
    ]:
        assert must in flat, must[:60]
    pages = paginate(lines)
    assert len(pages) >= 2 and all(len(p) <= LINES_PER_PAGE for p in pages)
    assert [ln for p in pages for ln in p if not ln.startswith("(continued, page")] == lines
    assert pages[1][0] == "(continued, page 2)"


def test_pdf_has_every_summary_page_and_draws_each_line_inside_the_page(tmp_path):
    import re

    from vtract.report_pdf import _text_page, paginate, summary_lines

    rep = _long_report()
    n_summary = len(paginate(summary_lines(rep)))
    raw = rep.to_pdf(tmp_path / "long.pdf").read_bytes()
    n_pages = len(re.findall(rb"/Type /Page\b(?!s)", raw))
    # summary pages + overview, areas and tube figures + at least one limitations page
    assert n_pages >= n_summary + 3 + 1
    page = _text_page(paginate(summary_lines(rep))[0])
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(page).get_renderer()
    box = page.bbox
    for text in page.texts:
        ext = text.get_window_extent(renderer)
        assert box.x0 <= ext.x0 and ext.x1 <= box.x1 and box.y0 <= ext.y0 and ext.y1 <= box.y1


@pytest.mark.parametrize("name", ["take$$2.flac", "take$1$.flac", "/mnt/D$/case$17/rec.wav"])
def test_pdf_prints_a_file_name_with_dollars_exactly(tmp_path, name):
    """'$$' in the file name crashed to_pdf (ParseException); 'take$1$.flac' was printed
    as 'take1.flac' in math italics, a file that does not exist (probe F1)."""
    from vtract.report_pdf import _text_page, summary_lines

    rep = make_report(file=name)
    rep.to_pdf(tmp_path / "r.pdf")
    (line,) = [t for t in _text_page(summary_lines(rep)).texts if t.get_text().startswith("File")]
    assert line.get_text() == f"File: {name}"
    assert line._preprocess_math(line.get_text()) == (f"File: {name}", False)


def test_pdf_escapes_characters_its_font_cannot_draw(tmp_path):
    """CJK and Hebrew names were drawn as empty boxes (missing glyphs) on the summary page,
    and an RLO would reorder the name (probe F8): they are printed as \\u escapes."""
    import warnings

    from vtract.report_pdf import _text_page, summary_lines

    rep = make_report(file="/case/\u5f55\u97f3_\u05e9.flac")
    rep.warnings = ["spoofed suspect_\u202ecalf.wav"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph 24405 missing from font(s)" was a warning
        rep.to_pdf(tmp_path / "cjk.pdf")
        page = _text_page(summary_lines(rep))
        page.savefig(tmp_path / "p.png")
    drawn = [t.get_text() for t in page.texts]
    assert "File: /case/\\u5f55\\u97f3_\\u05e9.flac" in drawn
    assert "Warning: spoofed suspect_\\u202ecalf.wav" in drawn
    assert "\u202e" not in "".join(drawn)


def test_html_shows_bidi_controls_in_names_as_escapes():
    """'suspect_<U+202E>calf.wav' was written raw; a browser shows it as 'suspect_vaw.flac'
    (probe F8). Every text in the HTML shows such characters as escapes; the JSON keeps them."""
    name = "/case/suspect_\u202ecalf.wav"
    rep = make_report(file=name)
    rep.warnings = ["zero\u200bwidth"]
    text = rep.to_html()
    for char in ("\u202e", "\u200b"):
        assert char not in text
    assert text.count("suspect_\\u202ecalf.wav") >= 3  # title, header, custody table
    assert "zero\\u200bwidth" in text
    assert Report.from_json(rep.to_json()).file == name


def test_report_plot_areas_leaves_out_bigrams_without_a_length():
    """One bigram with length_cm null (schema-valid) made Report.plot(kind='areas') raise
    PlotInputError for the whole report (probe F9)."""
    data = json.loads(make_report().to_json())
    data["bigrams"][0]["length_cm"] = None
    rep = Report.from_dict(data)
    ax = rep.plot(kind="areas")
    drawn = [t.get_text() for t in ax.get_legend().get_texts()]
    assert drawn == ["human area range", "AH-N @ 0.90 s", "AH-N @ 0.50 s"]
    assert ax.get_title().endswith("; 1 bigram without a tract length not drawn")
    for b in data["bigrams"]:
        b["length_cm"] = None
    with pytest.raises(VtractError, match=r"no bigram area functions to plot \(3 without"):
        Report.from_dict(data).plot(kind="areas")


def _tampered_custody(d):
    d["chain_of_custody"]["evidence"]["sha256"] = "0" * 64


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(verdict="maybe"), "verdict must be one of"),
        (lambda d: d.update(score=5.0), r"score must be a number in \[0, 1\] or null, got 5.0"),
        (lambda d: d.update(score="0.9"), "score must be a number in"),
        (lambda d: d.update(score=None), "verdict 'synthetic' without a score"),
        (lambda d: d.update(sha256="not-a-hash"), "sha256 must be a SHA-256"),
        (lambda d: d.update(pcm_sha256="AB" * 32), "pcm_sha256 must be a SHA-256"),
        (lambda d: d.update(warnings="check the channel"), "warnings must be a list"),
        (lambda d: d.update(warnings=[1]), r"warnings\[0\] must be text"),
        (lambda d: d.update(file=5), "file must be text or null"),
        (lambda d: d.update(alignment="x"), "alignment must be an object"),
        (lambda d: d.update(provenance="abc"), "provenance must be an object"),
        (lambda d: d.update(thresholds={"t": "high"}), "thresholds.t must be a number"),
        (lambda d: d["bigrams"][0].update(flags=None), r"bigrams\[0\].flags must be a list"),
        (lambda d: d["bigrams"][0].update(length_cm="16"), r"bigrams\[0\].length_cm"),
        (lambda d: d["bigrams"][0]["areas_cm2"].__setitem__(1, "x"), r"areas_cm2\[1\]"),
        (lambda d: d["bigrams"][0].update(score=2.0), r"bigrams\[0\].score must be"),
        (lambda d: d["bigrams"][0].pop("ipa"), r"bigrams\[0\] must be an object with exactly"),
        (lambda d: d["flags"][0].update(severity="fatal"), r"flags\[0\].severity"),
        (lambda d: d["evidence"].update(metadata=["a"]), "evidence.metadata must be an object"),
        (
            lambda d: d["provenance"]["parameters"].update(descriptors={"shape_spread": "wide"}),
            "descriptors.shape_spread must be a number",
        ),
        (
            lambda d: d["provenance"]["parameters"].update(descriptors=[1, 2]),
            "descriptors must be an object",
        ),
        (lambda d: d.update(n_bigrams=999), "n_bigrams is 999 but it holds 3 bigrams"),
        (_tampered_custody, r"chain_of_custody.evidence.sha256: the report was edited"),
        (
            lambda d: d["chain_of_custody"].update(detector="paper"),
            "chain_of_custody.detector: the report was edited",
        ),
        (lambda d: d.update(surprise=1), r"unknown keys \['surprise'\]"),
        (lambda d: d.pop("reason"), "missing reason"),
    ],
)
def test_from_dict_refuses_malformed_or_edited_reports(mutate, message):
    """from_dict accepted verdict 'maybe', score 5, a string of warnings (split into
    characters), a tampered custody block (silently recomputed), and raised AttributeError,
    TypeError or ValueError on other junk (probe F5)."""
    from vtract.report import InvalidReportError

    data = json.loads(make_report().to_json())
    mutate(data)
    with pytest.raises(InvalidReportError, match=message):
        Report.from_dict(data)


def test_a_custody_block_of_an_earlier_layout_is_not_called_edited():
    """The custody block grew over vtract's history (evidence.metadata on 27 Nov 2026,
    under the same schema version): a genuine report written before lacks the key and was
    refused as tampered by the first strict from_dict (review R1); so was the output of
    strip_timestamps (no created_utc). A key one side lacks is recomputed; a value that
    disagrees is still an edit."""
    from vtract.report import InvalidReportError, strip_timestamps

    data = json.loads(make_report().to_json())
    old_layout = json.loads(json.dumps(data))
    del old_layout["chain_of_custody"]["evidence"]["metadata"]
    again = Report.from_dict(old_layout)
    assert again.to_dict()["chain_of_custody"] == data["chain_of_custody"]
    stripped = strip_timestamps(data)
    assert "created_utc" not in stripped["chain_of_custody"]
    assert strip_timestamps(Report.from_dict(stripped).to_dict()) == stripped
    old_layout["chain_of_custody"]["evidence"]["pcm_sha256"] = "1" * 64
    with pytest.raises(InvalidReportError, match=r"evidence\.pcm_sha256: the report was edited"):
        Report.from_dict(old_layout)


@pytest.mark.parametrize("junk", [[], None, "text", 5])
def test_from_dict_and_from_json_refuse_what_is_not_a_report_object(junk):
    from vtract.report import InvalidReportError

    with pytest.raises(InvalidReportError, match="expected a JSON object"):
        Report.from_dict(junk)
    with pytest.raises(InvalidReportError, match="expected a JSON object"):
        Report.from_json(json.dumps(junk))
    with pytest.raises(InvalidReportError, match="not a vtract JSON report"):
        Report.from_json("{not json")
    with pytest.raises(InvalidReportError, match="not a vtract JSON report"):
        Report.from_json(b"\xff\xfe{")


def test_old_cli_record_with_the_file_as_typed_reloads_with_its_custody_unchanged():
    """vtract analyze wrote the file as typed ('piper.flac') while the custody block held the
    absolute path; reading such a record takes the custody's path, so nothing is recomputed
    differently, and the html key of the record is accepted."""
    data = json.loads(make_report(file="/case/day 1/piper.flac").to_json())
    record = {**data, "file": "day 1/piper.flac", "html": "out/piper.html"}
    again = Report.from_dict(record)
    assert again.file == "/case/day 1/piper.flac"
    assert again.to_dict()["chain_of_custody"] == data["chain_of_custody"]
    validate_report_dict(record)
    # another file's name is not taken for it
    with pytest.raises(VtractError, match=r"chain_of_custody\.evidence\.file"):
        Report.from_dict({**data, "file": "other.flac"})


def test_noise_under_the_speech_fails_the_noise_condition_though_the_pauses_look_quiet():
    """Session 29: a gate that leaves dither in the pauses lifts the speech-to-floor value
    over its threshold; the valley floor under the speech then fails the condition, with a
    reason naming the measure, its value and its threshold. A report without the valley
    value (written before session 29) is judged on its floor alone."""
    from vtract.noise_floor import MIN_SPEECH_TO_VALLEY_FLOOR_DB
    from vtract.verdict_conditions import SIGNAL_MEASURES, verdict_conditions, verdict_thresholds

    assert "speech_to_valley_floor_db" in SIGNAL_MEASURES
    assert verdict_thresholds()["min_speech_to_valley_floor_db"] == MIN_SPEECH_TO_VALLEY_FLOOR_DB
    assert MIN_SPEECH_TO_VALLEY_FLOOR_DB == 38.5

    def noise(**values):
        return next(
            c for c in verdict_conditions(16000, None, None, **values) if c.key == "noise_floor"
        )

    gated = noise(speech_to_floor_db=77.8, speech_to_valley_floor_db=28.06)
    assert gated.status == "not met" and gated.measured == "77.8 dB; 28.1 dB"
    assert gated.reason.startswith(
        "the loud frames of the evidence rise only 28.1 dB above the floor in the spectral "
        "valleys of its sounding frames at 2-6 kHz (speech_to_valley_floor_db; clean speech: "
        "38.5 dB or more), although they rise 78 dB above its quiet frames: noise continues "
        "under the speech while the pauses look quiet, as when a noise gate left only dither "
        "or low-level noise in them"
    )
    assert noise(speech_to_floor_db=77.8, speech_to_valley_floor_db=38.5).status == "met"
    # the floor's reason comes first when both fail
    both = noise(speech_to_floor_db=20.0, speech_to_valley_floor_db=28.0)
    assert both.status == "not met" and "above its quiet ones" in both.reason
    older = noise(speech_to_floor_db=77.8)
    assert older.status == "met" and older.measured == "77.8 dB; –"
    unmeasured = noise(speech_to_valley_floor_db=28.0)
    assert unmeasured.status == "not measured"
    assert unmeasured.reason.startswith("the noise floor of the evidence could not be measured")
    # what vtract.analyze and bench_degradations withhold the verdict on
    assert [c.withholds_verdict for c in (gated, both, unmeasured)] == [True, True, True]
    assert not older.withholds_verdict
    codes = {c.key: c for c in verdict_conditions(16000, "a", "b", spectral_edge_drop_db=40.0)}
    assert codes["spectral_edge"].status == "not measured"  # no edge frequency: no drop
    assert not codes["spectral_edge"].withholds_verdict  # not a blocking condition
    assert codes["high_band_level"].withholds_verdict  # blocking when not measured
    assert codes["estimator_code"].withholds_verdict  # another estimator's reference
