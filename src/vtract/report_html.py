"""Render a :class:`~vtract.report.Report` as ONE self-contained HTML file.

Plots are embedded as base64 PNG, the style sheet is inline and the full JSON
report rides along in a ``<script type="application/json">`` element, so the
file can be mailed, archived or opened offline. Every piece of text that
comes from the input (file names, labels, messages) is HTML-escaped, and
characters that would hide or disguise it (bidi controls such as U+202E,
zero-width and control characters) are shown as ``\\uNNNN`` escapes
(:func:`vtract.provenance.visible_text`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from typing import Any

import numpy as np

from .container import PREFIX
from .errors import VtractError
from .plot._common import score_thresholds
from .provenance import path_text, visible_text

__all__ = ["LIMITATIONS", "check_evidence_matches", "check_reference_matches", "render_html"]

#: Plain-language notes on what the method can and cannot show.
LIMITATIONS = (
    "vtract reconstructs, for short windows around phone boundaries, the shape of an acoustic "
    "tube that would produce the recorded sound, and compares those shapes with shapes "
    "measured in real (organic) speech. A voice made by a computer is not produced by a "
    "throat, so its tube shapes can drift outside what a human anatomy allows.",
    "The score of the default detector summarises how the reconstructed tract moves over the "
    "whole recording (how widely and how fast its shape, length and first formant vary), "
    "compared with organic and known synthetic speech; the per-bigram evidence shows how "
    "unusual each shape is against the organic reference. A score is not a probability that "
    "a person lied. It depends on the reference and calibration speakers, the microphone, the "
    "channel and the alignment, and its measured error rates (docs/DETECTION.md) hold for the "
    "kinds of speech it was measured on. Part of the separation measured there came from "
    "which sentences the recordings said rather than from how they were made; the figures "
    "for recordings of the same sentences are there too. Read it together with the warnings "
    "above.",
    "The method cannot identify who spoke, cannot tell whether human speech was edited or "
    "spliced, and cannot rule out a synthetic voice that imitates vocal-tract acoustics well. "
    "Strong noise, music, reverberation, heavy compression, telephone bandwidth, whispering, "
    "shouting, singing and children's voices can make organic speech look unusual.",
    "An 'organic' verdict does not clear a recording. In the project's measurements "
    "(docs/DETECTION.md, generators held out of training) clean modern synthetic voices such "
    "as Piper VITS and espeak-ng were called organic more than 9 times in 10, and neural TTS "
    "from the ESPnet toolkit about half the time. Noise hides synthetic speech, and the "
    "noise checks do not catch every kind: with noise shaped like speech or six-talker "
    "babble added at 20 dB SNR, most synthetic copies in those measurements passed the "
    "checks and were called organic (docs/LIMITS.md).",
    "Anatomical findings are not evidence of synthesis on their own: they are as common in "
    "organic speech. In the project's measurements (benchmarks/results/plausibility_*.json) "
    "the median organic recording had a finding on about half of its bigrams, more than the "
    "median synthetic one; most findings reflect the estimator's error on that sound "
    "(consonants, transitions), not the speaker's anatomy.",
    "An 'inconclusive' verdict means the evidence does not support either conclusion at the "
    "thresholds used; it is not a weak 'synthetic'.",
    "Results are reproducible: the same file, vtract version, reference and parameters give "
    "the same report (apart from timestamps). The chain-of-custody block lists what is needed "
    "to re-run the analysis.",
)

_CUSTODY_ORDER = (
    "evidence",
    "created_utc",
    "software",
    "reference",
    "detector",
    "parameters",
    "aligner",
    "inputs",
    "platform",
)

_VERDICT_COLOURS = {"organic": "#1b7f3b", "synthetic": "#b3261e", "inconclusive": "#5f6368"}

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;
background:#f4f5f7;color:#1f2328;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.5rem;margin:0 0 4px}h2{font-size:1.15rem;margin:28px 0 8px;
border-bottom:1px solid #d0d7de;padding-bottom:4px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin:12px 0}
.verdict{display:flex;gap:24px;align-items:center;flex-wrap:wrap}
.badge{font-size:1.6rem;font-weight:700;color:#fff;border-radius:8px;padding:10px 22px;
text-transform:uppercase;letter-spacing:.05em}
.gauge{position:relative;height:18px;width:340px;background:linear-gradient(90deg,#d8eedd,#eee,#f6d7d5);
border:1px solid #aaa;border-radius:4px}
.gauge .mark{position:absolute;top:-5px;width:3px;height:28px;background:#111}
.gauge .thr{position:absolute;top:0;width:1px;height:18px;background:#555}
.muted{color:#57606a;font-size:.9rem}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.82rem;word-break:break-all}
.code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem;word-break:keep-all;
overflow-wrap:normal}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #e1e4e8;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.flagged td{background:#fff1f0}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;margin:6px 0}
figure{margin:12px 0}figure img{max-width:100%;height:auto;border:1px solid #e1e4e8;background:#fff}
figcaption{font-size:.85rem;color:#57606a}
.scroll{max-height:420px;overflow:auto}
details pre{white-space:pre-wrap;font-size:.78rem}
"""


