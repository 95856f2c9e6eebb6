"""Content tests of vtract.plot: what is drawn equals what was given."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.patches import StepPatch
from scipy.optimize import brentq

from _reports import FakeReference, make_estimate, make_evidence, make_report, reference_stats
from vtract import anatomy
from vtract import plot as vplot
from vtract.alignment.model import Alignment
from vtract.plot.spectrum import SPEED_OF_SOUND_CM_S
from vtract.tract.paper import paper_target

AREAS = [0.5, 1.0, 3.0, 6.0, 2.0, 0.8]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _steps(ax):
    return [p for p in ax.patches if isinstance(p, StepPatch)]


# --- tract -------------------------------------------------------------------------------


def test_tract_draws_mirrored_radius_in_cm():
    est = make_estimate(AREAS, section_length_cm=2.5)
    ax = vplot.tract(est)
    upper, lower = _steps(ax)[:2]
    expected = np.sqrt(np.array(AREAS) / np.pi)
    np.testing.assert_allclose(upper.get_data().values, expected)
    np.testing.assert_allclose(lower.get_data().values, -expected)
    np.testing.assert_allclose(upper.get_data().edges, np.arange(7) * 2.5)
    assert "cm" in ax.get_xlabel() and "cm" in ax.get_ylabel()
    assert "15.0 cm" in ax.get_title()
    # human radius band: sqrt(min area / pi) .. sqrt(max area / pi), from vtract.anatomy
    lo, hi = anatomy.AREA_RANGE_CM2
    spans = [p for p in ax.patches if not isinstance(p, StepPatch)]
    ys = {round(v, 6) for p in spans for v in (p.get_y(), p.get_y() + p.get_height())}
    assert round(np.sqrt(hi / np.pi), 6) in ys and round(np.sqrt(lo / np.pi), 6) in ys


def test_tract_single_section_and_nan_areas():
    ax = vplot.tract(make_estimate([2.0], section_length_cm=17.0))
    np.testing.assert_allclose(_steps(ax)[0].get_data().values, [np.sqrt(2 / np.pi)])
    ax = vplot.tract(make_estimate([1.0, np.nan, 2.0]))
    vals = _steps(ax)[0].get_data().values
    assert np.isnan(vals[1]) and np.isfinite(vals[[0, 2]]).all()


def test_tract_accepts_bigram_evidence_and_rejects_junk():
    big = make_report().bigrams[0]
    ax = vplot.tract(big)
    np.testing.assert_allclose(_steps(ax)[0].get_data().edges[-1], big.length_cm)
    with pytest.raises(vplot.PlotInputError, match="TractEstimate"):
        vplot.tract(object())
    with pytest.raises(vplot.PlotInputError, match="non-empty"):
        vplot.tract(make_estimate(np.zeros(0)))


# --- area_function / tract_sequence ------------------------------------------------------


def test_area_function_overlays_each_estimate():
    a, b = make_estimate(AREAS), make_estimate([1.0, 2.0, 4.0])
    ax = vplot.area_function(a, b, labels=["one", "two"])
    steps = _steps(ax)
    assert len(steps) == 2
    np.testing.assert_allclose(steps[0].get_data().values, AREAS)
    np.testing.assert_allclose(steps[1].get_data().values, [1.0, 2.0, 4.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()][-2:] == ["one", "two"]
    assert ax.get_yscale() == "log" and "cm²" in ax.get_ylabel()
    with pytest.raises(vplot.PlotInputError, match="at least one"):
        vplot.area_function()
    with pytest.raises(vplot.PlotInputError, match="labels"):
        vplot.area_function(a, labels=["x", "y"])


def test_tract_sequence_heatmap_holds_log_areas():
    ests = [make_estimate(np.array(AREAS) * (1 + i)) for i in range(4)]
    times = [0.10, 0.13, 0.16, 0.19]
    ax = vplot.tract_sequence(ests, times=times, boundary=0.145)
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    expected = np.log10(np.column_stack([e.areas for e in ests]))
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(expected.shape), expected)
    assert ax.get_xlabel() == "time (s)"
    assert any(np.allclose(line.get_xdata(), 0.145) for line in ax.lines)


def test_tract_sequence_edge_cases():
    ax = vplot.tract_sequence([make_estimate([1.0, -1.0, np.nan])])
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    arr = mesh.get_array()
    assert arr.mask.ravel().tolist() == [False, True, True]  # non-positive / NaN masked
    # estimates of different lengths share a cm grid; cells past the lips stay blank
    ax = vplot.tract_sequence(
        [
            make_estimate([1.0, 2.0, 4.0], section_length_cm=1.0),
            make_estimate([8.0], section_length_cm=2.0),
        ]
    )
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    np.testing.assert_allclose(mesh.get_coordinates()[:, 0, 1], [0.0, 1.0, 2.0, 3.0])
    arr = np.ma.filled(mesh.get_array().reshape(3, 2).astype(float), np.nan)
    np.testing.assert_allclose(arr, np.log10([[1.0, 8.0], [2.0, 8.0], [4.0, np.nan]]))
    with pytest.raises(vplot.PlotInputError, match="increasing"):
        vplot.tract_sequence([make_estimate([1.0])] * 2, times=[0.2, 0.1])
    with pytest.raises(vplot.PlotInputError, match="at least one"):
        vplot.tract_sequence([])


# --- spectrum ----------------------------------------------------------------------------


def _abcd_resonances(areas, seg_cm, fmax):
    """Resonances of a lossless tube, closed glottis, ideal open lips (P_lips = 0).

    Independent of the reflection recursion: the chain matrix of section k is
    [[cos(kl), j Z sin(kl)], [j sin(kl) / Z, cos(kl)]], Z = rho c / A, and
    U_glottis = D U_lips when P_lips = 0, so resonances are the zeros of D(f).
    """

    def d_element(f):
        kl = 2 * np.pi * f / SPEED_OF_SOUND_CM_S * seg_cm
        m = np.eye(2, dtype=complex)
        for a in areas:
            z = 1.0 / a
            m = m @ np.array([[np.cos(kl), 1j * z * np.sin(kl)], [1j * np.sin(kl) / z, np.cos(kl)]])
        return m[1, 1].real

    grid = np.linspace(1.0, fmax, 4000)
    vals = np.array([d_element(f) for f in grid])
    roots = [brentq(d_element, grid[i], grid[i + 1]) for i in np.nonzero(np.diff(np.sign(vals)))[0]]
    return np.array(roots)


def test_tube_response_uniform_tube_quarter_wave():
    n, seg = 16, 17.5 / 16
    r = np.zeros(n)
    r[-1] = 0.95
    f = np.linspace(10, 4000, 8000)
    resp = vplot.tube_response_db(r, seg, f)
    peaks = f[1:-1][(resp[1:-1] > resp[:-2]) & (resp[1:-1] > resp[2:])]
    expected = (2 * np.arange(1, 5) - 1) * SPEED_OF_SOUND_CM_S / (4 * 17.5)  # 500, 1500 ...
    np.testing.assert_allclose(peaks, expected, rtol=2e-3)


def test_tube_response_peaks_match_chain_matrix_resonances():
    areas = np.array([0.6, 1.2, 2.5, 4.0, 5.5, 3.0, 1.0, 0.5, 1.5, 3.5])
    seg = 1.7
    r = np.append((areas[1:] - areas[:-1]) / (areas[1:] + areas[:-1]), 1.0)  # open lips
    fs = SPEED_OF_SOUND_CM_S / (2 * seg)
    expected = _abcd_resonances(areas, seg, fs / 2 - 1)
    # a nearly closed glottis (small loss) gives finite peaks at the lossless resonances
    f = np.linspace(1.0, fs / 2 - 1, 40001)
    resp = vplot.tube_response_db(r, seg, f, glottal_reflection=0.98)
    peaks = f[1:-1][(resp[1:-1] > resp[:-2]) & (resp[1:-1] > resp[2:])]
    assert len(peaks) == len(expected)
    np.testing.assert_allclose(peaks, expected, rtol=2e-4)
    # closed glottis (r_G = 1): lossless, the response blows up at each resonance
    at_res = vplot.tube_response_db(r, seg, expected, glottal_reflection=1.0)
    assert np.all(at_res > np.median(resp) + 60)


def test_spectrum_fit_plots_target_and_model():
    est = make_estimate(AREAS)
    sr = 16000
    t = np.arange(565) / sr
    frame = np.sin(2 * np.pi * 1000 * t)
    ax = vplot.spectrum_fit(est, frame, sr)
    lines = {ln.get_label(): ln for ln in ax.lines}
    target, model = lines["target"], lines["tube model"]
    assert abs(target.get_xdata()[np.argmax(target.get_ydata())] - 1000) < 20
    expected = vplot.tube_response_db(
        est.reflection, est.section_length_cm, model.get_xdata(), glottal_reflection=1.0
    )
    np.testing.assert_allclose(model.get_ydata(), expected - expected.mean())
    assert ax.get_xlim()[1] == 5000 and "Hz" in ax.get_xlabel() and "dB" in ax.get_ylabel()
    assert "1.50 dB" in ax.get_title()


def test_spectrum_fit_target_follows_the_estimator():
    sr = 16000
    frame = np.random.default_rng(1).standard_normal(565)
    paper_like = dataclasses.replace(make_estimate(AREAS), method="paper")
    ax = vplot.spectrum_fit(paper_like, frame, sr)
    target = next(ln for ln in ax.lines if ln.get_label() == "target")
    expected = paper_target(frame)
    np.testing.assert_allclose(target.get_ydata(), expected - expected.mean())
    np.testing.assert_allclose(target.get_xdata()[:3], [0.0, 15.625, 31.25])
    emphasised = dataclasses.replace(make_estimate(AREAS), params={"pre_emphasis": 0.97})
    ax = vplot.spectrum_fit(emphasised, frame, sr)
    target = next(ln for ln in ax.lines if ln.get_label() == "target")
    y = np.concatenate([frame[:1], frame[1:] - 0.97 * frame[:-1]])
    _, level = vplot.target_spectrum_db(y, sr)
    keep = np.fft.rfftfreq(5120, 1 / sr) <= 5000
    np.testing.assert_allclose(target.get_ydata(), level[keep] - level[keep].mean())


def test_spectrum_fit_without_target_and_errors():
    ax = vplot.spectrum_fit(make_estimate([2.0]))
    assert [ln.get_label() for ln in ax.lines if not ln.get_label().startswith("_")] == [
        "tube model"
    ]
    with pytest.raises(vplot.PlotInputError, match="sr is required"):
        vplot.spectrum_fit(make_estimate(AREAS), np.ones(100))
    with pytest.raises(vplot.PlotInputError, match="TractEstimate"):
        vplot.spectrum_fit(make_report().bigrams[0])


def test_plot_inputs_that_cannot_be_drawn_are_refused():
    est = make_estimate(AREAS)
    frame = np.sin(np.arange(400) * 0.3)
    paper_est = dataclasses.replace(est, method="paper")
    for bad in (np.stack([frame, frame]), np.r_[frame[:-1], np.nan], np.zeros(0)):
        for e in (est, paper_est):  # the published target is checked too (it was not)
            with pytest.raises(vplot.PlotInputError, match="frame must"):
                vplot.spectrum_fit(e, bad, 16000)
    for fmax in (np.nan, np.inf, 0.0):
        with pytest.raises(vplot.PlotInputError, match="fmax_hz"):
            vplot.spectrum_fit(est, frame, 16000, fmax_hz=fmax)
    for width in (0.0, -1.0, np.nan):
        with pytest.raises(vplot.PlotInputError, match="smooth_bins"):
            vplot.target_spectrum_db(frame, 16000, smooth_bins=width)
    for top in (np.nan, np.inf, -1.0, 0.0):
        with pytest.raises(vplot.PlotInputError, match="max_hz"):
            vplot.timeline(make_evidence(), max_hz=top)
    with pytest.raises(vplot.PlotInputError, match="Report"):
        vplot.report_overview(object())
    # any iterable of estimates, a generator too
    ax = vplot.tract_sequence(e for e in [est, est])
    assert ax.collections[0].get_array().shape[-1] == 2


# --- bigram_distribution -----------------------------------------------------------------


def test_bigram_distribution_reference_bands_and_recording():
    rep, ref = make_report(), FakeReference(level="phone")
    ax = vplot.bigram_distribution(ref, rep, "AH-N")
    assert ref.calls == [("AH-N", 5)]
    lines = {ln.get_label(): ln for ln in ax.lines}
    np.testing.assert_allclose(lines["organic median"].get_ydata(), reference_stats(5)["median"])
    mine = [ln for label, ln in lines.items() if label.startswith("this recording")]
    assert len(mine) == 2  # AH-N occurs twice in the report
    np.testing.assert_allclose(mine[0].get_ydata(), rep.bigrams[1].areas_cm2)
    assert "phone level" in ax.get_title()
    assert len(ax.collections) == 3  # min-max, 5-95, 25-75 bands


def test_bigram_distribution_legend_has_one_entry_for_many_occurrences():
    """40 occurrences gave 40 legend entries that covered the data (session-26 probe, F7)."""
    rep = make_report()
    many = [dataclasses.replace(rep.bigrams[1], boundary=0.9 + 0.01 * k) for k in range(40)]
    rep = dataclasses.replace(rep, bigrams=many)
    ax = vplot.bigram_distribution(FakeReference(), rep, "AH-N")
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [e for e in entries if e.startswith("this recording")] == [
        "this recording: 40 occurrences"
    ]
    assert len(entries) == 5  # 3 organic bands, organic median, this recording
    assert len([ln for ln in ax.lines if ln.get_label() != "organic median"]) == 40  # all drawn
    # up to MAX_OCCURRENCE_ENTRIES, each occurrence keeps its own entry
    few = dataclasses.replace(rep, bigrams=many[: vplot.reference.MAX_OCCURRENCE_ENTRIES])
    ax = vplot.bigram_distribution(FakeReference(), few, "AH-N")
    mine = [t for t in ax.get_legend().get_texts() if t.get_text().startswith("this recording")]
    assert len(mine) == vplot.reference.MAX_OCCURRENCE_ENTRIES == 4


def _drawn_as(text):
    """What matplotlib draws for a Text: (string, whether it is mathtext/TeX)."""
    return text._preprocess_math(text.get_text())  # the step that parses "$...$"


@pytest.mark.parametrize("name", ["$$", "take$1$.flac", "D$/case$17", "C:\\$x\\$y", "a$b"])
def test_text_from_the_input_is_drawn_as_written_not_as_mathtext(name, tmp_path):
    """A word "$$" raised ParseException and aborted the report; "take$1$" was drawn as
    "take1" in math italics (session-26 probe, F1). Words, labels, titles and legend
    entries that come from the input are drawn literally, also with text.usetex set."""
    import io

    rep = make_report()
    rep.bigrams[1] = dataclasses.replace(rep.bigrams[1], word=name)
    aln = {"words": [{"start": 0.1, "end": 0.6, "label": name}],
           "phones": [{"start": 0.1, "end": 0.6, "label": name}]}  # fmt: skip
    fig = plt.figure(figsize=(12, 9))
    axes = fig.subplots(2, 3).ravel()
    vplot.timeline(make_evidence(), aln, rep, ax=axes[0])
    vplot.bigram_distribution(FakeReference(), rep, "AH-N", ax=axes[1])
    vplot.area_function(make_estimate(AREAS), ax=axes[2], labels=[name])
    vplot.tract(make_estimate(AREAS), ax=axes[3], label=name)
    vplot.tract_sequence([make_estimate(AREAS)] * 3, ax=axes[4], title=name)
    rep.thresholds = {f"score_{name}": 0.5}
    vplot.report_overview(rep, ax=axes[5])
    fig.savefig(io.BytesIO(), format="png")  # the old code raised ValueError here for "$$"

    texts = [t for a in fig.axes for t in a.texts]
    texts += [t for a in fig.axes if a.get_legend() for t in a.get_legend().get_texts()]
    texts += [a.title for a in fig.axes]
    drawn = [_drawn_as(t) for t in texts if name in t.get_text() or "\\$" in t.get_text()]
    expect = {
        name,  # tier labels, title of tract_sequence
        f"this recording: {name!r} at 0.90 s",  # legend entry of the distribution
        f" recording score_{name}",  # threshold name on the overview
    }
    assert {s for s, _ in drawn} >= expect
    assert all(math is False for _, math in drawn)
    with matplotlib.rc_context({"text.usetex": True}):  # no LaTeX for the input either
        ax = vplot.area_function(make_estimate(AREAS), labels=[name])
        (entry,) = [t for t in ax.get_legend().get_texts() if t.get_text() != "human area range"]
        assert _drawn_as(entry) == (name, False)


def test_text_from_the_input_is_never_drawn_as_boxes_or_reordered(tmp_path):
    """Non-Latin words (CJK, Hebrew) were drawn as empty boxes in the figures ("Glyph ...
    missing from font(s) DejaVu Sans") and a right-to-left override reordered a label
    (session-26 note, left): such characters are drawn as \\u escapes, as in the PDF text."""
    import io
    import warnings

    word, spoof = "\u5f55\u97f3\u05e9", "take_\u202ecalf"
    rep = make_report()
    rep.bigrams[1] = dataclasses.replace(rep.bigrams[1], word=word)
    aln = {"words": [{"start": 0.1, "end": 0.6, "label": word}],
           "phones": [{"start": 0.1, "end": 0.6, "label": spoof}]}  # fmt: skip
    fig = plt.figure(figsize=(12, 9))
    axes = fig.subplots(2, 3).ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning at draw time
        vplot.timeline(make_evidence(), aln, rep, ax=axes[0])
        vplot.bigram_distribution(FakeReference(), rep, "AH-N", ax=axes[1])
        vplot.area_function(make_estimate(AREAS), ax=axes[2], labels=[word])
        vplot.tract(make_estimate(AREAS), ax=axes[3], label=spoof)
        vplot.tract_sequence([make_estimate(AREAS)] * 3, ax=axes[4], title=word)
        rep.thresholds = {f"score_{spoof}": 0.5}
        vplot.report_overview(rep, ax=axes[5])
        fig.savefig(io.BytesIO(), format="png")
    texts = [t for a in fig.axes for t in a.texts]
    texts += [t for a in fig.axes if a.get_legend() for t in a.get_legend().get_texts()]
    texts += [a.title for a in fig.axes]
    drawn = [t.get_text() for t in texts]
    # DejaVu Sans has Hebrew letters (DejaVu Sans Mono, of the PDF text pages, has not)
    shown_word, shown_spoof = "\\u5f55\\u97f3\u05e9", "take_\\u202ecalf"
    assert shown_word in drawn  # word tier, title of tract_sequence
    assert shown_spoof in drawn  # phone tier
    assert f"this recording: '{shown_word}' at 0.90 s" in drawn  # escaped before repr
    assert f" recording score_{shown_spoof}" in drawn
    assert not any(c in "".join(drawn) for c in "\u5f55\u97f3\u202e")
    # Latin, Greek and IPA letters are in DejaVu Sans and stay as they are
    assert (
        vplot._common.shown_text("\u0283\u00e6 \u03b1 caf\u00e9") == "\u0283\u00e6 \u03b1 caf\u00e9"
    )


def test_bigram_distribution_uses_the_reference_section_count():
    """Without occurrences the section count comes from the reference's metadata
    (Reference has no n_sections attribute; 15 was assumed for every reference)."""
    ref = FakeReference()
    ref.meta = {"n_sections": [5]}
    vplot.bigram_distribution(ref, make_report(empty=True), "AH-N")
    assert ref.calls == [("AH-N", 5)]
    ref.meta = {"n_sections": [5, 9]}
    with pytest.raises(vplot.PlotInputError, match="give occurrences"):
        vplot.bigram_distribution(ref, make_report(empty=True), "AH-N")


def test_bigram_distribution_edge_cases():
    rep = make_report()
    ax = vplot.bigram_distribution(reference_stats(5), rep, "N-AH")  # a table directly
    assert "backed off" not in ax.get_title()
    ax = vplot.bigram_distribution(None, rep, "N-AH")  # recording only
    assert len(ax.lines) == 1
    with pytest.raises(vplot.PlotInputError, match="no evidence"):
        vplot.bigram_distribution(None, make_report(empty=True), "AH-N")
    with pytest.raises(vplot.PlotInputError, match="median"):
        vplot.bigram_distribution(pd.DataFrame({"q05": [1.0]}), rep, "N-AH")


# --- timeline / overview -----------------------------------------------------------------


def test_timeline_tiers_and_flagged_spans_from_report():
    rep = make_report()
    ax = vplot.timeline(make_evidence(), report=rep)
    tiers = ax.vtract_tiers
    assert set(tiers) == {"words", "phones"}
    assert [t.get_text() for t in tiers["phones"].texts] == ["AH", "N", "AH", "N"]  # sil hidden
    assert [t.get_text() for t in tiers["words"].texts] == ["a", "nun"]
    red = [p for p in ax.patches if p.get_facecolor()[:3] == (1.0, 0.0, 0.0)]
    spans = sorted((p.get_x(), p.get_x() + p.get_width()) for p in red)
    np.testing.assert_allclose(spans, [[0.85, 0.95]])  # the flag and the flagged bigram coincide
    assert "frequency" in ax.get_ylabel() and tiers["phones"].get_xlabel() == "time (s)"


def test_timeline_waveform_with_alignment_object_and_no_report():
    phones = pd.DataFrame(
        {"start": [0.0, 0.3], "end": [0.3, 0.6], "label": ["HH", "AY"], "word": ["hi", "hi"]}
    )
    words = pd.DataFrame({"start": [0.0], "end": [0.6], "label": ["hi"]})
    ev = make_evidence()
    ax = vplot.timeline(ev, Alignment(phones=phones, words=words, source="test"), kind="waveform")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ev.samples)
    assert [t.get_text() for t in ax.vtract_tiers["phones"].texts] == ["HH", "AY"]
    ax = vplot.timeline(ev)  # no alignment at all
    assert ax.vtract_tiers == {} and ax.get_xlabel() == "time (s)"
    with pytest.raises(vplot.PlotInputError, match="kind"):
        vplot.timeline(ev, kind="movie")
    with pytest.raises(vplot.PlotInputError, match="start, end and label"):
        vplot.timeline(ev, {"phones": [{"begin": 0}]})


def test_report_overview_points_and_empty_report():
    rep = make_report()
    ax = vplot.report_overview(rep)
    pts = ax.collections[0].get_offsets()
    np.testing.assert_allclose(pts, [[b.boundary, b.score] for b in rep.bigrams])
    assert "synthetic" in ax.get_title()
    assert ax.get_xlim() == (0.0, rep.evidence["duration"])
    dashed = sorted(ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() == "--")
    assert dashed == [0.3, 0.7]  # score_* thresholds only; flag_baseline (0.5) is not a score
    ax = vplot.report_overview(make_report(empty=True))
    assert any("no bigram evidence" in t.get_text() for t in ax.texts)


def test_given_axes_are_used_and_returned():
    _fig, axes = plt.subplots(1, 2)
    assert vplot.tract(make_estimate(AREAS), ax=axes[1]) is axes[1]
    assert vplot.area_function(make_estimate(AREAS), ax=axes[0]) is axes[0]


def test_timeline_merges_overlapping_flagged_spans():
    from vtract.report import Flag

    rep = make_report()
    rep.flags = [
        Flag("a", "x", start=0.10, end=0.30),
        Flag("b", "y", start=0.20, end=0.40),
        Flag("c", "z", start=0.60, end=0.70),
    ]
    ax = vplot.timeline(make_evidence(), report=rep, kind="waveform")
    red = [p for p in ax.patches if p.get_facecolor()[:3] == (1.0, 0.0, 0.0)]
    spans = sorted((p.get_x(), p.get_x() + p.get_width()) for p in red)
    np.testing.assert_allclose(spans, [[0.10, 0.40], [0.60, 0.70], [0.85, 0.95]])


def test_no_plot_function_calls_show(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("plt.show() called")

    monkeypatch.setattr(plt, "show", forbidden)
    rep, est = make_report(), make_estimate(AREAS)
    vplot.tract(est)
    vplot.area_function(est)
    vplot.tract_sequence([est, est])
    vplot.spectrum_fit(est, np.ones(565), 16000)
    vplot.bigram_distribution(FakeReference(), rep, "AH-N")
    vplot.timeline(make_evidence(), report=rep)
    vplot.report_overview(rep)
    rep.plot(kind="areas")


@pytest.mark.parametrize("method", ["default", "lpc-refined"])
def test_spectrum_fit_draws_the_tube_the_refined_estimators_fitted(method):
    """Session 31 probe F1: the refined estimators recorded the LPC prior's matched glottis
    (0.0), though they fit a closed-glottis tube to the formants, so the drawn "tube model"
    peaked 50-450 Hz off the estimate's own formant lines."""
    from scipy.signal import find_peaks

    from vtract import estimate_tract
    from vtract.synth.vowel import tube_vowel

    # Fant's /a/-like two-tube vowel, LF source, lossy with radiation
    areas = np.r_[np.full(8, 0.8), np.full(9, 6.0)]
    sr = 16000
    audio = tube_vowel(areas, 1.0, sr, duration=0.3)
    frame = audio[2400 : 2400 + 565]
    est = estimate_tract(frame, sr, method=method)
    assert est.params["glottal_reflection"] == 1.0
    ax = vplot.spectrum_fit(est)
    model = {ln.get_label(): ln for ln in ax.lines}["tube model"]
    freqs, level = model.get_xdata(), model.get_ydata()
    peaks = freqs[find_peaks(level)[0]]
    for f in est.formants_hz[:3]:
        nearest = peaks[np.argmin(np.abs(peaks - f))]
        assert abs(nearest - f) < 0.05 * f, (f, peaks)


def test_spectrum_fit_stops_at_the_tube_nyquist_and_refuses_a_closed_tube():
    """Session 31 probe F9, F5: an 8 kHz estimate's model was drawn to 5 kHz, past its
    Nyquist frequency (mirrored peaks); a zero-area section raised ZeroDivisionError."""
    from vtract import estimate_tract
    from vtract.synth.vowel import tube_vowel

    areas = np.r_[np.full(8, 0.8), np.full(9, 6.0)]
    audio = tube_vowel(areas, 1.0, 8000, duration=0.3)
    est = estimate_tract(audio[1200 : 1200 + 283], 8000, method="lpc")
    ax = vplot.spectrum_fit(est)
    model = {ln.get_label(): ln for ln in ax.lines}["tube model"]
    nyquist = SPEED_OF_SOUND_CM_S / (4.0 * est.section_length_cm)
    assert nyquist < 5000 and model.get_xdata().max() == pytest.approx(nyquist)
    assert ax.get_xlim()[1] == 5000
    refined = estimate_tract(audio[1200 : 1200 + 283], 8000, method="default")
    ax = vplot.spectrum_fit(refined)
    model = {ln.get_label(): ln for ln in ax.lines}["tube model"]
    assert model.get_xdata().max() == pytest.approx(refined.params["analysis_rate"] / 2)
    with pytest.raises(vplot.PlotInputError, match="reflects completely"):
        vplot.tube_response_db([-1.0, 1.0], 1.1, [0.0, 1000.0])
    closed = dataclasses.replace(est, areas=np.r_[est.areas[:-2], 0.0, est.areas[-1]])
    closed.params["lip_radiation"] = True
    with pytest.raises(vplot.PlotInputError, match="cannot draw the fitted tube"):
        vplot.spectrum_fit(closed)
