"""Write a :class:`~vtract.report.Report` as a PDF (matplotlib only).

The first pages are a text summary (verdict, score, every threshold, reason,
warnings, custody hashes), wrapped to the page width and continued on as many
pages as it needs; the following pages are the report's figures; the last
pages state what the method can and cannot show
(:data:`vtract.report_html.LIMITATIONS`, as in the HTML report).

Text is drawn as written: a ``$`` in a file name is not mathtext, and a
character the PDF font cannot draw (CJK, Hebrew ...) or that would disguise
the text (bidi controls) is printed as a ``\\uNNNN`` escape
(:func:`vtract.provenance.visible_text`); the JSON keeps the exact text.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from .provenance import visible_text

__all__ = ["LINES_PER_PAGE", "LINE_WIDTH", "paginate", "summary_lines", "wrap", "write_pdf"]

#: Characters per line of the text pages: 8 pt DejaVu Sans Mono (4.8 pt per
#: character) fits 108 in the 7.3 inches between the margins of A4.
LINE_WIDTH = 100
#: Lines per text page (10 pt apart between the top and bottom margins of A4).
LINES_PER_PAGE = 76

_PAGE_SIZE = (8.27, 11.69)  # A4, inches
_FONT_SIZE = 8.0
_LINE_STEP_PT = 10.0
_TOP, _LEFT = 0.96, 0.06  # figure fractions


def wrap(text: str, width: int = LINE_WIDTH, indent: str = "  ") -> list[str]:
    """``text`` as lines of at most ``width`` characters; nothing is dropped.

    Each line of ``text`` is wrapped on its own; continuation lines are
    indented by ``indent``; a word longer than a line (a path, a hash) is
    split across lines.
    """
    out: list[str] = []
    for para in text.split("\n"):
        out += textwrap.wrap(
            para,
            width,
            subsequent_indent=indent,
            break_long_words=True,
            break_on_hyphens=False,
            drop_whitespace=True,
        ) or [""]
    return out


def summary_lines(report: Any, width: int = LINE_WIDTH) -> list[str]:
    """The text of the summary pages, wrapped to ``width`` characters.

    File name and hashes, verdict, score, every threshold on its own line,
    counts, the reason, every warning in full, and the custody lines
    (software version and commit, reference and its hash, analysis time and
    platform).
    """
    custody = report.custody()
    thresholds = sorted(report.thresholds.items())
    score = "none" if report.score is None else f"{report.score:.3f}"
    software, ref = custody["software"], custody["reference"]
    lines = [
        "vtract forensic report",
        "",
        *wrap(f"File: {report.file or '(in-memory audio)'}", width),
        f"SHA-256 (file): {report.sha256}",
        f"SHA-256 (decoded PCM): {report.pcm_sha256}",
        "",
        f"Verdict: {report.verdict.upper()}",
        f"Score: {score}   detector: {report.detector}",
        "Thresholds:" if thresholds else "Thresholds: none recorded",
        *[ln for k, v in thresholds for ln in wrap(f"  {k}: {v}", width, "    ")],
        f"Bigrams analysed: {report.n_bigrams}   flags: {len(report.flags)}",
        "",
        *wrap(f"Why: {report.reason}", width),
        "",
        *[ln for w in report.warnings for ln in wrap(f"Warning: {w}", width)],
        "" if report.warnings else "Warnings: none",
        "",
        *wrap(f"vtract {software['version']} (commit {software['git_commit']})", width),
        *wrap(f"Reference: {ref['name']} version {ref['version']}", width),
        *wrap(f"Reference sha256: {ref['sha256']}", width),
        *wrap(f"Analysed: {custody['created_utc']}", width),
        *wrap(f"Platform: {custody['platform']['platform']}", width),
    ]
    return lines


def paginate(lines: list[str], per_page: int = LINES_PER_PAGE) -> list[list[str]]:
    """``lines`` cut into pages of at most ``per_page`` lines (at least one page);
    continuation pages start with a line saying so."""
    if per_page < 2:
        raise ValueError(f"per_page must be at least 2, got {per_page}")
    pages = [lines[:per_page]]
    rest = lines[per_page:]
    while rest:
        n = len(pages) + 1
        pages.append([f"(continued, page {n})", *rest[: per_page - 1]])
        rest = rest[per_page - 1 :]
    return pages


def write_pdf(report: Any, path: Path, *, evidence: Any = None, reference: Any = None) -> Path:
    """Write the report to ``path`` (see :meth:`vtract.report.Report.to_pdf`).

    Raises
    ------
    VtractError
        ``evidence`` or ``reference`` is not the one the report was made with.
    """
    from matplotlib.backends.backend_pdf import PdfPages

    from .plot._common import LITERAL_TEXT, shown_text
    from .plot.figures import report_figures
    from .report_html import LIMITATIONS, check_evidence_matches, check_reference_matches

    check_evidence_matches(report, evidence)
    check_reference_matches(report, reference)
    path.parent.mkdir(parents=True, exist_ok=True)
    notes = ["What this method can and cannot show", ""]
    for item in LIMITATIONS:
        notes += [*wrap(item, LINE_WIDTH, ""), ""]
    metadata = {"Title": "vtract forensic report", "Creator": "vtract", "CreationDate": None}
    with PdfPages(path, metadata=metadata) as pdf:
        for lines in paginate(summary_lines(report)):
            pdf.savefig(_text_page(lines))
        for spec in report_figures(report, evidence=evidence, reference=reference):
            spec.figure.suptitle(shown_text(spec.title), fontsize=10, **LITERAL_TEXT)
            pdf.savefig(spec.figure)
        for lines in paginate(notes):
            pdf.savefig(_text_page(lines))
    return path


def _text_page(lines: list[str]) -> Any:
    """An A4 figure with ``lines`` drawn one by one, 10 pt apart, as written."""
    from matplotlib.figure import Figure

    from .plot._common import LITERAL_TEXT, font_can_draw

    page = Figure(figsize=_PAGE_SIZE)
    step = _LINE_STEP_PT / (_PAGE_SIZE[1] * 72.0)
    drawable = font_can_draw("monospace")
    for i, line in enumerate(lines):
        if line:
            page.text(
                _LEFT,
                _TOP - i * step,
                visible_text(line, drawable),
                va="top",
                ha="left",
                family="monospace",
                fontsize=_FONT_SIZE,
                **LITERAL_TEXT,
            )
    return page
