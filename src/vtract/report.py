"""The :class:`Report`: a verdict about one recording with its evidence.

The analysis (:func:`vtract.analyze`) builds a Report; this module turns it
into JSON (a versioned schema shipped as ``vtract/schemas/report.schema.json``)
and HTML. Apart from ``provenance["created_utc"]`` a Report is a pure
function of its inputs and settings.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["SCHEMA_VERSION", "BigramEvidence", "Flag", "Report"]

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary following the report schema."""
        out = asdict(self)
        out["schema_version"] = SCHEMA_VERSION
        out["n_bigrams"] = self.n_bigrams
        return _finite(out)

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise to JSON with sorted keys (stable across runs)."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, allow_nan=False)


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by ``None`` so the JSON stays standard."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
