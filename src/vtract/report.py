"""The :class:`Report`: a verdict about one recording with its evidence.

The analysis (:func:`vtract.analyze`) builds a Report; this module turns it
into JSON (a versioned schema shipped as ``vtract/schemas/report.schema.json``)
and HTML. Apart from ``provenance["created_utc"]`` (repeated in the JSON's
``chain_of_custody``) a Report is a pure
function of its inputs and settings.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import VtractError
from .json_values import finite_or_null

__all__ = [
    "CLI_RECORD_KEYS",
    "SCHEMA_VERSION",
    "BigramEvidence",
    "Flag",
    "InvalidReportError",
    "Report",
    "report_schema",
    "strip_timestamps",
    "validate_report_dict",
]

#: Version of the JSON layout written by :meth:`Report.to_json`.
SCHEMA_VERSION = "1.0"

#: Keys that ``vtract analyze --html`` adds to a report's JSON record (the page
#: written, or why it could not be written); :meth:`Report.from_dict` ignores them.
CLI_RECORD_KEYS = ("html", "html_error")


class InvalidReportError(VtractError, ValueError):
    """A report dictionary or JSON text is malformed, inconsistent or tampered with."""


@dataclass(frozen=True)
class Flag:
    """An anatomical or signal finding, with the value and the range it breaks.

    Attributes
    ----------
    code : str
        Stable identifier (``"area_out_of_range"``, ``"straw_tract"`` ...).
    message : str
        Plain-language reason.
    measured : float or None
        The measured value.
    expected_min, expected_max : float or None
        The human range (or threshold) it was compared with.
    unit : str
        Unit of ``measured``.
    source : str
        Citation for the range.
    severity : str
        ``"info"``, ``"warning"`` or ``"critical"``.
    bigram : str or None
        Bigram the finding belongs to, if any.
    start, end : float or None
        Time span in seconds, if any.
    """

    code: str
    message: str
    measured: float | None = None
    expected_min: float | None = None
    expected_max: float | None = None
    unit: str = ""
    source: str = ""
    severity: str = "warning"
    bigram: str | None = None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class BigramEvidence:
    """What one phone bigram of the recording contributed to the verdict.

    Attributes
    ----------
    bigram : str
        ARPAbet bigram ``"AH-N"``.
    ipa : str
        The same in IPA.
    word : str
        Word it occurs in (``""`` across words).
    boundary : float
        Phone boundary time (s).
    start, end : float
        Span of the analysed windows (s).
    areas_cm2 : list of float
        Median area function (glottis to lips) at the boundary window.
    length_cm : float
        Estimated tract length (cm).
    deviation : float
        Robust deviation from the organic reference (>= 0; larger is stranger).
    score : float
        Per-bigram atypicality in [0, 1]: how unlike the organic reference the
        occurrence's tract shapes are (with its flags), not a probability of
        synthesis (:mod:`vtract.detect.default`).
    reference_level : str
        Where the reference came from (``"bigram"``, ``"phone"``, ``"class"``,
        ``"global"``).
    flags : list of str
        Codes of the flags raised here.
    """

    bigram: str
    ipa: str
    word: str
    boundary: float
    start: float
    end: float
    areas_cm2: list[float]
    length_cm: float
    deviation: float
    score: float
    reference_level: str
    flags: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Report:
    """The result of analysing one recording.

    Attributes
    ----------
    file : str or None
        Evidence path.
    sha256, pcm_sha256 : str
        Hash of the file bytes and of the decoded samples.
    score : float or None
        Calibrated probability-like score in [0, 1], higher = more likely
        synthetic; ``None`` when inconclusive.
    verdict : str
        ``"organic"``, ``"synthetic"`` or ``"inconclusive"``.
    reason : str
        One sentence explaining the verdict (why inconclusive, what drove it).
    detector : str
        ``"default"`` or ``"paper"``.
    thresholds : dict
        Thresholds used (synthetic above, organic below, ...).
    flags : list of Flag
        Anatomical findings.
    bigrams : list of BigramEvidence
        Per-bigram evidence.
    evidence : dict
        :meth:`vtract.Evidence.summary` of the input.
    alignment : dict
        Source, low-confidence marker and the phone/word intervals used.
    reference : dict
        Name, version and SHA-256 of the reference used.
    provenance : dict
        :func:`vtract.provenance.provenance` block.
    warnings : list of str
        Degradations the examiner must know about.
    """

    file: str | None
    sha256: str
    pcm_sha256: str
    score: float | None
    verdict: str
    reason: str
    detector: str = "default"
    thresholds: dict[str, float] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    bigrams: list[BigramEvidence] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    alignment: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_bigrams(self) -> int:
        """Number of bigrams that contributed evidence."""
        return len(self.bigrams)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report from :meth:`to_dict` output (e.g. a saved JSON report).

        The dictionary is checked before anything is built: every key the
        schema (:func:`report_schema`) requires, and no other (apart from the
        ``html`` / ``html_error`` keys of a ``vtract analyze --html`` record);
        the type of every field the renderers use; ``verdict`` one of
        ``organic``, ``synthetic``, ``inconclusive``; ``score`` a number in
        [0, 1], or null, which only an inconclusive verdict may have; hashes
        64 lowercase hex digits; ``warnings`` a list of strings. The derived
        keys must agree with the fields: ``n_bigrams`` with the bigrams, and
        ``chain_of_custody`` with :meth:`custody` recomputed from the rest --
        a custody block whose values disagree means the report was edited,
        and is refused rather than silently replaced. A key only one of them
        holds is not a disagreement (a report written by an earlier vtract,
        whose custody block had fewer keys, or one passed through
        :func:`strip_timestamps`); the loaded report's custody block is the
        recomputed one. ``null`` numbers of the bigram evidence become NaN.

        A ``vtract analyze`` record written before the CLI kept the absolute
        path named the file as typed (relative) in ``file`` while its custody
        block and ``evidence.path`` hold the absolute path; such a record is
        read with that absolute path as :attr:`file`, so its custody block
        is unchanged.

        Raises
        ------
        InvalidReportError
            Not a dictionary, another ``schema_version``, a missing, unknown
            or malformed field, or derived keys that disagree with the fields.
        """
        _check_report_dict(data)
        nan = float("nan")
        flags = [Flag(**f) for f in data["flags"]]
        bigrams = [
            BigramEvidence(
                **{
                    **b,
                    "areas_cm2": [nan if a is None else float(a) for a in b["areas_cm2"]],
                    "flags": list(b["flags"]),
                    **{
                        k: nan if b[k] is None else float(b[k])
                        for k in ("boundary", "start", "end", "length_cm", "deviation", "score")
                    },
                }
            )
            for b in data["bigrams"]
        ]
        report = cls(
            file=_recorded_file(data),
            sha256=data["sha256"],
            pcm_sha256=data["pcm_sha256"],
            score=None if data["score"] is None else float(data["score"]),
            verdict=data["verdict"],
            reason=data["reason"],
            detector=data["detector"],
            thresholds=dict(data["thresholds"]),
            flags=flags,
            bigrams=bigrams,
            evidence=dict(data["evidence"]),
            alignment=dict(data["alignment"]),
            reference=dict(data["reference"]),
            provenance=dict(data["provenance"]),
            warnings=list(data["warnings"]),
        )
        if data["n_bigrams"] != report.n_bigrams:
            raise InvalidReportError(
                f"report n_bigrams is {data['n_bigrams']!r} but it holds {report.n_bigrams} "
                "bigrams: the report was edited"
            )
        stored = data["chain_of_custody"]
        recomputed = finite_or_null(report.custody())
        differ = _differences(stored, recomputed)
        if differ:
            raise InvalidReportError(
                "report chain_of_custody disagrees with the report's own fields at "
                f"{', '.join(differ[:5])}{' ...' if len(differ) > 5 else ''}: "
                "the report was edited (tampering, or a hand-made report)"
            )
        return report

    @classmethod
    def from_json(cls, text: str | bytes) -> Report:
        """Rebuild a report from :meth:`to_json` text (checked as by :meth:`from_dict`).

        Raises
        ------
        InvalidReportError
            The text is not JSON, or not a valid report (see :meth:`from_dict`).
        """
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as exc:  # JSONDecodeError, bad UTF-8 bytes, not text
            raise InvalidReportError(f"not a vtract JSON report: {exc}") from None
        return cls.from_dict(data)

    def custody(self) -> dict[str, Any]:
        """Chain-of-custody block: what is needed to verify the input and re-run.

        Gathered from the other fields: evidence hashes (file bytes and
        decoded PCM), vtract version and commit, dependency versions, the
        aligner's model-file hashes (``alignment["meta"]["aligner"]["files"]``,
        as written by :func:`vtract.alignment.sphinx.aligner_model_info`), the
        reference hash, every parameter, the platform and the UTC time of
        the analysis.
        """
        prov = self.provenance
        ev = self.evidence
        meta = self.alignment.get("meta") or {}
        aligner = (meta.get("aligner") if isinstance(meta, dict) else None) or {}
        return {
            "evidence": {
                "file": self.file,
                "sha256": self.sha256,
                "pcm_sha256": self.pcm_sha256,
                "format": ev.get("format"),
                "subtype": ev.get("subtype"),
                "original_sr": ev.get("original_sr"),
                "analysis_sr": ev.get("sr"),
                "channels": ev.get("channels"),
                "duration_s": ev.get("duration"),
                "metadata": dict(ev.get("metadata") or {}),
            },
            "software": {
                "tool": prov.get("tool", "vtract"),
                "version": prov.get("version"),
                "git_commit": prov.get("git_commit"),
                "dependencies": dict(prov.get("dependencies") or {}),
            },
            "aligner": {
                "source": self.alignment.get("source"),
                "engine": aligner.get("engine"),
                "version": aligner.get("version"),
                "model_files": dict(aligner.get("files") or {}),
            },
            "reference": {
                "name": self.reference.get("name"),
                "version": self.reference.get("version"),
                "sha256": self.reference.get("sha256"),
            },
            "detector": self.detector,
            "parameters": dict(prov.get("parameters") or {}),
            "inputs": dict(prov.get("inputs") or {}),
            "platform": {
                "python": prov.get("python"),
                "platform": prov.get("platform"),
                "implementation": prov.get("implementation"),
            },
            "created_utc": prov.get("created_utc"),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary following the report schema."""
        out = asdict(self)
        out["schema_version"] = SCHEMA_VERSION
        out["n_bigrams"] = self.n_bigrams
        out["chain_of_custody"] = self.custody()
        return finite_or_null(out)  # type: ignore[no-any-return]

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise to JSON with sorted keys (stable across runs)."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, allow_nan=False)

    def to_html(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        evidence: Any = None,
        reference: Any = None,
    ) -> str:
        """Render the report as one self-contained HTML file.

        The verdict and its uncertainty come first, then warnings, anatomical
        findings, the per-bigram evidence table, plots (embedded PNG), the
        chain of custody, plain-language notes on what the method can and
        cannot show, and the full JSON.

        Parameters
        ----------
        path : str or os.PathLike, optional
            Where to write the file (UTF-8), atomically (see
            :func:`vtract.output_files.atomic_path`). Only the text is
            returned when omitted.
        evidence : Evidence, optional
            The analysed audio; adds the spectrogram timeline.
        reference : Reference, optional
            The organic reference the report was analysed with (its
            :attr:`~vtract.Reference.sha256` must be the one the report
            records); adds per-bigram distributions.

        Returns
        -------
        str
            The HTML text.

        Raises
        ------
        vtract.output_files.OutputOverInputError
            ``path`` is the evidence file the report records (:attr:`file`)
            or ``evidence``'s file: another spelling, a symbolic link or a
            hard link to it. Checked before anything is rendered.
        vtract.output_files.OutputFileError
            ``path`` cannot be written.
        VtractError
            ``evidence`` is not the analysed recording, or ``reference`` not
            the reference the report records.
        """
        from .report_html import render_html

        if path is not None:
            self._check_output(path, evidence)
        text = render_html(self, evidence=evidence, reference=reference)
        if path is not None:
            _atomic_write(Path(path), text.encode("utf-8"))
        return text

    def to_pdf(
        self,
        path: str | os.PathLike[str],
        *,
        evidence: Any = None,
        reference: Any = None,
    ) -> Path:
        """Write a PDF: a summary page followed by the report's figures.

        Parameters
        ----------
        path : str or os.PathLike
            Output file, written atomically (see
            :func:`vtract.output_files.atomic_path`).
        evidence, reference : optional
            As for :meth:`to_html`.

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        vtract.output_files.OutputOverInputError, vtract.output_files.OutputFileError, VtractError
            As for :meth:`to_html`.
        """
        import tempfile

        from .report_pdf import write_pdf

        dest = Path(path)
        self._check_output(dest, evidence)
        with tempfile.TemporaryDirectory(prefix="vtract-pdf-") as folder:
            pdf = write_pdf(
                self, Path(folder) / "report.pdf", evidence=evidence, reference=reference
            )
            _atomic_write(dest, pdf.read_bytes())
        return dest

    def _check_output(self, path: str | os.PathLike[str], evidence: Any) -> None:
        """Refuse an output over the report's evidence; create the output's folder.

        The report names its evidence as display text (:func:`vtract.provenance.path_text`:
        a byte that is not UTF-8 is written ``\\xNN``), which is not the file's name when
        the name is not UTF-8. The check therefore uses both that text and the name it
        stands for (:func:`vtract.provenance.path_from_text`), by path and by inode: a
        file whose name really holds the characters ``\\xff`` is refused too, since the
        report cannot tell which of the two it is about.
        """
        from .output_files import prepare_output, refuse_output_over_inputs
        from .provenance import path_from_text

        recorded = [p for p in (self.file, self.evidence.get("path")) if isinstance(p, str)]
        inputs: list[str | os.PathLike[str]] = [
            *recorded,
            *(path_from_text(p) for p in recorded),
        ]
        given = getattr(evidence, "path", None)
        if isinstance(given, (str, Path)):
            inputs.append(given)
        refuse_output_over_inputs([path], inputs)
        prepare_output(path)

    def plot(self, *, kind: str = "overview", ax: Any = None) -> Any:
        """Plot the report: ``"overview"`` (per-bigram scores over time) or
        ``"areas"`` (area functions of every bigram with a tract length; the
        title counts those left out because their length is not finite).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from . import plot as vplot

        if kind == "overview":
            return vplot.report_overview(self, ax=ax)
        if kind == "areas":
            # a bigram without a usable tract length (null in the JSON) has no section
            # length to draw its areas against: it is left out and counted in the title
            usable = [
                b
                for b in self.bigrams
                if b.areas_cm2 and math.isfinite(b.length_cm) and b.length_cm > 0
            ]
            skipped = sum(1 for b in self.bigrams if b.areas_cm2) - len(usable)
            if not usable:
                raise vplot.PlotInputError(
                    "the report has no bigram area functions to plot"
                    + (f" ({skipped} without a tract length)" if skipped else "")
                )
            labels = [f"{b.bigram} @ {b.boundary:.2f} s" for b in usable]
            ax = vplot.area_function(*usable, ax=ax, labels=labels)
            if skipped:
                ax.set_title(
                    f"{ax.get_title()}; {skipped} bigram{'s' if skipped != 1 else ''} "
                    "without a tract length not drawn"
                )
            return ax
        raise vplot.PlotInputError(f"kind must be 'overview' or 'areas', got {kind!r}")


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :meth:`Report.to_dict`."""
    text = resources.files("vtract").joinpath("schemas/report.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate_report_dict(data: dict[str, Any]) -> None:
    """Check a report dictionary against :func:`report_schema`.

    Raises
    ------
    jsonschema.ValidationError
        The first violation found (needs the ``jsonschema`` package).
    """
    import jsonschema

    jsonschema.validate(data, report_schema(), cls=jsonschema.Draft202012Validator)


def strip_timestamps(data: Any) -> Any:
    """Copy of a report dictionary without its timestamps (keys ending in ``_utc``).

    Two runs on the same input compare equal after this.
    """
    if isinstance(data, dict):
        return {k: strip_timestamps(v) for k, v in data.items() if not str(k).endswith("_utc")}
    if isinstance(data, list):
        return [strip_timestamps(v) for v in data]
    return data


def _atomic_write(path: Path, payload: bytes) -> None:
    from .output_files import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)


# --- checking a report dictionary (Report.from_dict) ---------------------------------------

_HEX64 = re.compile(r"[0-9a-f]{64}")
_VERDICTS = ("organic", "synthetic", "inconclusive")
_SEVERITIES = ("info", "warning", "critical")
_BIGRAM_NUMBERS = ("boundary", "start", "end", "length_cm", "deviation", "score")
_FLAG_NUMBERS = ("measured", "expected_min", "expected_max", "start", "end")


def _invalid(where: str, what: str, value: Any) -> InvalidReportError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return InvalidReportError(f"not a valid vtract report: {where} must be {what}, got {shown}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _need(ok: bool, where: str, what: str, value: Any) -> None:
    if not ok:
        raise _invalid(where, what, value)


def _need_dict(value: Any, where: str) -> dict[str, Any]:
    _need(isinstance(value, dict), where, "an object", value)
    return value  # type: ignore[no-any-return]


def _need_list(value: Any, where: str) -> list[Any]:
    _need(isinstance(value, list), where, "a list", value)
    return value  # type: ignore[no-any-return]


def _need_text(value: Any, where: str, *, null: bool = False) -> None:
    _need(
        isinstance(value, str) or (null and value is None),
        where,
        "text" + (" or null" if null else ""),
        value,
    )


def _need_number(
    value: Any, where: str, *, low: float | None = None, high: float | None = None
) -> None:
    """``value`` is a number (or null); a finite one lies in [low, high]."""
    what = "a number or null" if low is None else f"a number in [{low:g}, {high:g}] or null"
    _need(value is None or _is_number(value), where, what, value)
    if value is not None and math.isfinite(value):
        _need((low is None or value >= low) and (high is None or value <= high), where, what, value)


def _need_hash(value: Any, where: str, *, null: bool = False) -> None:
    ok = (isinstance(value, str) and _HEX64.fullmatch(value) is not None) or (
        null and value is None
    )
    _need(ok, where, "a SHA-256 of 64 lowercase hex digits" + (" or null" if null else ""), value)


def _need_text_list(value: Any, where: str) -> None:
    for i, item in enumerate(_need_list(value, where)):
        _need_text(item, f"{where}[{i}]")


def _need_mapping_of(value: Any, where: str, check: Any) -> None:
    """``value`` is an object (or null) whose every value passes ``check(v, where)``."""
    if value is None:
        return
    for key, item in _need_dict(value, where).items():
        check(item, f"{where}.{key}")


def _check_report_dict(data: Any) -> None:
    """Raise :class:`InvalidReportError` unless ``data`` is a well-formed report dictionary."""
    if not isinstance(data, dict):
        raise InvalidReportError(
            f"not a vtract report: expected a JSON object, got {type(data).__name__}"
        )
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InvalidReportError(
            f"report schema_version is {version!r}; this vtract reads {SCHEMA_VERSION!r}"
        )
    schema = report_schema()
    missing = [k for k in schema["required"] if k not in data]
    if missing:
        raise InvalidReportError(f"not a vtract report dictionary: missing {', '.join(missing)}")
    unknown = sorted(set(data) - set(schema["properties"]))
    if unknown:
        raise InvalidReportError(f"not a vtract report dictionary: unknown keys {unknown}")

    _need_text(data["file"], "file", null=True)
    _need_hash(data["sha256"], "sha256")
    _need_hash(data["pcm_sha256"], "pcm_sha256")
    _need(data["verdict"] in _VERDICTS, "verdict", f"one of {list(_VERDICTS)}", data["verdict"])
    score = data["score"]
    _need(
        score is None or (_is_number(score) and math.isfinite(score) and 0 <= score <= 1),
        "score",
        "a number in [0, 1] or null",
        score,
    )
    if score is None and data["verdict"] != "inconclusive":
        raise InvalidReportError(
            f"not a valid vtract report: verdict {data['verdict']!r} without a score "
            "(only an inconclusive report may have score null)"
        )
    _need_text(data["reason"], "reason")
    _need_text(data["detector"], "detector")
    _need_mapping_of(_need_dict(data["thresholds"], "thresholds"), "thresholds", _need_number)
    _need_text_list(data["warnings"], "warnings")
    _need(
        _is_number(data["n_bigrams"]) and data["n_bigrams"] == int(data["n_bigrams"]),
        "n_bigrams",
        "an integer",
        data["n_bigrams"],
    )
    _need_dict(data["chain_of_custody"], "chain_of_custody")

    for i, flag in enumerate(_need_list(data["flags"], "flags")):
        where = f"flags[{i}]"
        _need_dict(flag, where)
        fields = set(Flag.__dataclass_fields__)
        _need(
            set(flag) <= fields and {"code", "message"} <= set(flag),
            where,
            f"an object with code, message and only {sorted(fields)}",
            flag,
        )
        for key in ("code", "message", "unit", "source"):
            if key in flag:
                _need_text(flag[key], f"{where}.{key}")
        if "severity" in flag:
            _need(
                flag["severity"] in _SEVERITIES,
                f"{where}.severity",
                f"one of {list(_SEVERITIES)}",
                flag["severity"],
            )
        if "bigram" in flag:
            _need_text(flag["bigram"], f"{where}.bigram", null=True)
        for key in _FLAG_NUMBERS:
            if key in flag:
                _need_number(flag[key], f"{where}.{key}")

    fields = set(BigramEvidence.__dataclass_fields__)
    for i, big in enumerate(_need_list(data["bigrams"], "bigrams")):
        where = f"bigrams[{i}]"
        _need_dict(big, where)
        _need(set(big) == fields, where, f"an object with exactly {sorted(fields)}", big)
        for key in ("bigram", "ipa", "word", "reference_level"):
            _need_text(big[key], f"{where}.{key}")
        for key in _BIGRAM_NUMBERS:
            _need_number(big[key], f"{where}.{key}")
        _need_number(big["score"], f"{where}.score", low=0.0, high=1.0)
        for j, area in enumerate(_need_list(big["areas_cm2"], f"{where}.areas_cm2")):
            _need_number(area, f"{where}.areas_cm2[{j}]")
        _need_text_list(big["flags"], f"{where}.flags")

    evidence = _need_dict(data["evidence"], "evidence")
    _need_text(evidence.get("path"), "evidence.path", null=True)
    _need_mapping_of(evidence.get("metadata"), "evidence.metadata", _need_text)
    alignment = _need_dict(data["alignment"], "alignment")
    for key in ("words", "phones"):
        if alignment.get(key) is not None:
            for j, row in enumerate(_need_list(alignment[key], f"alignment.{key}")):
                _need_dict(row, f"alignment.{key}[{j}]")
    meta = alignment.get("meta")
    if meta is not None:
        aligner = _need_dict(meta, "alignment.meta").get("aligner")
        if aligner is not None:
            files = _need_dict(aligner, "alignment.meta.aligner").get("files")
            _need_mapping_of(files, "alignment.meta.aligner.files", _need_hash)
    reference = _need_dict(data["reference"], "reference")
    _need_text(reference.get("name"), "reference.name", null=True)
    _need_hash(reference.get("sha256"), "reference.sha256", null=True)
    prov = _need_dict(data["provenance"], "provenance")
    for key in ("dependencies", "inputs"):
        _need_mapping_of(prov.get(key), f"provenance.{key}", lambda v, w: None)
    params = prov.get("parameters")
    if params is not None:
        params = _need_dict(params, "provenance.parameters")
        _need_mapping_of(
            params.get("descriptors"), "provenance.parameters.descriptors", _need_number
        )

        def _range(value: Any, where: str) -> None:
            for j, item in enumerate(_need_list(value, where)):
                _need_number(item, f"{where}[{j}]")

        _need_mapping_of(
            params.get("descriptor_organic_ranges"),
            "provenance.parameters.descriptor_organic_ranges",
            _range,
        )


def _recorded_file(data: dict[str, Any]) -> str | None:
    """``data["file"]``, or for a ``vtract analyze`` record that named the file as typed
    (relative) the absolute path its custody block and ``evidence.path`` record."""
    file = data["file"]
    custody_ev = data["chain_of_custody"].get("evidence")
    held = custody_ev.get("file") if isinstance(custody_ev, dict) else None
    if (
        isinstance(file, str)
        and isinstance(held, str)
        and file != held
        and not os.path.isabs(file)
        and held == data["evidence"].get("path")
        and os.path.isabs(held)
        and os.path.basename(os.path.normpath(file)) == os.path.basename(held)
    ):
        return held
    return file  # type: ignore[no-any-return]


def _differences(a: Any, b: Any, where: str = "chain_of_custody") -> list[str]:
    """Where two JSON values disagree (dotted keys), over the keys both hold.

    A key that only one side holds is not a disagreement: the custody block's
    layout grew over vtract's history (``evidence.metadata`` was added on 27
    Nov 2026 without a schema change), so a genuine report written by an
    earlier vtract lacks keys today's :meth:`Report.custody` has, and a
    report passed through :func:`strip_timestamps` lacks ``created_utc``.
    Such a key is recomputed from the report's own fields on loading; what
    an edit leaves behind is a value that disagrees with them.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) & set(b), key=str):
            out += _differences(a[key], b[key], f"{where}.{key}")
        return out
    return [] if a == b else [where]
