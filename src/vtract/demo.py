"""The one-command demo: analyse the bundled example recordings end to end.

:func:`run_demo` runs :func:`vtract.analyze` on every recording listed in
``vtract/data/examples/manifest.json`` (made by ``scripts/make_examples.py``)
and writes, into one folder::

    report.html / report.json      the main example (Piper neural TTS)
    report.pdf                     the same as PDF (with ``pdf=True``)
    <name>.html / <name>.json      one pair per example recording
    index.html                     a table of verdicts linking to each report
    summary.json                   the same table, machine-readable
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import VtractError
from .output_files import prepare_output

__all__ = [
    "MAIN_EXAMPLE",
    "DemoResult",
    "ExampleRecording",
    "example_recordings",
    "run_demo",
    "score_meaning",
]

#: The example whose report becomes ``report.html``.
MAIN_EXAMPLE = "piper_joe"


@dataclass(frozen=True)
class ExampleRecording:
    """One bundled example: audio path, transcript, optional alignment, description."""

    name: str
    path: Path
    transcript: str
    label: str
    kind: str
    generator: str
    sha256: str
    alignment: Path | None = None


@dataclass
class DemoResult:
    """Where the demo wrote its files and what it found."""

    out_dir: Path
    main_html: Path
    main_json: Path
    index_html: Path
    main_pdf: Path | None = None
    reports: dict[str, Any] = field(default_factory=dict)
    #: The truth of each example from its manifest ("synthetic" or "organic").
    labels: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, Path]] = field(default_factory=dict)


def example_recordings() -> list[ExampleRecording]:
    """The bundled example recordings, as listed in their manifest.

    Raises
    ------
    VtractError
        The manifest or one of its files is missing, or a file's SHA-256 is
        not the one its manifest records (a broken or modified installation).
    """
    from .provenance import file_sha256

    root = Path(str(resources.files("vtract").joinpath("data/examples")))
    manifest = root / "manifest.json"
    if not manifest.is_file():
        raise VtractError(f"bundled examples missing: {manifest} not found (reinstall vtract)")
    out = []
    for entry in json.loads(manifest.read_text("utf-8")):
        path = root / entry["file"]
        if not path.is_file():
            raise VtractError(f"bundled example missing: {path}")
        if file_sha256(path) != entry["sha256"]:
            raise VtractError(
                f"bundled example {path} has SHA-256 {file_sha256(path)}, but its manifest "
                f"records {entry['sha256']}: the installation was modified (reinstall vtract)"
            )
        aln = root / entry["alignment"] if entry.get("alignment") else None
        out.append(
            ExampleRecording(
                name=entry["name"],
                path=path,
                transcript=entry["transcript"],
                label=entry["label"],
                kind=entry["kind"],
                generator=entry["generator"],
                sha256=entry["sha256"],
                alignment=aln,
            )
        )
    return out


def run_demo(
    out_dir: str | os.PathLike[str] = "vtract-demo",
    *,
    reference: Any = None,
    detector: str = "default",
    examples: list[ExampleRecording] | None = None,
    pdf: bool = False,
) -> DemoResult:
    """Analyse the bundled examples and write HTML and JSON reports.

    Parameters
    ----------
    out_dir : str or os.PathLike, default "vtract-demo"
        Output folder (created).
    reference : Reference or path, optional
        Organic reference; the one shipped with vtract by default.
    detector : {"default", "paper"}
        Detector passed to :func:`vtract.analyze`.
    examples : list of ExampleRecording, optional
        Recordings to analyse (all bundled ones by default).
    pdf : bool, default False
        Also write ``report.pdf`` for the main example.

    Returns
    -------
    DemoResult
        Paths of everything written and the reports by example name.
    """
    from . import analyze, load
    from .reference import Reference, default_reference

    out = Path(out_dir)
    prepare_output(out / "index.html")
    recs = example_recordings() if examples is None else list(examples)
    if not recs:
        raise VtractError("no example recordings to analyse")
    if reference is None:
        ref = default_reference()
    elif isinstance(reference, (str, os.PathLike)):
        ref = Reference.load(reference)
    else:
        ref = reference
    result = DemoResult(out, out / "report.html", out / "report.json", out / "index.html")
    main = MAIN_EXAMPLE if any(r.name == MAIN_EXAMPLE for r in recs) else recs[0].name
    for rec in recs:
        if rec.alignment is not None:
            report = analyze(rec.path, alignment=rec.alignment, reference=ref, detector=detector)
        else:
            report = analyze(rec.path, transcript=rec.transcript, reference=ref, detector=detector)
        evidence = load(rec.path)
        names = [rec.name, "report"] if rec.name == main else [rec.name]
        text = report.to_html(evidence=evidence, reference=ref)
        js = report.to_json(indent=2) + "\n"
        for stem in names:
            (out / f"{stem}.html").write_text(text, "utf-8")
            (out / f"{stem}.json").write_text(js, "utf-8")
        if pdf and rec.name == main:
            result.main_pdf = report.to_pdf(out / "report.pdf", evidence=evidence, reference=ref)
        paths: dict[str, Path] = {
            "html": out / f"{rec.name}.html",
            "json": out / f"{rec.name}.json",
        }
        result.reports[rec.name] = report
        result.labels[rec.name] = rec.label
        result.files[rec.name] = paths
    summary = [
        {
            "name": rec.name,
            "kind": rec.kind,
            "label": rec.label,
            "transcript": rec.transcript,
            "verdict": result.reports[rec.name].verdict,
            "score": result.reports[rec.name].score,
            "synthetic_above": result.reports[rec.name].thresholds.get("score_synthetic_above"),
            "n_bigrams": result.reports[rec.name].n_bigrams,
            "html": f"{rec.name}.html",
            "json": f"{rec.name}.json",
        }
        for rec in recs
    ]
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    result.index_html.write_text(_index(summary, detector), "utf-8")
    return result


def score_meaning(detector: str) -> str:
    """What a report's score is, for the demo's table and index (plain words)."""
    if detector == "paper":
        return (
            "The paper detector's score is the published statistic itself, not a probability: "
            "the share of area values outside the organic ranges (range rule) or of "
            "ideal-feature votes for deepfake (ideal-vote rule). A recording is called "
            "synthetic when it exceeds the threshold shown (reaches it, for the ideal-vote "
            "rule's 0.5), so a score of 0.08 against 0.05 is a synthetic verdict."
        )
    return (
        "The default detector's score maps its statistic to [0, 1] with 0.5 at the threshold "
        "set for the calibration's false-positive rate: synthetic at or above 0.5. It is not a "
        "probability of synthesis."
    )


def _score_cell(score: float | None, above: float | None) -> str:
    if score is None:
        return "–"
    return f"{score:.2f}" if above is None else f"{score:.2f} (synthetic above {above:.2f})"


def _index(summary: list[dict[str, Any]], detector: str = "default") -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><a href='{e(s['html'])}'>{e(s['name'])}</a></td><td>{e(s['kind'])}</td>"
        f"<td>{e(s['transcript'])}</td><td><b>{e(s['verdict'])}</b></td>"
        f"<td>{e(_score_cell(s['score'], s.get('synthetic_above')))}</td>"
        f"<td>{s['n_bigrams']}</td><td><a href='{e(s['json'])}'>JSON</a></td></tr>"
        for s in summary
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>vtract demo</title>"
        "<style>body{font-family:system-ui,Arial,sans-serif;max-width:1000px;margin:24px auto}"
        "td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        "<h1>vtract demo</h1><p>The bundled example recordings were made by vtract itself with "
        "speech synthesisers: none of them is a human recording (see the kind column). "
        "The kind column is the truth and the verdict is vtract's: where a synthetic file is "
        "called organic, vtract missed it. Open a report to see the evidence behind each "
        f"verdict.</p><p>{e(score_meaning(detector))}</p>"
        "<table><thead><tr><th>example</th><th>kind</th><th>transcript</th><th>verdict</th>"
        f"<th>score</th><th>bigrams</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
        "</body></html>\n"
    )
