"""Write a :class:`~vtract.report.Report` as a PDF (matplotlib only).

Page 1 is a text summary (verdict, score, reason, warnings, custody hashes);
the following pages are the report's figures; the last page states what the
method can and cannot show (:data:`vtract.report_html.LIMITATIONS`, as in the
HTML report).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

__all__ = ["write_pdf"]


def write_pdf(report: Any, path: Path, *, evidence: Any = None, reference: Any = None) -> Path:
    """Write the report to ``path`` (see :meth:`vtract.report.Report.to_pdf`)."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from .plot.figures import report_figures
    from .report_html import LIMITATIONS, check_evidence_matches, check_reference_matches

    check_evidence_matches(report, evidence)
    check_reference_matches(report, reference)
    path.parent.mkdir(parents=True, exist_ok=True)
    custody = report.custody()
    lines = [
        "vtract forensic report",
        "",
        f"File: {report.file or '(in-memory audio)'}",
        f"SHA-256 (file): {report.sha256}",
        f"SHA-256 (decoded PCM): {report.pcm_sha256}",
        "",
        f"Verdict: {report.verdict.upper()}",
        f"Score: {'none' if report.score is None else f'{report.score:.3f}'}"
        f"   thresholds: {dict(sorted(report.thresholds.items()))}",
        f"Bigrams analysed: {report.n_bigrams}   flags: {len(report.flags)}",
        "",
        *textwrap.wrap(f"Why: {report.reason}", 95),
        "",
        *[ln for w in report.warnings for ln in textwrap.wrap(f"Warning: {w}", 95)],
        "",
        f"vtract {custody['software']['version']} (commit {custody['software']['git_commit']})",
        f"Reference: {custody['reference']['name']} sha256 {custody['reference']['sha256']}",
        f"Analysed: {custody['created_utc']}   platform: {custody['platform']['platform']}",
    ]
    metadata = {"Title": "vtract forensic report", "Creator": "vtract", "CreationDate": None}
    with PdfPages(path, metadata=metadata) as pdf:
        page = Figure(figsize=(8.27, 11.69))
        page.text(0.06, 0.96, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=8)
        pdf.savefig(page)
        for spec in report_figures(report, evidence=evidence, reference=reference):
            spec.figure.suptitle(spec.title, fontsize=10)
            pdf.savefig(spec.figure)
        notes = ["What this method can and cannot show", ""]
        for item in LIMITATIONS:
            notes += [*textwrap.wrap(item, 95), ""]
        page = Figure(figsize=(8.27, 11.69))
        page.text(0.06, 0.96, "\n".join(notes), va="top", ha="left", family="monospace", fontsize=8)
        pdf.savefig(page)
    return path
