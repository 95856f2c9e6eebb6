"""The columns of batch results tables and how a Report becomes rows.

Two tables with fixed columns (the same in Parquet and CSV):

- results (``--out``): one row per input file, :data:`RESULT_COLUMNS`;
  a file that could not be analysed has ``verdict`` empty and
  ``error_type`` / ``error_message`` set.
- per-bigram (``--per-bigram``): one row per bigram of each analysed file,
  :data:`BIGRAM_COLUMNS`, joined to the results on ``input_key``.

``input_key`` identifies one analysis: the audio's SHA-256, the alignment
file's SHA-256 and the transcript (:attr:`vtract.batch.inputs.BatchInput.key`);
a resumed run skips the keys already present. ``report_file`` names the
row's JSON report inside the ``--reports`` folder (empty without one).
``copy_of`` is empty for a file that was analysed; for a file whose bytes
(and transcript and file ending, with no alignment file, and with a
per-file plugin its speaker) are those of another input of the same run, it
names that input's path: the copy's row (its own ``path``, ``file``,
``input_key``, speaker, label) carries that analysis's results
without a second analysis (:func:`copy_rows`). Runs with ``--reports``
analyse every path (a report's custody block names the file it analysed),
so ``copy_of`` is then empty. ``copy_of`` always names a row of the table
that holds that analysis: when a resumed run replaces the original's row
(other content at that path...), the copy is analysed again if listed, or
else keeps its row with ``copy_of`` cleared and a warning naming the path
and SHA-256 whose analysis its results are
(:class:`~vtract.batch.output.BatchOutput`).
``analysis_settings`` is the JSON of what the answer depends on besides the
input (:mod:`vtract.batch.settings`); a table is only resumed with the same.
``table_id`` (32 hex digits) names the results table a row was written for:
it is drawn when the table is first written, kept by every resume, and
stamped on its per-bigram rows too, so a per-bigram table is only ever
resumed beside the results table it was written with
(:class:`~vtract.batch.output.BatchOutput`). It is empty for in-memory runs.

File names (``path``, ``file``, ``alignment_file``) are written by
:func:`vtract.provenance.path_text`: bytes that are not UTF-8 appear as
``\\xNN`` escapes, as in the JSON reports.

Lists of flag codes and warnings are joined with ``";"`` and ``" | "``;
``areas_cm2`` is a list column in Parquet and a JSON array in CSV.
"""

from __future__ import annotations

import math
from typing import Any

from .._version import __version__
from ..provenance import path_text
from .inputs import BatchInput

__all__ = [
    "BIGRAM_COLUMNS",
    "RESULT_COLUMNS",
    "bigram_rows",
    "copy_rows",
    "error_row",
    "report_row",
]

#: Results table: column -> kind ("str", "float", "int", "floats").
RESULT_COLUMNS: dict[str, str] = {
    "input_key": "str",
    "path": "str",
    "file": "str",
    "sha256": "str",
    "pcm_sha256": "str",
    "speaker": "str",
    "label": "str",
    "transcript": "str",
    "alignment_file": "str",
    "alignment_sha256": "str",
    "duration_s": "float",
    "score": "float",
    "verdict": "str",
    "reason": "str",
    "detector": "str",
    "n_bigrams": "int",
    "n_flags": "int",
    "flags": "str",
    "alignment_source": "str",
    "reference_sha256": "str",
    "warnings": "str",
    "report_file": "str",
    "copy_of": "str",
    "error_type": "str",
    "error_message": "str",
    "elapsed_s": "float",
    "cpu_s": "float",
    "worker": "str",
    "worker_maxrss_mb": "float",
    "vtract_version": "str",
    "analysis_settings": "str",
    "table_id": "str",
}