def render_html(
    report: Any,
    *,
    evidence: Any = None,
    reference: Any = None,
    figures: bool = True,
) -> str:
    """HTML text of a report (see :meth:`vtract.report.Report.to_html`).

    Raises
    ------
    VtractError
        ``evidence`` is not the recording the report is about, or
        ``reference`` is not the reference it was analysed with (hash
        mismatch).
    """
    check_evidence_matches(report, evidence)
    check_reference_matches(report, reference)
    data = report.to_dict()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>vtract report: {_e(_file_name(report))}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        _header(report),
        _verdict(report),
        _conditions(report),
        _dynamics(report),
        _warnings(report),
        _flags(report),
        _evidence_table(report),
    ]
    if figures:
        parts.append(_figures(report, evidence, reference))
    parts += [
        _custody(data["chain_of_custody"]),
        _limitations(),
        _footer(data),
        '<script type="application/json" id="vtract-report">',
        _json_for_script(data),
        "</script>",
        "</main></body></html>",
    ]
    return "\n".join(parts)


def check_evidence_matches(report: Any, evidence: Any) -> None:
    """Refuse to draw one recording's audio under another recording's report."""
    if evidence is None:
        return
    pcm = getattr(evidence, "pcm_sha256", None)
    if pcm != report.pcm_sha256:
        raise VtractError(
            f"the evidence given (decoded PCM sha256 {pcm}) is not the recording this report is "
            f"about (pcm_sha256 {report.pcm_sha256}); load the same file at the same rate"
        )


def check_reference_matches(report: Any, reference: Any) -> None:
    """Refuse to draw another reference's distributions under a report.

    The report's figures compare the recording with the organic reference;
    its custody block names the reference the analysis used. A reference
    whose SHA-256 (:attr:`vtract.Reference.sha256`) is not the one the report
    records would put one reference's figures under another's name.

    Raises
    ------
    VtractError
        The hashes differ, ``reference`` has no ``sha256``, or the report
        records no reference hash to compare with.
    """
    if reference is None:
        return
    recorded = (report.reference or {}).get("sha256")
    given = getattr(reference, "sha256", None)
    if given is None or recorded is None:
        what = "the reference given has no sha256" if given is None else "the report records none"
        raise VtractError(
            "cannot check that the reference given is the one this report was analysed with "
            f"({what}); pass the vtract.Reference used for the analysis, or no reference"
        )
    if given != recorded:
        raise VtractError(
            f"the reference given (sha256 {given}) is not the one this report was analysed "
            f"with (sha256 {recorded}); load that reference, or render without one"
        )


def _e(value: Any) -> str:
    # visible_text: a bidi override or zero-width character in a name is shown, not obeyed
    return html.escape(visible_text("" if value is None else str(value)), quote=True)


