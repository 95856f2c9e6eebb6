"""The :class:`Report`: a verdict about one recording with its evidence.

The analysis (:func:`vtract.analyze`) builds a Report; this module turns it
into JSON (a versioned schema shipped as ``vtract/schemas/report.schema.json``)
and HTML. Apart from ``provenance["created_utc"]`` a Report is a pure
function of its inputs and settings.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .json_values import finite_or_null

__all__ = [
    "SCHEMA_VERSION",
    "BigramEvidence",
    "Flag",
    "Report",
    "report_schema",
    "strip_timestamps",
    "validate_report_dict",
]

#: Version of the JSON layout written by :meth:`Report.to_json`.
SCHEMA_VERSION = "1.0"


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
        Per-bigram synthetic score in [0, 1].
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

        Derived keys (``schema_version``, ``n_bigrams``, ``chain_of_custody``)
        are recomputed; ``null`` numbers of the bigram evidence become NaN.

        Raises
        ------
        VtractError
            Another schema version, or a required field is missing.
        """
        from .errors import VtractError

        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise VtractError(
                f"report schema_version is {version!r}; this vtract reads {SCHEMA_VERSION!r}"
            )
        nan = float("nan")
        try:
            flags = [Flag(**f) for f in data.get("flags", [])]
            bigrams = [
                BigramEvidence(
                    **{
                        **b,
                        "areas_cm2": [nan if a is None else float(a) for a in b["areas_cm2"]],
                        **{
                            k: nan if b[k] is None else float(b[k])
                            for k in ("boundary", "start", "end", "length_cm", "deviation", "score")
                        },
                    }
                )
                for b in data.get("bigrams", [])
            ]
            return cls(
                file=data["file"],
                sha256=data["sha256"],
                pcm_sha256=data["pcm_sha256"],
                score=data["score"],
                verdict=data["verdict"],
                reason=data["reason"],
                detector=data.get("detector", "default"),
                thresholds=dict(data.get("thresholds", {})),
                flags=flags,
                bigrams=bigrams,
                evidence=dict(data.get("evidence", {})),
                alignment=dict(data.get("alignment", {})),
                reference=dict(data.get("reference", {})),
                provenance=dict(data.get("provenance", {})),
                warnings=list(data.get("warnings", [])),
            )
        except (KeyError, TypeError) as exc:
            raise VtractError(f"not a vtract report dictionary: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> Report:
        """Rebuild a report from :meth:`to_json` text."""
        return cls.from_dict(json.loads(text))

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