#: Per-bigram table: column -> kind.
BIGRAM_COLUMNS: dict[str, str] = {
    "input_key": "str",
    "path": "str",
    "sha256": "str",
    "bigram": "str",
    "ipa": "str",
    "word": "str",
    "boundary_s": "float",
    "start_s": "float",
    "end_s": "float",
    "length_cm": "float",
    "deviation": "float",
    "score": "float",
    "reference_level": "str",
    "flags": "str",
    "areas_cm2": "floats",
    "table_id": "str",
}


def _float(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _input_fields(item: BatchInput) -> dict[str, Any]:
    return {
        "input_key": item.key,
        "path": path_text(item.path),
        "speaker": item.speaker,
        "label": item.label,
        "transcript": item.transcript,
        "alignment_file": None if item.textgrid is None else path_text(item.textgrid),
        "alignment_sha256": item.alignment_sha256,
    }


def report_row(item: BatchInput, report: Any) -> dict[str, Any]:
    """Results row for a successfully analysed file.

    Parameters
    ----------
    item : BatchInput
        The input.
    report : vtract.report.Report
        Its report.
    """
    flags = [f.code for f in report.flags]
    row = {
        **_input_fields(item),
        "file": path_text(item.path),  # as given, like error rows (the report: resolved path)
        "sha256": report.sha256,
        "pcm_sha256": report.pcm_sha256,
        "duration_s": _float(report.evidence.get("duration")),
        "score": _float(report.score),
        "verdict": report.verdict,
        "reason": report.reason,
        "detector": report.detector,
        "n_bigrams": len(report.bigrams),
        "n_flags": len(flags),
        "flags": ";".join(flags),
        "alignment_source": report.alignment.get("source"),
        "reference_sha256": report.reference.get("sha256"),
        "warnings": " | ".join(report.warnings),
        "report_file": None,  # set by the batch when it writes the report
        "copy_of": None,
        "error_type": None,
        "error_message": None,
        "vtract_version": __version__,
    }
    return row


def error_row(item: BatchInput, error_type: str, error_message: str) -> dict[str, Any]:
    """Results row for a file that could not be analysed."""
    return {
        **_input_fields(item),
        "file": path_text(item.path),
        "sha256": item.sha256,
        "n_bigrams": 0,
        "n_flags": 0,
        "error_type": error_type,
        "error_message": path_text(error_message),  # it may quote a name that is not UTF-8
        "vtract_version": __version__,
    }


def bigram_rows(item: BatchInput, report: Any) -> list[dict[str, Any]]:
    """Per-bigram rows of a report."""
    return [
        {
            "input_key": item.key,
            "path": path_text(item.path),
            "sha256": report.sha256,
            "bigram": b.bigram,
            "ipa": b.ipa,
            "word": b.word,
            "boundary_s": _float(b.boundary),
            "start_s": _float(b.start),
            "end_s": _float(b.end),
            "length_cm": _float(b.length_cm),
            "deviation": _float(b.deviation),
            "score": _float(b.score),
            "reference_level": b.reference_level,
            "flags": ";".join(b.flags),
            "areas_cm2": [float(a) for a in b.areas_cm2],
        }
        for b in report.bigrams
    ]


def copy_rows(
    item: BatchInput, original: BatchInput, row: dict[str, Any], bigrams: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The rows of ``item``, a copy of ``original``, from the rows of ``original``'s analysis.

    The copy keeps its own input fields (key, path, file, speaker, label,
    alignment file) and the analysis's results; ``copy_of`` names the
    analysed path and the run's bookkeeping (time, worker) is empty, since
    nothing ran for it.
    """
    copy = {**row, **_input_fields(item), "file": path_text(item.path)}
    if copy.get("error_message"):  # the message names the analysed file, not this one
        copy["error_message"] = (
            f"not analysed itself: the analysis of its copy {path_text(original.path)} "
            f"failed: {copy['error_message']}"
        )
    copy.update(
        copy_of=path_text(original.path),
        elapsed_s=0.0,
        cpu_s=0.0,
        worker=None,
        worker_maxrss_mb=None,
    )
    copies = [{**b, "input_key": item.key, "path": path_text(item.path)} for b in bigrams]
    return copy, copies