def _num(value: Any, fmt: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    try:
        return format(float(value), fmt)
    except (TypeError, ValueError):
        return _e(value)


def _file_name(report: Any) -> str:
    return path_text(report.file) if report.file else "(in-memory audio)"


def _header(report: Any) -> str:
    found = [str(w) for w in report.warnings if str(w).startswith(PREFIX)]
    cut = sum(w.startswith(PREFIX + "truncated") for w in found)
    integrity = (
        '<div class="warn">⚠ '
        + _e(
            f"The file's container has {len(found)} finding(s) under Warnings"
            + (f", {cut} saying the file was cut short or its header altered" if cut else "")
            + ": where what its header declares and what it holds disagree, or what it "
            "holds beyond the audio (undeclared bytes, joined or chained streams, tags)."
        )
        + "</div>"
        if found
        else ""
    )
    return (
        '<header class="card"><h1>vtract forensic report</h1>'
        f'<div class="mono">{_e(_file_name(report))}</div>'
        f'<div class="muted">SHA-256 <span class="mono">{_e(report.sha256)}</span></div>'
        f"{integrity}</header>"
    )


def _verdict(report: Any) -> str:
    colour = _VERDICT_COLOURS.get(report.verdict, "#5f6368")
    score = report.score
    gauge = ""
    if score is not None and math.isfinite(score):
        thr = "".join(
            f'<div class="thr" style="left:{100 * v:.1f}%" title="{_e(k)} {v:.2f}"></div>'
            for k, v in score_thresholds(report.thresholds).items()
        )
        gauge = (
            f'<div class="gauge" aria-label="score gauge">{thr}'
            f'<div class="mark" style="left:calc({100 * score:.1f}% - 1px)"></div></div>'
            '<div class="muted">0 = organic-like &nbsp;·&nbsp; 1 = synthetic-like</div>'
        )
    thresholds = ", ".join(
        f"{_e(k)} {_num(v, '.3g')}" for k, v in sorted(report.thresholds.items())
    )
    n = report.n_bigrams
    n_flagged = sum(1 for b in report.bigrams if b.flags)
    scores = np.array([b.score for b in report.bigrams], dtype=float)
    scores = scores[np.isfinite(scores)]
    spread = ""
    if scores.size >= 2:
        q1, q3 = np.percentile(scores, [25, 75])
        spread = (
            f"; per-bigram scores span {scores.min():.2f}–{scores.max():.2f}"
            f" (interquartile range {q1:.2f}–{q3:.2f})"
        )
    low_conf = bool(report.alignment.get("low_confidence")) if report.alignment else False
    calibrated = _calibration_sentence(report.thresholds)
    uncertainty = (
        f"Based on {n} bigram{'s' if n != 1 else ''} ({n_flagged} flagged){spread}. "
        + calibrated
        + (
            "The alignment was recognised without a transcript (low confidence). "
            if low_conf
            else ""
        )
        + (f"Thresholds: {thresholds}." if thresholds else "")
    )
    score_text = "no score" if score is None else f"score {_num(score, '.2f')}"
    return (
        '<section class="card verdict">'
        f'<div class="badge" style="background:{colour}">{_e(report.verdict)}</div>'
        f'<div><div style="font-size:1.2rem"><b>{_e(score_text)}</b> '
        f'<span class="muted">detector: {_e(report.detector)}</span></div>{gauge}</div>'
        f'<div style="flex-basis:100%"><p><b>Why:</b> {_e(report.reason)}</p>'
        f'<p class="muted"><b>Uncertainty:</b> {uncertainty}</p></div></section>'
    )


#: Plain names of the recording descriptors (vtract.detect.dynamics).
_DESCRIPTOR_TEXT = {
    "shape_spread": "how widely the tract shape varies over the recording (log-area SD)",
    "shape_jitter": "how fast it changes between neighbouring windows (mean |change of log-area|)",
    "length_spread": "how much the estimated tract length varies (IQR, cm)",
    "f1_spread": "how much the first formant varies (IQR, Hz)",
    "log_shimmer": "voice source, not tract: how irregular the glottal pulses' peaks are (ln shimmer)",
}


def _dynamics(report: Any) -> str:
    params = (report.provenance or {}).get("parameters", {}) or {}
    values = params.get("descriptors") or {}
    if not values:
        return ""
    ranges = params.get("descriptor_organic_ranges") or {}
    rows = []
    for name, value in values.items():
        lo, mid, hi = [*(ranges.get(name) or []), None, None, None][:3]
        outside = lo is not None and hi is not None and value is not None and not lo <= value <= hi
        rows.append(
            f"<tr><td class='code'>{_e(name)}</td><td>{_e(_DESCRIPTOR_TEXT.get(name, ''))}</td>"
            f"<td class='num'>{'<b>' if outside else ''}{_num(value)}{'</b>' if outside else ''}"
            f"</td><td class='num'>{_num(lo)} – {_num(hi)}</td><td class='num'>{_num(mid)}</td></tr>"
        )
    title_extra = " and voice shimmer" if "log_shimmer" in values else ""
    return (
        f"<section><h2>Recording-level tract dynamics{title_extra}</h2>"
        '<p class="muted">The default detector\'s statistic is computed from these values '
        "(docs/DETECTION.md). The organic range is the 5–95 % range over the organic "
        "recordings the detector was calibrated on; values outside it are in bold.</p>"
        '<div class="scroll"><table><thead><tr><th>descriptor</th><th>what it measures</th>'
        "<th>this recording</th><th>organic 5–95 %</th><th>organic median</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _conditions(report: Any) -> str:
    """What must hold for a verdict, as measured on this recording (vtract.analyze's rules)."""
    from .verdict_conditions import SIGNAL_MEASURES, verdict_conditions

    params = (report.provenance or {}).get("parameters", {}) or {}
    ev = report.evidence or {}
    rates = [r for r in (ev.get("original_sr"), ev.get("sr")) if isinstance(r, (int, float))]
    conditions = verdict_conditions(
        min(rates) if rates else None,
        (report.reference or {}).get("estimator_code_sha256"),
        params.get("estimator_code_sha256"),
        **{k: params.get(k) for k in SIGNAL_MEASURES},
    )
    body = "".join(
        f"<tr><td>{_e(c.what)}</td><td class='num'>{_e(c.measured)}</td>"
        f"<td class='num'>{_e(c.required)}</td>"
        f"<td>{'<b>not met</b>' if c.status == 'not met' else _e(c.status)}</td></tr>"
        for c in conditions
    )
    return (
        "<section><h2>Conditions for a verdict</h2>"
        '<p class="muted">The detector is calibrated on clean, close-microphone full-band '
        "recordings measured by the "
        "reference's own estimator code; when a condition is not met the verdict is "
        "inconclusive (docs/LIMITS.md).</p>"
        '<div class="scroll"><table><thead><tr><th>condition</th><th>this recording</th>'
        f"<th>required</th><th>status</th></tr></thead><tbody>{body}</tbody></table></div>"
        "</section>"
    )


def _warnings(report: Any) -> str:
    notes = list(report.warnings)
    if not notes:
        return ""
    items = "".join(f'<div class="warn">⚠ {_e(w)}</div>' for w in notes)
    return f"<section><h2>Warnings</h2>{items}</section>"


def _flags(report: Any) -> str:
    if not report.flags:
        body = '<p class="muted">No anatomical findings were raised.</p>'
    else:
        rows = "".join(
            "<tr>"
            f"<td>{_e(f.severity)}</td><td class='code'>{_e(f.code)}</td><td>{_e(f.message)}</td>"
            f"<td class='num'>{_num(f.measured)} {_e(f.unit)}</td>"
            f"<td class='num'>{_num(f.expected_min)} – {_num(f.expected_max)}</td>"
            f"<td>{_e(f.bigram or '')}</td>"
            f"<td class='num'>{_span(f.start, f.end)}</td><td>{_e(f.source)}</td></tr>"
            for f in report.flags
        )
        body = (
            '<div class="scroll"><table><thead><tr><th>severity</th><th>code</th><th>finding</th>'
            "<th>measured</th><th>human range</th><th>bigram</th><th>time (s)</th><th>source</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )
    note = (
        '<p class="muted">Findings are also common in organic speech; read them with the '
        "limitations below.</p>"
        if report.flags
        else ""
    )
    return f"<section><h2>Anatomical findings ({len(report.flags)})</h2>{note}{body}</section>"


def _span(start: Any, end: Any) -> str:
    if start is None or end is None:
        return "–"
    return f"{_num(start, '.3f')}–{_num(end, '.3f')}"


def _evidence_table(report: Any) -> str:
    if not report.bigrams:
        return (
            "<section><h2>Evidence</h2><p class='muted'>No bigram could be analysed, so there "
            "is no per-bigram evidence.</p></section>"
        )
    rows = []
    for b in sorted(report.bigrams, key=lambda b: (b.boundary, b.bigram)):
        cls = ' class="flagged"' if b.flags else ""
        rows.append(
            f"<tr{cls}><td class='code'>{_e(b.bigram)}</td><td>{_e(b.ipa)}</td>"
            f"<td>{_e(b.word)}</td><td class='num'>{_num(b.boundary, '.3f')}</td>"
            f"<td class='num'>{_span(b.start, b.end)}</td><td class='num'>{_num(b.length_cm, '.1f')}</td>"
            f"<td class='num'>{_num(b.deviation, '.2f')}</td><td class='num'>{_num(b.score, '.2f')}</td>"
            f"<td>{_e(b.reference_level)}</td><td class='code'>{_e(', '.join(b.flags))}</td></tr>"
        )
    return (
        f"<section><h2>Evidence ({len(report.bigrams)} bigrams)</h2>"
        '<p class="muted">One row per phone pair analysed. Deviation: distance from the organic '
        "reference in robust units (0 = typical). Flagged rows are shaded.</p>"
        '<div class="scroll"><table><thead><tr><th>bigram</th><th>IPA</th><th>word</th>'
        "<th>boundary (s)</th><th>windows (s)</th><th>tract length (cm)</th><th>deviation</th>"
        "<th>score</th><th>reference level</th><th>flags</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></section>"
    )


def _figures(report: Any, evidence: Any, reference: Any) -> str:
    from .plot.figures import figure_png, report_figures

    blocks = []
    for spec in report_figures(report, evidence=evidence, reference=reference):
        png = base64.b64encode(figure_png(spec.figure)).decode("ascii")
        blocks.append(
            f'<figure><img alt="{_e(spec.title)}" src="data:image/png;base64,{png}">'
            f"<figcaption><b>{_e(spec.title)}.</b> {_e(spec.caption)}</figcaption></figure>"
        )
    return "<section><h2>Plots</h2>" + "".join(blocks) + "</section>"


def _custody(custody: dict[str, Any]) -> str:
    rows = []
    ordered = {k: custody[k] for k in _CUSTODY_ORDER if k in custody}
    ordered.update({k: v for k, v in custody.items() if k not in ordered})
    for key, value in _flatten(ordered, sort=False):
        rows.append(f"<tr><th>{_e(key)}</th><td class='mono'>{_e(value)}</td></tr>")
    return (
        "<section><h2>Chain of custody</h2>"
        '<p class="muted">Everything needed to verify the input and re-run the analysis.</p>'
        f'<div class="card scroll"><table><tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _flatten(obj: Any, prefix: str = "", *, sort: bool = True) -> list[tuple[str, str]]:
    if isinstance(obj, dict):
        out: list[tuple[str, str]] = []
        if not obj and prefix:
            return [(prefix, "(none)")]
        for k in sorted(obj) if sort else obj:
            out += _flatten(obj[k], f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(obj, (list, tuple)):
        return [(prefix, json.dumps(obj, sort_keys=True))]
    return [(prefix, "null" if obj is None else str(obj))]


def _limitations() -> str:
    items = "".join(f"<li>{_e(t)}</li>" for t in LIMITATIONS)
    return f"<section><h2>What this method can and cannot show</h2><ul>{items}</ul></section>"


def _calibration_sentence(thresholds: dict[str, Any]) -> str:
    """What the decision threshold's false-positive rate means, in words."""

    def finite(v: Any) -> float | None:
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

    fpr, bound = finite(thresholds.get("target_fpr")), finite(thresholds.get("fpr_bound"))
    speakers = finite(thresholds.get("fpr_bound_speakers"))
    if fpr is not None and bound is not None:
        whose = (
            ": an organic recording like the organic calibration recordings"
            if speakers is None
            else f", counted over {speakers:.0f} organic calibration speakers rather than their "
            "recordings: a recording of a new speaker, organic and like the calibration speakers,"
        )
        return (
            f"The decision threshold was set for a false-positive rate of {100 * fpr:.3g}%"
            f"{whose} is called synthetic with probability at "
            f"most {100 * bound:.3g}%. Organic speech unlike them (another channel, language or "
            "voice quality) can be called synthetic more often. "
        )
    if fpr is not None:
        # calibrations made before the conformal rule kept the rate on their own recordings
        return (
            f"The decision threshold was calibrated to call at most {100 * fpr:.3g}% of the "
            "organic calibration recordings synthetic. "
        )
    return ""


def _footer(data: dict[str, Any]) -> str:
    rendered = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    full = _e(json.dumps(data, sort_keys=True, indent=1))
    return (
        "<section><h2>Machine-readable report</h2>"
        f"<details><summary>Full JSON (schema {_e(data['schema_version'])})</summary>"
        f"<pre>{full}</pre></details>"
        f'<p class="muted">Rendered {rendered} by vtract {_e(data["provenance"].get("version", ""))}.</p>'
        "</section>"
    )


def _json_for_script(data: dict[str, Any]) -> str:
    # '<' escaped so that no string in the data can close the script element
    return (
        json.dumps(data, sort_keys=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
